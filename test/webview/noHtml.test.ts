/**
 * Guest-controlled text (VMCS values, exit fields, addresses, device names) must never be parsed
 * as HTML in the panels: no source file of the webviews uses an HTML sink. (The browser tests
 * also feed markup through a report and check it stays text.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const DIR = new URL('../../src/webview', import.meta.url).pathname;
const SINKS = /\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\.srcdoc\b|setHTMLUnsafe|\beval\(|new Function\(/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('the webview sources use no HTML sink (text goes through textContent and properties)', () => {
  const all = files(DIR);
  assert.ok(all.length > 10);
  const bad = all.flatMap((f) => readFileSync(f, 'utf8').split('\n')
    .map((line, i) => [line, i] as const)
    .filter(([line]) => SINKS.test(line.replace(/\/\/.*$|^\s*\*.*$/, '')))
    .map(([line, i]) => `${f}:${i + 1}: ${line.trim()}`));
  assert.deepEqual(bad, []);
});
