/**
 * What a run that stops on an exception reports (cpu.ts `RunResult.exception`): the vector, error
 * code and reason, RIP, and the instruction's bytes with their disassembly — read without side
 * effects (CR2 is kept, no device is touched; the bytes stop where fetching stops).
 */
import type { Cpu } from './cpu';
import { describe, disassemble } from './decoded';
import type { CpuException } from './exceptions';
import { Access } from './mmu';
import { PAGE_SIZE } from './physicalMemory';

export interface ExceptionReport {
  vector: number;
  errorCode: number | undefined;
  name: string;
  detail: string;
  rip: bigint;
  bytes: Uint8Array;
  text: string;
}

export function exceptionReport(c: Cpu, e: CpuException): ExceptionReport {
  const rip = c.getRip();
  let bytes = new Uint8Array(0);
  let text = '';
  // Reading the bytes at RIP for the report must not change CR2 or touch devices.
  const cr2Lo = c.cr2Lo, cr2Hi = c.cr2Hi;
  const raw: number[] = [];
  try {
    const lin = c.codeLinear();
    for (let i = 0; i < 15; i++) {
      const a = c.translate(((lin >>> 0) + i) | 0, c.linHi, Access.Execute);
      const page = c.mem.page(Math.floor(a / PAGE_SIZE));
      if (page === null) break;
      raw.push(page[a % PAGE_SIZE]);
    }
  } catch {
    // The bytes stop where fetching stops.
  }
  c.cr2Lo = cr2Lo;
  c.cr2Hi = cr2Hi;
  if (raw.length > 0) {
    const buf = Uint8Array.from(raw);
    const d = describe(c.decodeAt(buf), c.bitness, buf);
    if (!d.invalid || raw.length === 15) {
      bytes = buf.slice(0, Math.min(d.length, buf.length));
      text = disassemble(bytes, c.bitness, rip);
    } else {
      bytes = buf;
    }
  }
  return {
    vector: e.vector, errorCode: e.errorCode, name: e.name, detail: e.detail, rip, bytes, text,
  };
}
