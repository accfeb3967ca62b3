/**
 * Stack frames: the frame at CS:RIP, then callers found by following the frame-pointer chain
 * (RBP/EBP/BP → saved frame pointer, return address above it) while it is plausible — inside
 * readable memory, above the stack pointer, growing upward, at most 64 frames. Without a chain
 * (no frame pointers, or code before its prologue) only the RIP frame is shown.
 */
import type { StoppedMachine } from '../stoppedMachine';
import type { DebugInfo, SourcePosition } from '../model';
import { addressOf, formatAddress } from '../address';
import { guestBitness, guestReg, readGuestValue, ripLinear } from './guestState';

export interface Frame {
  id: number;
  /** Linear address of the frame's instruction. */
  pc: number;
  name: string;
  source?: SourcePosition;
}

function frameName(info: DebugInfo, pc: number): string {
  const s = info.symbols.nameAt(pc);
  if (s === undefined) return formatAddress(pc);
  return s.offset === 0 ? s.name : `${s.name}+0x${s.offset.toString(16)}`;
}

export function stackFrames(m: StoppedMachine, info: DebugInfo, max = 64): Frame[] {
  const pc = ripLinear(m);
  const frames: Frame[] = [{ id: 0, pc, name: frameName(info, pc), source: info.lines?.lineAt(pc) }];
  const bits = guestBitness(m);
  const w = bits / 8;
  const mask = bits === 64 ? (1n << 64n) - 1n : (1n << BigInt(bits)) - 1n;
  const rsp = guestReg(m, 'rsp') & mask;
  let bp = guestReg(m, 'rbp') & mask;
  while (frames.length < max) {
    if (bp === 0n || bp < rsp || bp - rsp > 0x100000n || bp % BigInt(w) !== 0n) break;
    const saved = readGuestValue(m, bp, w);
    const ret = readGuestValue(m, bp + BigInt(w), w);
    if (saved === undefined || ret === undefined || ret === 0n) break;
    const r = bits === 64 ? addressOf(ret) : Number(ret);
    if (Number.isNaN(r)) break;
    frames.push({ id: frames.length, pc: r, name: frameName(info, r), source: info.lines?.lineAt(r) });
    if (saved <= bp) break;
    bp = saved;
  }
  return frames;
}

/** Where the current function returns to: the caller's frame, else the word at the stack pointer (before a prologue). */
export function returnAddress(m: StoppedMachine, info: DebugInfo, atFunctionStart: boolean): number | undefined {
  const bits = guestBitness(m);
  const w = bits / 8;
  if (!atFunctionStart) {
    const f = stackFrames(m, info, 2);
    if (f.length > 1) return f[1].pc;
  }
  const v = readGuestValue(m, guestReg(m, 'rsp') & (bits === 64 ? (1n << 64n) - 1n : (1n << BigInt(bits)) - 1n), w);
  if (v === undefined) return undefined;
  const r = bits === 64 ? addressOf(v) : Number(v);
  return Number.isNaN(r) ? undefined : r;
}
