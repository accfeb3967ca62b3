/**
 * The test guests (test/guests/*.asm, kernel.c) booted through the vtx loaders on the Machine.
 * Each guest checks its own results and reports on COM1; here the whole serial output and the
 * way the guest ended (ACPI power-off, or isa-debug-exit for the C kernel) must be exactly as
 * expected. A guest that needs something the processor model does not implement yet is skipped
 * with the missing instruction named (never faked); any other difference fails.
 * The C kernel's output must also equal QEMU's byte for byte when qemu-system-x86_64 exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GUESTS, KERNEL_EXIT, kernelExpected } from './cases';
import { type KernelVariant, assemble, assembleElf64, assembleFile, buildKernel, describeStop, guestSkip, hasTool, missingFeature, runImage, runQemu } from './harness';

const NASM = hasTool('nasm', ['-v']);
const GCC = hasTool('gcc');
const QEMU = hasTool('qemu-system-x86_64');


for (const g of GUESTS) {
  test(`guest ${g.name}`, (t) => {
    if (!NASM) { t.skip('nasm is not installed'); return; }
    if (g.build === 'elf64' && !hasTool('ld', ['--version'])) { t.skip('ld is not installed'); return; }
    const image = g.build === 'elf64' ? assembleElf64(g.source).bytes : assemble(g.source);
    const run = runImage(image, g.options);
    const reported = guestSkip(run.serial);
    const missing = missingFeature(run.result) ?? (reported !== null && run.result.reason === 'exit' ? `the guest reports: ${reported}` : null);
    if (missing !== null) {
      const why = `needs a processor feature not implemented yet: ${missing}`;
      console.log(`# skip ${g.source}: ${why}`);
      t.skip(why);
      return;
    }
    assert.equal(run.serial, g.expected, describeStop(run));
    assert.equal(run.result.reason, 'exit', describeStop(run));
    assert.equal(run.result.exitCode, g.exitCode, describeStop(run));
  });
}



const kernels = new Map<KernelVariant, { path: string; bytes: Uint8Array }>();
function getKernel(v: KernelVariant): { path: string; bytes: Uint8Array } {
  let k = kernels.get(v);
  if (k === undefined) {
    k = buildKernel(v);
    kernels.set(v, k);
  }
  return k;
}

/** Skip reason when the run shows a missing processor feature (model or CPUID), else null. */
function skipReason(run: ReturnType<typeof runImage>): string | null {
  const missing = missingFeature(run.result);
  if (missing !== null) return `needs a processor feature not implemented yet: ${missing}`;
  const reported = guestSkip(run.serial);
  if (reported !== null && run.result.reason === 'exit') return `needs a processor feature not implemented yet: the kernel reports: ${reported}`;
  return null;
}

for (const variant of ['x87', 'sse'] as KernelVariant[]) {
  test(`guest kernel.c (${variant}): freestanding C kernel booted through Multiboot`, (t) => {
    if (!GCC) { t.skip('gcc is not installed'); return; }
    const k = getKernel(variant);
    const run = runImage(k.bytes, { format: 'auto', cmdline: 'kernel.elf token=vtx42' });
    assert.equal(run.plan.format, 'multiboot');
    const why = skipReason(run);
    if (why !== null) {
      console.log(`# skip kernel.c (${variant}): ${why}`);
      t.skip(why);
      return;
    }
    assert.equal(run.serial, kernelExpected(variant), describeStop(run));
    assert.equal(run.result.reason, 'exit', describeStop(run));
    assert.equal(run.result.exitCode, KERNEL_EXIT, describeStop(run));
  });

  test(`guest kernel.c (${variant}): serial output under vtx equals QEMU TCG byte for byte`, (t) => {
    if (!GCC) { t.skip('gcc is not installed'); return; }
    if (!QEMU) {
      console.log('# skip QEMU comparison: qemu-system-x86_64 is not installed');
      t.skip('qemu-system-x86_64 is not installed');
      return;
    }
    const k = getKernel(variant);
    const q = runQemu(k.path, 'token=vtx42');
    assert.equal(q.status, KERNEL_EXIT, `QEMU exit status ${q.status}; output:\n${q.serial}`);
    assert.equal(q.serial, kernelExpected(variant), 'QEMU output (the expectation itself)');
    // QEMU passes "<kernel file> <append>" as the Multiboot command line; so does this run.
    const run = runImage(k.bytes, { format: 'auto', cmdline: `${k.path} token=vtx42` });
    const why = skipReason(run);
    if (why !== null) {
      console.log(`# skip QEMU comparison (${variant}): vtx ${why}`);
      t.skip(`vtx ${why}`);
      return;
    }
    assert.equal(run.serial, q.serial, describeStop(run));
    assert.equal(run.result.exitCode, q.status, describeStop(run));
  });
}

test('guest multiboot-aout.asm: serial output under vtx equals QEMU TCG byte for byte', (t) => {
  if (!NASM) { t.skip('nasm is not installed'); return; }
  if (!QEMU) {
    console.log('# skip QEMU comparison: qemu-system-x86_64 is not installed');
    t.skip('qemu-system-x86_64 is not installed');
    return;
  }
  const k = assembleFile('multiboot-aout.asm');
  const q = runQemu(k.path, 'token=mb1');
  assert.equal(q.status, (0x21 << 1) | 1, `QEMU exit status ${q.status}; output:\n${q.serial}`);
  const run = runImage(k.bytes, { format: 'auto', cmdline: `${k.path} token=mb1` });
  const missing = missingFeature(run.result);
  if (missing !== null) {
    const why = `vtx cannot run the kernel yet: ${missing}`;
    console.log(`# skip QEMU comparison: ${why}`);
    t.skip(why);
    return;
  }
  assert.equal(run.serial, q.serial, describeStop(run));
  assert.equal(run.result.exitCode, q.status, describeStop(run));
});
