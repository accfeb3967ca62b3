/**
 * LGDT/LIDT/SGDT/SIDT, LLDT/SLDT, LTR/STR, LAR/LSL/VERR/VERW and ARPL (SDM vol. 2A/2B, each
 * instruction's page).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR_UNUSABLE } from '../../src/x86/descriptors';
import { machine, hasNasm, standardGdt, desc, sys64, Machine, GDT } from './segmentationKit';

const GP = 13, NP = 11, UD = 6;
const skip = hasNasm ? false : 'nasm is not installed';

function fault(m: Machine, vector: number, code: number | undefined): void {
  const r = m.run();
  assert.equal(r.reason, 'exception', `expected a fault, got ${r.reason}`);
  assert.equal(r.exception!.vector, vector, r.exception!.detail);
  assert.equal(r.exception!.errorCode, code, r.exception!.detail);
}

function stops(m: Machine): void {
  const r = m.run();
  if (r.reason === 'hlt') return;
  assert.equal(r.reason, 'exception');
  assert.ok(m.cpu.cpl > 0 && r.exception!.vector === GP && /hlt/i.test(r.exception!.text),
    `${r.exception!.name} ${r.exception!.errorCode} ${r.exception!.detail} at ${r.exception!.text}`);
}

const bytes = (m: Machine, a: number, n: number) => Array.from(m.mem.readBytes(a, n));

test('LGDT/SGDT and LIDT/SIDT with 32-bit operands; SGDT stores the full 32-bit base', { skip }, () => {
  const m = machine('protected', 32, `
    lgdt [desc1]
    sgdt [0x9000]
    lidt [desc1]
    sidt [0x9010]
    o16 lgdt [desc1]   ; 16-bit operand size: 24-bit base
    sgdt [0x9020]
    lgdt [gdtd]
    hlt
  desc1: dw 0x1234
         dd 0xaabbccdd
  gdtd:  dw 0xff
         dd 0x20000`);
  stops(m);
  assert.deepEqual(bytes(m, 0x9000, 6), [0x34, 0x12, 0xdd, 0xcc, 0xbb, 0xaa]);
  assert.deepEqual(bytes(m, 0x9010, 6), [0x34, 0x12, 0xdd, 0xcc, 0xbb, 0xaa]);
  assert.deepEqual(bytes(m, 0x9020, 6), [0x34, 0x12, 0xdd, 0xcc, 0xbb, 0x00]);
  assert.equal(m.cpu.idtrLimit, 0x1234);
  assert.equal(m.cpu.idtrBaseLo >>> 0, 0xaabbccdd);
  assert.equal(m.cpu.gdtrBaseLo, 0x20000);
  assert.equal(m.cpu.gdtrLimit, 0xff);
});

test('LGDT/SGDT in 64-bit mode use an 8-byte base; a non-canonical base is #GP(0)', { skip }, () => {
  const m = machine('long', 64, `
    lidt [rel d64]
    sidt [0x9000]
    hlt
  d64: dw 0x0fff
       dq 0xffff800012345678`);
  stops(m);
  assert.deepEqual(bytes(m, 0x9000, 10), [0xff, 0x0f, 0x78, 0x56, 0x34, 0x12, 0x00, 0x80, 0xff, 0xff]);
  assert.equal(m.cpu.idtrBaseHi >>> 0, 0xffff8000);
  // Non-canonical even for 57-bit addresses (the model reports LA57; base checks use the widest width).
  fault(machine('long', 64, 'lgdt [rel d]\nhlt\nd: dw 0\ndq 0x0100000000000000'), GP, 0);
});

test('LGDT in real mode (16-bit operand size) and at CPL 3 (#GP(0)); SGDT works at CPL 3 (no UMIP)', { skip }, () => {
  const m = machine('real', 16, 'lgdt [d]\nsgdt [0x9000]\nhlt\nd: dw 0x17\ndd 0x12345678');
  stops(m);
  assert.equal(m.cpu.gdtrBaseLo, 0x345678);
  assert.deepEqual(bytes(m, 0x9000, 6), [0x17, 0, 0x78, 0x56, 0x34, 0]);
  fault(machine('protected', 32, 'lgdt [0x9000]\nhlt', { cpl: 3 }), GP, 0);
  fault(machine('protected', 32, 'lidt [0x9000]\nhlt', { cpl: 3 }), GP, 0);
  const u = machine('protected', 32, 'sgdt [0x9000]\nhlt', { cpl: 3 });
  stops(u);
  assert.equal(u.mem.read8(0x9002), 0x00);
  assert.equal(u.mem.read8(0x9004), 0x02);
});

test('LLDT loads LDTR; LDT selectors then load from the LDT; SLDT stores it', { skip }, () => {
  const ldt = [...desc(0x5000, 0xff, 0x92, 0), ...desc(0, 0xfffff, 0x9a, 0xc), ...desc(0, 0xfffff, 0x12, 0xc)];
  const m = machine('protected', 32, `
    mov ax, 0x58
    lldt ax
    mov ax, 0x04        ; LDT entry 0
    mov ds, ax
    mov eax, 0xffffffff
    sldt eax
    sldt [ss:0x9000]
    mov ebx, [0x10]
    hlt`, { memory: [[0x31000, ldt], [0x5010, [0xef, 0xbe, 0xad, 0xde]]] });
  stops(m);
  const c = m.cpu;
  assert.equal(c.segSel[6], 0x58);
  assert.equal(c.segBaseLo[6], 0x31000);
  assert.equal(c.segLimit[6], 0x17);
  assert.equal(c.segSel[3], 0x04);
  assert.equal(c.segBaseLo[3], 0x5000);
  assert.equal(c.lo[0], 0x58, 'SLDT r32 zero-extends');
  assert.equal(m.mem.read8(0x9000), 0x58);
  assert.equal(c.lo[3] >>> 0, 0xdeadbeef);
  // LDT entry 2 is not present: #NP(0x14).
  fault(machine('protected', 32, 'mov ax, 0x58\nlldt ax\nmov ax, 0x14\nmov es, ax\nhlt', { memory: [[0x31000, ldt]] }), NP, 0x14);
  // Beyond the LDT limit: #GP(sel).
  fault(machine('protected', 32, 'mov ax, 0x58\nlldt ax\nmov ax, 0x1c\nmov es, ax\nhlt', { memory: [[0x31000, ldt]] }), GP, 0x1c);
});

test('LLDT checks: null makes LDTR unusable; TI=1 #GP(sel); not an LDT #GP(sel); CPL 3 #GP(0); real mode #UD', { skip }, () => {
  const m = machine('protected', 32, 'xor eax, eax\nlldt ax\nhlt');
  stops(m);
  assert.ok(m.cpu.segAttr[6] & ATTR_UNUSABLE);
  fault(machine('protected', 32, 'mov ax, 0x5c\nlldt ax\nhlt'), GP, 0x5c);
  fault(machine('protected', 32, 'mov ax, 0x50\nlldt ax\nhlt'), GP, 0x50);
  fault(machine('protected', 32, 'mov ax, 0x58\nlldt ax\nhlt', { cpl: 3 }), GP, 0);
  fault(machine('real', 16, 'mov ax, 0x58\nlldt ax\nhlt'), UD, undefined);
  fault(machine('real', 16, 'sldt ax\nhlt'), UD, undefined);
});

test('LTR loads TR and marks the TSS busy; a busy TSS is #GP(sel); STR stores TR', { skip }, () => {
  const m = machine('protected', 32, 'mov ax, 0x50\nltr ax\nmov eax, -1\nstr eax\nstr [0x9000]\nhlt');
  assert.equal(m.gdtByte(0x50, 5), 0x89);
  stops(m);
  const c = m.cpu;
  assert.equal(c.segSel[7], 0x50);
  assert.equal(c.segBaseLo[7], 0x30000);
  assert.equal(c.segLimit[7], 0x67);
  assert.equal(c.segAttr[7] & 0xff, 0x8b);
  assert.equal(m.gdtByte(0x50, 5), 0x8b, 'busy bit set in the GDT');
  assert.equal(c.lo[0], 0x50);
  assert.equal(m.mem.read8(0x9000), 0x50);
  fault(machine('protected', 32, 'mov ax, 0x50\nltr ax\nltr ax\nhlt'), GP, 0x50);
  fault(machine('protected', 32, 'xor eax, eax\nltr ax\nhlt'), GP, 0);
  fault(machine('protected', 32, 'mov ax, 0x10\nltr ax\nhlt'), GP, 0x10);
  const g = standardGdt();
  g[10] = desc(0x30000, 0x67, 0x09, 0);
  fault(machine('protected', 32, 'mov ax, 0x50\nltr ax\nhlt', { gdt: g }), NP, 0x50);
});

test('LTR in IA-32e mode reads a 16-byte TSS descriptor (64-bit base); a 16-bit TSS type is #GP(sel)', { skip }, () => {
  const g = standardGdt();
  const t = sys64(0x30000, 0xffff8000, 0x67, 0x89);
  g[22] = t.slice(0, 8);
  g[23] = t.slice(8);
  const m = machine('long', 64, 'mov ax, 0xb0\nltr ax\nhlt', { gdt: g });
  stops(m);
  assert.equal(m.cpu.segBaseHi[7] >>> 0, 0xffff8000);
  assert.equal(m.cpu.segBaseLo[7], 0x30000);
  const g2 = standardGdt();
  g2[22] = desc(0x30000, 0x67, 0x81, 0);
  g2[23] = [0, 0, 0, 0, 0, 0, 0, 0];
  fault(machine('long', 64, 'mov ax, 0xb0\nltr ax\nhlt', { gdt: g2 }), GP, 0xb0);
});

test('LAR/LSL: access rights and limit with ZF=1; bad selectors give ZF=0 and keep the destination', { skip }, () => {
  const m = machine('protected', 32, `
    mov ecx, 0x10
    lar eax, ecx       ; flat data DPL0: 0x00cf9300 (accessed bit clear in the GDT: 0x00cf9200)
    setz bl
    lsl edx, ecx
    mov ecx, 0x68
    lsl esi, ecx
    mov edi, 0x12345678
    mov ecx, 0x1000
    lar edi, ecx       ; beyond the GDT
    setz bh
    mov ecx, 0x50
    lar ebp, ecx       ; a TSS: valid for LAR
    hlt`);
  stops(m);
  const c = m.cpu;
  assert.equal(c.lo[0] >>> 0, 0x00cf9200);
  assert.equal(c.lo[3] & 0xff, 1);
  assert.equal(c.lo[2] >>> 0, 0xffffffff);
  assert.equal(c.lo[6], 0xfff);
  assert.equal(c.lo[7], 0x12345678);
  assert.equal((c.lo[3] >> 8) & 0xff, 0);
  assert.equal(c.lo[5] >>> 0, 0x00008900);
  // At CPL 3, a DPL-0 data segment is invisible (ZF=0), a conforming code segment is visible.
  const u = machine('protected', 32, `
    mov ecx, 0x10
    mov eax, 7
    lar eax, ecx
    setz bl
    mov ecx, 0x48
    lar edx, ecx
    setz bh
    mov ecx, 0x60      ; a null (type 0) system descriptor: ZF=0
    lsl esi, ecx
    setz cl
    hlt`, { cpl: 3 });
  stops(u);
  assert.equal(u.cpu.lo[0], 7);
  assert.equal(u.cpu.lo[3] & 0xffff, 0x100);
  assert.equal(u.cpu.lo[2] >>> 0, 0x00cf9e00);
  assert.equal(u.cpu.lo[1] & 0xff, 0);
  // 16-bit LAR keeps bits 15:8 only; 64-bit LAR zero-extends.
  const l = machine('long', 64, 'mov rax, -1\nmov ecx, 0x18\nlar rax, rcx\nmov rdx, -1\nlar dx, cx\nhlt');
  stops(l);
  assert.equal(l.cpu.getReg64(0), 0x00af9a00n);
  assert.equal(l.cpu.getReg64(2), 0xffffffffffff9a00n);
  fault(machine('real', 16, 'lar ax, cx\nhlt'), UD, undefined);
});

test('VERR/VERW: readable/writable at the current privilege', { skip }, () => {
  const m = machine('protected', 32, `
    mov cx, 0x10
    verr cx
    setz al
    verw cx
    setz ah
    mov cx, 0x38       ; read-only data
    verw cx
    setz bl
    verr cx
    setz bh
    mov cx, 0x40       ; execute-only code
    verr cx
    setz dl
    mov cx, 0x08       ; readable code
    verr cx
    setz dh
    verw cx
    setz ch
    mov si, 0x0        ; null
    verr si
    setz cl
    hlt`);
  stops(m);
  const c = m.cpu;
  assert.equal(c.lo[0] & 0xffff, 0x0101);
  assert.equal(c.lo[3] & 0xffff, 0x0100);
  assert.equal(c.lo[2] & 0xffff, 0x0100);
  assert.equal(c.lo[1] & 0xffff, 0x0000);
  const u = machine('protected', 32, 'mov cx, 0x10\nverr cx\nsetz al\nmov cx, 0x23\nverw cx\nsetz ah\nhlt', { cpl: 3 });
  stops(u);
  assert.equal(u.cpu.lo[0] & 0xffff, 0x0100);
});

test('ARPL raises the RPL and sets ZF; #UD in real mode; 63 is MOVSXD in 64-bit mode', { skip }, () => {
  const m = machine('protected', 32, `
    mov ax, 0x10
    mov bx, 0x23
    arpl ax, bx
    setz cl
    arpl ax, bx
    setz ch
    mov word [0x9000], 0x2b
    arpl [0x9000], bx
    setz dl
    hlt`);
  stops(m);
  assert.equal(m.cpu.lo[0] & 0xffff, 0x13);
  assert.equal(m.cpu.lo[1] & 0xffff, 0x0001);
  assert.equal(m.mem.read8(0x9000), 0x2b);
  assert.equal(m.cpu.lo[2] & 0xff, 0);
  fault(machine('real', 16, 'arpl ax, bx\nhlt'), UD, undefined);
  const l = machine('long', 64, 'mov ecx, -1\nmovsxd rax, ecx\nhlt');
  stops(l);
  assert.equal(l.cpu.getReg64(0), 0xffffffffffffffffn);
});

test('GDT reads honour the GDTR limit exactly', { skip }, () => {
  const m = machine('protected', 32, 'mov ax, 0x68\nmov ds, ax\nhlt');
  m.cpu.gdtrLimit = 0x6e; // entry 0x68 needs bytes 0x68..0x6f
  fault(m, GP, 0x68);
  const ok = machine('protected', 32, 'mov ax, 0x68\nmov ds, ax\nhlt');
  ok.cpu.gdtrLimit = 0x6f;
  stops(ok);
  void GDT;
});
