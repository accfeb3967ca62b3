/**
 * IN/OUT/INS/OUTS through the port bus, with the IOPL and TSS I/O-bitmap checks (SDM vol. 1
 * §19.5; vol. 2A IN, INS; vol. 2B OUT, OUTS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asm, describeStop, faulted, hasNasm, RecordingPorts, run } from './systemKit';
import { setSegmentCache } from '../../src/x86/descriptors';
import { Seg } from '../../src/x86/registers';
import type { Cpu } from '../../src/x86/cpu';
import type { PhysicalMemory } from '../../src/x86/physicalMemory';

const skip = hasNasm ? false : 'nasm is not installed';
const GP = 13, UD = 6;

test('OUT imm8/DX and IN imm8/DX in every size; a 32-bit IN zero-extends into RAX', { skip }, () => {
  const ports = new RecordingPorts();
  ports.values.set(0x71, [0xab]);
  ports.values.set(0x3f8, [0x1234]);
  ports.values.set(0xcfc, [0x89abcdef | 0]);
  const m = run(asm(64, `
    mov rax, -1
    mov al, 0x5a
    out 0x80, al
    mov dx, 0x3f8
    mov ax, 0x4142
    out dx, ax
    mov dx, 0xcf8
    mov eax, 0x80000010
    out dx, eax
    mov rbx, -1
    in al, 0x71
    mov bl, al
    mov dx, 0x3f8
    in ax, dx
    mov si, ax
    mov dx, 0xcfc
    in eax, dx
    hlt`), { setup: (c) => { c.io = ports; } });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.deepEqual(ports.log, [
    ['out', 0x80, 1, 0x5a], ['out', 0x3f8, 2, 0x4142], ['out', 0xcf8, 4, 0x80000010 | 0],
    ['in', 0x71, 1, 0xab], ['in', 0x3f8, 2, 0x1234], ['in', 0xcfc, 4, 0x89abcdef | 0],
  ]);
  assert.equal(m.reg('rbx') & 0xffn, 0xabn);
  assert.equal(m.reg('rsi') & 0xffffn, 0x1234n);
  assert.equal(m.reg('rax'), 0x89abcdefn);
});

test('REP OUTSB and REP INSW move strings through a port, DF and the count as usual', { skip }, () => {
  const ports = new RecordingPorts();
  ports.values.set(0x60, [0x1111, 0x2222, 0x3333]);
  const m = run(asm(64, `
    mov dx, 0xe9
    mov rsi, 0x3000
    mov rcx, 3
    rep outsb
    mov dx, 0x60
    mov rdi, 0x4000
    mov rcx, 3
    rep insw
    hlt`), {
    setup: (c, mem) => { c.io = ports; mem.load(0x3000, Uint8Array.from([0x68, 0x69, 0x21])); },
  });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.deepEqual(ports.log.slice(0, 3).map((e) => e[3]), [0x68, 0x69, 0x21]);
  assert.equal(m.reg('rsi'), 0x3003n);
  assert.equal(m.reg('rdi'), 0x4006n);
  assert.equal(m.reg('rcx'), 0n);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => m.mem.read8(0x4000 + i)), [0x11, 0x11, 0x22, 0x22, 0x33, 0x33]);
});

test('real mode: OUTSB with a segment override and 16-bit SI; INSB to ES:DI', { skip }, () => {
  const ports = new RecordingPorts();
  ports.values.set(0x61, [0x77]);
  const m = run(asm(16, `
    mov ax, 0x300
    mov es, ax
    mov dx, 0x61
    xor di, di
    insb
    mov si, 0
    mov dx, 0x62
    es outsb
    hlt`), { mode: 'real', setup: (c) => { c.io = ports; } });
  assert.equal(m.result.reason, 'hlt', describeStop(m));
  assert.equal(m.mem.read8(0x3000), 0x77);
  assert.deepEqual(ports.log[1], ['out', 0x62, 1, 0x77]);
});

const TSS = 0x5000;

/** Protected mode at CPL 3 with IOPL 0 and a 32-bit TSS whose I/O bitmap denies port 0x80 and 0x3fb. */
function userWithBitmap(limitExtra = 0x2000 / 8 + 1) {
  return (c: Cpu, mem: PhysicalMemory): void => {
    c.cpl = 3;
    c.setRflags(0x2);
    setSegmentCache(c, Seg.CS, 0x1b, 0, 0xffffffff, 0xc0fb);
    setSegmentCache(c, Seg.SS, 0x23, 0, 0xffffffff, 0xc0f3);
    setSegmentCache(c, Seg.TR, 0x28, TSS, 0x67 + limitExtra, 0x8b);
    mem.write8(TSS + 102, 0x68);
    mem.write8(TSS + 103, 0);
    mem.write8(TSS + 0x68 + (0x80 >> 3), 1 << (0x80 & 7));
    mem.write8(TSS + 0x68 + (0x3fb >> 3), 1 << (0x3fb & 7));
  };
}

test('CPL > IOPL: the TSS I/O bitmap allows clear bits and denies set bits with #GP(0)', { skip }, () => {
  const ports = new RecordingPorts();
  const ok = run(asm(32, 'mov dx, 0x3f8\nmov al, 0x41\nout dx, al\nin al, 0x81\nud2'), {
    mode: 'protected', setup: (c, mem) => { userWithBitmap()(c, mem); c.io = ports; },
  });
  assert.ok(faulted(ok, UD), describeStop(ok));
  assert.equal(ports.log.length, 2);
  const denied = run(asm(32, 'mov al, 1\nout 0x80, al\nud2'), { mode: 'protected', setup: userWithBitmap() });
  assert.ok(faulted(denied, GP, 0), describeStop(denied));
  // A dword at 0x3f8 covers 0x3f8-0x3fb: the bit of 0x3fb denies it.
  const wide = run(asm(32, 'mov dx, 0x3f8\nin eax, dx\nud2'), { mode: 'protected', setup: userWithBitmap() });
  assert.ok(faulted(wide, GP, 0), describeStop(wide));
  const ins = run(asm(32, 'mov dx, 0x80\nmov edi, 0x3000\nrep insb\nud2'), {
    mode: 'protected', regs: { rcx: 1 }, setup: userWithBitmap(),
  });
  assert.ok(faulted(ins, GP, 0), describeStop(ins));
});

test('a port beyond the TSS limit, or no 32-bit TSS, is #GP(0); CPL <= IOPL needs no bitmap', { skip }, () => {
  const beyond = run(asm(32, 'mov dx, 0x400\nin al, dx\nud2'), { mode: 'protected', setup: userWithBitmap(0x40) });
  assert.ok(faulted(beyond, GP, 0), describeStop(beyond));
  const noTss = run(asm(32, 'in al, 0x60\nud2'), {
    mode: 'protected',
    setup: (c, mem) => { userWithBitmap()(c, mem); setSegmentCache(c, Seg.TR, 0x28, TSS, 0x67, 0x83); },
  });
  assert.ok(faulted(noTss, GP, 0), describeStop(noTss));
  const iopl3 = run(asm(32, 'out 0x80, al\nud2'), {
    mode: 'protected',
    setup: (c, mem) => { userWithBitmap()(c, mem); c.setRflags(0x3002); },
  });
  assert.ok(faulted(iopl3, UD), describeStop(iopl3));
  const ring0 = run(asm(32, 'out 0x80, al\nhlt'), { mode: 'protected' });
  assert.equal(ring0.result.reason, 'hlt', describeStop(ring0));
});

test('virtual-8086 mode consults the bitmap even with IOPL 3', { skip }, () => {
  const m = run(asm(16, 'out 0x80, al\nud2'), {
    mode: 'protected',
    setup: (c, mem) => {
      userWithBitmap()(c, mem);
      c.setRflags(0x23002);
      setSegmentCache(c, Seg.CS, 0, 0, 0xffff, 0xf3);
      setSegmentCache(c, Seg.SS, 0, 0, 0xffff, 0xf3);
    },
  });
  assert.ok(faulted(m, GP, 0), describeStop(m));
});
