import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFixture } from './entryChecksFixture';

for (const kind of ['64', '32pae', 'real'] as const) {
  test(`baseline ${kind} guest passes every check`, () => {
    const fx = makeFixture(kind);
    assert.equal(fx.check(), null);
    assert.equal(fx.checkCached(), null);
    assert.equal(fx.checkCached(), null);
  });
}

for (const kind of ['64', '32pae', 'real'] as const) {
  test(`baseline ${kind} guest passes with the engine's own capability MSRs`, () => {
    const fx = makeFixture(kind, { realCaps: true });
    assert.equal(fx.check(), null);
  });
}
