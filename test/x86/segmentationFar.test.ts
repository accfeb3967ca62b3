/**
 * Far JMP/CALL/RET in protected, compatibility and 64-bit mode, call gates with and without a
 * privilege change (SDM vol. 2A JMP/CALL, vol. 2B RET, vol. 3A §5.8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR_UNUSABLE, setSegmentCache } from '../../src/x86/descriptors';
import { iretTaskReturn } from '../../src/x86/taskSwitch';
import { machine, hasNasm, standardGdt, gate, gate64, sys64, desc, Machine } from './segmentationKit';

const GP = 13, NP = 11, TS = 10;
const skip = hasNasm ? false : 'nasm is not installed';

function fault(m: Machine, vector: number, code: number | undefined): void {
  const r = m.run();
  assert.equal(r.reason, 'exception', `expected a fault, got ${r.reason}`);
  assert.equal(r.exception!.vector, vector, r.exception!.detail);
  assert.equal(r.exception!.errorCode, code, r.exception!.detail);
}

/** Runs to the HLT (at CPL 0) or to the #GP(0) a CPL-3 HLT raises once HLT checks the CPL. */
function stops(m: Machine): void {
  const r = m.run();
  if (r.reason === 'hlt') return;
  assert.equal(r.reason, 'exception');
  assert.ok(m.cpu.cpl > 0 && r.exception!.vector === GP && r.exception!.errorCode === 0 && /hlt/i.test(r.exception!.text),
    `${r.exception!.name} ${r.exception!.errorCode} ${r.exception!.detail} at ${r.exception!.text}`);
}

const u8 = (m: Machine, a: number) => m.mem.read8(a);
const u16 = (m: Machine, a: number) => m.mem.read8(a) | (m.mem.read8(a + 1) << 8);
const u32 = (m: Machine, a: number) => (u16(m, a) | (u16(m, a + 2) << 16)) >>> 0;
void u8;

test('far JMP ptr16:32 to a 16-bit code segment and back; accessed bit; CS cache', { skip }, () => {
  const m = machine('protected', 32, `
    jmp 0x80:low16
  bits 16
  low16:
    mov ax, 0x1234
    jmp dword 0x08:back
  bits 32
  back:
    hlt`);
  stops(m);
  assert.equal(m.cpu.lo[0] & 0xffff, 0x1234);
  assert.equal(m.cpu.segSel[1], 0x08);
  assert.equal(m.cpu.bitness, 32);
  assert.equal(m.gdtByte(0x80, 5), 0x9b);
  assert.equal(m.gdtByte(0x08, 5), 0x9b);
});

test('far JMP faults: null #GP(0), data #GP(sel), not present #NP(sel), beyond limit #GP(0), RPL > CPL #GP(sel)', { skip }, () => {
  fault(machine('protected', 32, 'jmp 0x00:0x1000'), GP, 0);
  fault(machine('protected', 32, 'jmp 0x10:0x1000'), GP, 0x10);
  const gdt = standardGdt();
  gdt[21] = desc(0, 0xfffff, 0x1a, 0xc); // code, not present
  fault(machine('protected', 32, 'jmp 0xa8:0x1000', { gdt }), NP, 0xa8);
  fault(machine('protected', 32, 'jmp 0x80:0x10000'), GP, 0);
  // A DPL-3 non-conforming segment from CPL 0: #GP(sel).
  fault(machine('protected', 32, 'jmp 0x2b:0x1000'), GP, 0x28);
  // Conforming DPL 0 from CPL 3: allowed; CPL stays 3 (CS.RPL = 3).
  const m = machine('protected', 32, 'jmp 0x48:next\nnext: hlt', { cpl: 3 });
  stops(m);
  assert.equal(m.cpu.segSel[1], 0x4b);
  assert.equal(m.cpu.cpl, 3);
});

test('far CALL and RETF at the same privilege (32-bit and 16-bit operand size, RETF imm)', { skip }, () => {
  const m = machine('protected', 32, `
    push dword 0x11111111
    call 0x08:sub
    mov ebx, esp
    call word 0x80:sub16
    hlt
  sub:
    mov eax, [esp]
    mov ecx, [esp+4]
    retf 4
  sub16:
    db 0xcb ; retf in the 16-bit segment`);
  stops(m);
  const c = m.cpu;
  assert.equal(c.lo[1], 0x08, 'CS pushed as a dword (zero-extended)');
  assert.equal(c.lo[3], 0x8000, 'RETF 4 released the pushed argument');
  assert.equal(c.lo[4], 0x8000);
  assert.equal(c.segSel[1], 0x08);
  assert.equal(u16(m, 0x8000 - 2), 0x08, 'o16 call pushed CS (16 bits)');
});

test('64-bit mode: far JMP/CALL m16:32 into compatibility mode and RETF back (m16:64 with REX.W)', { skip }, () => {
  const m = machine('long', 64, `
    mov dword [rel ptr], compat
    mov word [rel ptr+4], 0x08
    call far dword [rel ptr]
    mov rbx, 0x1122334455
    mov qword [rel ptr64], back64
    mov word [rel ptr64+8], 0x18
    jmp far qword [rel ptr64]
  back64:
    hlt
  compat:
  bits 32
    mov eax, 0xc0de
    retf
  bits 64
  align 16
  ptr: dq 0, 0
  ptr64: dq 0, 0`);
  stops(m);
  const c = m.cpu;
  assert.equal(c.lo[0], 0xc0de);
  assert.equal(c.bitness, 64);
  assert.equal(c.segSel[1], 0x18);
  assert.equal(c.lo[4], 0x8000);
});

test('32-bit call gate at the same privilege: CS from the gate, offset from the gate', { skip }, () => {
  const gdt = standardGdt();
  const code = `
    call 0x60:0
    hlt
  target:
    mov eax, [esp]
    retf`;
  // The gate's offset must be `target`: assemble once to find it.
  const probe = machine('protected', 32, code, { gdt });
  const tgt = findLabel(probe, [0x8b, 0x04, 0x24]);
  gdt[12] = gate(0x08, tgt, 0xc, 0);
  const m = machine('protected', 32, code, { gdt });
  stops(m);
  assert.equal(m.cpu.segSel[1], 0x08);
  assert.equal(m.cpu.lo[4], 0x8000);
  // Gate DPL < CPL (gate DPL 0 from CPL 3): #GP(gate selector).
  const f = machine('protected', 32, code, { gdt, cpl: 3 });
  fault(f, GP, 0x60);
  // Not present gate: #NP(gate).
  const g2 = standardGdt();
  g2[12] = gate(0x08, tgt, 0xc, 0, 0, false);
  fault(machine('protected', 32, code, { gdt: g2 }), NP, 0x60);
  // Gate to a data segment: #GP(code selector).
  const g3 = standardGdt();
  g3[12] = gate(0x10, tgt, 0xc, 0);
  fault(machine('protected', 32, code, { gdt: g3 }), GP, 0x10);
  // Gate naming a null code selector: #GP(0).
  const g4 = standardGdt();
  g4[12] = gate(0x00, tgt, 0xc, 0);
  fault(machine('protected', 32, code, { gdt: g4 }), GP, 0);
});

/** Offset of the first occurrence of `bytes` in the loaded code. */
function findLabel(m: Machine, bytes: number[]): number {
  for (let a = 0x1000; a < 0x1100; a++) {
    if (bytes.every((b, i) => m.mem.read8(a + i) === b)) return a;
  }
  throw new Error('label not found');
}

test('call gate from CPL 3 to CPL 0: TSS stack switch, parameter copy, RETF imm to the outer level', { skip }, () => {
  const code = `
    push dword 0xaaaa0001
    push dword 0xbbbb0002
    call 0x63:0
    hlt
  target:
    mov eax, [esp]      ; return EIP
    mov ebx, [esp+4]    ; caller CS
    mov ecx, [esp+8]    ; parameter 1 (the last pushed)
    mov edx, [esp+12]   ; parameter 2
    mov esi, [esp+16]   ; caller ESP
    mov edi, [esp+20]   ; caller SS
    mov ebp, ss
    retf 8`;
  const gdt = standardGdt();
  const probe = machine('protected', 32, code, { gdt });
  const tgt = findLabel(probe, [0x8b, 0x04, 0x24]);
  gdt[12] = gate(0x08, tgt, 0xc, 3, 2);
  // 32-bit TSS: ESP0 at 4, SS0 at 8.
  const tss = new Array(0x68).fill(0);
  tss[4] = 0x00; tss[5] = 0x60; // esp0 = 0x6000
  tss[8] = 0x10; // ss0 = 0x10
  const m = machine('protected', 32, code, { gdt, cpl: 3, ss: 0xa3, memory: [[0x30000, tss]] });
  setSegmentCache(m.cpu, 7, 0x50, 0x30000, 0x67, 0x8b);
  m.cpu.lo[4] = 0x800;
  const retAddr = findLabel(m, [0xf4]);
  const r = m.run();
  const c = m.cpu;
  // Back at CPL 3 at the HLT after the CALL.
  assert.equal(c.cpl, 3);
  assert.equal(c.segSel[1], 0x2b);
  assert.equal(c.segSel[2], 0xa3);
  assert.equal(c.lo[4], 0x800, 'RETF 8 released the caller parameters');
  assert.equal(c.lo[0], retAddr);
  assert.equal(c.lo[3], 0x2b);
  assert.equal(c.lo[1] >>> 0, 0xbbbb0002);
  assert.equal(c.lo[2] >>> 0, 0xaaaa0001);
  assert.equal(c.lo[6], 0x800 - 8);
  assert.equal(c.lo[7], 0xa3);
  assert.equal(c.lo[5] & 0xffff, 0x10, 'SS = SS0 inside the procedure');
  // DS/ES/FS/GS held DPL-3 data: kept.
  assert.equal(c.segSel[3], 0x23);
  // The frame on the ring-0 stack: SS, ESP, 2 params, CS, EIP.
  assert.equal(u32(m, 0x6000 - 4), 0xa3);
  assert.equal(u32(m, 0x6000 - 8), 0x800 - 8);
  assert.equal(u32(m, 0x6000 - 24), retAddr);
  assert.ok(r.reason === 'hlt' || r.exception!.vector === GP);
});

test('RETF to an outer level nulls data segment registers with DPL < new CPL', { skip }, () => {
  // At CPL 0, build a ring-3 return frame and RETF to it with DS = 0x10 (DPL 0), ES = 0x23.
  const m = machine('protected', 32, `
    mov ax, 0x23
    mov es, ax
    push dword 0x23      ; SS
    push dword 0x7000    ; ESP
    push dword 0x2b      ; CS
    push dword ring3     ; EIP
    retf
  ring3:
    hlt`);
  stops(m);
  const c = m.cpu;
  assert.equal(c.cpl, 3);
  assert.equal(c.lo[4], 0x7000);
  assert.equal(c.segSel[3], 0, 'DS (DPL 0) nulled');
  assert.ok(c.segAttr[3] & ATTR_UNUSABLE);
  assert.equal(c.segSel[0], 0x23, 'ES (DPL 3) kept');
  assert.equal(c.segSel[2], 0x23);
});

test('RETF faults: null CS #GP(0), RPL < CPL #GP(sel), null SS to outer #GP(0), SS RPL mismatch #GP(ss)', { skip }, () => {
  fault(machine('protected', 32, 'push dword 0\npush dword 0x1000\nretf'), GP, 0);
  fault(machine('protected', 32, 'push dword 0x08\npush dword 0x1000\nretf', { cpl: 3 }), GP, 0x08);
  fault(machine('protected', 32, 'push dword 0\npush dword 0x7000\npush dword 0x2b\npush dword 0x1000\nretf'), GP, 0);
  fault(machine('protected', 32, 'push dword 0x10\npush dword 0x7000\npush dword 0x2b\npush dword 0x1000\nretf'), GP, 0x10);
  // Target beyond the code-segment limit: #GP(0).
  fault(machine('protected', 32, 'push dword 0x80\npush dword 0x10000\nretf'), GP, 0);
});

test('IA-32e: 64-bit call gate from CPL 3 to CPL 0 uses TSS.RSP0 and null SS; RETF returns', { skip }, () => {
  const code = `
    call far dword [rel ptr]
    hlt
  target:
    mov rax, [rsp]       ; return RIP
    mov rbx, [rsp+8]     ; caller CS
    mov rcx, [rsp+16]    ; caller RSP
    mov rdx, [rsp+24]    ; caller SS
    mov esi, ss
    mov rdi, rsp
    o64 retf
  align 8
  ptr: dd 0
       dw 0x63`;
  const gdt = standardGdt();
  const probe = machine('long', 64, code, { gdt });
  const tgt = findLabel(probe, [0x48, 0x8b, 0x04, 0x24]);
  const g = gate64(0x18, tgt, 0, 3);
  gdt[12] = g.slice(0, 8);
  gdt[13] = g.slice(8);
  const t = sys64(0x30000, 0, 0x67, 0x89);
  gdt[22] = t.slice(0, 8);
  gdt[23] = t.slice(8);
  const tss = new Array(0x68).fill(0);
  tss[4] = 0x00; tss[5] = 0x60; // rsp0 = 0x6000
  const m = machine('long', 64, code, { gdt, cpl: 3, ss: 0x23, memory: [[0x30000, tss]] });
  setSegmentCache(m.cpu, 7, 0xb0, 0x30000, 0x67, 0x8b);
  m.cpu.lo[4] = 0x7000;
  const retAddr = findLabel(m, [0xf4]);
  stops(m);
  const c = m.cpu;
  assert.equal(c.lo[0], retAddr);
  assert.equal(c.lo[3], 0x73);
  assert.equal(c.lo[1], 0x7000);
  assert.equal(c.lo[2], 0x23);
  assert.equal(c.lo[6], 0, 'SS = null selector with RPL 0 inside');
  assert.equal(c.lo[7], 0x6000 - 32);
  assert.equal(c.cpl, 3);
  assert.equal(c.segSel[1], 0x73);
  assert.equal(c.segSel[2], 0x23);
  assert.equal(c.lo[4], 0x7000);
});

test('IA-32e: a legacy 32-bit call gate type is #GP(sel); a 16-bit code segment target via gate is #GP(code sel)', { skip }, () => {
  const gdt = standardGdt();
  gdt[12] = gate(0x18, 0x1000, 4, 0);
  fault(machine('long', 64, 'call far dword [rel p]\np: dd 0\ndw 0x60', { gdt }), GP, 0x60);
  const g2 = standardGdt();
  const g = gate64(0x80, 0x1000, 0, 0);
  g2[12] = g.slice(0, 8);
  g2[13] = g.slice(8);
  fault(machine('long', 64, 'call far dword [rel p]\np: dd 0\ndw 0x60', { gdt: g2 }), GP, 0x80);
});

test('call gate to an inner level with a bad TSS stack: SS0 null #TS(0), SS0 wrong DPL #TS(ss), TSS too small #TS(tr)', { skip }, () => {
  const gdt = standardGdt();
  gdt[12] = gate(0x08, 0x1000, 0xc, 3, 0);
  const run = (ss0: number, limit = 0x67) => {
    const tss = new Array(0x68).fill(0);
    tss[5] = 0x60; tss[8] = ss0;
    const m = machine('protected', 32, 'call 0x63:0', { gdt, cpl: 3, memory: [[0x30000, tss]] });
    setSegmentCache(m.cpu, 7, 0x50, 0x30000, limit, 0x8b);
    return m;
  };
  fault(run(0), TS, 0);
  fault(run(0x23), TS, 0x20);
  fault(run(0x10, 0x8), TS, 0x50);
  fault(run(0x38), TS, 0x38); // read-only data
  // A frame that does not fit the new stack segment: #SS(new SS), nothing changed.
  const g2 = standardGdt();
  g2[12] = gate(0x08, 0x1000, 0xc, 3, 0);
  g2[21] = desc(0, 0xfff, 0x92, 0x4); // 0xa8: ring-0 data, limit 0xfff
  const tss = new Array(0x68).fill(0);
  tss[4] = 0x00; tss[5] = 0x20; tss[8] = 0xa8; // esp0 = 0x2000 > limit
  const m = machine('protected', 32, 'call 0x63:0', { gdt: g2, cpl: 3, memory: [[0x30000, tss]] });
  setSegmentCache(m.cpu, 7, 0x50, 0x30000, 0x67, 0x8b);
  fault(m, 12, 0xa8);
  assert.equal(m.cpu.cpl, 3);
  assert.equal(m.cpu.segSel[2], 0x23);
  assert.equal(m.cpu.lo[4], 0x8000);
  // Gate to a not-present code segment: #NP(code selector).
  const g3 = standardGdt();
  g3[21] = desc(0, 0xfffff, 0x1a, 0xc);
  g3[12] = gate(0xa8, 0x1000, 0xc, 3, 0);
  fault(machine('protected', 32, 'call 0x63:0', { gdt: g3, cpl: 3 }), NP, 0xa8);
});

test('16-bit call gate from CPL 3 to a 16-bit ring-0 segment: 16-bit frame with a copied parameter', { skip }, () => {
  const gdt = standardGdt();
  gdt[12] = gate(0x80, 0x1100, 4, 3, 1);
  gdt[21] = desc(0x7000, 0xfff, 0x92, 0); // 0xa8: 16-bit ring-0 stack, base 0x7000
  const tss = new Array(0x68).fill(0);
  tss[4] = 0x00; tss[5] = 0x08; // esp0 = 0x800
  tss[8] = 0xa8; // ss0
  const m = machine('protected', 32, `
    push dword 0xcafe1234
    call word 0x63:0
    hlt
    times 0x100-($-$$) db 0x90
  bits 16
    hlt`, { gdt, cpl: 3, memory: [[0x30000, tss]] });
  setSegmentCache(m.cpu, 7, 0x50, 0x30000, 0x67, 0x8b);
  m.cpu.lo[4] = 0x7800;
  const r = m.run();
  assert.equal(r.reason, 'hlt', r.exception?.detail);
  const c = m.cpu;
  assert.equal(c.cpl, 0);
  assert.equal(c.segSel[1], 0x80);
  assert.equal(c.segSel[2], 0xa8);
  assert.equal(c.stackBits, 16);
  assert.equal(c.lo[4] & 0xffff, 0x800 - 10);
  // Frame (16-bit slots): SS, SP, param, CS, IP.
  const f = 0x7000 + 0x800;
  assert.equal(u16(m, f - 2), 0x23);
  assert.equal(u16(m, f - 4), 0x7800 - 4);
  assert.equal(u16(m, f - 6), 0x1234, 'the parameter is the low word of the caller stack top');
  assert.equal(u16(m, f - 8), 0x2b);
  assert.equal(u16(m, f - 10), 0x1000 + 5 + 6); // after push imm32 (5) and 66 9A iw iw (6)
  assert.equal(c.ripLo, 0x1101);
});

test('far JMP through a call gate: same privilege only; to a conforming segment keeps CPL', { skip }, () => {
  const gdt = standardGdt();
  gdt[12] = gate(0x48, 0x1100, 0xc, 3);
  const src = 'jmp 0x63:0\ntimes 0x100-($-$$) db 0x90\nhlt';
  const m = machine('protected', 32, src, { gdt, cpl: 3 });
  stops(m);
  assert.equal(m.cpu.cpl, 3);
  assert.equal(m.cpu.segSel[1], 0x4b);
  // Through a gate to a non-conforming DPL-0 segment from CPL 3: #GP(code selector).
  const g2 = standardGdt();
  g2[12] = gate(0x08, 0x1100, 0xc, 3);
  fault(machine('protected', 32, src, { gdt: g2, cpl: 3 }), GP, 0x08);
  // CALL through a gate to a conforming segment at CPL 3: same privilege, no stack switch.
  const c = machine('protected', 32, src.replace('jmp', 'call'), { gdt, cpl: 3 });
  stops(c);
  assert.equal(c.cpu.lo[4], 0x8000 - 8);
  assert.equal(c.cpu.segSel[2], 0x23);
});

/** Two 32-bit TSSs: the current one (0x50 at 0x30000, busy) and a new task (0xb0 at 0x32000). */
function taskMachine(src: string, newTask: (t: number[]) => void = () => {}) {
  const gdt = standardGdt();
  gdt[10] = desc(0x30000, 0x67, 0x8b, 0); // current TSS, busy
  gdt[22] = desc(0x32000, 0x67, 0x89, 0); // 0xb0: new TSS, available
  gdt[17] = gate(0xb0, 0, 5, 0); // 0x88: task gate to it
  const t = new Array(0x68).fill(0);
  const put = (off: number, v: number) => { for (let i = 0; i < 4; i++) t[off + i] = (v >>> (8 * i)) & 0xff; };
  put(0x20, 0x1100); // EIP
  put(0x24, 0x2); // EFLAGS
  put(0x28, 0xa1); // EAX
  put(0x38, 0x6000); // ESP
  put(0x48, 0x10); put(0x4c, 0x08); put(0x50, 0x10); put(0x54, 0x68); put(0x58, 0); put(0x5c, 0x10);
  (t as number[] & { put?: unknown }).put = put;
  newTask(t);
  const m = machine('protected', 32, `${src}\ntimes 0x100-($-$$) db 0x90\nhlt`, { gdt, memory: [[0x32000, t]], regs: { 0: 0x5a5a } });
  setSegmentCache(m.cpu, 7, 0x50, 0x30000, 0x67, 0x8b);
  return m;
}

test('task switch by CALL to a TSS: state saved in the old TSS, loaded from the new, link, NT, busy bits, CR0.TS', { skip }, () => {
  const m = taskMachine('call 0xb0:0');
  stops(m);
  const c = m.cpu;
  assert.equal(c.segSel[7], 0xb0);
  assert.equal(c.segBaseLo[7], 0x32000);
  assert.equal(c.ripLo, 0x1101);
  assert.equal(c.lo[0], 0xa1);
  assert.equal(c.lo[4], 0x6000);
  assert.equal(c.segSel[3], 0x68);
  assert.equal(c.segBaseLo[3], 0x12345);
  assert.equal(c.segSel[4], 0);
  assert.ok(c.segAttr[4] & ATTR_UNUSABLE);
  assert.ok(c.getRflags() & (1 << 14), 'NT set');
  assert.ok(c.cr0 & 8, 'CR0.TS set');
  assert.equal(u16(m, 0x32000), 0x50, 'back link');
  assert.equal(m.gdtByte(0x50, 5), 0x8b, 'old TSS stays busy after CALL');
  assert.equal(m.gdtByte(0xb0, 5), 0x8b, 'new TSS busy');
  assert.equal(u32(m, 0x30000 + 0x20), 0x1007, 'saved EIP = after the CALL');
  assert.equal(u32(m, 0x30000 + 0x28), 0x5a5a, 'saved EAX');
  assert.equal(u32(m, 0x30000 + 0x38), 0x8000, 'saved ESP');
  assert.equal(u32(m, 0x30000 + 0x4c), 0x08, 'saved CS');
});

test('task switch by JMP through a task gate clears the old busy bit and does not link', { skip }, () => {
  const m = taskMachine('jmp 0x88:0');
  stops(m);
  assert.equal(m.cpu.segSel[7], 0xb0);
  assert.equal(m.gdtByte(0x50, 5), 0x89);
  assert.equal(m.gdtByte(0xb0, 5), 0x8b);
  assert.equal(u16(m, 0x32000), 0);
  assert.equal(m.cpu.getRflags() & (1 << 14), 0);
});

test('task switch faults: busy TSS #GP(sel), small limit #TS(sel), bad new CS #TS(cs), not-present data #NP(sel); state unchanged', { skip }, () => {
  fault(taskMachine('jmp 0x50:0'), GP, 0x50);
  const small = taskMachine('jmp 0xb0:0');
  small.mem.write8(0x20000 + 0xb0, 0x20);
  fault(small, TS, 0xb0);
  const badCs = taskMachine('jmp 0xb0:0', (t) => { t[0x4c] = 0x10; });
  fault(badCs, TS, 0x10);
  assert.equal(badCs.cpu.segSel[7], 0x50);
  assert.equal(badCs.gdtByte(0x50, 5), 0x8b);
  const np = taskMachine('jmp 0xb0:0', (t) => { t[0x54] = 0x30; });
  fault(np, NP, 0x30);
  assert.equal(np.cpu.lo[0], 0x5a5a);
});

test('iretTaskReturn (IRET with NT = 1) goes back to the linked task and frees the inner TSS', { skip }, () => {
  const m = taskMachine('call 0xb0:0\nhlt');
  stops(m);
  const c = m.cpu;
  c.halted = false;
  iretTaskReturn(c, 0x1102);
  assert.equal(c.segSel[7], 0x50);
  assert.equal(c.ripLo, 0x1007);
  assert.equal(c.lo[0], 0x5a5a);
  assert.equal(c.segSel[3], 0x10);
  assert.equal(c.getRflags() & (1 << 14), 0);
  assert.equal(m.gdtByte(0xb0, 5), 0x89, 'inner TSS no longer busy');
  assert.equal(m.gdtByte(0x50, 5), 0x8b);
  assert.equal(u32(m, 0x32000 + 0x20), 0x1102, 'inner task state saved for a later switch');
  const r = m.run();
  assert.equal(r.reason, 'hlt');
});
