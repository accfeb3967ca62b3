/**
 * The guest's architectural state as a person sees it while the processor holds the host's
 * (after a VM exit): general registers from the processor (VM exits leave them), the rest from
 * the VMCS guest-state area, CR0/CR4 as the guest reads them (read shadows merged under the
 * guest/host masks). Reports, the debugger's views and the CLI summary use it.
 */
import { Decoder, DecoderOptions, Instruction, Formatter, FormatterSyntax } from 'iced-x86';
import type { VmxVcpu } from './vcpu';
import { pagingOf, readGuest } from './guestMemory';

const GPR = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const SEGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

export interface GuestView {
  regs: Record<string, bigint>;
  /** 16, 32 or 64 from CS and IA-32e mode. */
  bitness: 16 | 32 | 64;
  /** The instruction at CS:RIP: bytes and NASM text ('' when not readable). */
  next: { address: bigint; bytes: Uint8Array; text: string };
}

export function guestView(vcpu: VmxVcpu): GuestView {
  const v = vcpu.v;
  const regs: Record<string, bigint> = {};
  for (const g of GPR) regs[g] = vcpu.reg(g);
  regs.rip = v.read('GUEST_RIP');
  regs.rflags = v.read('GUEST_RFLAGS');
  for (const s of SEGS) regs[s] = v.read(`GUEST_${s.toUpperCase()}_SELECTOR`);
  const merge = (real: string, shadow: string, mask: string): bigint => {
    const m = v.read(mask);
    return (v.read(real) & ~m) | (v.read(shadow) & m);
  };
  regs.cr0 = merge('GUEST_CR0', 'CR0_READ_SHADOW', 'CR0_GUEST_HOST_MASK');
  regs.cr3 = v.read('GUEST_CR3');
  regs.cr4 = merge('GUEST_CR4', 'CR4_READ_SHADOW', 'CR4_GUEST_HOST_MASK');
  regs.efer = v.read('GUEST_IA32_EFER');
  const cs = v.read32('GUEST_CS_ACCESS_RIGHTS');
  const bitness: 16 | 32 | 64 = vcpu.guestLongMode() ? 64 : (cs & 0x4000) !== 0 ? 32 : 16;
  const linear = bitness === 64 ? regs.rip : BigInt.asUintN(32, v.read('GUEST_CS_BASE') + regs.rip);
  let bytes: Uint8Array = new Uint8Array(0);
  for (let n = 15; n > 0; n--) {
    const b = readGuest(vcpu.cpu.mem, pagingOf(v), linear, n);
    if (b !== null) {
      bytes = b;
      break;
    }
  }
  let text = '';
  if (bytes.length > 0) {
    const dec = new Decoder(bitness, bytes, DecoderOptions.None);
    const ins = new Instruction();
    const fmt = new Formatter(FormatterSyntax.Nasm);
    try {
      dec.ip = regs.rip;
      dec.decodeOut(ins);
      bytes = bytes.slice(0, Math.min(ins.length, bytes.length));
      text = fmt.format(ins);
    } finally {
      fmt.free();
      ins.free();
      dec.free();
    }
  }
  return { regs, bitness, next: { address: regs.rip, bytes, text } };
}
