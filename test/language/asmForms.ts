/**
 * A generated source with one line for every instruction form iced-x86 can encode in a mode:
 * each iced Code gets sample operands (registers, a memory operand of the form's size,
 * immediates that fit the form, branch targets), is encoded by iced to prove the sample valid,
 * and is printed by iced's NASM formatter. Both vtx and nasm assemble the same text; the test
 * compares their bytes line by line.
 */
import {
  Code, CodeExt, Encoder, EncodingKind, Formatter, FormatterSyntax, Instruction, MemorySizeOptions, OpCodeOperandKind as K,
  OpKind, Register,
} from 'iced-x86';

const R: Record<number, Record<string, Register>> = {
  16: { gpr8: Register.CL, gpr16: Register.DX, gpr32: Register.EDX, gpr64: Register.RDX },
  32: { gpr8: Register.CL, gpr16: Register.DX, gpr32: Register.EDX, gpr64: Register.RDX },
  64: { gpr8: Register.CL, gpr16: Register.DX, gpr32: Register.EDX, gpr64: Register.R10 },
};

function regFor(k: K, bits: number, i: number): Register | null {
  const r = R[bits];
  switch (k) {
    case K.r8_reg: case K.r8_opcode: case K.r8_or_mem: return i === 0 ? Register.CL : Register.BL;
    case K.r16_reg: case K.r16_reg_mem: case K.r16_rm: case K.r16_opcode: case K.r16_or_mem: return i === 0 ? r.gpr16 : Register.BX;
    case K.r32_reg: case K.r32_reg_mem: case K.r32_rm: case K.r32_opcode: case K.r32_vvvv: case K.r32_or_mem: case K.r32_or_mem_mpx:
      return i === 0 ? r.gpr32 : i === 1 ? Register.EBX : Register.ESI;
    case K.r64_reg: case K.r64_reg_mem: case K.r64_rm: case K.r64_opcode: case K.r64_vvvv: case K.r64_or_mem: case K.r64_or_mem_mpx:
      return i === 0 ? r.gpr64 : i === 1 ? Register.RBX : Register.RSI;
    case K.seg_reg: return Register.ES;
    case K.k_reg: case K.kp1_reg: case K.k_rm: case K.k_vvvv: case K.k_or_mem: return Register.K0 + 2 + i;
    case K.mm_reg: case K.mm_rm: case K.mm_or_mem: return Register.MM0 + 1 + i;
    case K.xmm_reg: case K.xmm_rm: case K.xmm_vvvv: case K.xmmp3_vvvv: case K.xmm_is4: case K.xmm_is5: case K.xmm_or_mem:
      return Register.XMM0 + (bits === 64 ? 9 : 1) + i;
    case K.ymm_reg: case K.ymm_rm: case K.ymm_vvvv: case K.ymm_is4: case K.ymm_is5: case K.ymm_or_mem: return Register.YMM0 + 1 + i;
    case K.zmm_reg: case K.zmm_rm: case K.zmm_vvvv: case K.zmmp3_vvvv: case K.zmm_or_mem: return Register.ZMM0 + 4 + (i * 4);
    case K.cr_reg: return Register.CR3;
    case K.dr_reg: return Register.DR1;
    case K.tr_reg: return Register.TR3;
    case K.bnd_reg: case K.bnd_or_mem_mpx: return Register.BND1;
    case K.tmm_reg: case K.tmm_rm: case K.tmm_vvvv: return Register.TMM1 + i;
    case K.sti_opcode: return Register.ST3;
    case K.es: return Register.ES; case K.cs: return Register.CS; case K.ss: return Register.SS;
    case K.ds: return Register.DS; case K.fs: return Register.FS; case K.gs: return Register.GS;
    case K.al: return Register.AL; case K.cl: return Register.CL; case K.ax: return Register.AX; case K.dx: return Register.DX;
    case K.eax: return Register.EAX; case K.rax: return Register.RAX; case K.st0: return Register.ST0;
    default: return null;
  }
}

const OR_MEM = [K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r64_or_mem, K.r32_or_mem_mpx, K.r64_or_mem_mpx, K.mm_or_mem, K.xmm_or_mem,
  K.ymm_or_mem, K.zmm_or_mem, K.bnd_or_mem_mpx, K.k_or_mem];

function fill(ins: Instruction, k: K, i: number, bits: number, ip: number, prevImm: boolean, useMem: boolean): boolean {
  const reg = useMem && OR_MEM.includes(k) ? null : regFor(k, bits, i);
  if (reg !== null) {
    ins.setOpKind(i, OpKind.Register);
    ins.setOpRegister(i, reg);
    return true;
  }
  if (k === K.mem || k === K.mem_mpx || k === K.mem_mib || k === K.sibmem) {
    ins.setOpKind(i, OpKind.Memory);
    ins.memoryBase = bits === 16 ? Register.BX : bits === 32 ? Register.EBX : Register.RBX;
    ins.memoryIndex = bits === 16 ? Register.SI : k === K.mem_mib || k === K.sibmem ? (bits === 32 ? Register.ECX : Register.RCX) : Register.None;
    ins.memoryIndexScale = 1;
    ins.memoryDisplacement = 0x10n;
    ins.memoryDisplSize = 1;
    return true;
  }
  switch (k) {
    case K.imm8: ins.setOpKind(i, prevImm ? OpKind.Immediate8_2nd : OpKind.Immediate8); if (prevImm) ins.immediate8_2nd = 0x5a; else ins.immediate8 = 0x5a; return true;
    case K.imm8_const_1: ins.setOpKind(i, OpKind.Immediate8); ins.immediate8 = 1; return true;
    case K.imm8sex16: ins.setOpKind(i, OpKind.Immediate8to16); ins.immediate8to16 = -3; return true;
    case K.imm8sex32: ins.setOpKind(i, OpKind.Immediate8to32); ins.immediate8to32 = -3; return true;
    case K.imm8sex64: ins.setOpKind(i, OpKind.Immediate8to64); ins.immediate8to64 = -3n; return true;
    case K.imm16: ins.setOpKind(i, OpKind.Immediate16); ins.immediate16 = 0x1234; return true;
    case K.imm32: ins.setOpKind(i, OpKind.Immediate32); ins.immediate32 = 0x12345678; return true;
    case K.imm32sex64: ins.setOpKind(i, OpKind.Immediate32to64); ins.immediate32to64 = -0x12345678n; return true;
    case K.imm64: ins.setOpKind(i, OpKind.Immediate64); ins.immediate64 = 0x123456789abcdef0n; return true;
    case K.br16_1: case K.br32_1: case K.br64_1:
    case K.br16_2: case K.br32_4: case K.br64_4: {
      const short = k === K.br16_1 || k === K.br32_1 || k === K.br64_1;
      const target = ip + (short ? 0x20 : 0x400);
      if (k === K.br16_1 || k === K.br16_2) { ins.setOpKind(i, OpKind.NearBranch16); ins.nearBranch16 = target & 0xffff; }
      else if (k === K.br32_1 || k === K.br32_4) { ins.setOpKind(i, OpKind.NearBranch32); ins.nearBranch32 = target; }
      else { ins.setOpKind(i, OpKind.NearBranch64); ins.nearBranch64 = BigInt(target); }
      return true;
    }
    case K.farbr2_2: ins.setOpKind(i, OpKind.FarBranch16); ins.farBranch16 = 0x5678; ins.farBranchSelector = 0x1234; return true;
    case K.farbr4_2: ins.setOpKind(i, OpKind.FarBranch32); ins.farBranch32 = 0x56789abc; ins.farBranchSelector = 0x1234; return true;
    case K.seg_rSI: ins.setOpKind(i, bits === 16 ? OpKind.MemorySegSI : bits === 32 ? OpKind.MemorySegESI : OpKind.MemorySegRSI); return true;
    case K.es_rDI: ins.setOpKind(i, bits === 16 ? OpKind.MemoryESDI : bits === 32 ? OpKind.MemoryESEDI : OpKind.MemoryESRDI); return true;
    case K.seg_rDI: ins.setOpKind(i, bits === 16 ? OpKind.MemorySegDI : bits === 32 ? OpKind.MemorySegEDI : OpKind.MemorySegRDI); return true;
    case K.seg_rBX_al:
      ins.setOpKind(i, OpKind.Memory);
      ins.memoryBase = bits === 16 ? Register.BX : bits === 32 ? Register.EBX : Register.RBX;
      ins.memoryIndex = Register.AL;
      return true;
  }
  if (OR_MEM.includes(k)) {
    ins.setOpKind(i, OpKind.Memory);
    ins.memoryBase = bits === 16 ? Register.BX : bits === 32 ? Register.EBX : Register.RBX;
    ins.memoryDisplacement = 0x10n;
    ins.memoryDisplSize = 1;
    return true;
  }
  return false;
}

export interface FormLine {
  code: string;
  text: string;
}

/**
 * One NASM-syntax line per encodable legacy/VEX form in `bits`-bit code (EVEX, XOP, 3DNow!
 * and MVEX are left to a later extension of the cross-check). `base` is the address of the
 * first line (branch targets are printed as absolute addresses).
 */
export function generateForms(bits: 16 | 32 | 64): FormLine[] {
  const fmt = new Formatter(FormatterSyntax.Nasm);
  fmt.memorySizeOptions = MemorySizeOptions.Always;
  fmt.showBranchSize = true;
  fmt.hexPrefix = '0x';
  fmt.hexSuffix = '';
  fmt.branchLeadingZeros = false;
  const out: FormLine[] = [];
  let ip = 0x1000;
  try {
    for (const v of Object.values(Code)) {
      if (typeof v !== 'number') continue;
      const o = CodeExt.opCode(v);
      try {
        if (!o.isInstruction || !(bits === 16 ? o.mode16 : bits === 32 ? o.mode32 : o.mode64)) continue;
        if (o.encoding !== EncodingKind.Legacy && o.encoding !== EncodingKind.VEX) continue;
        // Knights Corner (Xeon Phi) VEX forms share mnemonics with nothing NASM knows.
        if (Code[v].startsWith('VEX_KNC_')) continue;
        const kinds: K[] = [];
        for (let i = 0; i < o.opCount; i++) kinds.push(o.opKind(i));
        // A register-or-memory operand gets a line with a register and one with memory.
        for (const useMem of kinds.some((k) => OR_MEM.includes(k)) ? [false, true] : [false]) {
          const ins = new Instruction();
          const enc = new Encoder(bits);
          try {
            ins.code = v;
            let ok = true;
            let prevImm = false;
            for (let i = 0; i < kinds.length && ok; i++) {
              ok = fill(ins, kinds[i], i, bits, ip, prevImm, useMem);
              const kind = ins.opKind(i);
              prevImm ||= kind === OpKind.Immediate8 || kind === OpKind.Immediate16;
            }
            if (!ok) continue;
            ins.ip = BigInt(ip);
            enc.encode(ins, BigInt(ip));
            let text = fmt.format(ins);
            // Near branch targets relative to the line ($+n), so the line can sit anywhere.
            const kind0 = ins.op0Kind;
            if (kind0 === OpKind.NearBranch16 || kind0 === OpKind.NearBranch32 || kind0 === OpKind.NearBranch64) {
              const target = kind0 === OpKind.NearBranch16 ? ins.nearBranch16 : kind0 === OpKind.NearBranch32 ? ins.nearBranch32 : Number(ins.nearBranch64);
              text = text.replace(`0x${target.toString(16).toUpperCase()}`, `$+0x${(target - ip).toString(16)}`);
            }
            out.push({ code: Code[v], text });
          } catch {
            // A sample iced itself cannot encode (operand combination): not a form to test.
          } finally {
            enc.free();
            ins.free();
          }
        }
      } finally {
        o.free();
      }
    }
  } finally {
    fmt.free();
  }
  return out;
}
