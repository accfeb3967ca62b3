/**
 * Load the program of a launch configuration onto a new machine (under the built-in hypervisor,
 * or bare VT-x mode), with the same code as `vtx run`
 * (src/cli/runGuest.ts prepareGuest; .asm sources through assembleGuestSource), and read its
 * debug information.
 */
import { readImage, assembleGuestSource } from '../../cli/runCommand';
import { prepareGuest, type PreparedGuest } from '../../cli/runGuest';
import { UsageError } from '../../cli/args';
import { bareMachine, builtinMachine, type StoppedMachine } from '../stoppedMachine';
import type { AssembleResult } from '../../language/asm/assembler';
import { loadDebugInfo } from '../debugInfo';
import type { DebugInfo, ProgramImage } from '../model';
import { LaunchError, type CheckedLaunch } from './launchConfig';

/** The command line's option names → the launch.json fields (for messages). */
const FIELD_OF_OPTION: Record<string, string> = {
  mode: 'bootMode', 'load-address': 'loadAddress', entry: 'entry', memory: 'memory', 'max-instructions': 'maxInstructions', cmdline: 'cmdline', stack: 'stack', format: 'format',
};

export interface LoadedProgram {
  /** The machine: on the built-in hypervisor's Vmm, or bare (`hypervisor: "none"`). */
  m: StoppedMachine;
  prepared: PreparedGuest;
  image: ProgramImage;
  info: DebugInfo;
  maxInstructions: number;
}

export function loadProgram(cfg: CheckedLaunch, serialSink: (byte: number) => void): LoadedProgram {
  const guest = { ...cfg.guest, name: cfg.program, serialSink };
  try {
    let bytes: Uint8Array;
    let assembled: AssembleResult | undefined;
    if (cfg.source === 'asm') {
      const r = assembleGuestSource(cfg.program, guest);
      if (!r.result.ok) throw new LaunchError(`'program' does not assemble:\n${r.diagnostics.join('\n')}`);
      bytes = r.result.bytes;
      assembled = r.result;
    } else {
      bytes = readImage(cfg.program);
    }
    const prepared = prepareGuest(bytes, guest);
    const m = prepared.vmm !== null ? builtinMachine(prepared.vmm) : bareMachine(prepared.machine);
    const format: ProgramImage['format'] = assembled !== undefined ? 'asm' : prepared.format;
    const image: ProgramImage = {
      path: cfg.program, bytes, format, assembled,
      loadAddress: prepared.format === 'flat' ? prepared.options.loadAddress : undefined,
    };
    return { m, prepared, image, info: loadDebugInfo(image), maxInstructions: prepared.options.maxInstructions };
  } catch (e) {
    if (e instanceof UsageError) throw new LaunchError(`launch configuration: ${e.message.replace(/--([a-z-]+)/g, (_m, o: string) => `'${FIELD_OF_OPTION[o] ?? o}'`)}`);
    throw e;
  }
}
