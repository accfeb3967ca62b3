/**
 * A real debug session in-process, for the panel tests: a small guest assembled with the
 * project's assembler runs under the Vmm (src/vmm/vmm.ts) and stops on chosen VM exits before
 * the hypervisor handles them (stopOnExit), as the debug engine does; every exit is recorded
 * and every VMCS field is snapshotted at each stop (for changed-since-previous-stop). The data
 * the panels get comes from the inspector (src/debugger/inspect) over that stopped machine, and
 * `session` answers the panels' custom requests with it like the adapter does.
 */
import { assemble } from '../../src/language/asm/assembler';
import { loadImage } from '../../src/vmm/loaders';
import { Vmm, type VmmRunResult } from '../../src/vmm/vmm';
import type { DecodedExit } from '../../src/vmx/exitDecode';
import { VMCS_FIELDS } from '../../src/vmx/fields';
import type { DebugInfo, ExitRecord, InspectTarget } from '../../src/debugger/model';
import { inspector } from '../../src/debugger/inspect';
import type { SessionLike } from '../../src/extension/panels/panelController';
import { DAP } from '../../src/webview/protocol';
import { SEED_INTERCEPTION } from '../../src/hypervisor/interception';

export interface RecordedSession {
  vmm: Vmm;
  /** The last run's result. */
  result: VmmRunResult;
  target(): InspectTarget;
  /** Run on to the next stop. */
  resume(max?: number): VmmRunResult;
  /** The session as the panels' host sees it: custom requests answered by the inspector (JSON round trip). */
  session: SessionLike & { requests: string[] };
}

const NO_INFO: DebugInfo = {
  symbols: { all: () => [], lookup: () => undefined, nameAt: () => undefined },
  lines: null,
};

/** Every supported field's value now (root operation: VMREAD; inside the guest: the cached values). */
function snapshot(vmm: Vmm): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (vmm.vcpu.engine.current === null) return out;
  const v = vmm.vcpu.v;
  for (const f of VMCS_FIELDS) if (f.supported) out.set(f.name, vmm.cpu.nonRoot ? v.peek(f.name) : v.read(f.name));
  return out;
}

export interface GuestOptions {
  mode?: 'real' | 'protected' | 'long';
  ramSize?: number;
  stopOn: (e: DecodedExit) => boolean;
  max?: number;
}

export function recordSession(text: string, o: GuestOptions): RecordedSession {
  const mode = o.mode ?? 'long';
  const org = mode === 'real' ? 0x7c00 : 0x1000;
  const r = assemble(`org 0x${org.toString(16)}\n${text}`, { bits: mode === 'real' ? 16 : mode === 'long' ? 64 : 32 });
  if (!r.ok) throw new Error(`assembly failed: ${JSON.stringify(r.diagnostics)}`);
  const exits: ExitRecord[] = [];
  const counts = new Map<string, number>();
  let stopped: DecodedExit | undefined;
  let previous: Map<string, bigint> | undefined;
  let atStop: Map<string, bigint> | undefined;
  const vmm: Vmm = new Vmm({
    ramSize: o.ramSize ?? 16 * 1024 * 1024, exceptions: 'deliver',
    // Every port exits (the seed intercepts only 0x604), so the timeline has I/O exits too.
    interception: { ...SEED_INTERCEPTION, io: 'all' },
    stopOnExit: (e) => {
      exits.push({ seq: exits.length + 1, icount: vmm.cpu.icount, exit: e });
      counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
      return o.stopOn(e);
    },
  });
  vmm.boot(loadImage(vmm.machine.mem, r.bytes, { format: 'flat', loadAddress: org, mode }));
  const run = (max: number): VmmRunResult => {
    previous = atStop;
    const res = vmm.run(max);
    stopped = res.reason === 'exitBreak' ? res.lastExit : undefined;
    atStop = snapshot(vmm);
    return res;
  };
  const target = (): InspectTarget => ({ vmm, info: NO_INFO, exits, exitCounts: counts, stoppedExit: stopped, previousVmcs: previous, syntax: 'nasm' });
  const requests: string[] = [];
  const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  const session = {
    id: 'recorded-1', name: 'recorded guest', type: DAP.debugType, requests,
    async customRequest(command: string, args?: unknown): Promise<unknown> {
      requests.push(command);
      const a = (args ?? {}) as Record<string, unknown>;
      switch (command) {
        case DAP.vmcs: return json(inspector.vmcsReport(target()));
        case DAP.ept: return json(inspector.eptReport(target(), a.form === 'tree' ? 'tree' : 'flat'));
        case DAP.exits: return json(inspector.exitsReport(target(), typeof a.limit === 'number' ? a.limit : undefined));
        case DAP.translate: return json(inspector.translateReport(target(), BigInt(String(a.address)), a.kind === 'linear' ? 'linear' : 'physical'));
        case 'setExpression': {
          const res = inspector.setExpression(target(), String(a.expression), String(a.value));
          atStop = snapshot(vmm);
          return { value: res.result };
        }
        default: throw new Error(`unrecognised request '${command}'`);
      }
    },
  };
  const rec: RecordedSession = {
    vmm, result: run(o.max ?? 200_000), target, session,
    resume: (max = 200_000) => (rec.result = run(vmm.cpu.icount + max)),
  };
  return rec;
}

/**
 * The guest the panel tests share (64-bit): CPUID leaves 0 and 1, a byte to port 0x80, a read of
 * the local APIC's version register (MMIO: an EPT violation the VMM emulates), 20 more CPUIDs and
 * port writes in a loop, then ACPI power-off. `PANEL_STOPS` stops on CPUID leaf 1, then on the
 * EPT violation, then on the last CPUID (leaf 1 again).
 */
export const PANEL_GUEST = [
  'bits 64',
  'start:',
  '  xor eax, eax',
  '  cpuid',
  '  mov eax, 1',
  '  cpuid',
  '  mov al, 0x42',
  '  out 0x80, al',
  '  mov eax, [0xfee00030]',
  '  mov esi, 20',
  'again:',
  '  mov eax, esi',
  '  cpuid',
  '  mov al, 0x43',
  '  out 0x80, al',
  '  dec esi',
  '  jnz again',
  '  mov dx, 0x604',
  '  mov ax, 0x2000',
  '  out dx, ax',
].join('\n');

export const PANEL_STOPS = (e: DecodedExit): boolean => (e.id === 'cpuid' && e.fields.leaf === 1n) || e.id === 'ept_violation';
