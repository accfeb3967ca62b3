/**
 * Segment-register loads (SDM vol. 2B MOV, POP, LDS; vol. 3A §3.4, §5.4-§5.7): the checks and
 * their faults with selector error codes, the hidden caches, the accessed bit, real-mode and
 * unreal-mode loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR_UNUSABLE, setSegmentCache } from '../../src/x86/descriptors';
import { machine, hasNasm, standardGdt, desc } from './segmentationKit';

const GP = 13, NP = 11, SS = 12, UD = 6;
const skip = hasNasm ? false : 'nasm is not installed';

function fault(m: ReturnType<typeof machine>, vector: number, code: number | undefined): void {
  const r = m.run();
  assert.equal(r.reason, 'exception', `expected a fault, got ${r.reason}`);
  assert.equal(r.exception!.vector, vector, r.exception!.detail);
  assert.equal(r.exception!.errorCode, code, r.exception!.detail);
}

function halts(m: ReturnType<typeof machine>): void {
  const r = m.run();
  assert.equal(r.reason, 'hlt', r.exception ? `${r.exception.name} ${r.exception.errorCode?.toString(16)} ${r.exception.detail} at ${r.exception.text}` : r.reason);
}

test('MOV DS loads the hidden cache from the descriptor and sets the accessed bit', { skip }, () => {
  const m = machine('protected', 32, 'mov ax, 0x68\nmov ds, ax\nmov eax, [0x10]\nhlt',
    { memory: [[0x12355, [0x78, 0x56, 0x34, 0x12]]] });
  assert.equal(m.gdtByte(0x68, 5), 0x92);
  halts(m);
  const c = m.cpu;
  assert.equal(c.segSel[3], 0x68);
  assert.equal(c.segBaseLo[3], 0x12345);
  assert.equal(c.segLimit[3], 0xfff);
  assert.equal(c.segAttr[3], 0x4093);
  assert.equal(m.gdtByte(0x68, 5), 0x93, 'accessed bit set in the GDT');
  assert.equal(c.lo[0], 0x12345678);
});

test('MOV DS with a page-granular limit scales it', { skip }, () => {
  const m = machine('protected', 32, 'mov ax, 0x10\nmov es, ax\nhlt');
  halts(m);
  assert.equal(m.cpu.segLimit[0], 0xffffffff);
});

test('MOV DS, null selector marks DS unusable; a later access faults #GP(0)', { skip }, () => {
  const m = machine('protected', 32, 'mov ax, 3\nmov ds, ax\nhlt\nmov eax, [0]\nhlt');
  halts(m);
  assert.equal(m.cpu.segSel[3], 3);
  assert.ok(m.cpu.segAttr[3] & ATTR_UNUSABLE);
  m.cpu.halted = false;
  fault(m, GP, 0);
});

test('MOV DS faults: not present #NP(sel), execute-only code #GP(sel), beyond the GDT #GP(sel), system #GP(sel)', { skip }, () => {
  fault(machine('protected', 32, 'mov ax, 0x30\nmov ds, ax\nhlt'), NP, 0x30);
  fault(machine('protected', 32, 'mov ax, 0x42\nmov es, ax\nhlt'), GP, 0x40);
  fault(machine('protected', 32, 'mov ax, 0x1003\nmov fs, ax\nhlt'), GP, 0x1000);
  fault(machine('protected', 32, 'mov ax, 0x58\nmov gs, ax\nhlt'), GP, 0x58);
  // LDT selector while LDTR is unusable / null.
  const m = machine('protected', 32, 'mov ax, 0x0c\nmov ds, ax\nhlt');
  m.cpu.segAttr[6] = ATTR_UNUSABLE;
  fault(m, GP, 0x0c);
});

test('MOV DS: readable code and conforming code are allowed; DPL/RPL/CPL rules', { skip }, () => {
  halts(machine('protected', 32, 'mov ax, 0x08\nmov ds, ax\nhlt'));
  // RPL 3 > DPL 0 of a data segment: #GP(sel).
  fault(machine('protected', 32, 'mov ax, 0x13\nmov ds, ax\nhlt'), GP, 0x10);
  // Conforming code ignores the privilege rule.
  halts(machine('protected', 32, 'mov ax, 0x4b\nmov ds, ax\nhlt'));
  // At CPL 3: DPL 0 data faults, DPL 3 data loads, DPL 1 faults.
  fault(machine('protected', 32, 'mov ax, 0x10\nmov ds, ax\nhlt', { cpl: 3 }), GP, 0x10);
  fault(machine('protected', 32, 'mov ax, 0x93\nmov ds, ax\nhlt', { cpl: 3 }), GP, 0x90);
  const m = machine('protected', 32, 'mov ax, 0x23\nmov ds, ax\nmov ax, 0x4b\nmov es, ax\nhlt', { cpl: 3 });
  m.cpu.halted = false;
  const r = m.run();
  // HLT at CPL 3 is #GP(0) once the INTERRUPTS layer checks it; both loads happened.
  assert.ok(r.reason === 'hlt' || (r.reason === 'exception' && r.exception!.vector === GP));
  assert.equal(m.cpu.segSel[3], 0x23);
  assert.equal(m.cpu.segSel[0], 0x4b);
});

test('MOV SS checks: null #GP(0), RPL≠CPL #GP(sel), read-only #GP(sel), code #GP(sel), DPL≠CPL #GP(sel), not present #SS(sel)', { skip }, () => {
  fault(machine('protected', 32, 'xor eax, eax\nmov ss, ax\nhlt'), GP, 0);
  fault(machine('protected', 32, 'mov ax, 0x13\nmov ss, ax\nhlt'), GP, 0x10);
  fault(machine('protected', 32, 'mov ax, 0x38\nmov ss, ax\nhlt'), GP, 0x38);
  fault(machine('protected', 32, 'mov ax, 0x08\nmov ss, ax\nhlt'), GP, 0x08);
  fault(machine('protected', 32, 'mov ax, 0x20\nmov ss, ax\nhlt'), GP, 0x20);
  fault(machine('protected', 32, 'mov ax, 0x30\nmov ss, ax\nhlt'), SS, 0x30);
  fault(machine('protected', 32, 'mov ax, 0x98\nmov ss, ax\nhlt'), SS, 0x98);
});

test('MOV SS to a 16-bit stack segment changes the stack size; sets the interrupt shadow', { skip }, () => {
  const m = machine('protected', 32, 'mov ax, 0x78\nmov ss, ax\nhlt', { regs: { 4: 0x12348000 } });
  halts(m);
  assert.equal(m.cpu.stackBits, 16);
  assert.equal(m.cpu.segSel[2], 0x78);
  const m2 = machine('protected', 32, 'mov ax, 0x78\nmov ss, ax\npush eax\nhlt', { regs: { 4: 0x12348000 } });
  halts(m2);
  assert.equal(m2.cpu.lo[4] >>> 0, 0x12347ffc, 'a 16-bit stack changes SP only');
});

test('MOV SS, null in 64-bit mode at CPL 0 with RPL = CPL is allowed; RPL ≠ CPL is #GP(0)', { skip }, () => {
  const m = machine('long', 64, 'xor eax, eax\nmov ss, ax\npush rax\npop rbx\nhlt');
  halts(m);
  assert.equal(m.cpu.segSel[2], 0);
  assert.ok(m.cpu.segAttr[2] & ATTR_UNUSABLE);
  fault(machine('long', 64, 'mov eax, 1\nmov ss, ax\nhlt'), GP, 0);
  // Compatibility mode: null SS is #GP(0).
  const c = machine('compat', 32, 'xor eax, eax\nmov ss, ax\nhlt');
  fault(c, GP, 0);
});

test('64-bit mode: MOV FS loads selector; FS base from the descriptor (32 bits)', { skip }, () => {
  const m = machine('long', 64, 'mov ax, 0x68\nmov fs, ax\nmov eax, [fs:0x10]\nhlt',
    { memory: [[0x12355, [1, 2, 3, 4]]] });
  halts(m);
  assert.equal(m.cpu.segBaseLo[4], 0x12345);
  assert.equal(m.cpu.lo[0], 0x04030201);
});

test('POP DS / POP SS / POP FS in protected mode check the descriptor before RSP moves', { skip }, () => {
  const m = machine('protected', 32, 'push dword 0x68\npop ds\npush dword 0x10\npop ss\npush word 0x20\no16 pop fs\nhlt');
  m.cpu.lo[4] = 0x8000;
  const r = m.run();
  // POP FS 16-bit with a DPL3 data segment at CPL0: allowed (DPL >= CPL).
  assert.equal(r.reason, 'hlt', r.exception?.detail);
  assert.equal(m.cpu.segSel[3], 0x68);
  assert.equal(m.cpu.segSel[4], 0x20);
  assert.equal(m.cpu.lo[4], 0x8000);
  const f = machine('protected', 32, 'push dword 0x30\npop ds\nhlt');
  fault(f, NP, 0x30);
  assert.equal(f.cpu.lo[4], 0x8000 - 4, 'RSP not incremented by a faulting POP');
  // 64-bit: POP FS with a 64-bit operand.
  const l = machine('long', 64, 'push 0x68\npop gs\nhlt');
  halts(l);
  assert.equal(l.cpu.segBaseLo[5], 0x12345);
  assert.equal(l.cpu.lo[4], 0x8000);
});

test('LDS/LES/LFS/LGS/LSS load the segment then the register; a fault leaves the register', { skip }, () => {
  const ptr = [0x78, 0x56, 0x34, 0x12, 0x68, 0x00];
  const m = machine('protected', 32, 'mov ebx, 0x9000\nlds eax, [ss:ebx]\nles ecx, [ss:ebx]\nlfs edx, [ss:ebx]\nlgs esi, [ss:ebx]\nmov dword [ss:ebx+8], 0x7000\nmov word [ss:ebx+12], 0x10\nlss esp, [ss:ebx+8]\nhlt',
    { memory: [[0x9000, ptr]] });
  halts(m);
  const c = m.cpu;
  for (const s of [0, 3, 4, 5]) assert.equal(c.segSel[s], 0x68);
  assert.equal(c.lo[0], 0x12345678);
  assert.equal(c.lo[6], 0x12345678);
  assert.equal(c.lo[4], 0x7000);
  assert.equal(c.segSel[2], 0x10);
  const f = machine('protected', 32, 'mov ebx, 0x9000\nmov eax, 0x11111111\nlds eax, [ebx]\nhlt',
    { memory: [[0x9000, [0, 0, 0, 0, 0x30, 0]]] });
  fault(f, NP, 0x30);
  assert.equal(f.cpu.lo[0], 0x11111111);
  // 64-bit LSS with REX.W (m16:64).
  const l = machine('long', 64, 'mov rbx, 0x9000\nlss rsp, [rbx]\nhlt',
    { memory: [[0x9000, [0x00, 0x70, 0, 0, 0, 0, 0, 0, 0x10, 0]]] });
  halts(l);
  assert.equal(l.cpu.lo[4], 0x7000);
  assert.equal(l.cpu.segSel[2], 0x10);
  // 16-bit LDS in real mode: base = selector << 4.
  const r = machine('real', 16, 'mov bx, 0x9000\nlds si, [bx]\nhlt', { memory: [[0x9000, [0x34, 0x12, 0x00, 0x20]]] });
  halts(r);
  assert.equal(r.cpu.segBaseLo[3], 0x20000);
  assert.equal(r.cpu.lo[6] & 0xffff, 0x1234);
});

test('virtual-8086 mode loads: base = selector << 4, limit 0xFFFF, DPL-3 data attributes', { skip }, () => {
  const m = machine('protected', 16, 'mov ax, 0x1234\nmov ds, ax\nmov es, ax\nhlt');
  m.cpu.flagsRest |= 1 << 17;
  m.cpu.cpl = 3;
  setSegmentCache(m.cpu, 1, 0, 0, 0xffff, 0xf3);
  m.cpu.bitness = 16;
  m.cpu.codeChanged();
  const r = m.run();
  void r;
  assert.equal(m.cpu.segBaseLo[3], 0x12340);
  assert.equal(m.cpu.segLimit[3], 0xffff);
  assert.equal(m.cpu.segAttr[3], 0xf3);
});

test('real-mode loads change only the selector and base; unreal mode keeps a 4 GiB limit', { skip }, () => {
  // Protected mode: load DS/ES with flat 4 GiB data; then "return" to real mode.
  const m = machine('protected', 32, 'mov ax, 0x10\nmov ds, ax\nmov ax, 0x78\nmov es, ax\nhlt');
  halts(m);
  const c = m.cpu;
  // Leave protected mode (what MOV CR0 does; SDM vol. 3A §9.9.2), with 16-bit code.
  c.cr0 &= ~1;
  c.protectedMode = false;
  setSegmentCache(c, 1, 0, 0, 0xffff, 0x9b);
  c.halted = false;
  const code = [
    0xb8, 0x00, 0x01, // mov ax, 0x100
    0x8e, 0xd8, // mov ds, ax
    0x8e, 0xc0, // mov es, ax
    0x66, 0xbb, 0x00, 0x00, 0x09, 0x00, // mov ebx, 0x90000
    0x67, 0x66, 0x8b, 0x03, // mov eax, [ebx]  (DS: limit 4 GiB kept)
    0xf4,
    0x67, 0x26, 0x66, 0x8b, 0x0b, // mov ecx, [es:ebx] (ES: limit 0xffff) -> #GP(0)
    0xf4,
  ];
  m.mem.load(0x2000, Uint8Array.from(code));
  m.mem.load(0x1000 + 0x90000, Uint8Array.from([0xef, 0xbe, 0xad, 0xde]));
  c.setRip(0x2000);
  c.codeChanged();
  halts(m);
  assert.equal(c.segSel[3], 0x100);
  assert.equal(c.segBaseLo[3], 0x1000);
  assert.equal(c.segLimit[3], 0xffffffff, 'limit kept from protected mode');
  assert.equal(c.segAttr[3], 0xc093, 'attributes kept from protected mode');
  assert.equal(c.lo[0] >>> 0, 0xdeadbeef);
  c.halted = false;
  fault(m, GP, 0);
});

test('real mode: a null-loaded (unusable) register becomes usable again on a real-mode load', { skip }, () => {
  const m = machine('protected', 32, 'xor eax, eax\nmov fs, ax\nhlt');
  halts(m);
  assert.ok(m.cpu.segAttr[4] & ATTR_UNUSABLE);
  const c = m.cpu;
  c.protectedMode = false;
  c.cr0 &= ~1;
  setSegmentCache(c, 1, 0, 0, 0xffff, 0x9b);
  c.halted = false;
  m.mem.load(0x2000, Uint8Array.from([0xb8, 0x00, 0x02, 0x8e, 0xe0, 0xf4])); // mov ax,0x200; mov fs,ax; hlt
  c.setRip(0x2000);
  halts(m);
  assert.equal(c.segBaseLo[4], 0x2000);
  assert.equal(c.segAttr[4] & ATTR_UNUSABLE, 0);
});

test('MOV to CS is #UD; MOV Sreg from a register still works in every mode', { skip }, () => {
  fault(machine('protected', 32, 'db 0x8e, 0xc8\nhlt'), UD, undefined);
  const m = machine('long', 64, 'mov eax, 0xffffffff\nmov eax, ds\nhlt');
  halts(m);
  assert.equal(m.cpu.lo[0], 0x10);
});

test('accessed bit: already-set descriptors are not written; the write goes through a read-only GDT image too', { skip }, () => {
  const gdt = standardGdt();
  gdt[13] = desc(0x12345, 0xfff, 0x93, 0x4);
  const m = machine('protected', 32, 'mov ax, 0x68\nmov ds, ax\nhlt', { gdt });
  halts(m);
  assert.equal(m.gdtByte(0x68, 5), 0x93);
});
