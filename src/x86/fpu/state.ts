/**
 * x87 FPU state (SDM vol. 1 §8.1): eight 80-bit data registers in physical order R0-R7, each as
 * a 64-bit significand (two uint32 halves) and a 16-bit sign+exponent, plus the control, status
 * and tag words, the last instruction and data pointers and the last opcode.
 * The FPU group owns the representation; FXSAVE/XSAVE read it through these fields.
 */
export class FpuState {
  /** Significand bits 31:0 of R0..R7. */
  readonly sigLo = new Uint32Array(8);
  /** Significand bits 63:32 of R0..R7 (bit 63 is the explicit integer bit). */
  readonly sigHi = new Uint32Array(8);
  /** Sign (bit 15) and biased exponent (bits 14:0) of R0..R7. */
  readonly signExp = new Uint16Array(8);
  /** FCW, reset/FNINIT value 0x037f (SDM vol. 1 §8.1.5). */
  fcw = 0x037f;
  /** FSW without TOP; TOP (bits 13:11) is `top`. */
  fsw = 0;
  top = 0;
  /**
   * Full tag word, two bits per physical register (00 valid, 01 zero, 10 special, 11 empty),
   * always consistent with the contents; FNINIT value 0xffff. FXSAVE's abridged tag is
   * "tag !== 11" per register.
   */
  ftw = 0xffff;
  /**
   * Last opcode (11 bits) and data pointer (offset): recorded only by an instruction that raises
   * an unmasked exception, as on processors with CPUID.(EAX=07H,ECX=0):EBX[6] FDP_EXCPTN_ONLY
   * and FOP compatibility off (this host's silicon); 0 after FNINIT.
   */
  fop = 0;
  /** Last non-control instruction's offset (RIP; FXSAVE64 stores all 64 bits). */
  fipLo = 0;
  fipHi = 0;
  /** FCS and FDS are deprecated (CPUID.(EAX=07H,ECX=0):EBX[13] on this host): stored as 0. */
  fcs = 0;
  fdpLo = 0;
  fdpHi = 0;
  fds = 0;
}
