/**
 * Test machine for interrupt delivery: a Cpu with exception delivery on, a GDT, IDT and TSS
 * built in memory, and helpers to read the pushed frames.
 *
 * Layout: code at 0x1000, handlers at HANDLERS + vector * 0x10 (each starts with HLT unless a
 * test writes its own), GDT at 0x30000, IDT at 0x31000, TSS at 0x32000, stacks: user 0x8000,
 * RSP0/ESP0 0x9000, IST1 0xa000.
 */
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { Seg } from '../../src/x86/registers';

export const CODE = 0x1000;
export const HANDLERS = 0x4000;
export const GDT = 0x30000;
export const IDT = 0x31000;
export const TSS = 0x32000;
export const STACK0 = 0x9000;
export const IST1 = 0xa000;
export const USER_STACK = 0x8000;

export const SEL_CODE0 = 0x08;
export const SEL_DATA0 = 0x10;
export const SEL_CODE32_0 = 0x18;
export const SEL_DATA3 = 0x23;
export const SEL_CODE64_3 = 0x2b;
export const SEL_CODE32_3 = 0x33;
export const SEL_TSS = 0x38;
export const SEL_CODE16_0 = 0x48;

/** Access rights (VMCS layout: type 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15). */
export const AR_CODE64 = 0xa09b;
export const AR_CODE32 = 0xc09b;
export const AR_CODE16 = 0x009b;
export const AR_DATA32 = 0xc093;

export function descriptor(base: number, limit: number, attr: number): [number, number] {
  const lim = attr & 0x8000 ? limit >>> 12 : limit;
  const lo = ((lim & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const hi = (((base >>> 16) & 0xff) | ((attr & 0xff) << 8) | (lim & 0xf0000) | (((attr >>> 12) & 0xf) << 20) | (base & 0xff000000)) >>> 0;
  return [lo, hi];
}

export interface Env {
  cpu: Cpu;
  mem: PhysicalMemory;
  mode: StartMode;
  w8(a: number, v: number): void;
  w16(a: number, v: number): void;
  w32(a: number, v: number): void;
  r16(a: number): number;
  r32(a: number): number;
  r64(a: number): bigint;
  /** Install an IDT gate: type 0xE interrupt / 0xF trap (0x6/0x7 16-bit, 0x5 task) and present bit. */
  gate(vector: number, opts?: { sel?: number; offset?: number; type?: number; dpl?: number; ist?: number; present?: boolean }): void;
  /** Put code bytes at an address. */
  code(at: number, bytes: number[]): void;
  /** Switch to CPL 3 (user code and data segments of the mode). */
  toUser(): void;
  rsp(): number;
}

export function makeEnv(mode: StartMode, deliverExceptions = true): Env {
  const mem = new PhysicalMemory(0x100000);
  const cpu = new Cpu(mem, { deliverExceptions });
  enterMode(cpu, mode);
  const w8 = (a: number, v: number) => mem.write8(a, v & 0xff);
  const w16 = (a: number, v: number) => { w8(a, v); w8(a + 1, v >>> 8); };
  const w32 = (a: number, v: number) => { w16(a, v); w16(a + 2, v >>> 16); };
  const r8 = (a: number) => mem.read8(a);
  const r16 = (a: number) => r8(a) | (r8(a + 1) << 8);
  const r32 = (a: number) => (r16(a) | (r16(a + 2) << 16)) >>> 0;
  const r64 = (a: number) => (BigInt(r32(a + 4)) << 32n) | BigInt(r32(a));
  const long = mode === 'long' || mode === 'compat';
  const put = (sel: number, base: number, limit: number, attr: number) => {
    const [lo, hi] = descriptor(base, limit, attr);
    w32(GDT + (sel & ~7), lo);
    w32(GDT + (sel & ~7) + 4, hi);
  };
  put(SEL_CODE0, 0, 0xffffffff, long ? AR_CODE64 : AR_CODE32);
  put(SEL_DATA0, 0, 0xffffffff, AR_DATA32);
  put(SEL_CODE32_0, 0, 0xffffffff, AR_CODE32);
  put(SEL_DATA3, 0, 0xffffffff, AR_DATA32 | 0x60);
  put(SEL_CODE64_3, 0, 0xffffffff, AR_CODE64 | 0x60);
  put(SEL_CODE32_3, 0, 0xffffffff, AR_CODE32 | 0x60);
  put(SEL_CODE16_0, 0, 0xffff, AR_CODE16);
  // TSS: 32-bit (type 9 available) or 64-bit; shown busy in TR.
  put(SEL_TSS, TSS, 0x67, 0x89);
  if (long) {
    w32(TSS + 4, STACK0); // RSP0
    w32(TSS + 0x24, IST1); // IST1
  } else {
    w32(TSS + 4, STACK0); // ESP0
    w16(TSS + 8, SEL_DATA0); // SS0
  }
  cpu.gdtrBaseLo = GDT;
  cpu.gdtrLimit = 0x57;
  cpu.idtrBaseLo = mode === 'real' ? 0 : IDT;
  cpu.idtrLimit = mode === 'real' ? 0x3ff : long ? 0xfff : 0x7ff;
  cpu.setSegment(Seg.TR, { selector: SEL_TSS, baseLo: TSS, baseHi: 0, limit: 0x67, attr: 0x8b });
  // Every handler is HLT by default.
  for (let v = 0; v < 256; v++) w8(HANDLERS + v * 0x10, 0xf4);
  cpu.setRip(CODE);
  cpu.setReg64(4, USER_STACK);
  const env: Env = {
    cpu, mem, mode, w8, w16, w32, r16, r32, r64,
    gate(vector, o = {}) {
      const sel = o.sel ?? (mode === 'real' ? 0 : SEL_CODE0);
      const off = o.offset ?? HANDLERS + vector * 0x10;
      const type = o.type ?? 0xe;
      const p = o.present === false ? 0 : 0x8000;
      if (mode === 'real') {
        w16(vector * 4, off);
        w16(vector * 4 + 2, sel);
        return;
      }
      const at = IDT + vector * (long ? 16 : 8);
      w32(at, ((off & 0xffff) | (sel << 16)) >>> 0);
      w32(at + 4, ((off & 0xffff0000) | p | ((o.dpl ?? 0) << 13) | (type << 8) | (o.ist ?? 0)) >>> 0);
      if (long) {
        w32(at + 8, 0);
        w32(at + 12, 0);
      }
    },
    code(at, bytes) {
      bytes.forEach((b, i) => w8(at + i, b));
    },
    toUser() {
      const cs = mode === 'long' ? SEL_CODE64_3 : SEL_CODE32_3;
      const csAttr = (mode === 'long' ? AR_CODE64 : AR_CODE32) | 0x60;
      cpu.setSegment(Seg.CS, { selector: cs, baseLo: 0, baseHi: 0, limit: 0xffffffff, attr: csAttr });
      for (const s of [Seg.SS, Seg.DS, Seg.ES, Seg.FS, Seg.GS]) {
        cpu.setSegment(s, { selector: SEL_DATA3, baseLo: 0, baseHi: 0, limit: 0xffffffff, attr: AR_DATA32 | 0x60 });
      }
      cpu.cpl = 3;
      cpu.flushTlb();
      cpu.codeChanged();
    },
    rsp: () => Number(cpu.getReg64(4)),
  };
  return env;
}
