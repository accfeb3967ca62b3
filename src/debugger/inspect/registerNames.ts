/**
 * Register names the expression language knows (case-insensitive): the 64/32/16/8-bit general
 * registers (SDM vol. 1 §3.4.1, §3.7.2.1), RIP/EIP/IP, RFLAGS/EFLAGS/FLAGS and each flag, the
 * control registers, EFER, XCR0, the debug registers, segment selectors and `cs.base`-style
 * parts, GDTR/IDTR. Writes to a part keep the other bits (a debugger's register write, not an
 * instruction's zero extension).
 */
import { FLAG_NAMES } from '../../x86/registers';
import type { GuestState } from './guestState';
import { GPR_ORDER, SEGMENTS } from './guestState';

export interface RegisterRef {
  name: string;
  bits: number;
  get(): bigint;
  /** Absent: read-only here (the message says where to change it). */
  set?: (v: bigint) => void;
  readOnlyWhy?: string;
}

const LEGACY8 = ['al', 'cl', 'dl', 'bl'];
const HIGH8 = ['ah', 'ch', 'dh', 'bh'];
const NEW8 = ['', '', '', '', 'spl', 'bpl', 'sil', 'dil'];
const flagBit = new Map(FLAG_NAMES.map(([bit, name]) => [name.toLowerCase(), bit]));

/** Every name a register reference accepts (for completions and suggestions). */
export const REGISTER_NAMES: readonly string[] = [
  ...GPR_ORDER, ...GPR_ORDER.map((r, i) => (i < 8 ? `e${r.slice(1)}` : `${r}d`)), ...GPR_ORDER.map((r, i) => (i < 8 ? r.slice(1) : `${r}w`)),
  ...LEGACY8, ...HIGH8, 'spl', 'bpl', 'sil', 'dil', ...GPR_ORDER.slice(8).map((r) => `${r}b`),
  'rip', 'eip', 'ip', 'rflags', 'eflags', 'flags', ...flagBit.keys(), 'iopl',
  'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'xcr0', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7',
  ...SEGMENTS.flatMap(([s]) => [s, `${s}.base`, `${s}.limit`, `${s}.ar`, `${s}.selector`]),
  'gdtr.base', 'gdtr.limit', 'idtr.base', 'idtr.limit',
];

function part(name: string, full: () => bigint, store: (v: bigint) => void, lo: number, bits: number): RegisterRef {
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(lo);
  return {
    name, bits,
    get: () => (full() & mask) >> BigInt(lo),
    set: (v) => store((full() & ~mask) | ((BigInt.asUintN(bits, v) << BigInt(lo)) & mask)),
  };
}

const ro = (name: string, bits: number, get: () => bigint, why: string): RegisterRef => ({ name, bits, get, readOnlyWhy: why });

/** The register called `name` (case-insensitive), or undefined. */
export function registerRef(g: GuestState, raw: string): RegisterRef | undefined {
  const name = raw.toLowerCase();
  const gi = GPR_ORDER.indexOf(name as (typeof GPR_ORDER)[number]);
  const gpr = (i: number): [() => bigint, (v: bigint) => void] => [() => g.gpr(GPR_ORDER[i]), (v) => g.setGpr(GPR_ORDER[i], v)];
  if (gi >= 0) return part(name, ...gpr(gi), 0, 64);
  for (let i = 0; i < 16; i++) {
    const r = GPR_ORDER[i];
    const e32 = i < 8 ? `e${r.slice(1)}` : `${r}d`;
    const e16 = i < 8 ? r.slice(1) : `${r}w`;
    if (name === e32) return part(name, ...gpr(i), 0, 32);
    if (name === e16) return part(name, ...gpr(i), 0, 16);
    if (name === (i < 4 ? LEGACY8[i] : i < 8 ? NEW8[i] : `${r}b`) || (i >= 8 && name === `${r}l`)) return part(name, ...gpr(i), 0, 8);
    if (i < 4 && name === HIGH8[i]) return part(name, ...gpr(i), 8, 8);
  }
  const rip: [() => bigint, (v: bigint) => void] = [() => g.rip(), (v) => g.setRip(v)];
  const rfl: [() => bigint, (v: bigint) => void] = [() => g.rflags(), (v) => g.setRflags(v)];
  switch (name) {
    case 'rip': return part(name, ...rip, 0, 64);
    case 'eip': return part(name, ...rip, 0, 32);
    case 'ip': return part(name, ...rip, 0, 16);
    case 'rflags': return part(name, ...rfl, 0, 64);
    case 'eflags': return part(name, ...rfl, 0, 32);
    case 'flags': return part(name, ...rfl, 0, 16);
    case 'iopl': return part(name, ...rfl, 12, 2);
    case 'cr0': return ro(name, 64, () => g.cr0(), 'set vmcs.GUEST_CR0 (the real value) or vmcs.CR0_READ_SHADOW (what the guest reads of host-owned bits)');
    case 'cr2': return ro(name, 64, () => g.cr2(), 'CR2 is loaded by page faults');
    case 'cr3': return ro(name, 64, () => g.cr3(), 'set vmcs.GUEST_CR3');
    case 'cr4': return ro(name, 64, () => g.cr4(), 'set vmcs.GUEST_CR4 or vmcs.CR4_READ_SHADOW');
    case 'cr8': return ro(name, 64, () => g.cr8(), 'CR8 is not writable from the debugger');
    case 'efer': return ro(name, 64, () => g.efer(), 'set vmcs.GUEST_IA32_EFER');
    case 'xcr0': return ro(name, 64, () => g.xcr0(), 'XCR0 is written by the guest (XSETBV)');
    case 'dr0': case 'dr1': case 'dr2': case 'dr3': case 'dr6': case 'dr7':
      return ro(name, 64, () => g.dr(Number(name[2])), name === 'dr7' ? 'set vmcs.GUEST_DR7' : 'debug registers are not writable from the debugger');
    case 'gdtr.base': case 'idtr.base': return ro(name, 64, () => g.table(name.slice(0, 4) as 'gdtr').base, `set vmcs.GUEST_${name.slice(0, 4).toUpperCase()}_BASE`);
    case 'gdtr.limit': case 'idtr.limit': return ro(name, 32, () => g.table(name.slice(0, 4) as 'gdtr').limit, `set vmcs.GUEST_${name.slice(0, 4).toUpperCase()}_LIMIT`);
    default: break;
  }
  const fb = flagBit.get(name);
  if (fb !== undefined) return part(name, ...rfl, fb, 1);
  const [seg, what = 'selector'] = name.split('.');
  if (SEGMENTS.some(([s]) => s === seg) && ['selector', 'base', 'limit', 'ar'].includes(what)) {
    const key = what as 'selector' | 'base' | 'limit' | 'ar';
    const field = `GUEST_${seg.toUpperCase()}_${key === 'ar' ? 'ACCESS_RIGHTS' : key.toUpperCase()}`;
    return ro(name, key === 'base' ? 64 : 32, () => g.segment(seg)[key], `set vmcs.${field}`);
  }
  return undefined;
}
