/**
 * The guest is untrusted (DESIGN.md): whatever a guest hypervisor puts in its VMCS and its EPT,
 * running it in bare VT-x mode ends in an architectural outcome (VMfail, a VM exit, an entry
 * failure, an exception report, a VMX abort's shutdown, the instruction limit) — never an error
 * thrown out of the engine or the processor. test/guests/byoh.asm is run up to its VMLAUNCH,
 * then random VMCS fields and EPT entries are overwritten (edge values), and the run goes on.
 * Deterministic: a fixed-seed generator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../src/language/asm/assembler';
import { prepareGuest } from '../../src/cli/runGuest';
import { VMCS_FIELDS } from '../../src/vmx/fields';
import { xorshift32 as rng } from '../conformance/rng';

const SOURCE = join(new URL('..', import.meta.url).pathname, 'guests', 'byoh.asm');
const IMAGE = (() => {
  const r = assemble(readFileSync(SOURCE, 'utf8'), { file: SOURCE });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.bytes;
})();

const WRITABLE = VMCS_FIELDS.filter((f) => f.supported && !f.readOnly);
const EDGES = [0, 1, 2, 0xffffffff, 0x80000000, 0x7fffffff, 0x1000, 0x10000, 0x14000, 0x18000, 0xffff, 0x8b, 0xa09b, 0xc093];
const EPT_TABLES = [0x18000, 0x19000, 0x1a000];

test('byoh.asm with random VMCS fields and EPT entries before VMLAUNCH: always an architectural outcome', (t) => {
  const next = rng(0x10c0ffee);
  const outcomes = new Map<string, number>();
  for (let n = 0; n < 120; n++) {
    const g = prepareGuest(IMAGE, { hypervisor: 'none', format: 'flat', mode: 'long', loadAddress: 0x1000 });
    const { cpu, machine } = g;
    const engine = machine.vmx!;
    // Up to the hypervisor's VMLAUNCH (0F 01 C2) with its VMCS current and filled.
    let steps = 0;
    for (; steps < 20_000; steps++) {
      const p = cpu.translate(cpu.ripLo, cpu.ripHi, 0);
      if (engine.current !== null && cpu.mem.read8(p) === 0x0f && cpu.mem.read8(p + 1) === 0x01 && cpu.mem.read8(p + 2) === 0xc2) break;
      const r = cpu.step();
      assert.ok(r.reason === 'limit', `setup stopped: ${r.reason}`);
    }
    assert.ok(steps < 20_000, 'reached VMLAUNCH');
    const changes = 1 + (next() % 3);
    for (let k = 0; k < changes; k++) {
      if (next() % 4 === 0) {
        const table = EPT_TABLES[next() % EPT_TABLES.length];
        const at = table + (next() % 8) * 8;
        const lo = EDGES[next() % EDGES.length] ^ (next() % 8 === 0 ? next() : 0);
        for (let i = 0; i < 4; i++) cpu.mem.write8(at + i, (lo >>> (8 * i)) & 0xff);
        cpu.mem.write8(at + 4 + (next() % 4), next() & 0xff);
      } else {
        const f = WRITABLE[next() % WRITABLE.length];
        const lo = next() % 3 === 0 ? next() : EDGES[next() % EDGES.length];
        const hi = next() % 4 === 0 ? next() : 0;
        assert.equal(engine.vmwrite(f.encoding, lo, hi).status, 'succeed');
      }
    }
    let reason: string;
    try {
      reason = machine.run(cpu.icount + 200_000).reason;
    } catch (e) {
      assert.fail(`case ${n}: ${(e as Error).stack}`);
    }
    outcomes.set(reason, (outcomes.get(reason) ?? 0) + 1);
  }
  t.diagnostic(`outcomes: ${JSON.stringify([...outcomes])}`);
  // Most mutations are caught by the entry checks and the hypervisor reports them, then powers off.
  assert.ok((outcomes.get('exit') ?? 0) > 0, JSON.stringify([...outcomes]));
});
