/**
 * The guest's system tables for the VMX setup (benchVmxSetup.ts), so events delivered in the
 * guest (injected or raised by guest code, SDM vol. 3C §26.6, vol. 3A chapter 6) reach real
 * handlers: a GDT whose descriptors match the selectors in the VMCS, a TSS (RSP0/ESP0 and the
 * 64-bit ISTs point at the guest stack), an IDT/IVT of 256 gates and 256 handler stubs.
 * Handler stub for vector v (8 bytes at GUEST_HANDLERS + 8 v): `mov eax, v` (`mov ax, v` in
 * real mode), `hlt`, `jmp` back to the `hlt` — so a test sees which vector was delivered in RAX
 * and finds the interrupt frame on the guest stack.
 *
 * Layout: GDT 0x24000 (null, 0x08 code, 0x10 data, 0x18 TSS), TSS 0x25000, IDT 0x26000,
 * handlers 0x27000; the real-mode IVT is at 0 (IDTR base 0, limit 0x3ff) with handlers at
 * 2700:(8 v).
 */
export const GUEST_TABLES = {
  GDT: 0x24000, TSS: 0x25000, IDT: 0x26000, HANDLERS: 0x27000,
} as const;

export type TableMode = 'long' | 'protected' | 'real';

interface Writer {
  write32(addr: number, v: number): void;
  write8(addr: number, v: number): void;
}

/** The linear (= physical) address of the handler stub for `vector`. */
export function handlerAddress(vector: number): number {
  return GUEST_TABLES.HANDLERS + vector * 8;
}

/**
 * Write the tables for `mode` and return what the VMCS must hold: GDTR/IDTR base and limit and
 * the TR base and limit (§24.4.1).
 */
export function writeGuestTables(w: Writer, mode: TableMode, stackTop: number): {
  gdtBase: number; gdtLimit: number; idtBase: number; idtLimit: number; trBase: number; trLimit: number;
} {
  const { GDT, TSS, IDT } = GUEST_TABLES;
  // GDT (vol. 3A §3.4.5): 0x08 code (64-bit: L=1; else 32-bit D=1), 0x10 data, 0x18 busy TSS.
  w.write32(GDT, 0); w.write32(GDT + 4, 0);
  w.write32(GDT + 8, 0x0000ffff); w.write32(GDT + 12, mode === 'long' ? 0x00af9b00 : 0x00cf9b00);
  w.write32(GDT + 16, 0x0000ffff); w.write32(GDT + 20, 0x00cf9300);
  // TSS descriptor (§7.2.2 / §8.2.3 in 64-bit mode: 16 bytes), base TSS, limit 0x67, type 11 (busy).
  w.write32(GDT + 24, ((TSS & 0xffff) << 16) | 0x67);
  w.write32(GDT + 28, ((TSS >>> 16) & 0xff) | 0x8b00 | (TSS & 0xff000000));
  w.write32(GDT + 32, 0); w.write32(GDT + 36, 0);
  // TSS: RSP0/ESP0 (+4) = the stack, SS0 (+8, 32-bit TSS) = 0x10; 64-bit IST1-7 (+0x24..) = the stack.
  for (let i = 0; i < 0x68; i += 4) w.write32(TSS + i, 0);
  w.write32(TSS + 4, stackTop);
  if (mode === 'long') {
    for (let k = 0; k < 7; k++) w.write32(TSS + 0x24 + k * 8, stackTop);
  } else {
    w.write32(TSS + 8, 0x10);
  }
  w.write32(TSS + 0x66 - 2, 0x0068 << 16); // I/O map base = limit + 1: no I/O bitmap
  // Handler stubs.
  for (let v = 0; v < 256; v++) {
    const a = handlerAddress(v);
    const bytes = mode === 'real'
      ? [0xb8, v, 0, 0xf4, 0xeb, 0xfd, 0x90, 0x90]
      : [0xb8, v, 0, 0, 0, 0xf4, 0xeb, 0xfd];
    for (let i = 0; i < 8; i++) w.write8(a + i, bytes[i]);
  }
  if (mode === 'real') {
    // IVT (§20.1.4): offset, segment per vector.
    for (let v = 0; v < 256; v++) w.write32(v * 4, ((GUEST_TABLES.HANDLERS >>> 4) << 16) | (v * 8));
    return { gdtBase: GDT, gdtLimit: 0x27, idtBase: 0, idtLimit: 0x3ff, trBase: TSS, trLimit: 0x67 };
  }
  // IDT (§6.11, §6.14.1): interrupt gates, selector 0x08, DPL 0, present.
  const size = mode === 'long' ? 16 : 8;
  for (let v = 0; v < 256; v++) {
    const h = handlerAddress(v);
    const g = IDT + v * size;
    w.write32(g, (0x08 << 16) | (h & 0xffff));
    w.write32(g + 4, (h & 0xffff0000) | 0x8e00);
    if (size === 16) {
      w.write32(g + 8, 0);
      w.write32(g + 12, 0);
    }
  }
  return { gdtBase: GDT, gdtLimit: 0x27, idtBase: IDT, idtLimit: 256 * size - 1, trBase: TSS, trLimit: 0x67 };
}
