/**
 * Exceptions in VMX non-root operation (SDM vol. 3C §25.2 exception bitmap and #PF error-code
 * mask/match, §27.2.1 exit qualification, §27.2.2 interruption information, §27.2.4
 * IDT-vectoring information, §27.2.5 instruction length; vol. 3A §6.15 double fault, triple
 * fault exit). Expectations follow the SDM's rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind } from '../../src/x86/interrupts';
import { PageFault } from '../../src/x86/paging';
import { CpuException } from '../../src/x86/exceptions';
import { CODE, HANDLERS, HOST_RIP, info, kit } from './eventKit';

const H = (v: number) => HANDLERS + v * 0x10;
const UD2 = [0x0f, 0x0b];
const BIT = (v: number) => 1 << v;

test('#UD with exception-bitmap bit 6: exit 0, type 3, RIP at the UD2, no error code, length 0', () => {
  const k = kit({ code: [0x90, ...UD2], exceptionBitmap: BIT(6) });
  k.enter();
  assert.equal(k.run().reason, 'vmexit');
  const e = k.last();
  assert.equal(e.reason, 0);
  assert.equal(e.intInfo, info(6, 3));
  assert.equal(e.rip, BigInt(CODE + 1));
  assert.equal(e.qual, 0n);
  assert.equal(e.idtInfo, 0);
  assert.equal(k.rip(), HOST_RIP);
  assert.equal(k.cpu.nonRoot, false);
});

test('#UD with the bitmap bit clear is delivered through the guest IDT (no exit)', () => {
  const k = kit({ code: [...UD2], exceptionBitmap: ~BIT(6) });
  k.enter();
  const r = k.run();
  assert.equal(r.reason, 'hlt');
  assert.equal(k.exits.length, 0);
  assert.equal(k.rip(), H(6) + 1, 'the #UD handler (HLT) ran');
  assert.equal(k.cpu.nonRoot, true);
});

test('exceptions are delivered in non-root operation even when the bare processor would stop on them', () => {
  const k = kit({ code: [0x31, 0xc9, 0xf7, 0xf1] }); // xor ecx, ecx; div ecx
  k.cpu.deliverExceptions = false;
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(0) + 1);
});

test('#GP(0) with bitmap bit 13: error-code-valid bit and the error code are reported', () => {
  // mov eax, cr1 is #UD; use an IN with CPL 0... a non-canonical access: mov rax, [rbx] with RBX non-canonical.
  const k = kit({ code: [0x48, 0x8b, 0x03], exceptionBitmap: BIT(13) });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.reason, 0);
  assert.equal(e.intInfo, info(13, 3, true));
  assert.equal(e.intErr, 0);
  assert.equal(e.rip, BigInt(CODE));
});

test('#DE with every bitmap bit set except 0 is delivered; bit 0 alone makes it exit', () => {
  const code = [0x31, 0xc9, 0xf7, 0xf1];
  let k = kit({ code, exceptionBitmap: ~1 });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  k = kit({ code, exceptionBitmap: 1 });
  k.enter();
  k.run();
  assert.deepEqual([k.last().reason, k.last().intInfo, k.last().rip], [0, info(0, 3), BigInt(CODE + 2)]);
});

// ---- #PF and the page-fault error-code mask/match (§25.2) ---------------------------------
function pf(bitmapBit14: boolean, mask: number, match: number, ec: number) {
  const k = kit({ exceptionBitmap: bitmapBit14 ? BIT(14) : 0, fields: { PAGE_FAULT_ERROR_CODE_MASK: mask, PAGE_FAULT_ERROR_CODE_MATCH: match } });
  k.enter();
  k.cpu.cr2Lo = 0x1111;
  const e = new PageFault(0x12345678, 0x7f, ec, 'test');
  k.cpu.vmxEvents!.deliver(k.cpu, 14, ec, EventKind.Exception, k.cpu.ripLo, k.cpu.ripHi, e, 3, 0);
  return k;
}

for (const [bit, mask, match, ec, exits] of [
  [true, 0, 0, 0x2, true],     // mask 0 match 0: every #PF matches -> exits iff bit 14 = 1
  [false, 0, 0, 0x2, false],
  [true, 0x2, 0x2, 0x2, true], // write faults match -> exit
  [true, 0x2, 0x2, 0x0, false], // a read fault does not match -> exits iff bit 14 = 0
  [false, 0x2, 0x2, 0x0, true],
  [false, 0x2, 0x2, 0x2, false],
  [true, 0x4, 0x0, 0x5, false], // user fault, match wants supervisor: no match, bit 14 = 1 -> delivered
  [false, 0xffffffff, 0x1234, 0x7, true], // impossible match, bit 14 = 0 -> every #PF exits
] as [boolean, number, number, number, boolean][]) {
  test(`#PF bit14=${+bit} mask=${mask.toString(16)} match=${match.toString(16)} ec=${ec}: ${exits ? 'exits' : 'delivered'}`, () => {
    const k = pf(bit, mask, match, ec);
    assert.equal(k.cpu.exitTaken, exits);
    if (exits) {
      const e = k.vmcs;
      assert.equal(Number(e.read('VM_EXIT_INTERRUPTION_INFORMATION')), info(14, 3, true));
      assert.equal(Number(e.read('VM_EXIT_INTERRUPTION_ERROR_CODE')), ec);
      assert.equal(e.read('EXIT_QUALIFICATION'), 0x7f12345678n, 'the linear address');
      assert.equal(k.cpu.cr2Lo, 0x1111, 'CR2 is not loaded (§27.1)');
    } else {
      assert.equal(k.cpu.cr2Lo, 0x12345678, 'delivered: CR2 loaded');
      assert.equal(k.rip(), H(14));
    }
  });
}

// ---- software exceptions (INT3, INTO, INT1) and software interrupts -------------------------
test('INT3 with bitmap bit 3: software exception (type 6), RIP at INT3, length 1', () => {
  const k = kit({ code: [0x90, 0xcc], exceptionBitmap: BIT(3) });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.len, e.rip], [0, info(3, 6), 1, BigInt(CODE + 1)]);
});

test('INT1 (ICEBP) with bitmap bit 1: privileged software exception (type 5), length 1, qualification 0', () => {
  const k = kit({ code: [0xf1], exceptionBitmap: BIT(1) });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.len, e.rip, e.qual], [0, info(1, 5), 1, BigInt(CODE), 0n]);
});

test('INTO with OF = 1 and bitmap bit 4 (32-bit guest): type 6 vector 4, length 1', () => {
  const k = kit({ mode: 'protected', code: [0xce], exceptionBitmap: BIT(4), rflags: 0x802 });
  k.enter();
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.len, e.rip], [0, info(4, 6), 1, BigInt(CODE)]);
});

test('INT n is not subject to the exception bitmap (software interrupt)', () => {
  const k = kit({ code: [0xcd, 0x30], exceptionBitmap: -1 });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.exits.length, 0);
  assert.equal(k.rip(), H(0x30) + 1);
});

test('INT3 with the bit clear is delivered (return address after it)', () => {
  const k = kit({ code: [0xcc], exceptionBitmap: ~BIT(3) });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(3) + 1);
  assert.equal(Number(k.env.r64(k.env.rsp())), CODE + 1);
});

// ---- exits during delivery: IDT-vectoring information (§27.2.4) -----------------------------
test('#NP while delivering #UD (gate not present), bitmap bit 11: IDT vectoring = the #UD', () => {
  const k = kit({ code: [...UD2], exceptionBitmap: BIT(11) });
  k.env.gate(6, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.reason, 0);
  assert.equal(e.intInfo, info(11, 3, true));
  assert.equal(e.intErr, 6 * 8 + 2 + 1, 'IDT bit and EXT in the error code');
  assert.equal(e.idtInfo, info(6, 3));
  assert.equal(e.rip, BigInt(CODE));
});

test('#GP then #NP (contributory pair) with only bit 8: the #DF exits directly, no IDT vectoring', () => {
  const k = kit({ code: [0x48, 0x8b, 0x03], exceptionBitmap: BIT(8) });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.env.gate(13, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.intInfo, info(8, 3, true));
  assert.equal(e.intErr, 0);
  assert.equal(e.idtInfo, 0, 'a #DF that exits is not "during delivery"');
  assert.equal(e.rip, BigInt(CODE));
});

test('#GP then #NP with bits 8 and 11: the #NP exits first (bitmap before the #DF rules), vectoring = #GP(0)', () => {
  const k = kit({ code: [0x48, 0x8b, 0x03], exceptionBitmap: BIT(8) | BIT(11) });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.env.gate(13, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.intInfo, info(11, 3, true));
  assert.equal(e.intErr, 13 * 8 + 3);
  assert.equal(e.idtInfo, info(13, 3, true));
  assert.equal(e.idtErr, 0);
});

test('#DF delivered when nothing exits, then its handler runs', () => {
  const k = kit({ code: [0x48, 0x8b, 0x03] });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.env.gate(13, { present: false });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(8) + 1);
});

test('#DF delivery faulting again (bitmap 0): triple fault exit 2, no vectoring, RIP at the instruction', () => {
  const k = kit({ code: [0x48, 0x8b, 0x03] });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.env.gate(13, { present: false });
  k.env.gate(8, { present: false });
  k.enter();
  assert.equal(k.run().reason, 'vmexit');
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.idtInfo, e.rip], [2, 0, 0, BigInt(CODE)]);
  assert.equal(k.cpu.inShutdown, false, 'no shutdown in non-root operation');
});

test('fault while delivering #DF taken by the bitmap: vectoring records the #DF', () => {
  const k = kit({ code: [0x48, 0x8b, 0x03], exceptionBitmap: BIT(11) });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.env.gate(13, { present: false });
  k.env.gate(8, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  // #GP -> #NP (gate 13): bit 11 takes that #NP during delivery of the #GP.
  assert.equal(e.intInfo, info(11, 3, true));
  assert.equal(e.idtInfo, info(13, 3, true));
  assert.equal(e.idtErr, 0);
});

test('#PF-free #DF path: #NP during #DF delivery with bit 11 records the #DF as vectoring (EXT set)', () => {
  const k = kit({ code: [0x48, 0x8b, 0x03], exceptionBitmap: BIT(11) });
  k.cpu.setReg64(3, 0x8000000000000000n);
  k.env.gate(13, { type: 0xe, sel: 0x50 }); // a selector beyond the GDT limit: #GP(0x50) during delivery
  k.env.gate(8, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.intInfo, info(11, 3, true));
  assert.equal(e.intErr, 8 * 8 + 2 + 1);
  assert.equal(e.idtInfo, info(8, 3, true), 'the #DF was being delivered');
  assert.equal(e.idtErr, 0);
});

test('#NP while delivering INT 30h: vectoring = software interrupt, exit length = the INT\'s', () => {
  const k = kit({ code: [0x90, 0xcd, 0x30], exceptionBitmap: BIT(11) });
  k.env.gate(0x30, { present: false });
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.intInfo, info(11, 3, true));
  assert.equal(e.intErr, 0x30 * 8 + 2, 'EXT = 0 for INT n');
  assert.equal(e.idtInfo, info(0x30, 4));
  assert.equal(e.len, 2);
  assert.equal(e.rip, BigInt(CODE + 1));
});

test('#GP while delivering INT3 through a DPL-0 gate at CPL 3: vectoring type 6, length 1', () => {
  const k = kit({ code: [0xcc], exceptionBitmap: BIT(13) });
  k.env.toUser();
  k.enter();
  k.run();
  const e = k.last();
  assert.equal(e.intInfo, info(13, 3, true));
  assert.equal(e.intErr, 3 * 8 + 2);
  assert.equal(e.idtInfo, info(3, 6));
  assert.equal(e.len, 1);
});

// ---- NMI unblocking due to IRET (§27.2.3 bit 12) --------------------------------------------
test('a fault on an IRET that unblocked NMIs sets bit 12 (NMI exiting 0)', () => {
  const k = kit({ exceptionBitmap: BIT(13) });
  k.enter();
  k.cpu.nmiBlocked = true;
  k.cpu.vmxEvents!.iret(k.cpu);
  assert.equal(k.cpu.nmiBlocked, false);
  k.cpu.vmxEvents!.deliver(k.cpu, 13, 0, EventKind.Exception, k.cpu.ripLo, 0, new CpuException(13, 0), 3, 0);
  assert.equal(Number(k.field('VM_EXIT_INTERRUPTION_INFORMATION')), (info(13, 3, true) | 0x1000) >>> 0);
});

test('IRET with NMI exiting 1 and virtual NMIs 0 leaves NMI blocking; bit 12 stays 0', () => {
  const k = kit({ exceptionBitmap: BIT(13), pin: 1 << 3 });
  k.enter();
  k.cpu.nmiBlocked = true;
  k.cpu.vmxEvents!.iret(k.cpu);
  assert.equal(k.cpu.nmiBlocked, true);
  k.cpu.vmxEvents!.deliver(k.cpu, 13, 0, EventKind.Exception, k.cpu.ripLo, 0, new CpuException(13, 0), 3, 0);
  assert.equal(Number(k.field('VM_EXIT_INTERRUPTION_INFORMATION')), info(13, 3, true));
});

test('virtual NMIs: IRET removes virtual-NMI blocking and a fault reports bit 12', () => {
  const k = kit({ exceptionBitmap: BIT(6), pin: (1 << 3) | (1 << 5) });
  k.enter();
  k.cpu.nmiBlocked = true;
  k.cpu.vmxEvents!.iret(k.cpu);
  assert.equal(k.cpu.nmiBlocked, false);
  k.cpu.vmxEvents!.deliver(k.cpu, 6, undefined, EventKind.Exception, k.cpu.ripLo, 0, null, 3, 0);
  assert.equal(Number(k.field('VM_EXIT_INTERRUPTION_INFORMATION')), (info(6, 3) | 0x1000) >>> 0);
});

test('bit 12 is not set when IRET did not unblock anything', () => {
  const k = kit({ exceptionBitmap: BIT(13) });
  k.enter();
  k.cpu.nmiBlocked = false;
  k.cpu.vmxEvents!.iret(k.cpu);
  k.cpu.vmxEvents!.deliver(k.cpu, 13, 0, EventKind.Exception, k.cpu.ripLo, 0, null, 3, 0);
  assert.equal(Number(k.field('VM_EXIT_INTERRUPTION_INFORMATION')), info(13, 3, true));
});

// ---- #DB ------------------------------------------------------------------------------------
test('single-step #DB with bitmap bit 1: exit with BS in the qualification, DR6 untouched, RIP after the step', () => {
  const k = kit({ code: [0x90, 0x90, 0xf4], exceptionBitmap: BIT(1), rflags: 0x102 });
  k.enter();
  const dr6 = k.cpu.dr6;
  k.run();
  const e = k.last();
  assert.deepEqual([e.reason, e.intInfo, e.qual, e.rip], [0, info(1, 3), 0x4000n, BigInt(CODE + 1)]);
  assert.equal(k.cpu.dr6, dr6);
});

test('single-step #DB with the bit clear: delivered with DR6.BS', () => {
  const k = kit({ code: [0x90, 0x90, 0xf4], rflags: 0x102 });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(1) + 1);
  assert.equal(k.cpu.dr6 & 0x4000, 0x4000);
});

test('CD 03 (INT 3 as INT n) is a software interrupt: delivered even with bitmap bit 3', () => {
  const k = kit({ code: [0x90, 0xcd, 0x03], exceptionBitmap: BIT(3) });
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.exits.length, 0);
  assert.equal(k.rip(), H(3) + 1);
  assert.equal(Number(k.env.r64(k.env.rsp())), CODE + 3, 'return address past the INT');
});

test('CD 03 at CPL 3 through a DPL-0 gate: #GP returns to the INT (fault), not past it', () => {
  const k = kit({ code: [0xcd, 0x03], exceptionBitmap: BIT(3) });
  k.env.toUser();
  k.enter();
  assert.equal(k.run().reason, 'hlt');
  assert.equal(k.rip(), H(13) + 1);
  // 64-bit frame on the CPL-0 stack: error code, RIP, CS, RFLAGS, RSP, SS.
  assert.equal(Number(k.env.r64(k.env.rsp() + 8)), CODE);
  assert.equal(Number(k.env.r64(k.env.rsp())), 3 * 8 + 2, 'IDT bit, EXT 0');
});
