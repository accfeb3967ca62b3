/**
 * A bounded little-endian cursor over one section of untrusted bytes (DWARF 5 §7.4 32/64-bit
 * formats, §7.6 LEB128). Every read past the end throws a DebugFormatError, which the readers
 * above catch to keep what they read so far.
 */
import { addressFromHalves } from '../address';

/** Malformed or truncated debug information (never escapes loadDebugInfo). */
export class DebugFormatError extends Error {}

const TWO_32 = 2 ** 32;

export class ByteReader {
  private readonly view: DataView;
  pos: number;

  constructor(readonly bytes: Uint8Array, pos = 0, private readonly section = 'section') {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  get length(): number { return this.bytes.length; }
  get atEnd(): boolean { return this.pos >= this.bytes.length; }

  /** A reader over [start, end) of the same bytes, positioned at `start` (positions stay section offsets). */
  slice(start: number, end: number): ByteReader {
    if (!(start >= 0 && end <= this.bytes.length && start <= end)) this.fail(`range ${start}..${end} outside the ${this.bytes.length} bytes`);
    return new ByteReader(this.bytes.subarray(0, end), start, this.section);
  }

  private need(n: number): number {
    const p = this.pos;
    if (!(n >= 0 && p + n <= this.bytes.length)) this.fail(`reading ${n} byte(s) at offset 0x${p.toString(16)} runs past its end (${this.bytes.length} bytes)`);
    this.pos = p + n;
    return p;
  }

  fail(what: string): never {
    throw new DebugFormatError(`${this.section}: ${what}`);
  }

  skip(n: number): void { this.need(n); }
  u8(): number { return this.view.getUint8(this.need(1)); }
  i8(): number { return this.view.getInt8(this.need(1)); }
  u16(): number { return this.view.getUint16(this.need(2), true); }
  u24(): number { const p = this.need(3); return this.bytes[p] | (this.bytes[p + 1] << 8) | (this.bytes[p + 2] << 16); }
  u32(): number { return this.view.getUint32(this.need(4), true); }

  /** An 8-byte value; values of 2^53 and above (not exact as a number) are NaN, for the caller to reject. */
  u64(): number {
    const p = this.need(8);
    const lo = this.view.getUint32(p, true);
    const hi = this.view.getUint32(p + 4, true);
    if (hi >= 0x200000) return NaN;
    return hi * TWO_32 + lo;
  }

  /**
   * An 8-byte address as the debugger's address number (src/debugger/address.ts): below 2^53 as
   * is, a canonical upper-half address (the value read as signed, down to -2^53) as a negative
   * number; anything else (not exact) NaN, for the caller to reject.
   */
  addr64(): number {
    const p = this.need(8);
    return addressFromHalves(this.view.getUint32(p, true), this.view.getUint32(p + 4, true));
  }

  /** An unsigned value of `size` bytes (1, 2, 3, 4 or 8). */
  uN(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 3: return this.u24();
      case 4: return this.u32();
      case 8: return this.u64();
      default: return this.fail(`unsupported value size ${size}`);
    }
  }

  /** ULEB128 (§7.6); values beyond 2^53 become NaN. */
  uleb(): number {
    let result = 0;
    let mult = 1;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) break;
    }
    return result <= Number.MAX_SAFE_INTEGER ? result : NaN;
  }

  /** SLEB128 (§7.6). */
  sleb(): number {
    let result = 0;
    let mult = 1;
    let b: number;
    do {
      b = this.u8();
      result += (b & 0x7f) * mult;
      mult *= 128;
    } while (b & 0x80);
    if (b & 0x40) result -= mult;
    return Number.isSafeInteger(result) ? result : NaN;
  }

  /** A NUL-terminated UTF-8 string (DW_FORM_string). */
  cstring(): string {
    const start = this.pos;
    const end = this.bytes.indexOf(0, start);
    if (end < 0) this.fail(`unterminated string at offset 0x${start.toString(16)}`);
    this.pos = end + 1;
    return decoder.decode(this.bytes.subarray(start, end));
  }

  /** The 4- or 8-byte initial length of a unit (§7.4): its length and offset size. */
  initialLength(): { length: number; offsetSize: 4 | 8 } {
    const l = this.u32();
    if (l === 0xffffffff) return { length: this.u64(), offsetSize: 8 };
    if (l >= 0xfffffff0) this.fail(`reserved initial length 0x${l.toString(16)}`);
    return { length: l, offsetSize: 4 };
  }
}

const decoder = new TextDecoder();

/** The NUL-terminated string at `offset` of a string section (.debug_str, .debug_line_str), or undefined. */
export function stringAt(section: Uint8Array | undefined, offset: number): string | undefined {
  if (!section || !Number.isSafeInteger(offset) || offset < 0 || offset >= section.length) return undefined;
  const end = section.indexOf(0, offset);
  return decoder.decode(section.subarray(offset, end < 0 ? section.length : end));
}
