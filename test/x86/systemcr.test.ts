/**
 * MOV CRn / DRn, CLTS, LMSW, SMSW, INVD/WBINVD, XGETBV/XSETBV and the mode switches they drive
 * (SDM vol. 2B MOV CR / MOV DR exceptions; vol. 3A §2.5, §9.9, §10.8.5, §18.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asm, cpuidWith, describeStop, faulted, hasNasm, PML4, run } from './systemKit';
import { Seg } from '../../src/x86/registers';
import { setSegmentCache } from '../../src/x86/descriptors';
import { cr4Settable } from '../../src/x86/controlRegisters';

const skip = hasNasm ? false : 'nasm is not installed';
const GP = 13, UD = 6, DB = 1;

function halted(m: ReturnType<typeof run>): void {
  assert.equal(m.result.reason, 'hlt', describeStop(m));
}

test('real mode: MOV CR0 sets PE (16-bit protected mode), reads back, and clears it again', { skip }, () => {
  const m = run(asm(16, `
    mov eax, cr0
    mov ebx, eax
    or eax, 1
    mov cr0, eax
    mov ecx, cr0
    and eax, ~1
    mov cr0, eax
    mov edx, cr0
    hlt`), { mode: 'real' });
  halted(m);
  assert.equal(m.reg('rbx'), 0x60000010n, 'reset CR0');
  assert.equal(m.reg('rcx'), 0x60000011n);
  assert.equal(m.reg('rdx'), 0x60000010n);
  assert.equal(m.cpu.protectedMode, false);
  assert.equal(m.cpu.bitness, 16);
});

test('real mode: PE set and the next instruction runs in 16-bit protected mode', { skip }, () => {
  const m = run(asm(16, `
    mov eax, cr0
    or al, 1
    mov cr0, eax
    hlt`), { mode: 'real' });
  halted(m);
  assert.equal(m.cpu.protectedMode, true);
  assert.equal(m.cpu.bitness, 16);
  assert.equal(m.cpu.cpl, 0);
});

test('real -> protected -> IA-32e: CR4.PAE, EFER.LME, CR0.PG|PE activates LMA in compatibility mode', { skip }, () => {
  const m = run(asm(16, `
    mov eax, 0x20
    mov cr4, eax
    mov eax, ${PML4}
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000001
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    mov esi, eax
    hlt`), { mode: 'real' });
  halted(m);
  assert.equal(m.cpu.longMode, true);
  assert.equal(m.cpu.protectedMode, true);
  assert.equal(m.reg('rsi') & 0x500n, 0x500n, 'EFER.LME and LMA');
  assert.equal(m.cpu.bitness, 16, 'CS is still the 16-bit real-mode cache: compatibility mode');
});

test('compatibility mode: clearing CR0.PG leaves IA-32e mode (LMA = 0)', { skip }, () => {
  const m = run(asm(32, `
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    hlt`), { mode: 'compat' });
  halted(m);
  assert.equal(m.cpu.longMode, false);
  assert.equal(Number(m.reg('rax')) & 0x500, 0x100, 'LME stays, LMA clears');
  assert.equal(m.cpu.bitness, 32);
});

test('64-bit mode: clearing CR0.PG is #GP(0)', { skip }, () => {
  const m = run(asm(64, `
    mov rax, cr0
    btr eax, 31
    mov cr0, rax
    hlt`));
  assert.ok(faulted(m, GP, 0), describeStop(m));
  assert.equal(m.cpu.longMode, true);
});

test('CR0.PG = 1 with PE = 0 is #GP(0); NW = 1 with CD = 0 is #GP(0)', { skip }, () => {
  const a = run(asm(16, 'mov eax, 0x80000010\nmov cr0, eax\nhlt'), { mode: 'real' });
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(asm(16, 'mov eax, 0x20000010\nmov cr0, eax\nhlt'), { mode: 'real' });
  assert.ok(faulted(b, GP, 0), describeStop(b));
  const c = run(asm(16, 'mov eax, 0x60000010\nmov cr0, eax\nhlt'), { mode: 'real' });
  halted(c);
});

test('CR0: bits 63:32 are #GP(0) in 64-bit mode; reserved low bits are ignored and ET reads 1', { skip }, () => {
  const a = run(asm(64, 'mov rax, cr0\nbts rax, 32\nmov cr0, rax\nhlt'));
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(asm(32, 'mov eax, 0x00000201\nmov cr0, eax\nmov ebx, cr0\nhlt'), { mode: 'protected' });
  halted(b);
  assert.equal(b.reg('rbx'), 0x11n);
});

test('enabling paging with EFER.LME = 1 and CR4.PAE = 0 is #GP(0)', { skip }, () => {
  const m = run(asm(32, `
    mov ecx, 0xc0000080
    mov eax, 0x100
    xor edx, edx
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    hlt`), { mode: 'protected' });
  assert.ok(faulted(m, GP, 0), describeStop(m));
  assert.equal(m.cpu.longMode, false);
  assert.equal(m.cpu.cr0 >>> 31, 0);
});

test('activating IA-32e mode with CS.L = 1 is #GP(0)', { skip }, () => {
  const m = run(asm(32, `
    mov eax, 0x20
    mov cr4, eax
    mov eax, ${PML4}
    mov cr3, eax
    mov ecx, 0xc0000080
    mov eax, 0x100
    xor edx, edx
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    hlt`), { mode: 'protected', setup: (c) => setSegmentCache(c, Seg.CS, 8, 0, 0xffffffff, 0xe09b) });
  assert.ok(faulted(m, GP, 0), describeStop(m));
  assert.equal(m.cpu.longMode, false);
});

test('IA-32e mode: clearing CR4.PAE, changing EFER.LME or setting reserved EFER bits is #GP(0)', { skip }, () => {
  const a = run(asm(64, 'mov rax, cr4\nbtr eax, 5\nmov cr4, rax\nhlt'));
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(asm(64, 'mov ecx, 0xc0000080\nrdmsr\nbtr eax, 8\nwrmsr\nhlt'));
  assert.ok(faulted(b, GP, 0), describeStop(b));
  const c = run(asm(64, 'mov ecx, 0xc0000080\nrdmsr\nbts eax, 2\nwrmsr\nhlt'));
  assert.ok(faulted(c, GP, 0), describeStop(c));
  // Writing LMA's current value along with SCE is fine; LMA is read-only.
  const d = run(asm(64, 'mov ecx, 0xc0000080\nrdmsr\nor eax, 1\nwrmsr\nrdmsr\nhlt'));
  halted(d);
  assert.equal(d.reg('rax'), 0x501n);
});

test('CR4: reserved and unreported bits are #GP(0); supported bits round-trip', { skip }, () => {
  const a = run(asm(32, 'mov eax, 1 << 15\nmov cr4, eax\nhlt'), { mode: 'protected' });
  assert.ok(faulted(a, GP, 0), describeStop(a));
  // VMXE: CPUID does not report VMX.
  const b = run(asm(32, 'mov eax, 1 << 13\nmov cr4, eax\nhlt'), { mode: 'protected' });
  assert.ok(faulted(b, GP, 0), describeStop(b));
  // PCIDE outside IA-32e mode (and unreported) is #GP.
  const c = run(asm(32, 'mov eax, 1 << 17\nmov cr4, eax\nhlt'), { mode: 'protected' });
  assert.ok(faulted(c, GP, 0), describeStop(c));
  const d = run(asm(32, 'mov eax, 0x10c\nmov cr4, eax\nmov ebx, cr4\nhlt'), { mode: 'protected' });
  halted(d);
  assert.equal(d.reg('rbx'), 0x10cn, 'TSD | DE | PCE');
  assert.ok((cr4Settable(d.cpu) & (1 << 16)) !== 0, 'FSGSBASE settable');
});

test('CR4.LA57 cannot change in IA-32e mode; CR8 holds the task priority, bits 63:4 #GP', { skip }, () => {
  const a = run(asm(64, 'mov rax, 5\nmov cr8, rax\nmov rbx, cr8\nhlt'));
  halted(a);
  assert.equal(a.reg('rbx'), 5n);
  const b = run(asm(64, 'mov rax, 0x10\nmov cr8, rax\nhlt'));
  assert.ok(faulted(b, GP, 0), describeStop(b));
});

test('CR2 and CR3 round-trip; CR3 bits above MAXPHYADDR are #GP(0) in IA-32e mode', { skip }, () => {
  const a = run(asm(64, `
    mov rax, 0x123456789abc
    mov cr2, rax
    mov rbx, cr2
    mov rax, ${PML4 + 0x18}
    mov cr3, rax
    mov rcx, cr3
    hlt`));
  halted(a);
  assert.equal(a.reg('rbx'), 0x123456789abcn);
  assert.equal(a.reg('rcx'), BigInt(PML4 + 0x18));
  const b = run(asm(64, `mov rax, (1 << 40) | ${PML4}\nmov cr3, rax\nhlt`));
  assert.ok(faulted(b, GP, 0), describeStop(b));
});

test('MOV CR at CPL 3 is #GP(0); CR1, CR5-CR7 are #UD', { skip }, () => {
  const a = run(asm(64, 'mov rax, cr0\nhlt'), { setup: (c) => { c.cpl = 3; } });
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(Uint8Array.from([0x0f, 0x20, 0xc8, 0xf4])); // mov rax, cr1
  assert.ok(faulted(b, UD), describeStop(b));
  const c = run(Uint8Array.from([0x0f, 0x22, 0xe8, 0xf4])); // mov cr5, rax
  assert.ok(faulted(c, UD), describeStop(c));
});

test('MOV DR: round trips, DR6/DR7 fixed bits, DR4/DR5 alias DR6/DR7 when CR4.DE = 0', { skip }, () => {
  const m = run(asm(64, `
    mov rax, 0x123456789
    mov dr0, rax
    mov rbx, dr0
    xor eax, eax
    mov dr6, rax
    mov rcx, dr6
    mov rax, 0xffffdfff
    mov dr7, rax
    mov rdx, dr7
    mov rsi, dr4
    mov rdi, dr5
    hlt`));
  halted(m);
  assert.equal(m.reg('rbx'), 0x123456789n);
  assert.equal(m.reg('rcx'), 0xffff0ff0n);
  assert.equal(m.reg('rdx'), 0xffff07ffn, 'bits 11, 12, 14, 15 read 0; bit 10 reads 1');
  assert.equal(m.reg('rsi'), 0xffff0ff0n);
  assert.equal(m.reg('rdi'), 0xffff07ffn);
});

test('MOV DR: DR4 with CR4.DE = 1 is #UD; DR7 bits 63:32 #GP(0); DR7.GD raises #DB with DR6.BD', { skip }, () => {
  const a = run(asm(64, 'mov rax, cr4\nor eax, 8\nmov cr4, rax\nmov rax, dr4\nhlt'));
  assert.ok(faulted(a, UD), describeStop(a));
  const b = run(asm(64, 'mov rax, 1 << 32\nmov dr7, rax\nhlt'));
  assert.ok(faulted(b, GP, 0), describeStop(b));
  const c = run(asm(64, 'mov rax, 0x2000\nmov dr7, rax\nmov rbx, dr0\nhlt'));
  assert.ok(faulted(c, DB), describeStop(c));
  assert.equal(c.cpu.dr6 & 0x2000, 0x2000, 'DR6.BD');
  assert.equal(c.cpu.dr7 & 0x2000, 0, 'GD cleared for the handler');
  const d = run(asm(64, 'mov rax, dr7\nhlt'), { setup: (cpu) => { cpu.cpl = 3; } });
  assert.ok(faulted(d, GP, 0), describeStop(d));
});

test('CLTS clears CR0.TS; LMSW loads PE/MP/EM/TS but cannot clear PE; SMSW stores CR0', { skip }, () => {
  const m = run(asm(32, `
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    clts
    mov ebx, cr0
    mov ax, 0x000e
    lmsw ax
    mov ecx, cr0
    smsw edx
    smsw word [0x3000]
    mov word [0x3002], 0xffff
    smsw si
    hlt`), { mode: 'protected' });
  halted(m);
  assert.equal(Number(m.reg('rbx')) & 8, 0);
  assert.equal(Number(m.reg('rcx')) & 0xf, 0xf, 'PE kept, MP EM TS set');
  assert.equal(m.reg('rdx'), m.reg('rcx'));
  assert.equal(m.mem.read8(0x3000) | (m.mem.read8(0x3001) << 8), Number(m.reg('rcx')) & 0xffff);
  assert.equal(m.mem.read8(0x3002), 0xff, 'SMSW m16 writes a word');
  const r = run(asm(16, 'mov ax, 1\nlmsw ax\nhlt'), { mode: 'real' });
  halted(r);
  assert.equal(r.cpu.protectedMode, true, 'LMSW can set PE');
});

test('CLTS, LMSW, INVD, WBINVD at CPL 3 are #GP(0); SMSW is not privileged unless CR4.UMIP', { skip }, () => {
  for (const src of ['clts', 'lmsw ax', 'invd', 'wbinvd']) {
    const m = run(asm(64, `${src}\nhlt`), { setup: (c) => { c.cpl = 3; } });
    assert.ok(faulted(m, GP, 0), `${src}: ${describeStop(m)}`);
  }
  // (HLT itself is privileged: these programs end with UD2.)
  const s = run(asm(64, 'smsw eax\nud2'), { setup: (c) => { c.cpl = 3; } });
  assert.ok(faulted(s, UD), describeStop(s));
  assert.equal(s.reg('rax'), BigInt(s.cpu.cr0 >>> 0));
  const u = run(asm(64, 'smsw eax\nud2'), { setup: (c) => { c.cpl = 3; c.cr4 |= 1 << 11; } });
  assert.ok(faulted(u, GP, 0), describeStop(u));
  const ok = run(asm(64, 'invd\nwbinvd\nhlt'));
  halted(ok);
});

test('XGETBV/XSETBV: #UD without CR4.OSXSAVE; XCR0 rules', { skip }, () => {
  const a = run(asm(64, 'xor ecx, ecx\nxgetbv\nhlt'));
  assert.ok(faulted(a, UD), describeStop(a));
  const osx = (c: ReturnType<typeof run>['cpu']): void => { c.cr4 |= 1 << 18; };
  const b = run(asm(64, 'xor ecx, ecx\nxor edx, edx\nmov eax, 1\nxsetbv\nxgetbv\nhlt'), { setup: osx });
  halted(b);
  assert.equal(b.reg('rax'), 1n);
  const c = run(asm(64, 'xor ecx, ecx\nxor edx, edx\nxor eax, eax\nxsetbv\nhlt'), { setup: osx });
  assert.ok(faulted(c, GP, 0), `x87 bit clear: ${describeStop(c)}`);
  const d = run(asm(64, 'xor ecx, ecx\nxor edx, edx\nmov eax, 5\nxsetbv\nhlt'), { setup: osx });
  assert.ok(faulted(d, GP, 0), `AVX without SSE: ${describeStop(d)}`);
  const e = run(asm(64, 'mov ecx, 1\nxor edx, edx\nmov eax, 1\nxsetbv\nhlt'), { setup: osx });
  assert.ok(faulted(e, GP, 0), `XCR1: ${describeStop(e)}`);
  const f = run(asm(64, 'xor ecx, ecx\nxor edx, edx\nmov eax, 1\nxsetbv\nhlt'), { setup: (c) => { osx(c); c.cpl = 3; } });
  assert.ok(faulted(f, GP, 0), `CPL 3: ${describeStop(f)}`);
});

test('PAE paging outside IA-32e mode: enabling it loads the PDPTEs; a reserved bit is #GP(0)', { skip }, () => {
  const code = asm(32, `
    mov eax, 0x20
    mov cr4, eax
    mov eax, 0x60000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov ebx, [0x3000]
    hlt`);
  const tables = (bad: boolean) => (_c: unknown, mem: import('../../src/x86/physicalMemory').PhysicalMemory) => {
    // PDPT at 0x60000 (entry 0 -> PD at 0x61000), PD[0] = 2 MiB page at 0.
    mem.write8(0x60000, 0x01); mem.write8(0x60001, 0x10); mem.write8(0x60002, 0x06);
    if (bad) mem.write8(0x60000, 0x03); // R/W is reserved in a PAE PDPTE
    mem.write8(0x61000, 0x83);
    mem.write8(0x3000, 0x5a);
  };
  const ok = run(code, { mode: 'protected', setup: tables(false) });
  assert.equal(ok.result.reason, 'hlt', describeStop(ok));
  assert.equal(ok.reg('rbx'), 0x5an);
  assert.equal(ok.cpu.longMode, false);
  const bad = run(code, { mode: 'protected', setup: tables(true) });
  assert.ok(faulted(bad, GP, 0), describeStop(bad));
  assert.equal(bad.cpu.cr0 >>> 31, 0, 'CR0 unchanged');
});

test('with PCID reported: CR4.PCIDE needs IA-32e mode and CR3[11:0] = 0; CR0.PG cannot clear while PCIDE = 1', { skip }, () => {
  const cpuid = cpuidWith([1, 0, 'ecx', 17]);
  const a = run(asm(64, `mov rax, ${PML4 + 1}\nmov cr3, rax\nmov rax, cr4\nbts eax, 17\nmov cr4, rax\nhlt`), { cpuid });
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(asm(64, 'mov rax, cr4\nbts eax, 17\nmov cr4, rax\nmov rbx, cr4\nhlt'), { cpuid });
  assert.equal(b.result.reason, 'hlt', describeStop(b));
  assert.equal((b.reg('rbx') >> 17n) & 1n, 1n);
  const c = run(asm(32, 'mov eax, cr0\nbtr eax, 31\nmov cr0, eax\nhlt'), { mode: 'compat', cpuid, setup: (cpu) => { cpu.cr4 |= 1 << 17; } });
  assert.ok(faulted(c, GP, 0), describeStop(c));
  const d = run(asm(32, 'mov eax, 1 << 17\nmov cr4, eax\nhlt'), { mode: 'protected', cpuid });
  assert.ok(faulted(d, GP, 0), describeStop(d));
});

test('with LA57 reported: CR4.LA57 cannot change in IA-32e mode', { skip }, () => {
  const cpuid = cpuidWith([7, 0, 'ecx', 16]);
  const a = run(asm(64, 'mov rax, cr4\nbts eax, 12\nmov cr4, rax\nhlt'), { cpuid });
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(asm(32, 'mov eax, 1 << 12\nmov cr4, eax\nmov ebx, cr4\nhlt'), { mode: 'protected', cpuid });
  assert.equal(b.result.reason, 'hlt', describeStop(b));
  assert.equal(b.reg('rbx'), 0x1000n);
});

test('a boot sequence: real mode -> LGDT, CR0.PE, far JMP -> 32-bit protected -> PAE, LME, PG, far JMP -> 64-bit', { skip }, () => {
  const m = run(asm(16, `
    cli
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, ${PML4}
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x18:lm64
bits 64
lm64:
    mov rax, 0x123456789
    hlt
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
    dq 0x00af9a000000ffff
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt`), { mode: 'real' });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rax'), 0x123456789n);
  assert.equal(m.cpu.bitness, 64);
  assert.equal(m.cpu.longMode, true);
  assert.equal(m.cpu.segSel[Seg.CS], 0x18);
});
