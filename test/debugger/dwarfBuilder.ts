/**
 * Hand-built DWARF for the debug-information tests: a byte writer (LEB128, 32/64-bit DWARF
 * lengths), line-number program units of DWARF 2-5 with any header parameters, and an ELF file
 * holding named sections (no program headers: the debugger reads sections only).
 */

export class W {
  readonly b: number[] = [];
  get pos(): number { return this.b.length; }
  u8(...xs: number[]): this { for (const x of xs) this.b.push(x & 0xff); return this; }
  u16(x: number): this { return this.u8(x, x >>> 8); }
  u32(x: number): this { return this.u8(x, x >>> 8, x >>> 16, x >>> 24); }
  u64(x: number): this { return this.u32(x % 2 ** 32).u32(Math.floor(x / 2 ** 32)); }
  uN(x: number, size: number): this { return size === 8 ? this.u64(x) : size === 4 ? this.u32(x) : size === 2 ? this.u16(x) : this.u8(x); }
  uleb(x: number): this {
    do {
      let byte = x % 128;
      x = Math.floor(x / 128);
      if (x > 0) byte |= 0x80;
      this.b.push(byte);
    } while (x > 0);
    return this;
  }
  sleb(x: number): this {
    for (;;) {
      const byte = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
      this.b.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }
  str(s: string): this { for (const c of Buffer.from(s)) this.b.push(c); return this.u8(0); }
  raw(xs: ArrayLike<number>): this { for (let i = 0; i < xs.length; i++) this.b.push(xs[i]); return this; }
  patch32(at: number, x: number): void { for (let i = 0; i < 4; i++) this.b[at + i] = (x >>> (8 * i)) & 0xff; }
  patch64(at: number, x: number): void { this.patch32(at, x % 2 ** 32); this.patch32(at + 4, Math.floor(x / 2 ** 32)); }
  /** A unit: initial length (§7.4: 0xffffffff then 8 bytes for 64-bit DWARF) around what `body` writes. */
  unit(offsetSize: 4 | 8, body: (w: this) => void): this {
    if (offsetSize === 8) this.u32(0xffffffff);
    const at = this.pos;
    this.uN(0, offsetSize);
    const start = this.pos;
    body(this);
    if (offsetSize === 8) this.patch64(at, this.pos - start);
    else this.patch32(at, this.pos - start);
    return this;
  }
  /** A length field of `size` bytes holding the number of bytes `body` writes. */
  sized(size: 4 | 8, body: (w: this) => void): this {
    const at = this.pos;
    this.uN(0, size);
    const start = this.pos;
    body(this);
    if (size === 8) this.patch64(at, this.pos - start);
    else this.patch32(at, this.pos - start);
    return this;
  }
}

export interface LineUnitSpec {
  version: 2 | 3 | 4 | 5;
  offsetSize?: 4 | 8;
  addressSize?: number;
  minInstLength?: number;
  maxOps?: number;
  defaultIsStmt?: boolean;
  lineBase?: number;
  lineRange?: number;
  opcodeBase?: number;
  /** Defaults to the standard lengths (0,1,1,1,1,0,0,0,1,0,0,1) cut or padded with 0 to opcodeBase - 1. */
  stdLengths?: number[];
  /** Directory and file tables (after standard_opcode_lengths). */
  tables: (w: W) => void;
  program: (w: W, op: LineOps) => void;
}

/** Opcode writers for one unit's parameters (DWARF 5 §6.2.5). */
export class LineOps {
  constructor(private readonly w: W, private readonly s: Required<Pick<LineUnitSpec, 'lineBase' | 'lineRange' | 'opcodeBase'>>) {}
  special(addrAdvance: number, lineAdvance: number): this {
    const op = lineAdvance - this.s.lineBase + this.s.lineRange * addrAdvance + this.s.opcodeBase;
    if (lineAdvance < this.s.lineBase || lineAdvance >= this.s.lineBase + this.s.lineRange || op > 255) throw new Error('no special opcode for that');
    this.w.u8(op);
    return this;
  }
  copy(): this { this.w.u8(1); return this; }
  advancePc(n: number): this { this.w.u8(2).uleb(n); return this; }
  advanceLine(n: number): this { this.w.u8(3).sleb(n); return this; }
  setFile(n: number): this { this.w.u8(4).uleb(n); return this; }
  setColumn(n: number): this { this.w.u8(5).uleb(n); return this; }
  negateStmt(): this { this.w.u8(6); return this; }
  basicBlock(): this { this.w.u8(7); return this; }
  constAddPc(): this { this.w.u8(8); return this; }
  fixedAdvancePc(n: number): this { this.w.u8(9).u16(n); return this; }
  prologueEnd(): this { this.w.u8(10); return this; }
  epilogueBegin(): this { this.w.u8(11); return this; }
  setIsa(n: number): this { this.w.u8(12).uleb(n); return this; }
  extended(sub: number, payload: (w: W) => void): this {
    const body = new W();
    body.u8(sub);
    payload(body);
    this.w.u8(0).uleb(body.pos).raw(body.b);
    return this;
  }
  endSequence(): this { return this.extended(1, () => {}); }
  setAddress(a: number, size: number): this { return this.extended(2, (w) => w.uN(a, size)); }
  defineFile(name: string, dir: number): this { return this.extended(3, (w) => w.str(name).uleb(dir).uleb(0).uleb(0)); }
  setDiscriminator(n: number): this { return this.extended(4, (w) => w.uleb(n)); }
}

const STD_LENGTHS = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

/** Append one line-number program unit (§6.2.4) to `w`. */
export function lineUnit(w: W, spec: LineUnitSpec): W {
  const p = { lineBase: spec.lineBase ?? -5, lineRange: spec.lineRange ?? 14, opcodeBase: spec.opcodeBase ?? 13 };
  const offsetSize = spec.offsetSize ?? 4;
  return w.unit(offsetSize, (u) => {
    u.u16(spec.version);
    if (spec.version >= 5) u.u8(spec.addressSize ?? 8, 0);
    u.sized(offsetSize, (h) => {
      h.u8(spec.minInstLength ?? 1);
      if (spec.version >= 4) h.u8(spec.maxOps ?? 1);
      h.u8(spec.defaultIsStmt === false ? 0 : 1);
      h.u8(p.lineBase & 0xff, p.lineRange, p.opcodeBase);
      const lens = spec.stdLengths ?? Array.from({ length: p.opcodeBase - 1 }, (_, i) => STD_LENGTHS[i] ?? 0);
      h.u8(...lens);
      spec.tables(h);
    });
    spec.program(u, new LineOps(u, p));
  });
}

export interface SectionSpec {
  name: string;
  type?: number;
  flags?: number;
  addr?: number;
  data: ArrayLike<number>;
  link?: number;
  entsize?: number;
  /** sh_size when it is not data.length (SHT_NOBITS, or a size that lies). */
  size?: number;
}

/** An ELF file with the given sections (plus the null section and .shstrtab), no program headers. */
export function elfWithSections(bits: 32 | 64, sections: SectionSpec[], type = 2): Uint8Array {
  const b64 = bits === 64;
  const ehsize = b64 ? 64 : 52;
  const shent = b64 ? 64 : 40;
  const names = new W().u8(0);
  const nameOff = sections.map((s) => { const o = names.pos; names.str(s.name); return o; });
  const shstrName = names.pos;
  names.str('.shstrtab');
  const all = [...sections.map((s, i) => ({ ...s, nameOff: nameOff[i] })), { name: '.shstrtab', type: 3, data: names.b, nameOff: shstrName } as SectionSpec & { nameOff: number }];
  const out = new W();
  for (let i = 0; i < ehsize; i++) out.u8(0);
  const offsets = all.map((s) => {
    while (out.pos % 8) out.u8(0);
    const o = out.pos;
    out.raw(s.data);
    return o;
  });
  while (out.pos % 8) out.u8(0);
  const shoff = out.pos;
  for (let i = 0; i < shent; i++) out.u8(0);
  all.forEach((s, i) => {
    const type = s.type ?? 1;
    out.u32(s.nameOff).u32(type);
    if (b64) out.u64(s.flags ?? 0).u64(s.addr ?? 0).u64(offsets[i]).u64(s.size ?? s.data.length).u32(s.link ?? 0).u32(0).u64(1).u64(s.entsize ?? 0);
    else out.u32(s.flags ?? 0).u32(s.addr ?? 0).u32(offsets[i]).u32(s.size ?? s.data.length).u32(s.link ?? 0).u32(0).u32(1).u32(s.entsize ?? 0);
  });
  const bytes = Uint8Array.from(out.b);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, b64 ? 2 : 1, 1, 1]);
  v.setUint16(16, type, true);
  v.setUint16(18, b64 ? 62 : 3, true);
  v.setUint32(20, 1, true);
  if (b64) v.setBigUint64(40, BigInt(shoff), true);
  else v.setUint32(32, shoff, true);
  const b = b64 ? 52 : 40;
  v.setUint16(b, ehsize, true);
  v.setUint16(b + 6, shent, true);
  v.setUint16(b + 8, all.length + 1, true);
  v.setUint16(b + 10, all.length, true);
  return bytes;
}

/** A .text section (SHF_ALLOC | SHF_EXECINSTR, no bits) so sequences at `addr` count as loaded. */
export function textSection(addr: number, size: number): SectionSpec {
  return { name: '.text', type: 8, flags: 0x6, addr, data: [], size };
}
