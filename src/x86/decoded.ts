/**
 * Decoding with iced-x86, once per instruction, into a plain JavaScript description that the
 * instruction translators specialise into closures. Nothing here runs per executed instruction.
 */
import {
  Decoder, DecoderOptions, Instruction, Register, OpKind, MemorySizeExt, Code, Mnemonic,
  FlowControl, Formatter, FormatterSyntax, EncodingKind,
} from 'iced-x86';
import { Seg } from './registers';
import type { Bitness } from './state';

/** A general-purpose register operand: index 0..15, size in bytes, and AH/CH/DH/BH. */
export interface GprRef {
  index: number;
  size: 1 | 2 | 4 | 8;
  high8: boolean;
}

export interface MemOperand {
  /** Effective segment after any override. */
  seg: Seg;
  /** GPR index of the base, or -1 (none, or RIP-relative with the absolute target in disp). */
  base: number;
  /** GPR index of the index register, or -1. */
  index: number;
  scale: number;
  /** Displacement sign-extended to 64 bits (absolute address for RIP-relative). */
  dispLo: number;
  dispHi: number;
  /** Address size in bytes: 2, 4 or 8. */
  addrSize: 2 | 4 | 8;
  /** Size of the memory operand in bytes (0 when it does not access memory, e.g. LEA). */
  size: number;
  ripRelative: boolean;
}

export interface DecodedInsn {
  code: Code;
  mnemonic: Mnemonic;
  length: number;
  bitness: Bitness;
  ipLo: number;
  ipHi: number;
  nextLo: number;
  nextHi: number;
  bytes: Uint8Array;
  opCount: number;
  opKinds: OpKind[];
  /** iced Register per operand (Register.None for non-register operands). */
  opRegs: Register[];
  /** Size in bytes of each operand (register, memory or immediate), 0 if not applicable. */
  opSizes: number[];
  mem: MemOperand | null;
  /** Address size in bytes (from the mode and a 67h prefix): 2, 4 or 8. */
  addrSize: 2 | 4 | 8;
  /** Operand-size prefix 66h present. */
  opSizePrefix: boolean;
  /** REX.W present (64-bit mode). */
  rexW: boolean;
  /** First immediate, extended as its operand kind says, as 64-bit halves. */
  immLo: number;
  immHi: number;
  /** Second 8-bit immediate (ENTER's nesting level). */
  imm2: number;
  /** Near-branch target. */
  targetLo: number;
  targetHi: number;
  farSelector: number;
  farOffset: number;
  lock: boolean;
  rep: boolean;
  repne: boolean;
  /** Segment named by a prefix, or -1. */
  segPrefix: number;
  flowControl: FlowControl;
  /** Set by a translator when the block must end after this instruction. */
  endsBlock: boolean;
  /** True when the translated op sets RIP itself (branches). */
  setsRip: boolean;
  /** RFLAGS bits the SDM leaves undefined after this instruction (iced's instruction info). */
  rflagsUndefined: number;
  invalid: boolean;
  /** Legacy, VEX, EVEX, XOP... (iced EncodingKind). */
  encoding: EncodingKind;
  /** Position within its translated block (the block's first instruction is 0). */
  blockIndex: number;
}

const GPR: (GprRef | null)[] = [];
for (let r = 0; r <= Register.R15; r++) {
  let ref: GprRef | null = null;
  if (r >= Register.AL && r <= Register.R15L) {
    // AL..BL = 0..3, AH..BH = high bytes of 0..3, SPL..DIL = 4..7, R8L..R15L = 8..15.
    const v = r - Register.AL;
    ref = v < 4 ? { index: v, size: 1, high8: false }
      : v < 8 ? { index: v - 4, size: 1, high8: true }
      : { index: v - 4, size: 1, high8: false };
  } else if (r >= Register.AX && r <= Register.R15W) ref = { index: r - Register.AX, size: 2, high8: false };
  else if (r >= Register.EAX && r <= Register.R15D) ref = { index: r - Register.EAX, size: 4, high8: false };
  else if (r >= Register.RAX && r <= Register.R15) ref = { index: r - Register.RAX, size: 8, high8: false };
  GPR[r] = ref;
}

/** The GPR behind an iced register, or null if it is not a general-purpose register. */
export function gprOf(r: Register): GprRef | null {
  return GPR[r] ?? null;
}

/** Segment index for an iced segment register, or -1. */
export function segOf(r: Register): number {
  return r >= Register.ES && r <= Register.GS ? r - Register.ES : -1;
}

const PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);

function lo32(v: bigint): number {
  return Number(v & 0xffffffffn) | 0;
}
function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn) | 0;
}

function immSize(k: OpKind): number {
  switch (k) {
    case OpKind.Immediate8: case OpKind.Immediate8_2nd: return 1;
    case OpKind.Immediate16: case OpKind.Immediate8to16: return 2;
    case OpKind.Immediate32: case OpKind.Immediate8to32: return 4;
    case OpKind.Immediate64: case OpKind.Immediate8to64: case OpKind.Immediate32to64: return 8;
    default: return 0;
  }
}

/** Convert one decoded iced instruction into our description. */
export function describe(ins: Instruction, bitness: Bitness, bytes: Uint8Array): DecodedInsn {
  const opCount = ins.opCount;
  const opKinds: OpKind[] = [];
  const opRegs: Register[] = [];
  const opSizes: number[] = [];
  let mem: MemOperand | null = null;
  let immLo = 0, immHi = 0, imm2 = 0, haveImm = false;

  let has67 = false, has66 = false, rexW = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (PREFIXES.has(b)) {
      if (b === 0x67) has67 = true;
      if (b === 0x66) has66 = true;
      continue;
    }
    if (bitness === 64 && (b & 0xf0) === 0x40) {
      rexW = (b & 8) !== 0;
      continue;
    }
    break;
  }
  const addrSize: 2 | 4 | 8 = bitness === 64 ? (has67 ? 4 : 8) : (bitness === 32) !== has67 ? 4 : 2;

  for (let i = 0; i < opCount; i++) {
    const k = ins.opKind(i);
    opKinds.push(k);
    let reg = Register.None;
    let size = 0;
    if (k === OpKind.Register) {
      reg = ins.opRegister(i);
      const g = gprOf(reg);
      size = g ? g.size : reg >= Register.ES && reg <= Register.GS ? 2 : 0;
    } else if (k === OpKind.Memory) {
      size = MemorySizeExt.size(ins.memorySize);
      const baseReg = ins.memoryBase;
      const ripRel = baseReg === Register.RIP || baseReg === Register.EIP;
      const disp = ins.memoryDisplacementU64;
      const idxReg = ins.memoryIndex;
      let seg = segOf(ins.memorySegment) as Seg;
      if (bitness === 64 && seg !== Seg.FS && seg !== Seg.GS) {
        // 64-bit mode ignores ES/CS/SS/DS overrides (SDM vol. 1 §3.3.7.1): the default segment
        // stays, SS for an RSP/RBP base (which decides #SS versus #GP), DS otherwise.
        seg = baseReg === Register.RSP || baseReg === Register.RBP || baseReg === Register.ESP || baseReg === Register.EBP
          ? Seg.SS : Seg.DS;
      }
      mem = {
        seg,
        base: ripRel || baseReg === Register.None ? -1 : gprOf(baseReg)!.index,
        // XLAT's "index" is AL, which its translator adds itself.
        index: idxReg === Register.None || ins.code === Code.Xlat_m8 ? -1 : gprOf(idxReg)!.index,
        scale: ins.memoryIndexScale,
        dispLo: lo32(disp),
        dispHi: addrSize === 8 ? hi32(disp) : 0,
        addrSize,
        size,
        ripRelative: ripRel,
      };
    } else if (k >= OpKind.MemorySegSI && k <= OpKind.MemoryESRDI) {
      size = MemorySizeExt.size(ins.memorySize);
      if (k === OpKind.MemorySegDI || k === OpKind.MemorySegEDI || k === OpKind.MemorySegRDI) {
        // MASKMOVQ/MASKMOVDQU's DS:rDI (segment override allowed; in 64-bit mode only FS/GS count).
        let seg = segOf(ins.memorySegment) as Seg;
        if (bitness === 64 && seg !== Seg.FS && seg !== Seg.GS) seg = Seg.DS;
        mem = { seg, base: 7, index: -1, scale: 1, dispLo: 0, dispHi: 0, addrSize, size, ripRelative: false };
      }
    } else if (k === OpKind.Immediate8_2nd) {
      imm2 = ins.immediate8_2nd;
      size = 1;
    } else if ((size = immSize(k)) > 0) {
      if (!haveImm) {
        const v = ins.immediate(i);
        immLo = lo32(v);
        immHi = hi32(v);
        haveImm = true;
      }
    }
    opRegs.push(reg);
    opSizes.push(size);
  }

  const ip = ins.ip;
  const next = ins.nextIP;
  let targetLo = 0, targetHi = 0;
  const fc = ins.flowControl;
  if (
    opCount > 0 &&
    (opKinds[0] === OpKind.NearBranch16 || opKinds[0] === OpKind.NearBranch32 || opKinds[0] === OpKind.NearBranch64)
  ) {
    const t = ins.nearBranchTarget;
    targetLo = lo32(t);
    targetHi = hi32(t);
  }
  let farSelector = 0, farOffset = 0;
  if (opCount > 0 && (opKinds[0] === OpKind.FarBranch16 || opKinds[0] === OpKind.FarBranch32)) {
    farSelector = ins.farBranchSelector;
    farOffset = opKinds[0] === OpKind.FarBranch16 ? ins.farBranch16 : ins.farBranch32 >>> 0;
  }
  const segPrefix = ins.hasSegmentPrefix ? segOf(ins.segmentPrefix) : -1;
  const d: DecodedInsn = {
    code: ins.code,
    mnemonic: ins.mnemonic,
    length: ins.length,
    bitness,
    ipLo: lo32(ip),
    ipHi: hi32(ip),
    nextLo: lo32(next),
    nextHi: hi32(next),
    bytes,
    opCount,
    opKinds,
    opRegs,
    opSizes,
    mem,
    addrSize,
    opSizePrefix: has66,
    rexW,
    immLo,
    immHi,
    imm2,
    targetLo,
    targetHi,
    farSelector,
    farOffset,
    lock: ins.hasLockPrefix,
    rep: ins.hasRepPrefix || ins.hasRepePrefix,
    repne: ins.hasRepnePrefix,
    segPrefix,
    flowControl: fc,
    endsBlock: fc !== FlowControl.Next,
    setsRip: fc !== FlowControl.Next && fc !== FlowControl.Exception && fc !== FlowControl.Interrupt,
    rflagsUndefined: ins.rflagsUndefined,
    invalid: ins.code === Code.INVALID,
    encoding: ins.encoding,
    blockIndex: 0,
  };
  return d;
}

/** Decode one instruction from bytes (tests, reports). Frees everything it makes. */
export function decodeOne(bytes: Uint8Array, bitness: Bitness, ip: bigint = 0n): DecodedInsn {
  const dec = new Decoder(bitness, bytes, DecoderOptions.None);
  const ins = new Instruction();
  try {
    dec.ip = ip;
    dec.decodeOut(ins);
    return describe(ins, bitness, bytes.slice(0, ins.length));
  } finally {
    ins.free();
    dec.free();
  }
}

/** Instruction (or any) bytes as the reports show them: two hex digits each, space-separated ("0f a2"). */
export function bytesHex(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

let formatter: Formatter | null = null;
/** NASM-syntax text of the instruction in `bytes` (reports, the debugger later). */
export function disassemble(bytes: Uint8Array, bitness: Bitness, ip: bigint = 0n): string {
  if (formatter === null) {
    formatter = new Formatter(FormatterSyntax.Nasm);
  }
  const dec = new Decoder(bitness, bytes, DecoderOptions.None);
  const ins = new Instruction();
  try {
    dec.ip = ip;
    dec.decodeOut(ins);
    if (ins.code === Code.INVALID) return '(bad)';
    return formatter.format(ins);
  } finally {
    ins.free();
    dec.free();
  }
}
