// Draws the extension icon, media/icon.png (128x128 RGBA): a processor chip with "VTX" on it,
// on a dark blue rounded square. No image library: shapes are sampled 4x4 per pixel for smooth
// edges and the PNG is encoded here with node's zlib. The output is deterministic, so the
// committed icon can be regenerated and compared.
// Usage: node scripts/make-icon.mjs [out.png]
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SS = 4; // subsamples per axis

/** Rounded rectangle [x0,x1)x[y0,y1) with corner radius r: is (x, y) inside? */
function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (x < x0 || x >= x1 || y < y0 || y >= y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

// 5x7 glyphs of the three letters.
const GLYPHS = {
  V: ['10001', '10001', '10001', '10001', '01010', '01010', '00100'],
  T: ['11111', '00100', '00100', '00100', '00100', '00100', '00100'],
  X: ['10001', '10001', '01010', '00100', '01010', '10001', '10001'],
};
const TEXT = 'VTX';
const CELL = 4; // pixels per glyph dot
const GAP = 4;
const textW = TEXT.length * 5 * CELL + (TEXT.length - 1) * GAP;
const textX = (SIZE - textW) / 2;
const textY = (SIZE - 7 * CELL) / 2;
function inText(x, y) {
  const gy = Math.floor((y - textY) / CELL);
  if (gy < 0 || gy >= 7) return false;
  for (let i = 0; i < TEXT.length; i++) {
    const lx = x - (textX + i * (5 * CELL + GAP));
    const gx = Math.floor(lx / CELL);
    if (lx >= 0 && gx < 5 && GLYPHS[TEXT[i]][gy][gx] === '1') return true;
  }
  return false;
}

/** Pins: 6 on each side of the chip body [22,106). */
function inPin(x, y) {
  for (let k = 0; k < 6; k++) {
    const c = 30 + k * 13.6;
    if (Math.abs(x - c - 2.5) <= 2.5) { if ((y >= 10 && y < 22) || (y >= 106 && y < 118)) return true; }
    if (Math.abs(y - c - 2.5) <= 2.5) { if ((x >= 10 && x < 22) || (x >= 106 && x < 118)) return true; }
  }
  return false;
}

const BG_TOP = [0x1b, 0x3a, 0x6b];
const BG_BOTTOM = [0x0e, 0x1f, 0x3d];
const PIN = [0xc9, 0xd3, 0xe0];
const CHIP = [0x24, 0x2b, 0x36];
const CHIP_EDGE = [0x5f, 0xb3, 0xff];
const TEXT_RGB = [0xff, 0xc8, 0x3d];

/** The colour of one sample point, or null outside the icon. */
function sample(x, y) {
  if (!inRoundRect(x, y, 0, 0, SIZE, SIZE, 22)) return null;
  if (inText(x, y)) return TEXT_RGB;
  if (inRoundRect(x, y, 22, 22, 106, 106, 9)) {
    return inRoundRect(x, y, 25, 25, 103, 103, 7) ? CHIP : CHIP_EDGE;
  }
  if (inPin(x, y)) return PIN;
  const t = y / SIZE;
  return BG_TOP.map((c, i) => Math.round(c + (BG_BOTTOM[i] - c) * t));
}

export function drawIcon() {
  const raw = Buffer.alloc(SIZE * (1 + SIZE * 4));
  for (let py = 0; py < SIZE; py++) {
    const row = py * (1 + SIZE * 4);
    raw[row] = 0; // filter: none
    for (let px = 0; px < SIZE; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = sample(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS);
          if (c === null) continue;
          r += c[0]; g += c[1]; b += c[2]; a++;
        }
      }
      const o = row + 1 + px * 4;
      if (a > 0) { raw[o] = Math.round(r / a); raw[o + 1] = Math.round(g / a); raw[o + 2] = Math.round(b / a); }
      raw[o + 3] = Math.round((a * 255) / (SS * SS));
    }
  }
  return encodePng(SIZE, SIZE, raw);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A PNG of 8-bit RGBA scanlines, each already prefixed with its filter byte. */
function encodePng(width, height, raw) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? new URL('../media/icon.png', import.meta.url).pathname;
  writeFileSync(out, drawIcon());
  console.log(`wrote ${out}`);
}
