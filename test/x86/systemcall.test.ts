/**
 * SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, RDRAND/RDSEED, RDPID, FSGSBASE, MONITOR/MWAIT,
 * fences and CLFLUSH (SDM vol. 2B instruction pages; vol. 3A §5.8.7, §5.8.8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asm, describeStop, faulted, hasNasm, run } from './systemKit';
import { Seg } from '../../src/x86/registers';
import { setRandomSeed } from '../../src/x86/insn/sysMisc';

const skip = hasNasm ? false : 'nasm is not installed';
const GP = 13, UD = 6;

const SETUP_SYSCALL = `
    mov ecx, 0xc0000080
    rdmsr
    or eax, 1
    wrmsr
    mov ecx, 0xc0000081
    xor eax, eax
    mov edx, 0x00130008
    wrmsr
    mov ecx, 0xc0000082
    mov eax, kernel
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000084
    mov eax, 0x700
    wrmsr`;

test('SYSRET to ring 3 and SYSCALL back: selectors from STAR, RCX/R11, FMASK, CPL', { skip }, () => {
  const m = run(asm(64, `
    ${SETUP_SYSCALL}
    mov rcx, user
    mov r11, 0x602
    o64 sysret
user:
    mov r12, cs
    mov r13, ss
    mov rbx, 0x1111
    pushfq
    pop r14
    syscall
after:
    nop
kernel:
    mov r15, cs
    mov rbp, ss
    pushfq
    pop rdi
    hlt`));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('r12'), 0x23n, 'user CS = STAR[63:48] + 16 | 3');
  assert.equal(m.reg('r13'), 0x1bn, 'user SS = STAR[63:48] + 8 | 3');
  assert.equal(m.reg('r14'), 0x602n, 'RFLAGS = R11 & 3C7FD7H | 2');
  assert.equal(m.reg('rbx'), 0x1111n);
  assert.equal(m.reg('r15'), 0x08n, 'kernel CS = STAR[47:32]');
  assert.equal(m.reg('rbp'), 0x10n, 'kernel SS = STAR[47:32] + 8');
  assert.equal(m.reg('r11'), 0x602n, 'R11 = user RFLAGS');
  assert.equal(m.reg('rdi'), 0x2n, 'RFLAGS masked by FMASK (TF, IF, DF)');
  assert.equal(m.cpu.cpl, 0);
  assert.equal(m.cpu.bitness, 64);
  assert.equal(m.cpu.segAttr[Seg.SS], 0xc093);
  // RCX = the instruction after SYSCALL.
  const after = m.reg('rcx');
  assert.ok(after > 0x1000n && after < 0x1100n);
});

test('32-bit SYSRET returns to compatibility mode with CS = STAR[63:48]', { skip }, () => {
  const m = run(asm(64, `
    ${SETUP_SYSCALL}
    mov ecx, user
    mov r11d, 2
    sysret
user:
    ud2
kernel:
    hlt`));
  assert.ok(faulted(m, UD), describeStop(m));
  assert.equal(m.cpu.bitness, 32);
  assert.equal(m.cpu.segSel[Seg.CS], 0x13);
  assert.equal(m.cpu.segSel[Seg.SS], 0x1b);
  assert.equal(m.cpu.cpl, 3);
});

test('SYSRET: non-canonical RCX and CPL 3 are #GP(0); SYSCALL/SYSRET with EFER.SCE = 0 are #UD', { skip }, () => {
  const a = run(asm(64, `${SETUP_SYSCALL}\nmov rcx, 0x800000000000\no64 sysret\nkernel:\nhlt`));
  assert.ok(faulted(a, GP, 0), describeStop(a));
  assert.equal(a.cpu.cpl, 0);
  const b = run(asm(64, 'syscall\nhlt'));
  assert.ok(faulted(b, UD), describeStop(b));
  const c = run(asm(64, 'o64 sysret\nhlt'));
  assert.ok(faulted(c, UD), describeStop(c));
  const d = run(asm(64, 'o64 sysret\nhlt'), { setup: (cpu) => { cpu.efer |= 1; cpu.cpl = 3; } });
  assert.ok(faulted(d, GP, 0), describeStop(d));
  const e = run(asm(32, 'syscall\nhlt'), { mode: 'compat', setup: (cpu) => { cpu.efer |= 1; } });
  assert.ok(faulted(e, UD), `SYSCALL in compatibility mode (Intel): ${describeStop(e)}`);
});

const SETUP_SYSENTER = `
    mov ecx, 0x174
    mov eax, 0x08
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x7000
    wrmsr
    mov ecx, 0x176
    mov eax, kernel
    wrmsr`;

test('SYSEXIT to ring 3 and SYSENTER back (32-bit protected mode)', { skip }, () => {
  const m = run(asm(32, `
    ${SETUP_SYSENTER}
    mov ecx, 0x9000
    mov edx, user
    sysexit
user:
    mov ebx, cs
    mov esi, ss
    mov edi, esp
    sysenter
kernel:
    mov ebp, cs
    hlt`), { mode: 'protected', rflags: 0x202 });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rbx'), 0x1bn, 'CS = SYSENTER_CS + 16 | 3');
  assert.equal(m.reg('rsi'), 0x23n, 'SS = CS + 8');
  assert.equal(m.reg('rdi'), 0x9000n);
  assert.equal(m.reg('rbp'), 0x08n);
  assert.equal(m.reg('rsp'), 0x7000n);
  assert.equal(m.cpu.segSel[Seg.SS], 0x10);
  assert.equal(m.cpu.cpl, 0);
  assert.equal((m.cpu.getRflags() >>> 9) & 1, 0, 'IF cleared');
});

test('SYSEXITQ returns to 64-bit mode with CS = SYSENTER_CS + 32 | 3; SYSENTER in IA-32e mode is 64-bit', { skip }, () => {
  const m = run(asm(64, `
    ${SETUP_SYSENTER}
    mov rcx, 0x9000
    mov rdx, user
    o64 sysexit
user:
    mov rbx, cs
    sysenter
kernel:
    hlt`));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rbx'), 0x2bn);
  assert.equal(m.cpu.bitness, 64);
  assert.equal(m.reg('rsp'), 0x7000n);
});

test('SYSENTER: #GP(0) in real mode or with SYSENTER_CS = 0; SYSEXIT at CPL 3 #GP(0)', { skip }, () => {
  const a = run(asm(16, 'sysenter\nhlt'), { mode: 'real' });
  assert.ok(faulted(a, GP, 0), describeStop(a));
  const b = run(asm(32, 'sysenter\nhlt'), { mode: 'protected' });
  assert.ok(faulted(b, GP, 0), describeStop(b));
  const c = run(asm(32, `${SETUP_SYSENTER}\nsysexit\nkernel:\nhlt`), { mode: 'protected', setup: (cpu) => { cpu.cpl = 3; } });
  assert.ok(faulted(c, GP, 0), describeStop(c));
});

test('SWAPGS exchanges GS.base and IA32_KERNEL_GS_BASE; #UD outside 64-bit mode, #GP(0) at CPL 3', { skip }, () => {
  const m = run(asm(64, `
    mov ecx, 0xc0000101
    mov eax, 0x1000
    xor edx, edx
    wrmsr
    mov ecx, 0xc0000102
    mov eax, 0x2000
    wrmsr
    swapgs
    mov ecx, 0xc0000101
    rdmsr
    mov ebx, eax
    mov ecx, 0xc0000102
    rdmsr
    mov esi, eax
    hlt`));
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rbx'), 0x2000n);
  assert.equal(m.reg('rsi'), 0x1000n);
  const b = run(Uint8Array.from([0x0f, 0x01, 0xf8, 0xf4]), { mode: 'compat' });
  assert.ok(faulted(b, UD), describeStop(b));
  const c = run(asm(64, 'swapgs\nhlt'), { setup: (cpu) => { cpu.cpl = 3; } });
  assert.ok(faulted(c, GP, 0), describeStop(c));
});

test('RDRAND/RDSEED: deterministic from the seed, CF = 1 and the other flags clear; 16-bit form keeps the rest', { skip }, () => {
  const code = asm(64, `
    mov rcx, -1
    rdrand rax
    rdseed rbx
    rdrand cx
    pushfq
    pop rdx
    hlt`);
  const a = run(code);
  const b = run(code);
  assert.equal(a.result.reason, 'hlt', describeStop(a));
  assert.equal(a.reg('rax'), b.reg('rax'));
  assert.notEqual(a.reg('rax'), a.reg('rbx'));
  assert.equal(a.reg('rcx') >> 16n, 0xffffffffffffn);
  assert.equal(a.reg('rdx') & 0x8d5n, 1n, 'CF = 1, OF SF ZF AF PF = 0');
  const c = run(code, { setup: (cpu) => setRandomSeed(cpu, 42) });
  assert.notEqual(c.reg('rax'), a.reg('rax'));
});

test('RDFSBASE/WRFSBASE/RDGSBASE/WRGSBASE need CR4.FSGSBASE; non-canonical #GP(0); 32-bit forms zero-extend', { skip }, () => {
  const a = run(asm(64, 'rdfsbase rax\nhlt'));
  assert.ok(faulted(a, UD), describeStop(a));
  const on = (c: ReturnType<typeof run>['cpu']): void => { c.cr4 |= 1 << 16; };
  const b = run(asm(64, `
    mov rax, 0xffff800012345678
    wrfsbase rax
    rdfsbase rbx
    mov ecx, -1
    wrgsbase ecx
    rdgsbase rdx
    rdfsbase esi
    hlt`), { setup: on });
  assert.equal(b.result.reason, 'hlt', describeStop(b));
  assert.equal(b.reg('rbx'), 0xffff800012345678n);
  assert.equal(b.reg('rdx'), 0xffffffffn);
  assert.equal(b.reg('rsi'), 0x12345678n);
  const c = run(asm(64, 'mov rax, 0x0100000000000000\nwrgsbase rax\nhlt'), { setup: on }); // not 57-bit canonical either
  assert.ok(faulted(c, GP, 0), describeStop(c));
});

test('MONITOR/MWAIT at CPL 0 (MWAIT returns at once); #UD at CPL 3; bad ECX #GP(0)', { skip }, () => {
  const ok = run(asm(64, 'mov eax, 0x3000\nxor ecx, ecx\nxor edx, edx\nmonitor\nmwait\nhlt'));
  assert.equal(ok.result.reason, 'hlt', describeStop(ok));
  const u = run(asm(64, 'mov eax, 0x3000\nxor ecx, ecx\nxor edx, edx\nmonitor\nhlt'), { setup: (c) => { c.cpl = 3; } });
  assert.ok(faulted(u, UD), describeStop(u));
  const w = run(asm(64, 'xor eax, eax\nmov ecx, 2\nmwait\nhlt'));
  assert.ok(faulted(w, GP, 0), describeStop(w));
  const x = run(asm(64, 'mov eax, 0x3000\nmov ecx, 1\nmonitor\nhlt'));
  assert.ok(faulted(x, GP, 0), describeStop(x));
});

test('LFENCE/SFENCE/MFENCE execute; CLFLUSH/CLFLUSHOPT check their address', { skip }, () => {
  const ok = run(asm(64, 'lfence\nsfence\nmfence\nclflush [0x3000]\nclflushopt [0x3000]\nhlt'));
  assert.equal(ok.result.reason, 'hlt', describeStop(ok));
  const bad = run(asm(64, 'mov rax, 0x0000800000000000\nclflush [rax]\nhlt'));
  assert.ok(faulted(bad, GP, 0), describeStop(bad));
});

test('RDPID in 32-bit code reads IA32_TSC_AUX into a 32-bit register', { skip }, () => {
  const m = run(asm(32, 'mov ecx, 0xc0000103\nmov eax, 7\nxor edx, edx\nwrmsr\nrdpid eax\nhlt'), { mode: 'protected' });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.reg('rax'), 7n);
});
