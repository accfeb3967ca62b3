/**
 * docs/vmx.md is generated from the engine's tables (scripts/gen-vmx-doc.ts): it must equal the
 * generator's output, so the document always says what the model reports and implements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOC_PATH, renderVmxDoc } from '../../scripts/gen-vmx-doc';
import { EXIT_REASONS } from '../../src/vmx/exitReasons';
import { CTL_TABLES } from '../../src/vmx/capabilities';
import { VM_INSTRUCTION_ERRORS } from '../../src/vmx/vmxInstructionsErrors';

test('docs/vmx.md equals the output of scripts/gen-vmx-doc.ts (run it after changing a table)', () => {
  assert.equal(readFileSync(DOC_PATH, 'utf8'), renderVmxDoc());
});

test('docs/vmx.md lists every control bit, every exit reason and the capability MSRs', () => {
  const doc = renderVmxDoc();
  for (const t of Object.values(CTL_TABLES)) for (const b of t) assert.ok(doc.includes(`| ${b.bit} | ${b.name} |`), b.name);
  for (const e of EXIT_REASONS) assert.ok(doc.includes(`| ${e.reason} | ${e.name} |`), e.name);
  for (const e of VM_INSTRUCTION_ERRORS) assert.ok(doc.includes(`| ${e.error} | ${e.description} |`), String(e.error));
  assert.ok(doc.includes('IA32_VMX_BASIC'));
  assert.ok(doc.includes('IA32_VMX_EPT_VPID_CAP'));
});
