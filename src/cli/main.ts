/** Entry point of the `vtx` command (bundled to dist/cli.js). */
import { runCli } from './cli';
import { processIo } from './io';

process.exitCode = runCli(process.argv.slice(2), processIo);
