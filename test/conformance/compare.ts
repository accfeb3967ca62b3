/**
 * Comparing the host's result with ours, and describing a mismatch well enough to replay it.
 *
 * What is compared (see README.md):
 *   - the outcome: completed (and where RIP went), or the exception vector (plus CR2 for #PF);
 *   - 64-bit mode: all 16 GPRs, 64 bits each; compatibility mode: the low 32 bits of the 8
 *     legacy GPRs (the upper halves and R8-R15 are undefined there, SDM vol. 1 §3.4.1.1);
 *   - RFLAGS except TF and RF (and the flags the SDM leaves undefined for the instruction);
 *   - XMM0-15 and MXCSR; the x87 state (FCW, FSW, abridged tags, non-empty registers, FOP/FIP/FDP);
 *   - every byte of the data, stack and code regions.
 */
import { disassemble } from '../../src/x86/decoded';
import { GPR_NAMES, formatFlags } from '../../src/x86/registers';
import { VECTOR_NAMES } from '../../src/x86/exceptions';
import type { Case } from './generator';
import type { HostResult } from './host';
import { HOST_FLAG_TIMEOUT, HOST_FLAG_TRUNCATED } from './host';
import type { OurResult } from './ours';
import type { X87Image } from './host';
import { stHex } from './x87';

export interface Outcome {
  kind: 'completed' | 'exception' | 'timeout' | 'error';
  vector: number;
  detail: string;
  regs: Uint32Array;
  rip: bigint;
  rflags: number;
  cr2: bigint | null;
  diff: Array<[number, number]>;
  truncated: boolean;
  xmm: Uint32Array;
  mxcsr: number;
  x87: X87Image;
}

const SIGTRAP = 5;

/** RFLAGS bits compared: all architectural bits but TF (8) and RF (16). */
export const FLAGS_COMPARED = 0x3f7fd7 & ~((1 << 8) | (1 << 16));

export function hostOutcome(c: Case, h: HostResult): Outcome {
  const base = {
    regs: h.regs, rflags: h.rflags, diff: h.diff, truncated: (h.flags & HOST_FLAG_TRUNCATED) !== 0, xmm: h.xmm, mxcsr: h.mxcsr, x87: h.x87,
  };
  if ((h.flags & HOST_FLAG_TIMEOUT) !== 0) {
    return { ...base, kind: 'timeout', vector: -1, detail: 'the host did not reach a breakpoint within 5 s', rip: h.rip, cr2: null };
  }
  if (h.signo === SIGTRAP && h.trapno === 3) {
    return { ...base, kind: 'completed', vector: -1, detail: '', rip: h.rip - 1n, cr2: null };
  }
  const start = BigInt(c.insnAddr), end = start + BigInt(c.bytes.length);
  if (h.trapno === 14 && h.cr2 === h.rip && (h.rip < start || h.rip >= end)) {
    // The instruction completed and control went to an address that cannot be fetched.
    return { ...base, kind: 'completed', vector: -1, detail: 'next fetch faults', rip: h.rip, cr2: null };
  }
  return {
    ...base, kind: 'exception', vector: h.trapno, detail: `signal ${h.signo}, error code 0x${h.err.toString(16)}`,
    rip: h.rip, cr2: h.trapno === 14 ? h.cr2 : null,
  };
}

export function ourOutcome(o: OurResult): Outcome {
  return { ...o, truncated: false };
}

function hex(v: bigint | number, width = 0): string {
  const s = (typeof v === 'bigint' ? v : BigInt(v >>> 0)).toString(16);
  return `0x${width ? s.padStart(width, '0') : s}`;
}

function reg64(r: Uint32Array, i: number): bigint {
  return (BigInt(r[2 * i + 1]) << 32n) | BigInt(r[2 * i]);
}

export function describeOutcome(c: Case, o: Outcome): string {
  switch (o.kind) {
    case 'completed': {
      const off = o.rip - BigInt(c.insnAddr);
      const rel = off >= 0n && off <= 16n ? `insn+${off}` : hex(o.rip);
      return `completed, RIP=${rel}${o.detail ? ` (${o.detail})` : ''}`;
    }
    case 'exception': {
      const name = (VECTOR_NAMES[o.vector] ?? `vector ${o.vector}`).split(' ')[0];
      const where = o.rip === BigInt(c.insnAddr) ? '' : ` at ${hex(o.rip)}`;
      const cr2 = o.cr2 !== null ? ` CR2=${hex(o.cr2)}` : '';
      return `${name}${o.detail ? ` (${o.detail})` : ''}${where}${cr2}`;
    }
    case 'timeout': return 'timeout';
    case 'error': return `internal error: ${o.detail}`;
  }
}

/** The differences between the two outcomes (empty when they agree). */
export function compareOutcomes(c: Case, host: Outcome, ours: Outcome, strict: boolean): string[] {
  const out: string[] = [];
  if (host.kind === 'timeout' || host.kind === 'error' || ours.kind === 'error' || host.kind !== ours.kind ||
      (host.kind === 'exception' && host.vector !== ours.vector)) {
    out.push(`outcome: host ${describeOutcome(c, host)}; ours ${describeOutcome(c, ours)}`);
    return out;
  }
  const completed = host.kind === 'completed';
  const mask32 = c.mode === 32;
  const ripMask = mask32 ? 0xffffffffn : (1n << 64n) - 1n;
  if ((host.rip & ripMask) !== (ours.rip & ripMask)) {
    out.push(`RIP: host ${hex(host.rip)}, ours ${hex(ours.rip)} (instruction at ${hex(c.insnAddr)})`);
  }
  if (host.kind === 'exception' && host.vector === 14 && host.cr2 !== ours.cr2) {
    out.push(`CR2: host ${hex(host.cr2 ?? 0n)}, ours ${ours.cr2 === null ? '-' : hex(ours.cr2)}`);
  }
  const undefRegs = strict || !completed ? 0 : c.undefRegs;
  const nregs = mask32 ? 8 : 16;
  for (let i = 0; i < nregs; i++) {
    if ((undefRegs >>> i) & 1) continue;
    const hv = mask32 ? BigInt(host.regs[2 * i]) : reg64(host.regs, i);
    const ov = mask32 ? BigInt(ours.regs[2 * i]) : reg64(ours.regs, i);
    if (hv !== ov) {
      const name = mask32 ? `e${GPR_NAMES[i].slice(1)}` : GPR_NAMES[i];
      const inp = mask32 ? BigInt(c.regs[2 * i]) : reg64(c.regs, i);
      out.push(`${name}: host ${hex(hv)}, ours ${hex(ov)} (input ${hex(inp)})`);
    }
  }
  const undefFlags = strict || !completed ? 0 : c.undefFlags;
  const fm = FLAGS_COMPARED & ~undefFlags;
  const fd = (host.rflags ^ ours.rflags) & fm;
  if (fd !== 0) {
    out.push(`RFLAGS: host ${hex(host.rflags & fm)} [${formatFlags(host.rflags & fm)}], ours ${hex(ours.rflags & fm)} [${formatFlags(ours.rflags & fm)}], differ in ${formatFlags(fd)}` +
      (undefFlags ? ` (undefined, not compared: ${formatFlags(undefFlags)})` : ''));
  }
  // XMM registers (all 16: compatibility mode cannot touch XMM8-15, both sides keep them) and
  // MXCSR, bit for bit; c.undefXmm masks registers whose value the SDM leaves
  // implementation-specific (RCPPS/RSQRTPS approximations).
  const undefXmm = strict || !completed ? 0 : c.undefXmm;
  for (let i = 0; i < 16; i++) {
    if ((undefXmm >>> i) & 1) continue;
    let same = true;
    for (let k = 0; k < 4; k++) if (host.xmm[4 * i + k] !== ours.xmm[4 * i + k]) same = false;
    if (!same) out.push(`xmm${i}: host ${xmmHex(host.xmm, i)}, ours ${xmmHex(ours.xmm, i)} (input ${xmmHex(c.xmm, i)})`);
  }
  if ((host.mxcsr & 0xffff) !== (ours.mxcsr & 0xffff)) {
    out.push(`MXCSR: host ${hex(host.mxcsr, 4)}, ours ${hex(ours.mxcsr, 4)} (input ${hex(c.mxcsr, 4)})`);
  }
  diffX87(c, host.x87, ours.x87, out);
  // Memory: both lists are bytes differing from the same initial image.
  const skip = (a: number): boolean => !strict && completed && c.undefMem.some(([s, n]) => a >= s && a < s + n);
  const hm = new Map(host.diff.filter(([a]) => !skip(a)));
  const om = new Map(ours.diff.filter(([a]) => !skip(a)));
  const addrs = new Set([...hm.keys(), ...om.keys()]);
  const bad: string[] = [];
  for (const a of [...addrs].sort((x, y) => x - y)) {
    const h = hm.get(a), o = om.get(a);
    if (h !== o) bad.push(`${hex(a)}: host ${h === undefined ? 'unchanged' : hex(h, 2)}, ours ${o === undefined ? 'unchanged' : hex(o, 2)}`);
  }
  if (bad.length > 0) {
    out.push(`memory (${bad.length} byte${bad.length === 1 ? '' : 's'}): ${bad.slice(0, 8).join('; ')}${bad.length > 8 ? '; ...' : ''}`);
  }
  if (host.truncated) out.push('memory: the host reported more than 4096 changed bytes');
  return out;
}

/**
 * x87 state (README.md, "x87"): FCW, FSW (C0-C3, TOP, ES/B, flags), the abridged tag, the
 * 80-bit contents of every non-empty register, FOP, FIP and FDP.
 */
function diffX87(c: Case, h: X87Image, o: X87Image, out: string[]): void {
  if (h.fcw !== o.fcw) out.push(`FCW: host ${hex(h.fcw, 4)}, ours ${hex(o.fcw, 4)} (input ${hex(c.x87.fcw, 4)})`);
  if (h.fsw !== o.fsw) out.push(`FSW: host ${hex(h.fsw, 4)}, ours ${hex(o.fsw, 4)}, differ in ${fswBits(h.fsw ^ o.fsw)} (input ${hex(c.x87.fsw, 4)})`);
  if (h.ftw !== o.ftw) out.push(`x87 tags: host ${hex(h.ftw, 2)}, ours ${hex(o.ftw, 2)} (input ${hex(c.x87.ftw, 2)}; bit i = Ri not empty)`);
  const ht = (h.fsw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    // The contents of an empty register are not compared: when the x87 state is in its initial
    // configuration XSAVE does not write ST0-7 into the signal frame (SDM vol. 1 §13.6).
    const p = (ht + i) & 7;
    if (((h.ftw >> p) & 1) === 0 && ((o.ftw >> p) & 1) === 0) continue;
    const oi = (p - ((o.fsw >> 11) & 7)) & 7;
    if (stHex(h, i) !== stHex(o, oi)) out.push(`R${p} (ST${i}): host ${stHex(h, i)}, ours ${stHex(o, oi)}`);
  }
  if (h.fop !== o.fop) out.push(`FOP: host ${hex(h.fop, 3)}, ours ${hex(o.fop, 3)}`);
  if (h.fip !== o.fip) out.push(`FIP: host ${hex(h.fip)}, ours ${hex(o.fip)}`);
  if (h.fdp !== o.fdp) out.push(`FDP: host ${hex(h.fdp)}, ours ${hex(o.fdp)}`);
}

const FSW_BITS = ['IE', 'DE', 'ZE', 'OE', 'UE', 'PE', 'SF', 'ES', 'C0', 'C1', 'C2', 'TOP', 'TOP', 'TOP', 'C3', 'B'];
function fswBits(x: number): string {
  return [...new Set(FSW_BITS.filter((_, i) => (x >> i) & 1))].join(' ');
}

function xmmHex(x: Uint32Array, i: number): string {
  return `0x${[3, 2, 1, 0].map((k) => (x[4 * i + k] >>> 0).toString(16).padStart(8, '0')).join('_')}`;
}

/** Classification of a mismatch for the summary. */
export function mismatchClass(host: Outcome, ours: Outcome): string {
  if (ours.kind === 'exception' && ours.vector === 6 && /not implemented/.test(ours.detail) && !(host.kind === 'exception' && host.vector === 6)) {
    return 'not implemented';
  }
  if (host.kind !== ours.kind || host.vector !== ours.vector) return 'outcome';
  return 'state';
}

/** A short signature of a mismatch, for grouping cases that fail the same way. */
export function mismatchKind(host: Outcome, ours: Outcome, diffs: string[]): string {
  const short = (o: Outcome, detail: boolean): string => {
    if (o.kind === 'completed') return 'completed';
    if (o.kind !== 'exception') return o.kind;
    const name = (VECTOR_NAMES[o.vector] ?? `vector ${o.vector}`).split(' ')[0];
    return detail && o.detail ? `${name} (${o.detail})` : name;
  };
  if (diffs.length === 1 && diffs[0].startsWith('outcome:')) return `host ${short(host, false)}, ours ${short(ours, true)}`;
  const fields = new Set(diffs.map((d) => {
    const f = d.slice(0, d.indexOf(':'));
    return /^(r|e)[a-z0-9]+$/.test(f) ? 'registers' : /^xmm/.test(f) ? 'XMM' : /^R[0-7] /.test(f) ? 'x87 registers' : f.replace(/ \(.*/, '');
  }));
  return `both ${short(host, false)}; differ in ${[...fields].join(', ')}`;
}

export interface ReplayInfo {
  seed: number;
  filterArgs: string;
}

/** A full description of one mismatch: replay command, bytes, disassembly, inputs, differences. */
export function formatMismatch(c: Case, host: Outcome, ours: Outcome, diffs: string[], replay: ReplayInfo): string {
  const lines: string[] = [];
  const bytes = [...c.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = disassemble(c.bytes, c.mode, BigInt(c.insnAddr));
  lines.push(`${c.mode}:${c.index} ${c.group} [${c.form.name}]  ${bytes}  ${text}`);
  lines.push(`  replay: npm run conformance -- --seed ${replay.seed} --mode ${c.mode} --case ${c.index}${replay.filterArgs} --verbose`);
  lines.push(`  host: ${describeOutcome(c, host)}`);
  lines.push(`  ours: ${describeOutcome(c, ours)}`);
  for (const d of diffs) lines.push(`  ≠ ${d}`);
  const n = c.mode === 64 ? 16 : 8;
  const regs: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = c.mode === 64 ? reg64(c.regs, i) : BigInt(c.regs[2 * i]);
    const name = c.mode === 64 ? GPR_NAMES[i] : `e${GPR_NAMES[i].slice(1)}`;
    regs.push(`${name}=${hex(v)}`);
  }
  lines.push(`  input: ${regs.join(' ')}`);
  lines.push(`         rflags=${hex(c.rflags)} [${formatFlags(c.rflags)}]` +
    (c.undefFlags ? `  undefined: ${formatFlags(c.undefFlags)}` : '') +
    (c.undefRegs ? `  undefined regs: ${[...Array(16).keys()].filter((i) => (c.undefRegs >>> i) & 1).map((i) => GPR_NAMES[i]).join(',')}` : ''));
  if (c.form.x87 || c.form.mmx) {
    const x = c.x87;
    lines.push(`         fcw=${hex(x.fcw, 4)} fsw=${hex(x.fsw, 4)} (TOP ${(x.fsw >> 11) & 7}) tags=${hex(x.ftw, 2)} ` +
      [...Array(8).keys()].map((i) => `st${i}=${stHex(x, i)}${((x.ftw >> (((x.fsw >> 11) + i) & 7)) & 1) ? '' : '(empty)'}`).join(' '));
  }
  if (c.sse) {
    const used = [...Array(16).keys()].filter((i) => c.xmm[4 * i] | c.xmm[4 * i + 1] | c.xmm[4 * i + 2] | c.xmm[4 * i + 3]);
    lines.push(`         mxcsr=${hex(c.mxcsr, 4)} ${used.map((i) => `xmm${i}=${xmmHex(c.xmm, i)}`).join(' ')}`);
  }
  if (c.patches.length > 0) {
    const ps = c.patches.map((p) => `${hex(p.addr)}: ${[...p.data.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}${p.data.length > 16 ? ' ...' : ''}`);
    lines.push(`  memory: ${ps.join('; ')}`);
  }
  return lines.join('\n');
}
