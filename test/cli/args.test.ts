import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, parseChoice, parseNumber, parseSize, UsageError } from '../../src/cli/args';

const SPEC = { json: { type: 'boolean' }, entry: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

test('options: --name value, --name=value, booleans, short aliases and --', () => {
  const r = parseArgs(['a.bin', '--entry', '0x10', '--json', '-h', '--entry=7', '--', '--json'], SPEC);
  assert.deepEqual(r.positionals, ['a.bin', '--json']);
  assert.equal(r.values.entry, '7');
  assert.equal(r.values.json, true);
  assert.equal(r.values.help, true);
});

test('options: unknown, missing value and value on a flag are usage errors with plain messages', () => {
  assert.throws(() => parseArgs(['--foo'], SPEC), new UsageError('unknown option --foo'));
  assert.throws(() => parseArgs(['--foo=1'], SPEC), new UsageError('unknown option --foo'));
  assert.throws(() => parseArgs(['-x'], SPEC), new UsageError('unknown option -x'));
  assert.throws(() => parseArgs(['--entry'], SPEC), new UsageError('--entry needs a value'));
  assert.throws(() => parseArgs(['--json=yes'], SPEC), new UsageError('--json takes no value'));
});

test('numbers: hex and decimal, underscores, and what is not a number', () => {
  assert.equal(parseNumber('--entry', '0x7c00'), 0x7c00);
  assert.equal(parseNumber('--entry', '0X1F'), 31);
  assert.equal(parseNumber('--entry', '4096'), 4096);
  assert.equal(parseNumber('--entry', '1_000_000'), 1000000);
  assert.throws(() => parseNumber('--load-address', '0xZZ'), new UsageError("--load-address: '0xZZ' is not a number"));
  assert.throws(() => parseNumber('--entry', '-1'), /is not a number/);
  assert.throws(() => parseNumber('--entry', ''), /is not a number/);
  assert.throws(() => parseNumber('--entry', '12abc'), /is not a number/);
  assert.throws(() => parseNumber('--entry', '0x' + 'f'.repeat(16)), /too large/);
});

test('sizes: plain bytes and K/M/G suffixes', () => {
  assert.equal(parseSize('--memory', '65536'), 65536);
  assert.equal(parseSize('--memory', '16M'), 16 << 20);
  assert.equal(parseSize('--memory', '2GiB'), 2 * 2 ** 30);
  assert.equal(parseSize('--memory', '0x10k'), 16 * 1024);
  assert.throws(() => parseSize('--memory', 'lots'), /is not a number/);
});

test('choices are case-insensitive and name the alternatives', () => {
  assert.equal(parseChoice('--mode', 'REAL', ['real', 'long'] as const), 'real');
  assert.throws(() => parseChoice('--mode', 'v86', ['real', 'long'] as const), new UsageError("--mode: 'v86' is not one of real, long"));
});
