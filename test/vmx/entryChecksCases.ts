/**
 * Table-driven runner for the VM-entry check tests: each case builds a passing fixture, checks
 * it through the cached entry points (so the cache has a "pass" to invalidate), applies one
 * change, and asserts the exact result both through the cached entry points and uncached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fixture, GuestKind, makeFixture } from './entryChecksFixture';

export interface Case {
  name: string;
  kind?: GuestKind;
  opts?: { basic56?: boolean; misc30?: boolean };
  /** Runs before the baseline pass (caps overrides, processor mode). */
  setup?: (fx: Fixture) => void;
  change: (fx: Fixture) => void;
  expect: { error: number; check: string } | { qualification: number; check: string } | null;
}

export function runCases(group: string, cases: Case[]): void {
  for (const c of cases) {
    test(`${group}: ${c.name}`, () => {
      const fx = makeFixture(c.kind ?? '64', c.opts ?? {});
      c.setup?.(fx);
      assert.equal(fx.checkCached(), null, 'baseline must pass');
      c.change(fx);
      assert.deepEqual(fx.checkCached(), c.expect, 'cached entry points');
      assert.deepEqual(fx.check(), c.expect, 'uncached');
    });
  }
}
