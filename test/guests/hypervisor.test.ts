/**
 * The platform issue's guests and C kernel under the built-in hypervisor (issue 5): they run
 * unchanged in VMX non-root operation with the same serial output as on the bare machine (and,
 * for the kernel, as under QEMU TCG). Power-off ends as SystemDown (the intercepted OUT to port
 * 0x604), isa-debug-exit as before; the exits each guest causes are listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GUESTS, KERNEL_EXIT, kernelExpected } from './cases';
import { assemble, assembleElf64, buildKernel, hasTool, runImageHv, runQemu, type HvGuestResult, type KernelVariant } from './harness';

const NASM = hasTool('nasm', ['-v']);
const GCC = hasTool('gcc');
const QEMU = hasTool('qemu-system-x86_64');

function describe(g: HvGuestResult): string {
  const r = g.result;
  return `stopped: ${r.reason}${r.detail !== undefined ? ` (${r.detail})` : ''}${r.exception !== undefined ? ` ${r.exception.name} at 0x${r.exception.rip.toString(16)} ${r.exception.text}: ${r.exception.detail}` : ''}` +
    `\nexits: ${JSON.stringify(g.vmm.vcpu.exitTable())}\nserial output:\n${g.serial}`;
}

for (const g of GUESTS) {
  test(`under the hypervisor: guest ${g.name}`, (t) => {
    if (!NASM) { t.skip('nasm is not installed'); return; }
    if (g.build === 'elf64' && !hasTool('ld', ['--version'])) { t.skip('ld is not installed'); return; }
    const image = g.build === 'elf64' ? assembleElf64(g.source).bytes : assemble(g.source);
    const run = runImageHv(image, g.options);
    assert.equal(run.serial, g.expected, describe(run));
    if (g.exitCode === 0) {
      assert.equal(run.result.reason, 'SystemDown', describe(run));
      assert.ok((run.vmm.vcpu.exitTable().IO_INSTRUCTION ?? 0) >= 1, 'the power-off OUT exited');
    } else {
      assert.equal(run.result.reason, 'exit', describe(run));
      assert.equal(run.result.exitCode, g.exitCode, describe(run));
    }
    t.diagnostic(`${g.source}: exits ${JSON.stringify(run.vmm.vcpu.exitTable())}`);
  });
}

const kernels = new Map<KernelVariant, { path: string; bytes: Uint8Array }>();
function kernel(v: KernelVariant): { path: string; bytes: Uint8Array } {
  let k = kernels.get(v);
  if (k === undefined) kernels.set(v, (k = buildKernel(v)));
  return k;
}

for (const variant of ['x87', 'sse'] as KernelVariant[]) {
  test(`under the hypervisor: kernel.c (${variant}) prints what QEMU prints and exits the same`, (t) => {
    if (!GCC) { t.skip('gcc is not installed'); return; }
    const k = kernel(variant);
    const run = runImageHv(k.bytes, { format: 'auto', cmdline: `${k.path} token=vtx42` });
    assert.equal(run.serial, kernelExpected(variant), describe(run));
    assert.equal(run.result.reason, 'exit', describe(run));
    assert.equal(run.result.exitCode, KERNEL_EXIT, describe(run));
    t.diagnostic(`kernel (${variant}): exits ${JSON.stringify(run.vmm.vcpu.exitTable())}`);
    if (!QEMU) { t.diagnostic('QEMU comparison skipped: qemu-system-x86_64 is not installed'); return; }
    const q = runQemu(k.path, 'token=vtx42');
    assert.equal(run.serial, q.serial);
    assert.equal(run.result.exitCode, q.status);
  });
}
