/**
 * Loaders: format detection, flat / ELF32 / ELF64 / Multiboot 1 loading, every bad-file
 * message, the Multiboot information structure, and the processor start states
 * (Multiboot Specification 0.6.96 §3.1-3.3; SDM vol. 3A §3.4.5, §4.5, §9.8-9.9).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { Seg } from '../../src/x86/registers';
import { decodeDescriptor } from '../../src/x86/descriptors';
import { applyBootPlan, detectFormat, loadImage, LoadError, MULTIBOOT_BOOTLOADER_MAGIC, memoryMap } from '../../src/vmm/loaders';
import type { LoadOptions } from '../../src/vmm/loaders';
import { buildElf, multibootHeader } from './elfBuilder';

const MiB = 1024 * 1024;
const HLT = [0xf4];

function boot(bytes: Uint8Array, options: LoadOptions, size = 16 * MiB) {
  const mem = new PhysicalMemory(size);
  const plan = loadImage(mem, bytes, options);
  const cpu = new Cpu(mem);
  applyBootPlan(cpu, plan);
  return { mem, plan, cpu };
}

const u32 = (mem: PhysicalMemory, a: number) => new DataView(mem.readBytes(a, 4).buffer).getUint32(0, true);
const u64 = (mem: PhysicalMemory, a: number) => Number(new DataView(mem.readBytes(a, 8).buffer).getBigUint64(0, true));

/** Every segment register's cache equals what loading its selector from the GDT in memory gives. */
function assertSegmentsMatchGdt(cpu: Cpu, mem: PhysicalMemory): void {
  for (const s of [Seg.ES, Seg.CS, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) {
    const sel = cpu.segSel[s];
    assert.ok((sel & 0xfff8) + 7 <= cpu.gdtrLimit, `selector ${sel} within the GDT limit`);
    const a = cpu.gdtrBaseLo + (sel & 0xfff8);
    const d = decodeDescriptor(u32(mem, a), u32(mem, a + 4));
    assert.equal(cpu.segBaseLo[s] >>> 0, d.base, `seg ${s} base`);
    assert.equal(cpu.segLimit[s], d.limit, `seg ${s} limit`);
    assert.equal(cpu.segAttr[s], d.attr, `seg ${s} attr`);
    assert.ok(d.present);
  }
}

function throwsLoad(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof LoadError && re.test(e.message), `expected LoadError matching ${re}`);
}

// ---- detection --------------------------------------------------------------------------------
test('detectFormat: flat, ELF, Multiboot (ELF64 without the kludge is plain ELF)', () => {
  assert.equal(detectFormat(new Uint8Array([0xf4])), 'flat');
  assert.equal(detectFormat(buildElf({ bits: 64, entry: 0x1000, segments: [{ paddr: 0x1000, data: HLT }] })), 'elf');
  assert.equal(detectFormat(buildElf({ bits: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: HLT }], prefix: multibootHeader(0) })), 'multiboot');
  assert.equal(detectFormat(buildElf({ bits: 64, entry: 0x100000, segments: [{ paddr: 0x100000, data: HLT }], prefix: multibootHeader(0) })), 'elf');
  // A flat image with a header at a 4-byte aligned offset is multiboot; a bad checksum is not.
  const flat = new Uint8Array(64); flat.set(multibootHeader(0), 8);
  assert.equal(detectFormat(flat), 'multiboot');
  flat[16] ^= 1;
  assert.equal(detectFormat(flat), 'flat');
  const unaligned = new Uint8Array(64); unaligned.set(multibootHeader(0), 6);
  assert.equal(detectFormat(unaligned), 'flat');
  const far = new Uint8Array(9000); far.set(multibootHeader(0), 8192);
  assert.equal(detectFormat(far), 'flat', 'the header must lie within the first 8192 bytes');
});

// ---- flat ---------------------------------------------------------------------------------------
test('flat real mode: CS:IP = 0:entry, SP = 0x7c00, reset GDTR/IDTR, runs', () => {
  const { cpu, plan, mem } = boot(new Uint8Array([0xb8, 0x34, 0x12, ...HLT]), { format: 'flat', mode: 'real' });
  assert.equal(plan.mode, 'real');
  assert.equal(cpu.segSel[Seg.CS], 0);
  assert.equal(cpu.getRip(), 0x7c00n);
  assert.equal(cpu.getReg64(4), 0x7c00n);
  assert.equal(cpu.bitness, 16);
  assert.equal(cpu.protectedMode, false);
  assert.equal(cpu.cr0, 0x60000010);
  assert.equal(cpu.gdtrLimit, 0xffff);
  assert.equal(cpu.idtrLimit, 0x3ff);
  assert.equal(cpu.getRflags(), 2);
  assert.equal(mem.read8(0x7c00), 0xb8);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.getReg64(0), 0x1234n);
});

test('flat real mode above 64 KiB: CS = entry >> 4', () => {
  const { cpu } = boot(new Uint8Array(HLT), { format: 'flat', mode: 'real', loadAddress: 0x12345 });
  assert.equal(cpu.segSel[Seg.CS], 0x1234);
  assert.equal(cpu.segBaseLo[Seg.CS], 0x12340);
  assert.equal(cpu.getRip(), 5n);
});

test('flat protected mode: GDT in memory matches the segment caches, ESP = top of RAM', () => {
  const { cpu, mem, plan } = boot(new Uint8Array([0xb8, 0x78, 0x56, 0x34, 0x12, ...HLT]), { format: 'flat', mode: 'protected' });
  assert.equal(plan.gdt!.base, 0x80000);
  assert.equal(cpu.gdtrBaseLo, 0x80000);
  assert.equal(cpu.gdtrLimit, 23);
  assert.equal(u64(mem, 0x80008), 0x00cf9b000000ffff);
  assert.equal(u64(mem, 0x80010), 0x00cf93000000ffff);
  assert.equal(cpu.segSel[Seg.CS], 0x08);
  assert.equal(cpu.segSel[Seg.SS], 0x10);
  assert.equal(cpu.bitness, 32);
  assert.equal(cpu.stackBits, 32);
  assert.equal(cpu.getRip(), 0x1000n);
  assert.equal(cpu.getReg64(4), BigInt(16 * MiB));
  assert.equal(cpu.cr0 & 0x80000001, 1);
  assertSegmentsMatchGdt(cpu, mem);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.getReg64(0), 0x12345678n);
});

test('flat long mode: identity page tables, GDT with 64-bit code, runs', () => {
  const code = [0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, ...HLT]; // mov rax, imm64
  const { cpu, mem, plan } = boot(new Uint8Array(code), { format: 'flat', mode: 'long' });
  assert.equal(plan.cr3, 0x81000);
  assert.equal(cpu.cr3Lo, 0x81000);
  assert.equal(u64(mem, 0x81000), 0x82000 | 3, 'PML4[0] -> PDPT');
  for (let j = 0; j < 4; j++) assert.equal(u64(mem, 0x82000 + 8 * j), (0x83000 + 0x1000 * j) | 3, `PDPT[${j}]`);
  assert.equal(u64(mem, 0x82000 + 32), 0, 'PDPT[4] not present');
  assert.equal(u64(mem, 0x83000), 0x83, 'PD[0] maps 0 with PS');
  assert.equal(u64(mem, 0x83000 + 8), 0x200083);
  assert.equal(u64(mem, 0x86000 + 8 * 511), 0xffe00083, 'the last 2 MiB below 4 GiB');
  assert.equal(cpu.bitness, 64);
  assert.equal(cpu.longMode, true);
  assert.equal(cpu.cr0 >>> 31, 1);
  assert.equal(cpu.cr4 & 0x20, 0x20);
  assert.equal(cpu.efer & 0x500, 0x500);
  assertSegmentsMatchGdt(cpu, mem);
  assert.equal(u64(mem, 0x80008), 0x00af9b000000ffff);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.getReg64(0), 0x0807060504030201n);
});

test('flat compat mode: CS = 0x18, 32-bit code in IA-32e mode', () => {
  const { cpu, mem } = boot(new Uint8Array(HLT), { format: 'flat', mode: 'compat' });
  assert.equal(cpu.segSel[Seg.CS], 0x18);
  assert.equal(cpu.bitness, 32);
  assert.equal(cpu.longMode, true);
  assertSegmentsMatchGdt(cpu, mem);
});

test('flat: the boot area moves above an image that covers 0x80000', () => {
  const { plan } = boot(new Uint8Array(0x90000), { format: 'flat', mode: 'long', loadAddress: 0x1000 });
  assert.equal(plan.gdt!.base, 0x91000);
  assert.equal(plan.cr3, 0x92000);
});

test('flat: bad placements are named', () => {
  throwsLoad(() => boot(new Uint8Array(16), { format: 'flat', mode: 'long', loadAddress: 16 * MiB - 8 }), /outside guest RAM/);
  throwsLoad(() => boot(new Uint8Array(16), { format: 'flat', mode: 'real', entry: 0x200000 }), /1 MiB/);
  throwsLoad(() => boot(new Uint8Array(16), { format: 'flat', mode: 'long', entry: 32 * MiB }), /entry point 0x2000000 is outside guest RAM/);
});

// ---- ELF ----------------------------------------------------------------------------------------
test('ELF32: PT_LOAD at p_paddr with zero fill, protected mode at the entry, symbols kept', () => {
  const elf = buildElf({
    bits: 32, entry: 0x200000,
    segments: [
      { paddr: 0x200000, vaddr: 0x200000, data: [0xb8, 0x11, 0, 0, 0, ...HLT] },
      { paddr: 0x300000, vaddr: 0xc0300000, data: [1, 2, 3], memsz: 0x2000 },
    ],
    symbols: [{ name: 'start', value: 0x200000, size: 6 }, { name: 'data', value: 0xc0300000, size: 3, info: 0x11 }],
  });
  const mem0 = new PhysicalMemory(16 * MiB);
  mem0.load(0x300000, new Uint8Array(0x2000).fill(0xee)); // zero fill must overwrite
  const plan = loadImage(mem0, elf, { format: 'auto' });
  const cpu = new Cpu(mem0);
  applyBootPlan(cpu, plan);
  assert.equal(plan.format, 'elf');
  assert.equal(plan.mode, 'protected');
  assert.deepEqual([...mem0.readBytes(0x300000, 5)], [1, 2, 3, 0, 0]);
  assert.equal(mem0.read8(0x301fff), 0);
  assert.equal(mem0.read8(0x302000), 0, 'untouched RAM beyond p_memsz');
  assert.deepEqual(plan.symbols, [{ name: 'start', address: 0x200000, size: 6 }, { name: 'data', address: 0xc0300000, size: 3 }]);
  assert.equal(cpu.getRip(), 0x200000n);
  assert.equal(cpu.bitness, 32);
  assert.equal(cpu.cr0 & 0x80000001, 1);
  assertSegmentsMatchGdt(cpu, mem0);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.getReg64(0), 0x11n);
});

test('ELF64 convenience boot: long mode, identity map, RSP at the top of the boot area', () => {
  const code = [0x48, 0x89, 0xe0, ...HLT]; // mov rax, rsp
  const elf = buildElf({ bits: 64, entry: 0x400000, segments: [{ paddr: 0x400000, data: code }], symbols: [{ name: '_start', value: 0x400000, size: 4 }] });
  const { cpu, mem, plan } = boot(elf, { format: 'auto' });
  assert.equal(plan.mode, 'long');
  assert.equal(plan.cr3, 0x81000);
  assert.equal(cpu.bitness, 64);
  const top = 0x80000 + 0x1000 + 6 * 0x1000 + 0x4000;
  assert.equal(cpu.getReg64(4), BigInt(top));
  assert.deepEqual(plan.symbols, [{ name: '_start', address: 0x400000, size: 4 }]);
  assertSegmentsMatchGdt(cpu, mem);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.getReg64(0), BigInt(top));
});

test('ELF: large RAM gets more page directories (one per GiB)', () => {
  const elf = buildElf({ bits: 64, entry: 0x1000, segments: [{ paddr: 0x1000, data: HLT }] });
  const { mem, plan } = boot(elf, { format: 'elf' }, 6 * 1024 * MiB);
  assert.equal(u64(mem, plan.cr3! + 0x1000 + 8 * 5), (plan.cr3! + 0x2000 + 5 * 0x1000) | 3);
  assert.equal(u64(mem, plan.cr3! + 0x2000 + 5 * 0x1000 + 8 * 511), 6 * 1024 * MiB - 0x200000 + 0x83);
});

test('ELF: every bad file is named', () => {
  const good = () => buildElf({ bits: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: HLT }] });
  const mem = () => new PhysicalMemory(16 * MiB);
  const load = (b: Uint8Array) => loadImage(mem(), b, { format: 'elf' });
  throwsLoad(() => load(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1])), /truncated ELF header: the file has 5 bytes/);
  throwsLoad(() => load(good().subarray(0, 40)), /truncated ELF32 header: the file has 40 bytes, the header needs 52/);
  const g64 = buildElf({ bits: 64, entry: 0x1000, segments: [{ paddr: 0x1000, data: HLT }] });
  throwsLoad(() => load(g64.subarray(0, 60)), /truncated ELF64 header/);
  throwsLoad(() => load(new Uint8Array([1, 2, 3, 4])), /not an ELF file/);
  let b = good(); b[4] = 3; throwsLoad(() => load(b), /unsupported ELF class 3/);
  b = good(); b[5] = 2; throwsLoad(() => load(b), /big-endian/);
  b = good(); b[6] = 0; throwsLoad(() => load(b), /EI_VERSION/);
  throwsLoad(() => load(buildElf({ bits: 32, type: 1, entry: 0, segments: [{ paddr: 0x100000, data: HLT }] })), /ET_REL.*must be ET_EXEC/);
  throwsLoad(() => load(buildElf({ bits: 32, type: 3, entry: 0, segments: [{ paddr: 0x100000, data: HLT }] })), /ET_DYN/);
  throwsLoad(() => load(buildElf({ bits: 32, machine: 62, entry: 0, segments: [{ paddr: 0x100000, data: HLT }] })), /ELF32 machine EM_X86_64 is not supported: e_machine must be EM_386/);
  throwsLoad(() => load(buildElf({ bits: 64, machine: 3, entry: 0, segments: [{ paddr: 0x100000, data: HLT }] })), /ELF64 machine EM_386.*EM_X86_64/);
  throwsLoad(() => load(buildElf({ bits: 64, machine: 40, entry: 0, segments: [{ paddr: 0x100000, data: HLT }] })), /machine 40/);
  b = good(); b.set([0xff, 0xff], 44); throwsLoad(() => load(b), /program header table .* extends beyond the end of the file/);
  b = good(); b.set([0, 0], 44); throwsLoad(() => load(b), /no program headers/);
  throwsLoad(() => load(buildElf({ bits: 32, entry: 0, segments: [{ paddr: 0x100000, data: HLT, filesz: 4096 }] })), /segment 0 \(PT_LOAD, 4096 bytes at file offset 0x[0-9a-f]+\) extends beyond the end of the file/);
  throwsLoad(() => load(buildElf({ bits: 32, entry: 0, segments: [{ paddr: 0x100000, data: [1, 2], memsz: 1 }] })), /p_filesz 0x2 larger than p_memsz 0x1/);
  throwsLoad(() => load(buildElf({ bits: 32, entry: 0, segments: [{ paddr: 0x100000, data: HLT, type: 4 }] })), /no PT_LOAD segment/);
  throwsLoad(() => load(buildElf({ bits: 32, entry: 0, segments: [{ paddr: 0xfff000, data: HLT, memsz: 0x2000 }] })), /segment 0 \(PT_LOAD\) \(0xfff000-0x1000fff\) is outside guest RAM \(0x1000000 bytes\)/);
  throwsLoad(() => load(buildElf({ bits: 32, entry: 0, segments: [{ paddr: 0x100000, data: HLT, memsz: 0x1000 }, { paddr: 0x100800, data: HLT }] })), /segments 0 \(0x100000-0x100fff\) and 1 \(0x100800-0x100800\) overlap at physical 0x100800/);
  const withSyms = buildElf({ bits: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: HLT }], symbols: [{ name: 'x', value: 1, size: 0 }] });
  const cut = withSyms.subarray(0, withSyms.length - 10);
  throwsLoad(() => load(cut), /section header table .* extends beyond the end of the file/);
  throwsLoad(() => load(buildElf({ bits: 32, entry: 0x2000000, segments: [{ paddr: 0x100000, data: HLT }] })), /entry point 0x2000000 is outside guest RAM/);
  // A device page in the way.
  const m = mem();
  m.addMmio({ start: 0x100000, end: 0x101000, name: 'test-device', read: () => 0, write: () => {} });
  throwsLoad(() => loadImage(m, good(), { format: 'elf' }), /overlaps the test-device device region/);
  // The file name prefixes the message.
  throwsLoad(() => loadImage(mem(), new Uint8Array([0x7f, 0x45, 0x4c, 0x46]), { format: 'elf', name: 'k.elf' }), /^k\.elf: truncated ELF header/);
});

// ---- Multiboot ----------------------------------------------------------------------------------
function mbElf(cmdFlags = 0x3) {
  return buildElf({
    bits: 32, entry: 0x100010,
    segments: [{ paddr: 0x100000, data: [...multibootHeader(cmdFlags), 0, 0, 0, 0, ...HLT], memsz: 0x3000 }],
    symbols: [{ name: 'kmain', value: 0x100010, size: 1 }],
  });
}

test('Multiboot ELF32: §3.2 machine state, EAX magic, EBX info', () => {
  const { cpu, mem, plan } = boot(mbElf(), { format: 'auto', cmdline: 'console=ttyS0 quiet' }, 64 * MiB);
  assert.equal(plan.format, 'multiboot');
  assert.equal(cpu.getReg64(0), BigInt(MULTIBOOT_BOOTLOADER_MAGIC));
  assert.equal(cpu.getReg64(3), BigInt(plan.multibootInfo!));
  assert.equal(cpu.getRip(), 0x100010n);
  assert.equal(cpu.cr0 & 1, 1, 'CR0.PE');
  assert.equal(cpu.cr0 >>> 31, 0, 'CR0.PG');
  assert.equal(cpu.getRflags() & (1 << 17), 0, 'EFLAGS.VM');
  assert.equal(cpu.getRflags() & (1 << 9), 0, 'EFLAGS.IF');
  assert.equal(cpu.efer, 0);
  assert.equal(cpu.cpl, 0);
  for (const s of [Seg.ES, Seg.CS, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) {
    assert.equal(cpu.segBaseLo[s], 0);
    assert.equal(cpu.segLimit[s], 0xffffffff);
    assert.equal(cpu.segAttr[s] & 0x4000, 0x4000, '32-bit (D/B)');
  }
  assert.equal(cpu.segAttr[Seg.CS] & 0xf, 0xb, 'CS execute/read');
  assert.equal(cpu.segAttr[Seg.DS] & 0xf, 0x3, 'DS read/write');
  assert.equal(cpu.bitness, 32);
  assertSegmentsMatchGdt(cpu, mem);
  assert.deepEqual(plan.symbols, [{ name: 'kmain', address: 0x100010, size: 1 }]);
  assert.equal(mem.read8(0x102fff), 0, 'bss zeroed');
  assert.equal(cpu.run(100).reason, 'hlt');
});

test('Multiboot information structure: flags, memory, memory map, command line, loader name', () => {
  const { mem, plan } = boot(mbElf(), { format: 'multiboot', cmdline: 'console=ttyS0 quiet' }, 64 * MiB);
  const i = plan.multibootInfo!;
  assert.equal(i, 0x80100);
  assert.equal(u32(mem, i), (1 << 0) | (1 << 2) | (1 << 6) | (1 << 9), 'flags: mem, cmdline, mmap, boot_loader_name');
  assert.equal(u32(mem, i + 4), 640, 'mem_lower KiB');
  assert.equal(u32(mem, i + 8), 63 * 1024, 'mem_upper KiB (from 1 MiB)');
  const cstr = (a: number) => { let s = ''; for (let k = a; mem.read8(k) !== 0; k++) s += String.fromCharCode(mem.read8(k)); return s; };
  assert.equal(cstr(u32(mem, i + 16)), 'console=ttyS0 quiet');
  assert.equal(cstr(u32(mem, i + 64)), 'vtx');
  const len = u32(mem, i + 44), addr = u32(mem, i + 48);
  assert.equal(len, 4 * 24);
  const entries = [];
  for (let a = addr; a < addr + len; a += u32(mem, a) + 4) {
    entries.push({ size: u32(mem, a), base: u64(mem, a + 4), length: u64(mem, a + 12), type: u32(mem, a + 20) });
  }
  assert.deepEqual(entries, [
    { size: 20, base: 0, length: 0xa0000, type: 1 },
    { size: 20, base: 0xa0000, length: 0x60000, type: 2 },
    { size: 20, base: 0x100000, length: 63 * MiB, type: 1 },
    { size: 20, base: 0xfec00000, length: 0x1400000, type: 2 },
  ]);
  // Fields vtx does not provide are zero.
  for (const off of [12, 20, 24, 28, 52, 56, 60, 68]) assert.equal(u32(mem, i + off), 0, `offset ${off}`);
});

test('Multiboot a.out kludge (flag 16): load_addr..load_end_addr from the file, bss zeroed, entry_addr', () => {
  // Header at file offset 0 describes: header_addr 0x200000 = load_addr, load to end of file, bss to +0x1000.
  const code = [0xb8, 0x22, 0, 0, 0, ...HLT];
  const img = new Uint8Array([...multibootHeader(0x10003, [0x200000, 0x200000, 0, 0x201000, 0x200030]), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...code]);
  assert.equal(detectFormat(img), 'multiboot');
  const m = new PhysicalMemory(16 * MiB);
  m.load(0x200000, new Uint8Array(0x1000).fill(0xcc));
  const plan = loadImage(m, img, { format: 'auto' });
  const cpu = new Cpu(m);
  applyBootPlan(cpu, plan);
  assert.equal(cpu.getRip(), 0x200030n);
  assert.deepEqual([...m.readBytes(0x200030, 6)], code);
  assert.equal(m.read8(0x200036), 0, 'bss zeroed');
  assert.equal(m.read8(0x200fff), 0);
  assert.equal(cpu.getReg64(0), 0x2badb002n);
  assert.equal(cpu.run(100).reason, 'hlt');
  assert.equal(cpu.getReg64(0), 0x22n);
  // header_addr above load_addr: the load starts before the header in the file.
  const pre = new Uint8Array([0x90, 0x90, 0x90, 0x90, ...multibootHeader(0x10000, [0x300004, 0x300000, 0x300040, 0, 0x300000]), ...new Uint8Array(32)]);
  const m2 = new PhysicalMemory(16 * MiB);
  loadImage(m2, pre, { format: 'multiboot' });
  assert.deepEqual([...m2.readBytes(0x300000, 5)], [0x90, 0x90, 0x90, 0x90, 0x02]);
});

test('Multiboot: every bad header is named', () => {
  const mem = () => new PhysicalMemory(16 * MiB);
  const load = (b: Uint8Array | number[]) => loadImage(mem(), Uint8Array.from(b), { format: 'multiboot' });
  throwsLoad(() => load(new Uint8Array(100)), /no Multiboot header/);
  throwsLoad(() => load(multibootHeader(0x4)), /requires features vtx does not provide: flags 0x4 \(bit 2: video mode/);
  throwsLoad(() => load(multibootHeader(0x100)), /flags 0x100/);
  throwsLoad(() => load([...multibootHeader(0x10000), 0, 0]), /truncated Multiboot header at offset 0x0/);
  throwsLoad(() => load(multibootHeader(0x10000, [0x100000, 0x100010, 0, 0, 0x100000])), /header_addr 0x100000 is below load_addr 0x100010/);
  throwsLoad(() => load(multibootHeader(0x10000, [0x100010, 0x100000, 0, 0, 0x100000])), /load_addr 0x100000 lies before the start of the file/);
  throwsLoad(() => load(multibootHeader(0x10000, [0x100000, 0x100000, 0x100100, 0, 0x100000])), /load range 0x100000-0x100100 extends beyond the end of the file/);
  throwsLoad(() => load(multibootHeader(0x10000, [0x100000, 0x100000, 0x100020, 0x100010, 0x100000])), /bss_end_addr 0x100010 is below load_end_addr 0x100020/);
  throwsLoad(() => load(multibootHeader(0x10000, [0xfff000, 0xfff000, 0, 0x1001000, 0xfff000])), /Multiboot kernel image \(0xfff000-0x1000fff\) is outside guest RAM/);
  throwsLoad(() => load(multibootHeader(0x10000, [0x100000, 0x100000, 0, 0, 0x2000000])), /entry point .*outside guest RAM/);
  throwsLoad(() => load(multibootHeader(0)), /not ELF and its header does not set flag 16/);
  throwsLoad(() => load(buildElf({ bits: 64, entry: 0x100000, segments: [{ paddr: 0x100000, data: HLT }], prefix: multibootHeader(0) })), /cannot boot an ELF64 kernel without the a\.out kludge/);
  throwsLoad(() => loadImage(mem(), mbElf(), { format: 'multiboot', cmdline: 'x'.repeat(4000) }), /command line is 4000 bytes/);
});

test('Multiboot ELF32 higher-half kernel: the entry point is translated to its physical address', () => {
  const elf = buildElf({
    bits: 32, entry: 0xc0100010,
    segments: [{ paddr: 0x100000, vaddr: 0xc0100000, data: [...multibootHeader(0), 0, 0, 0, 0, ...HLT] }],
  });
  const { cpu, plan } = boot(elf, { format: 'auto' });
  assert.equal(plan.entry, 0x100010);
  assert.equal(cpu.getRip(), 0x100010n);
});

test('loader options: entry and stack overrides', () => {
  const elf = buildElf({ bits: 64, entry: 0x400000, segments: [{ paddr: 0x400000, data: [0x90, ...HLT] }] });
  const { cpu } = boot(elf, { format: 'elf', entry: 0x400001, stack: 0x9000 });
  assert.equal(cpu.getRip(), 0x400001n);
  assert.equal(cpu.getReg64(4), 0x9000n);
  const mb = boot(mbElf(), { format: 'multiboot', stack: 0x7000 });
  assert.equal(mb.cpu.getReg64(4), 0x7000n);
});

test('Multiboot memory sizes and map for small and large RAM', () => {
  assert.deepEqual(memoryMap(512 * 1024), [
    { base: 0, length: 512 * 1024, type: 1 },
    { base: 0xa0000, length: 0x60000, type: 2 },
    { base: 0xfec00000, length: 0x1400000, type: 2 },
  ]);
  assert.deepEqual(memoryMap(6 * 1024 * MiB).map((e) => e.type), [1, 2, 1]);
  assert.equal(memoryMap(6 * 1024 * MiB)[2].length, 6 * 1024 * MiB - MiB);
  // 5 GiB: mem_upper stops at 4 GiB (a 32-bit field of KiB above 1 MiB).
  const { mem, plan } = boot(mbElf(), { format: 'multiboot', name: 'kernel.elf' }, 5 * 1024 * MiB);
  assert.equal(u32(mem, plan.multibootInfo! + 8), (4 * 1024 - 1) * 1024);
  let s = '';
  for (let a = u32(mem, plan.multibootInfo! + 16); mem.read8(a) !== 0; a++) s += String.fromCharCode(mem.read8(a));
  assert.equal(s, 'kernel.elf', 'the file name is the default command line');
});
