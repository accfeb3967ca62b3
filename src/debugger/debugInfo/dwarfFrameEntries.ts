/**
 * Call frame information entries (DWARF 4/5 §6.4.1, and the .eh_frame variant of the Linux
 * Standard Base, "Exception Frames"): every CIE and FDE of `.debug_frame` or `.eh_frame`, for
 * 32- and 64-bit ELF. An FDE keeps its address range and the bytes of its instructions with its
 * CIE's; executing them is dwarfCfa.ts. Malformed entries are skipped with a warning (never a
 * throw): what was read before them is kept.
 */
import { addAddress } from '../address';
import { ByteReader, DebugFormatError } from './byteReader';

export interface Cie {
  codeAlign: number;
  dataAlign: number;
  returnAddressRegister: number;
  initialInstructions: Uint8Array;
  /** .eh_frame pointer encoding of the FDEs' addresses (DW_EH_PE_*); absptr for .debug_frame. */
  fdeEncoding: number;
  /** 'z' augmentation: FDEs carry augmentation data (skipped). */
  hasAugmentationData: boolean;
  addressSize: number;
}

export interface Fde {
  cie: Cie;
  /** Address numbers (src/debugger/address.ts) of [start, start + length). */
  start: number;
  length: number;
  instructions: Uint8Array;
}

export interface FrameSection {
  bytes: Uint8Array;
  /** The section's address (sh_addr), for .eh_frame's pc-relative pointers. */
  address: number;
  kind: 'debug_frame' | 'eh_frame';
}

const DW_EH_PE_omit = 0xff;
const DW_EH_PE_pcrel = 0x10;

/** Every FDE of a section (and the CIEs they use), in section order. */
export function readFrameEntries(s: FrameSection, bits: 32 | 64, warnings: string[]): Fde[] {
  const name = s.kind === 'eh_frame' ? '.eh_frame' : '.debug_frame';
  const r = new ByteReader(s.bytes, 0, name);
  const cies = new Map<number, Cie | null>();
  const fdes: Fde[] = [];
  while (!r.atEnd) {
    const at = r.pos;
    let end: number;
    let offsetSize: 4 | 8;
    try {
      const h = r.initialLength();
      offsetSize = h.offsetSize;
      if (h.length === 0) {
        if (s.kind === 'eh_frame') break; // the terminator
        continue;
      }
      end = r.pos + h.length;
      if (!(end <= r.length)) r.fail(`entry at 0x${at.toString(16)} runs past the end of the section`);
    } catch (err) {
      if (!(err instanceof DebugFormatError)) throw err;
      warnings.push(err.message);
      break;
    }
    // A malformed entry is skipped: the next one starts at `end`.
    try {
      const idPos = r.pos;
      const e = r.slice(r.pos, end);
      const id = offsetSize === 8 ? e.u64() : e.u32();
      const isCie = s.kind === 'eh_frame' ? id === 0 : (offsetSize === 8 ? Number.isNaN(id) || id === 2 ** 64 - 1 : id === 0xffffffff);
      if (isCie) {
        if (!cies.has(at)) cies.set(at, parseCie(e, end, s.kind, bits, warnings, name, at));
      } else {
        const cieAt = s.kind === 'eh_frame' ? idPos - id : id;
        let cie = cies.get(cieAt);
        if (cie === undefined) {
          cie = cieAt >= 0 && cieAt < r.length ? parseCieAt(s, cieAt, bits, warnings, name) : null;
          cies.set(cieAt, cie);
        }
        if (cie === null) warnings.push(`${name}: the FDE at 0x${at.toString(16)} names no readable CIE (0x${cieAt.toString(16)})`);
        else {
          const f = parseFde(e, end, cie, s, bits);
          if (f) fdes.push(f);
        }
      }
    } catch (err) {
      if (!(err instanceof DebugFormatError)) throw err;
      warnings.push(err.message);
    }
    r.pos = end;
  }
  return fdes;
}

function parseCieAt(s: FrameSection, at: number, bits: 32 | 64, warnings: string[], name: string): Cie | null {
  try {
    const r = new ByteReader(s.bytes, at, name);
    const { length, offsetSize } = r.initialLength();
    const end = r.pos + length;
    const e = r.slice(r.pos, end);
    const id = offsetSize === 8 ? e.u64() : e.u32();
    const isCie = s.kind === 'eh_frame' ? id === 0 : (offsetSize === 8 ? Number.isNaN(id) : id === 0xffffffff);
    if (!isCie) return null;
    return parseCie(e, end, s.kind, bits, warnings, name, at);
  } catch (err) {
    if (!(err instanceof DebugFormatError)) throw err;
    warnings.push(err.message);
    return null;
  }
}

/** A CIE's fields after its id (§6.4.1 items 3-9), or null (and a warning) when not understood. */
function parseCie(r: ByteReader, end: number, kind: FrameSection['kind'], bits: 32 | 64, warnings: string[], name: string, at: number): Cie | null {
  const version = r.u8();
  if (version !== 1 && version !== 3 && version !== 4) {
    warnings.push(`${name}: CIE at 0x${at.toString(16)} has version ${version} (1, 3 and 4 are read)`);
    return null;
  }
  const augmentation = r.cstring();
  let addressSize = bits / 8;
  if (version === 4) {
    addressSize = r.u8();
    const segmentSize = r.u8();
    if (segmentSize !== 0) {
      warnings.push(`${name}: CIE at 0x${at.toString(16)} has segment selectors (not supported)`);
      return null;
    }
  }
  if (augmentation === 'eh') r.skip(addressSize);
  const codeAlign = r.uleb();
  const dataAlign = r.sleb();
  const returnAddressRegister = version === 1 ? r.u8() : r.uleb();
  let fdeEncoding = 0;
  let hasAugmentationData = false;
  if (augmentation.startsWith('z')) {
    hasAugmentationData = true;
    const len = r.uleb();
    const data = r.slice(r.pos, r.pos + len);
    r.pos += len;
    for (const c of augmentation.slice(1)) {
      if (c === 'R') fdeEncoding = data.u8();
      else if (c === 'L') data.u8();
      else if (c === 'P') readEncoded(data, data.u8(), addressSize, 0);
      else if (c === 'S' || c === 'B') continue;
      else break; // unknown: the rest of the data is skipped by its length
    }
  } else if (augmentation !== '' && augmentation !== 'eh') {
    warnings.push(`${name}: CIE at 0x${at.toString(16)} has augmentation "${augmentation}" (not understood)`);
    return null;
  }
  if (!(addressSize === 4 || addressSize === 8) || !Number.isFinite(codeAlign) || !Number.isFinite(dataAlign)) {
    warnings.push(`${name}: CIE at 0x${at.toString(16)} has unusable fields`);
    return null;
  }
  if (kind === 'debug_frame') fdeEncoding = 0;
  return { codeAlign, dataAlign, returnAddressRegister, initialInstructions: r.bytes.subarray(r.pos, end), fdeEncoding, hasAugmentationData, addressSize };
}

function parseFde(r: ByteReader, end: number, cie: Cie, s: FrameSection, bits: 32 | 64): Fde | undefined {
  const startPos = r.pos;
  const start = readEncoded(r, cie.fdeEncoding, cie.addressSize, addAddress(s.address, startPos), bits);
  const length = readEncoded(r, cie.fdeEncoding & 0x0f, cie.addressSize, 0, bits);
  if (cie.hasAugmentationData) r.skip(r.uleb());
  if (Number.isNaN(start) || !Number.isFinite(length) || length <= 0) return undefined;
  // The tombstones of discarded code (0 or -1 / -2 as addresses) give no usable range.
  if (start === 0 || start === -1 || start === -2 || (bits === 32 && start >= 0xfffffffe)) return undefined;
  return { cie, start, length, instructions: r.bytes.subarray(r.pos, end) };
}

/**
 * A pointer of a DW_EH_PE_* encoding (LSB "DWARF Exception Header Encoding"): the value formats,
 * absolute or pc-relative (`here` is the address of the field); other applications (datarel,
 * textrel, funcrel) and indirect pointers are not used for code addresses here and read as absolute.
 */
export function readEncoded(r: ByteReader, encoding: number, addressSize: number, here: number, bits: 32 | 64 = 64): number {
  if (encoding === DW_EH_PE_omit) return NaN;
  let v: number;
  switch (encoding & 0x0f) {
    case 0x00: v = addressSize === 8 ? r.addr64() : r.u32(); break;
    case 0x01: v = r.uleb(); break;
    case 0x02: v = r.u16(); break;
    case 0x03: v = r.u32(); break;
    case 0x04: v = r.addr64(); break;
    case 0x09: v = r.sleb(); break;
    case 0x0a: v = (r.u16() << 16) >> 16; break;
    case 0x0b: v = r.u32() | 0; break;
    case 0x0c: v = r.addr64(); break;
    default: return r.fail(`pointer encoding 0x${encoding.toString(16)} is not supported`);
  }
  if ((encoding & 0x70) === DW_EH_PE_pcrel) v = addAddress(here, v);
  if (bits === 32 && Number.isFinite(v)) v = v >>> 0;
  return v;
}
