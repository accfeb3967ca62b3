/**
 * Drives the debug engine directly (no DAP): guests written as assembly text to a temporary
 * directory, events collected, `next()` waits for the next stop or end.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugEngine, type StopInfo, type EndInfo } from '../../src/debugger/engine';

export const POWEROFF = 'mov dx, 0x604\nmov ax, 0x2000\nout dx, ax\n';

let dir: string | undefined;
let n = 0;

/** Write `text` as an .asm file; returns its path. */
export function asmFile(text: string, name = `guest${++n}.asm`): string {
  dir ??= mkdtempSync(join(tmpdir(), 'vtx-dbg-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export type Event = { kind: 'stopped'; s: StopInfo } | { kind: 'ended'; e: EndInfo };

export class Session {
  engine: DebugEngine;
  out: { text: string; category: string }[] = [];
  private queue: Event[] = [];
  private waiting: ((e: Event) => void) | null = null;

  constructor(config: Record<string, unknown>) {
    this.engine = DebugEngine.launch(config, {
      stopped: (s) => this.push({ kind: 'stopped', s }),
      continued: () => undefined,
      output: (text, category) => this.out.push({ text, category }),
      ended: (e) => this.push({ kind: 'ended', e }),
    });
  }

  private push(e: Event): void {
    if (this.waiting !== null) {
      const w = this.waiting;
      this.waiting = null;
      w(e);
    } else {
      this.queue.push(e);
    }
  }

  next(): Promise<Event> {
    const e = this.queue.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  async stop(): Promise<StopInfo> {
    const e = await this.next();
    if (e.kind !== 'stopped') throw new Error(`expected a stop, got the end: ${e.e.description}`);
    return e.s;
  }

  async end(): Promise<EndInfo> {
    const e = await this.next();
    if (e.kind !== 'ended') throw new Error(`expected the end, got a stop: ${e.s.description}`);
    return e.e;
  }

  serial(): string {
    return this.out.filter((o) => o.category === 'stdout').map((o) => o.text).join('');
  }

  console(): string {
    return this.out.filter((o) => o.category === 'console').map((o) => o.text).join('');
  }
}
