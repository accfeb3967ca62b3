/** dist/benchDebugger.js: `vtx bench` runs it and reads the one JSON line it prints (benchDebugger.ts). */
import { join } from 'node:path';
import { benchDebugger } from './benchDebugger';

const seconds = Number(process.argv[2] ?? '1');
benchDebugger(join(__dirname, 'adapter.js'), Number.isFinite(seconds) ? seconds : 1).then(
  (r) => { process.stdout.write(`${JSON.stringify(r)}\n`); },
  (e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
);
