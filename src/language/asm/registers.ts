/**
 * Register names as NASM spells them, mapped to iced-x86's Register, with the class each
 * belongs to (what operand kinds it can fill). iced's names are the source; NASM's extra
 * spellings (r8b for r8l) are added.
 */
import { Register, RegisterExt } from 'iced-x86';

export type RegClass =
  | 'gpr8' | 'gpr16' | 'gpr32' | 'gpr64' | 'seg' | 'cr' | 'dr' | 'tr' | 'st' | 'mm'
  | 'xmm' | 'ymm' | 'zmm' | 'k' | 'bnd' | 'tmm' | 'ip';

export interface RegInfo {
  reg: Register;
  cls: RegClass;
  /** Size in bytes (GPRs), 0 for others. */
  size: number;
}

function classify(r: Register): RegClass | null {
  if (RegisterExt.isGPR8(r)) return 'gpr8';
  if (RegisterExt.isGPR16(r)) return 'gpr16';
  if (RegisterExt.isGPR32(r)) return 'gpr32';
  if (RegisterExt.isGPR64(r)) return 'gpr64';
  if (RegisterExt.isSegmentRegister(r)) return 'seg';
  if (RegisterExt.isCR(r)) return 'cr';
  if (RegisterExt.isDR(r)) return 'dr';
  if (RegisterExt.isTR(r)) return 'tr';
  if (RegisterExt.isST(r)) return 'st';
  if (RegisterExt.isMM(r)) return 'mm';
  if (RegisterExt.isXMM(r)) return 'xmm';
  if (RegisterExt.isYMM(r)) return 'ymm';
  if (RegisterExt.isZMM(r)) return 'zmm';
  if (RegisterExt.isK(r)) return 'k';
  if (RegisterExt.isBND(r)) return 'bnd';
  if (RegisterExt.isTMM(r)) return 'tmm';
  if (RegisterExt.isIP(r)) return 'ip';
  return null;
}

export const REGISTERS: ReadonlyMap<string, RegInfo> = (() => {
  const m = new Map<string, RegInfo>();
  for (const [name, value] of Object.entries(Register)) {
    if (typeof value !== 'number' || value === Register.None || /^DontUse/i.test(name)) continue;
    const cls = classify(value);
    if (cls === null) continue;
    const info = { reg: value, cls, size: cls.startsWith('gpr') ? RegisterExt.size(value) : 0 };
    m.set(name.toLowerCase(), info);
    // NASM spells the low bytes of r8-r15 r8b (iced: R8L).
    const low = /^r(\d+)l$/i.exec(name);
    if (low !== null) m.set(`r${low[1]}b`, info);
  }
  return m;
})();

export function registerOf(name: string): RegInfo | undefined {
  return REGISTERS.get(name.toLowerCase());
}
