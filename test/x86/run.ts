/**
 * Test helpers: run machine code on the bare processor in a chosen mode and inspect the result.
 */
import { Encoder, Instruction } from 'iced-x86';
import { Cpu, RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode, StartMode } from '../../src/x86/modes';
import { GPR_NAMES } from '../../src/x86/registers';

export const CODE_AT = 0x1000;

export interface RunSetup {
  mode?: StartMode;
  /** Register values by name (rax..r15), as numbers or bigints. */
  regs?: Partial<Record<(typeof GPR_NAMES)[number], number | bigint>>;
  rflags?: number;
  /** Extra memory contents: address -> bytes. */
  memory?: Array<[number, Uint8Array | number[]]>;
  memorySize?: number;
  maxInstructions?: number;
  loadAt?: number;
}

export interface Ran {
  cpu: Cpu;
  result: RunResult;
  reg(name: (typeof GPR_NAMES)[number]): bigint;
  mem: PhysicalMemory;
}

/** Run `code` (bytes) until HLT / exception / limit. The code is loaded at 0x1000 by default. */
export function runCode(code: Uint8Array | number[], setup: RunSetup = {}): Ran {
  const mem = new PhysicalMemory(setup.memorySize ?? 0x100000);
  const at = setup.loadAt ?? CODE_AT;
  mem.load(at, code instanceof Uint8Array ? code : Uint8Array.from(code));
  for (const [a, b] of setup.memory ?? []) mem.load(a, b instanceof Uint8Array ? b : Uint8Array.from(b));
  const cpu = new Cpu(mem);
  enterMode(cpu, setup.mode ?? 'long');
  cpu.setRip(at);
  cpu.setReg64(4, 0x8000); // a stack below 32 KiB by default
  for (const [name, v] of Object.entries(setup.regs ?? {})) {
    cpu.setReg64(GPR_NAMES.indexOf(name as (typeof GPR_NAMES)[number]), BigInt(v as number | bigint));
  }
  if (setup.rflags !== undefined) cpu.setRflags(setup.rflags);
  const result = cpu.run(setup.maxInstructions ?? 100000);
  return {
    cpu,
    result,
    mem,
    reg: (name) => cpu.getReg64(GPR_NAMES.indexOf(name)),
  };
}

/** Encode instructions built with iced's Instruction.create* helpers (frees them). */
export function encode(bitness: 16 | 32 | 64, instrs: Instruction[], ip = BigInt(CODE_AT)): Uint8Array {
  const enc = new Encoder(bitness);
  const out: number[] = [];
  try {
    for (const ins of instrs) {
      const len = enc.encode(ins, ip);
      ip += BigInt(len);
      out.push(...enc.takeBuffer());
      ins.free();
    }
  } finally {
    enc.free();
  }
  return Uint8Array.from(out);
}
