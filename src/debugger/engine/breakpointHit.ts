/**
 * What happens when a breakpoint is reached: its condition (the inspector's expression
 * language), its hit count, its log message (a logpoint logs and does not stop); and the VMCS
 * snapshot taken at each stop (changed-since-last-stop flags).
 */
import { currentVmcs, type StoppedMachine } from '../stoppedMachine';
import type { DecodedExit } from '../../vmx/exitDecode';
import { VMCS_FIELDS } from '../../vmx/fields';
import { inspector } from '../inspect';
import type { InspectTarget } from '../model';
import type { Breakpoint } from './breakpoints';

type Log = (text: string, category: 'console' | 'stderr') => void;

/** Condition, hit count, log message: true when the breakpoint stops. */
export function shouldStop(b: Breakpoint, target: () => InspectTarget, log: Log): boolean {
  if (b.condition !== undefined) {
    try {
      const r = inspector.evaluate(target(), b.condition, 'watch').result;
      if (/^(0x0+|0|false)$/i.test(r.trim())) return false;
    } catch (e) {
      log(`breakpoint condition '${b.condition}': ${(e as Error).message} (stopping)\n`, 'stderr');
    }
  }
  b.hits++;
  if (b.hitTest !== undefined && !b.hitTest(b.hits)) return false;
  if (b.logMessage !== undefined) {
    log(`${interpolate(b.logMessage, undefined, target())}\n`, 'console');
    return false;
  }
  return true;
}

/**
 * `{expression}` in a log message replaced by its value; for an exit, `{field}` is the exit's
 * field, `{summary}` / `{exit}` the exit in words and `{name}` its reason's name.
 */
export function interpolate(message: string, exit: DecodedExit | undefined, t: InspectTarget): string {
  return message.replace(/\{([^{}]+)\}/g, (_m, expr: string) => {
    const x = expr.trim();
    if (exit !== undefined) {
      if (x === 'summary' || x === 'exit') return exit.summary;
      if (x === 'name') return exit.name;
      const f = exit.fields[x];
      if (typeof f === 'bigint') return `0x${f.toString(16)}`;
      if (f !== undefined) return String(f);
    }
    try {
      return inspector.evaluate(exit !== undefined ? { ...t, stoppedExit: exit } : t, x, 'watch').result;
    } catch (e) {
      return `{${x}: ${(e as Error).message}}`;
    }
  });
}

/** Every supported field's value of the current VMCS now, by name (empty without one). */
export function snapshotVmcs(machine: StoppedMachine): Map<string, bigint> {
  const m = new Map<string, bigint>();
  const v = currentVmcs(machine);
  if (v === null) return m;
  for (const f of VMCS_FIELDS) {
    if (!f.supported) continue;
    try {
      m.set(f.name, v.read(f.name));
    } catch {
      // A field the modelled CPU does not have.
    }
  }
  return m;
}
