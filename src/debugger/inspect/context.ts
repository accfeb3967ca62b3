/** What every inspection call works from: the target, the guest's state, the exit in view. */
import type { InspectTarget, ExitRecord } from '../model';
import type { DecodedExit } from '../../vmx/exitDecode';
import { GuestState } from './guestState';
import { builtinMachine, type StoppedMachine } from '../stoppedMachine';

/** The stopped machine of a target. */
export function machineOf(t: InspectTarget): StoppedMachine {
  return t.machine ?? builtinMachine(t.vmm);
}

export interface Ctx {
  t: InspectTarget;
  g: GuestState;
  /** The exit the guest is stopped on, else the last one recorded. */
  exit: DecodedExit | undefined;
  /** True when `exit` is the one the guest is stopped on. */
  stoppedOnExit: boolean;
  lastRecord: ExitRecord | undefined;
}

export function contextOf(t: InspectTarget): Ctx {
  const lastRecord = t.exits.length > 0 ? t.exits[t.exits.length - 1] : undefined;
  return { t, g: new GuestState(machineOf(t)), exit: t.stoppedExit ?? lastRecord?.exit, stoppedOnExit: t.stoppedExit !== undefined, lastRecord };
}

/** Aliases of exit fields people type (`qual` for the exit qualification). */
export const EXIT_FIELD_ALIASES: Readonly<Record<string, string>> = { qual: 'qualification', exit_reason: 'reason', len: 'length' };

/** The exit's decoded value called `name` (case-insensitive, aliases), or undefined. */
export function exitField(ctx: Ctx, name: string): bigint | boolean | string | undefined {
  if (ctx.exit === undefined) return undefined;
  const n = name.toLowerCase();
  const key = EXIT_FIELD_ALIASES[n] ?? n;
  for (const [k, v] of Object.entries(ctx.exit.fields)) if (k.toLowerCase() === key) return v;
  return undefined;
}

/** Names of the exit's fields (and aliases that apply). */
export function exitFieldNames(ctx: Ctx): string[] {
  if (ctx.exit === undefined) return [];
  const names = Object.keys(ctx.exit.fields);
  for (const [a, k] of Object.entries(EXIT_FIELD_ALIASES)) if (names.includes(k)) names.push(a);
  return names;
}
