/** Builds small ELF32/ELF64 files for the loader tests (layout per the System V gABI). */
export interface SegSpec { paddr: number; vaddr?: number; data: number[] | Uint8Array; memsz?: number; type?: number; offset?: number; filesz?: number }
export interface ElfSpec {
  bits: 32 | 64;
  type?: number;
  machine?: number;
  entry: number;
  segments: SegSpec[];
  symbols?: Array<{ name: string; value: number; size: number; info?: number }>;
  /** Bytes placed right after the ELF header (e.g. a Multiboot header). */
  prefix?: number[] | Uint8Array;
}

export function buildElf(spec: ElfSpec): Uint8Array {
  const b64 = spec.bits === 64;
  const ehsize = b64 ? 64 : 52;
  const phent = b64 ? 56 : 32;
  const shent = b64 ? 64 : 40;
  const prefix = Uint8Array.from(spec.prefix ?? []);
  const phoff = ehsize + prefix.length;
  let off = phoff + phent * spec.segments.length;
  off = (off + 15) & ~15;
  const dataOffsets: number[] = [];
  for (const s of spec.segments) { dataOffsets.push(off); off += s.data.length; }
  // Symbol table and string table.
  const syms = spec.symbols ?? [];
  const strtab: number[] = [0];
  const nameOffs = syms.map((s) => { const o = strtab.length; for (const ch of Buffer.from(s.name)) strtab.push(ch); strtab.push(0); return o; });
  const esz = b64 ? 24 : 16;
  const symOff = off; const symSize = esz * (syms.length + 1); off += symSize;
  const strOff = off; off += strtab.length;
  off = (off + 7) & ~7;
  const shoff = syms.length > 0 ? off : 0;
  const shnum = syms.length > 0 ? 3 : 0;
  const total = off + shnum * shent;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const w = (o: number, x: number) => (b64 ? v.setBigUint64(o, BigInt(x), true) : v.setUint32(o, x >>> 0, true));
  out.set([0x7f, 0x45, 0x4c, 0x46, b64 ? 2 : 1, 1, 1]);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? (b64 ? 62 : 3), true);
  v.setUint32(20, 1, true);
  w(24, spec.entry);
  const a = b64 ? 32 : 28;
  w(a, phoff);
  w(a + (b64 ? 8 : 4), shoff);
  const b = b64 ? 52 : 40;
  v.setUint16(b, ehsize, true);
  v.setUint16(b + 2, phent, true);
  v.setUint16(b + 4, spec.segments.length, true);
  v.setUint16(b + 6, shent, true);
  v.setUint16(b + 8, shnum, true);
  v.setUint16(b + 10, 0, true);
  out.set(prefix, ehsize);
  spec.segments.forEach((s, i) => {
    const o = phoff + i * phent;
    const fo = s.offset ?? dataOffsets[i];
    const filesz = s.filesz ?? s.data.length;
    const memsz = s.memsz ?? s.data.length;
    v.setUint32(o, s.type ?? 1, true);
    if (b64) {
      v.setUint32(o + 4, 7, true);
      w(o + 8, fo); w(o + 16, s.vaddr ?? s.paddr); w(o + 24, s.paddr); w(o + 32, filesz); w(o + 40, memsz); w(o + 48, 0x1000);
    } else {
      w(o + 4, fo); w(o + 8, s.vaddr ?? s.paddr); w(o + 12, s.paddr); w(o + 16, filesz); w(o + 20, memsz); w(o + 24, 7); w(o + 28, 0x1000);
    }
    out.set(Uint8Array.from(s.data), dataOffsets[i]);
  });
  syms.forEach((s, i) => {
    const o = symOff + esz * (i + 1);
    v.setUint32(o, nameOffs[i], true);
    if (b64) { out[o + 4] = s.info ?? 0x12; v.setUint16(o + 6, 1, true); w(o + 8, s.value); w(o + 16, s.size); }
    else { w(o + 4, s.value); w(o + 8, s.size); out[o + 12] = s.info ?? 0x12; v.setUint16(o + 14, 1, true); }
  });
  out.set(strtab, strOff);
  if (shnum > 0) {
    const sh = (i: number, type: number, offset: number, size: number, link: number, entsize: number) => {
      const o = shoff + i * shent;
      v.setUint32(o + 4, type, true);
      if (b64) { w(o + 24, offset); w(o + 32, size); v.setUint32(o + 40, link, true); w(o + 56, entsize); }
      else { w(o + 16, offset); w(o + 20, size); v.setUint32(o + 24, link, true); w(o + 36, entsize); }
    };
    sh(1, 2, symOff, symSize, 2, esz);
    sh(2, 3, strOff, strtab.length, 0, 0);
  }
  return out;
}

/** A Multiboot 1 header (magic, flags, checksum, then the a.out kludge fields when given). */
export function multibootHeader(flags: number, kludge?: number[]): number[] {
  const words = [0x1badb002, flags, (-(0x1badb002 + flags)) >>> 0, ...(kludge ?? [])];
  const out: number[] = [];
  for (const x of words) out.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
  return out;
}
