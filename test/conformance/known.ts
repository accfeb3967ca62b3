/**
 * Known x87 differences between the model and this host's silicon, found by this harness. Each
 * entry explains one kind of difference narrowly (mnemonic group, outcome, which state differs
 * and how); a mismatch is "known" when every one of its differences is explained. `npm test`
 * lists known mismatches but does not fail on them; any other mismatch still fails.
 * `--count-known` on the command line counts them as mismatches. Remove an entry once the model
 * matches (README.md, "Known x87 differences").
 *
 * Every other x87 difference found so far has been fixed in src/x86/fpu (C1 rules, FPREM/FPREM1
 * condition codes, ES/B after FLDCW/FNSTENV, FSTPNCE with ST0 empty, FDP kept, FIP/FOP/FDP
 * unchanged on a faulting access, store/segment check order, CR2 and partial m80 stores, the
 * FLDENV/FRSTOR/FNSTENV/FNSAVE access order, FPREM/FSCALE of denormals, the transcendentals' C2
 * and wrapped denormal results). One kind is left: the transcendentals' last-bit rounding.
 */
import type { Case } from './generator';
import type { Outcome } from './compare';
import { X87_TRANSCENDENTAL } from './forms';

const TRANSCENDENTAL = new Set(X87_TRANSCENDENTAL.map((m) => m.toUpperCase()));

export interface Known {
  id: string;
  what: string;
  /** Whether this entry explains one difference line (compare.ts wording) of the case. */
  explains: (c: Case, host: Outcome, ours: Outcome, line: string) => boolean;
}

const field = (d: string): string => d.slice(0, d.indexOf(':'));
/** Whether a line is an FSW difference in no other bits than `bits`. */
const fswOnly = (d: string, bits: string[]): boolean => {
  if (field(d) !== 'FSW') return false;
  const m = /differ in ([A-Z0-9 ]+?) \(/.exec(d);
  return m !== null && m[1].split(' ').every((b) => bits.includes(b));
};

/** Position of an 80-bit value on the number line of its sign (consecutive values differ by 1). */
function ordinal(se: bigint, sig: bigint): bigint {
  const e = se & 0x7fffn;
  return e === 0n ? sig : e * (1n << 63n) + (sig - (1n << 63n));
}
/** Whether a register line (compare.ts) shows two finite values of one sign 1 ulp apart. */
const oneUlp = (d: string): boolean => {
  const m = /^R[0-7] \(ST[0-7]\): host ([0-9a-f]{4}):([0-9a-f]{16}), ours ([0-9a-f]{4}):([0-9a-f]{16})$/.exec(d);
  if (m === null) return false;
  const hs = BigInt(`0x${m[1]}`), os = BigInt(`0x${m[3]}`);
  if ((hs & 0x8000n) !== (os & 0x8000n) || (hs & 0x7fffn) === 0x7fffn || (os & 0x7fffn) === 0x7fffn) return false;
  const hsig = BigInt(`0x${m[2]}`), osig = BigInt(`0x${m[4]}`);
  // Normal values have the integer bit set; denormals have exponent 0 (and no integer bit).
  if (((hs & 0x7fffn) !== 0n) !== (hsig >> 63n === 1n) || ((os & 0x7fffn) !== 0n) !== (osig >> 63n === 1n)) return false;
  const diff = ordinal(hs, hsig) - ordinal(os, osig);
  return diff === 1n || diff === -1n;
};

export const KNOWN_X87: Known[] = [
  {
    id: 'x87-transcendental-ulp',
    what: 'FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/FYL2XP1: a result 1 ulp from silicon\'s and/or C1 (rounded up) ' +
      'different. The model evaluates each function to ~2^-100 and rounds once; silicon\'s microcode uses its own ' +
      'reduction and polynomials, with an internal error of up to ~0.1 ulp, and its last-bit rounding (and so C1) is ' +
      'not specified by the SDM (vol. 1 §8.3.10 bounds the error by 1 ulp) nor derivable without Intel\'s algorithms: ' +
      'where the exact value lies within that error of a rounding boundary the two round differently ' +
      '(0.16-0.64% of cases per mnemonic, README.md)',
    explains: (c, h, o, l) => TRANSCENDENTAL.has(c.group) && h.kind === 'completed' && o.kind === 'completed' &&
      (fswOnly(l, ['C1']) || oneUlp(l)),
  },
];

/** The known entries explaining every difference of a case (null when some difference is new). */
export function knownX87(c: Case, host: Outcome, ours: Outcome, diffs: string[]): { id: string; what: string } | null {
  if (!c.form.x87) return null;
  const used: Known[] = [];
  for (const l of diffs) {
    const k = KNOWN_X87.find((e) => e.explains(c, host, ours, l));
    if (k === undefined) return null;
    if (!used.includes(k)) used.push(k);
  }
  return used.length === 0 ? null : { id: used.map((k) => k.id).join(' + '), what: used.map((k) => k.what).join('; ') };
}
