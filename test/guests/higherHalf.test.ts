/**
 * A higher-half ELF64 kernel (test/guests/higher-half/kernel.c: gcc -mcmodel=kernel, linked at
 * 0xffffffff80400000, loaded at physical 0x400000, entry `_start` at physical 0x200000) through
 * the 64-bit ELF boot: its upper-half virtual addresses (p_vaddr, st_value) are read exactly (as
 * signed numbers, src/vmm/loaders/elf.ts), it maps the upper half itself and runs to its
 * power-off, on the bare machine and under the built-in hypervisor. An upper-half entry point
 * cannot run under the boot's identity map: a LoadError that says so.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runImage, runImageHv } from './harness';
import { loadImage } from '../../src/vmm/loaders';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { buildHigherHalfKernel, HH_TOOLS, nmExact } from '../debugger/higherHalfKernel';

const built = HH_TOOLS ? buildHigherHalfKernel() : undefined;
after(() => built?.dispose());

test('a higher-half kernel boots through the 64-bit ELF boot and runs in the upper half', { skip: !HH_TOOLS && 'needs gcc and binutils' }, () => {
  const { bytes, path } = built!;
  const r = runImage(bytes, { format: 'elf' });
  assert.equal(r.serial, 'higher half\nsum ok\n');
  assert.equal(r.result.reason, 'exit');
  assert.equal(r.plan.entry, 0x200000);
  const nm = nmExact(path);
  const kmain = r.plan.symbols.find((s) => s.name === 'kmain')!;
  assert.equal(kmain.address, nm.get('kmain'));
  assert.equal(BigInt.asUintN(64, BigInt(kmain.address)) >> 24n, 0xffffffff80n);
  const hv = runImageHv(bytes, { format: 'elf' });
  assert.equal(hv.serial, 'higher half\nsum ok\n');
});

test('an upper-half entry point: the identity-mapping boot cannot start it, and says so', { skip: !HH_TOOLS && 'needs gcc and binutils' }, () => {
  const b = Uint8Array.from(built!.bytes);
  new DataView(b.buffer).setBigUint64(24, 0xffffffff80400000n, true);
  assert.throws(() => loadImage(new PhysicalMemory(64 << 20), b, { format: 'elf' }), /ELF entry point 0xffffffff80400000 is outside guest RAM.*identity-maps/);
});
