/**
 * Test kit for the event exits (src/vmx/eventExit*.ts) in isolation from VM entry/exit: a
 * processor in (simulated) non-root operation on the interrupt-test machine of
 * test/x86/interruptEnv.ts (GDT, IDT with HLT handlers, TSS), a VmxEngine with a current VMCS,
 * the controls set directly on the engine (as VM entry decodes them), and `engine.exit`
 * replaced by a recorder that does what performVmExit does for these tests: writes reason,
 * qualification, length and guest RIP, calls eventsOnVmExit, leaves non-root operation and
 * jumps to HOST_RIP (a HLT).
 */
import type { RunResult } from '../../src/x86/cpu';
import type { StartMode } from '../../src/x86/modes';
import { VmxEngine } from '../../src/vmx/engine';
import { Vmcs } from '../../src/vmx/vmcs';
import { eventsOnVmEntry, eventsOnVmExit } from '../../src/vmx/eventExits';
import { CODE, HANDLERS, IDT, makeEnv, type Env } from '../x86/interruptEnv';
import type { InterruptSource } from '../../src/x86/io';

export { CODE, HANDLERS, IDT };
export const HOST_RIP = 0x7000;
export const VMCS_AT = 0x50000;

export interface ExitRecord {
  reason: number;
  qual: bigint;
  len: number;
  rip: bigint;
  intInfo: number;
  intErr: number;
  idtInfo: number;
  idtErr: number;
  activity: number;
}

export interface EventSetup {
  mode?: StartMode;
  pin?: number;
  proc?: number;
  exitCtls?: number;
  exceptionBitmap?: number;
  fields?: Record<string, number | bigint>;
  code?: number[];
  rflags?: number;
}

export interface Kit {
  env: Env;
  cpu: Env['cpu'];
  engine: VmxEngine;
  vmcs: Vmcs;
  exits: ExitRecord[];
  /** Enter (simulated): controls on the engine, nonRoot, eventsOnVmEntry. */
  enter(vectoring?: boolean, mtfInjected?: boolean): void;
  run(max?: number): RunResult;
  last(): ExitRecord;
  field(name: string): bigint;
  rip(): number;
}

export function kit(s: EventSetup = {}): Kit {
  const env = makeEnv(s.mode ?? 'long');
  const cpu = env.cpu;
  for (let v = 0; v < 32; v++) env.gate(v);
  for (const v of [0x20, 0x21, 0x30, 0x40, 0x80]) env.gate(v);
  env.w8(HOST_RIP, 0xf4);
  const engine = new VmxEngine(cpu);
  const vmcs = new Vmcs(VMCS_AT);
  engine.current = vmcs;
  for (const [k, v] of Object.entries(s.fields ?? {})) vmcs.write(k, v);
  const exits: ExitRecord[] = [];
  (engine as unknown as { exit: (...a: number[]) => void }).exit = (reason, qLo, qHi, len, _info, ripLo, ripHi) => {
    vmcs.write('EXIT_REASON', reason);
    vmcs.write('EXIT_QUALIFICATION', (BigInt(qHi >>> 0) << 32n) | BigInt(qLo >>> 0));
    vmcs.write('VM_EXIT_INSTRUCTION_LENGTH', len);
    vmcs.write('GUEST_RIP', (BigInt(ripHi >>> 0) << 32n) | BigInt(ripLo >>> 0));
    // What performVmExit would record for exits that give no interruption information.
    vmcs.write('VM_EXIT_INTERRUPTION_INFORMATION', 0);
    vmcs.write('IDT_VECTORING_INFORMATION', 0);
    eventsOnVmExit(engine);
    cpu.nonRoot = false;
    cpu.setRip(HOST_RIP);
  };
  if (s.code) env.code(CODE, s.code);
  if (s.rflags !== undefined) cpu.setRflags(s.rflags);
  const k: Kit = {
    env, cpu, engine, vmcs, exits,
    enter(vectoring = false, mtfInjected = false) {
      engine.pin = s.pin ?? 0;
      engine.proc = s.proc ?? 0;
      engine.exitCtls = s.exitCtls ?? 0;
      engine.exceptionBitmap = s.exceptionBitmap ?? 0;
      cpu.nonRoot = true;
      cpu.inVmxOperation = true;
      eventsOnVmEntry(engine, vectoring, mtfInjected);
    },
    run(max = 1000) {
      const r = cpu.run(cpu.icount + max);
      if (r.reason === 'vmexit') {
        exits.push({
          reason: Number(vmcs.read('EXIT_REASON')),
          qual: vmcs.read('EXIT_QUALIFICATION'),
          len: Number(vmcs.read('VM_EXIT_INSTRUCTION_LENGTH')),
          rip: vmcs.read('GUEST_RIP'),
          intInfo: Number(vmcs.read('VM_EXIT_INTERRUPTION_INFORMATION')),
          intErr: Number(vmcs.read('VM_EXIT_INTERRUPTION_ERROR_CODE')),
          idtInfo: Number(vmcs.read('IDT_VECTORING_INFORMATION')),
          idtErr: Number(vmcs.read('IDT_VECTORING_ERROR_CODE')),
          activity: Number(vmcs.read('GUEST_ACTIVITY_STATE')),
        });
      }
      return r;
    },
    last() {
      const e = exits[exits.length - 1];
      if (e === undefined) throw new Error('no VM exit');
      return e;
    },
    field: (name) => vmcs.read(name),
    rip: () => Number(cpu.getRip()),
  };
  return k;
}

/** An interrupt controller with one pending vector (acknowledge clears it). */
export class FakePic implements InterruptSource {
  acked: number[] = [];
  constructor(public vector = -1) {}
  pendingVector(): number {
    return this.vector;
  }
  acknowledge(v: number): void {
    this.acked.push(v);
    this.vector = -1;
  }
}

/** Interruption information (§24.9.2): valid | type << 8 | vector, bit 11 for an error code. */
export const info = (vector: number, type: number, ec = false): number =>
  (0x80000000 | (type << 8) | vector | (ec ? 0x800 : 0)) >>> 0;
