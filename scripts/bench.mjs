// `npm run bench`: the command line's figures (`vtx bench`, the arguments passed on), then — for
// the default text run — the render times of the webview panels in headless Chromium
// (test/webview/benchPanels.ts; `npm run bench:panels [-- --json]` runs only those). With
// --json, --vmx, --paging or --help only `vtx bench` runs, so its output stays one document.
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const cli = spawnSync(process.execPath, ['dist/cli.js', 'bench', ...args], { stdio: 'inherit', cwd: root });
if (cli.status !== 0) process.exit(cli.status ?? 1);
if (args.some((a) => ['--json', '--vmx', '--paging', '--help', '-h'].includes(a))) process.exit(0);
const panels = spawnSync(process.execPath, ['--import', 'tsx', 'test/webview/benchPanels.ts'], { stdio: 'inherit', cwd: root });
process.exit(panels.status ?? 1);
