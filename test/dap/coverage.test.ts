import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { client } from './dapHarness';
import { BASE_REQUESTS, CUSTOM_REQUESTS, REQUESTS_OF_CAPABILITY } from '../../src/debugger/adapter/capabilities';

// Every request the adapter declares (through its capabilities, the base protocol and vtx's
// custom requests) is sent by at least one DAP test: `<name>Request(` with DebugClient's helper,
// or `customRequest('<name>'` for the requests DebugClient has no helper for.

const sources = readdirSync(__dirname).filter((f) => (f.endsWith('.test.ts') && f !== 'coverage.test.ts') || f === 'dapHarness.ts')
  .map((f) => readFileSync(join(__dirname, f), 'utf8')).join('\n');

function exercised(request: string): boolean {
  const helper = request === 'setBreakpoints' ? 'setBreakpointsRequest(' : `${request}Request(`;
  return sources.includes(helper) || sources.includes(`customRequest('${request}'`) || sources.includes(`['${request}'`);
}

test('every capability the adapter declares maps to its requests, and each of them is exercised by a test', async () => {
  const dc = await client();
  try {
    const caps = (await dc.initializeRequest()).body! as Record<string, unknown>;
    const declared = Object.entries(caps).filter(([k, v]) => k.startsWith('supports') && v === true).map(([k]) => k);
    if (Array.isArray(caps.exceptionBreakpointFilters) && caps.exceptionBreakpointFilters.length > 0) declared.push('exceptionBreakpointFilters');
    const requests = new Set<string>([...BASE_REQUESTS, ...CUSTOM_REQUESTS]);
    for (const c of declared) {
      const r = REQUESTS_OF_CAPABILITY[c];
      assert.ok(r !== undefined, `capability ${c} is declared but has no entry in REQUESTS_OF_CAPABILITY`);
      for (const x of r) requests.add(x);
    }
    const missing = [...requests].filter((r) => !exercised(r));
    assert.deepEqual(missing, [], `requests the adapter declares but no test sends: ${missing.join(', ')}`);
    // Honest: what the adapter cannot do is not declared.
    assert.notEqual(caps.supportsStepBack, true);
  } finally {
    await dc.stop();
  }
});
