/** Process entry of the language server (bundled to dist/languageServer.js). */
import { main } from './server';

main();
