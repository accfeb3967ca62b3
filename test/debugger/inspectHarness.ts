/**
 * A stopped machine for the inspection tests: assemble a small guest, boot it under the Vmm,
 * record every exit as the debug engine does (before the handler), stop on the exits asked for
 * (or an instruction limit), and build the InspectTarget.
 */
import { assemble } from '../../src/language/asm/assembler';
import { loadImage } from '../../src/vmm/loaders';
import { Vmm, type VmmRunResult } from '../../src/vmm/vmm';
import type { DecodedExit } from '../../src/vmx/exitDecode';
import type { DebugInfo, ExitRecord, InspectTarget, SymbolInfo } from '../../src/debugger/model';
import type { StartMode } from '../../src/x86/modes';

export interface Stopped {
  vmm: Vmm;
  result: VmmRunResult;
  target: () => InspectTarget;
  /** Resume until the next stop. */
  resume: (max?: number) => VmmRunResult;
}

function debugInfo(symbols: Record<string, number>): DebugInfo {
  const all: SymbolInfo[] = Object.entries(symbols).map(([name, address]) => ({ name, address, size: 0, kind: 'label' as const })).sort((a, b) => a.address - b.address);
  return {
    symbols: {
      all: () => all,
      lookup: (n) => all.find((s) => s.name === n)?.address,
      nameAt: (a) => {
        const s = [...all].reverse().find((x) => x.address <= a);
        return s === undefined ? undefined : { name: s.name, offset: a - s.address };
      },
    },
    lines: null,
  };
}

export function stoppedGuest(text: string, o: { mode?: StartMode; stopOn?: (e: DecodedExit) => boolean; max?: number } = {}): Stopped {
  const mode = o.mode ?? 'long';
  const org = mode === 'real' ? 0x7c00 : 0x1000;
  const bits = mode === 'real' ? 16 : mode === 'long' ? 64 : 32;
  const r = assemble(`org 0x${org.toString(16)}\n${text}`, { bits });
  if (!r.ok) throw new Error(`assembly failed: ${JSON.stringify(r.diagnostics)}`);
  const exits: ExitRecord[] = [];
  const counts = new Map<string, number>();
  let stopped: DecodedExit | undefined;
  let previous: Map<string, bigint> | undefined;
  const vmm = new Vmm({
    ramSize: 16 * 1024 * 1024, exceptions: 'deliver',
    stopOnExit: (e) => {
      exits.push({ seq: exits.length + 1, icount: vmm.cpu.icount, exit: e });
      counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
      return o.stopOn?.(e) ?? false;
    },
  });
  vmm.boot(loadImage(vmm.machine.mem, r.bytes, { format: 'flat', loadAddress: org, mode }));
  const symbols: Record<string, number> = {};
  for (const [name, s] of r.symbols) if (s.kind === 'label') symbols[name] = Number(s.value);
  const info = debugInfo(symbols);
  const snapshot = (): Map<string, bigint> => {
    const v = vmm.vcpu.engine.current!;
    return new Map([...['GUEST_RIP', 'GUEST_RSP', 'EXIT_REASON', 'EXIT_QUALIFICATION', 'GUEST_RFLAGS']].map((n) => [n, v.read(n)]));
  };
  const run = (max: number): VmmRunResult => {
    previous = stopped === undefined && exits.length === 0 ? undefined : snapshot();
    const res = vmm.run(max);
    stopped = res.reason === 'exitBreak' ? res.lastExit : undefined;
    return res;
  };
  const result = run(o.max ?? 100_000);
  return {
    vmm, result,
    target: () => ({ vmm, info, exits, exitCounts: counts, stoppedExit: stopped, previousVmcs: previous, syntax: 'nasm' }),
    resume: (max = 200_000) => run(vmm.cpu.icount + max),
  };
}
