/**
 * A minimal Debug Adapter Protocol client over a child process's stdio (Content-Length framing),
 * for the debugger benchmark: send a request, wait for its response or for an event.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface DapMessage {
  type: 'request' | 'response' | 'event';
  seq: number;
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  message?: string;
  body?: Record<string, unknown>;
}

export class DapClient {
  private readonly proc: ChildProcess;
  private buf = Buffer.alloc(0);
  private seq = 1;
  private readonly pending = new Map<number, (m: DapMessage) => void>();
  private readonly waiters: { event: string; resolve: (m: DapMessage) => void }[] = [];
  private readonly events: DapMessage[] = [];

  constructor(adapter: string) {
    this.proc = spawn(process.execPath, [adapter], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.receive(d));
  }

  private receive(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /Content-Length: (\d+)/i.exec(this.buf.subarray(0, end).toString('ascii'));
      if (m === null) throw new Error('DAP: a message without Content-Length');
      const len = Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      const msg = JSON.parse(this.buf.subarray(end + 4, end + 4 + len).toString('utf8')) as DapMessage;
      this.buf = this.buf.subarray(end + 4 + len);
      if (msg.type === 'response') {
        this.pending.get(msg.request_seq!)?.(msg);
        this.pending.delete(msg.request_seq!);
      } else if (msg.type === 'event') {
        const i = this.waiters.findIndex((w) => w.event === msg.event);
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg);
        else this.events.push(msg);
      }
    }
  }

  request(command: string, args: Record<string, unknown> = {}): Promise<DapMessage> {
    const seq = this.seq++;
    const json = JSON.stringify({ type: 'request', seq, command, arguments: args });
    this.proc.stdin!.write(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
    return new Promise((resolve, reject) => {
      this.pending.set(seq, (m) => (m.success === true ? resolve(m) : reject(new Error(`${command}: ${m.message ?? 'failed'}`))));
    });
  }

  /** The next `event` (one that already arrived, or the next to come). */
  event(event: string): Promise<DapMessage> {
    const i = this.events.findIndex((e) => e.event === event);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
    return new Promise((resolve) => this.waiters.push({ event, resolve }));
  }

  close(): void {
    this.proc.kill();
  }
}
