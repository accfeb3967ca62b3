import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkNames, evaluateCondition, parseCondition } from '../../src/debugger/conditions';

const ev = (text: string, values: Record<string, bigint | boolean | string | undefined>): boolean => evaluateCondition(parseCondition(text), values);

describe('exit breakpoint conditions', () => {
  it('evaluates the issue examples', () => {
    assert.equal(ev('leaf == 1', { leaf: 1n }), true);
    assert.equal(ev('leaf == 1', { leaf: 0n }), false);
    assert.equal(ev('port == 0x604 && write && value == 0x2000', { port: 0x604n, write: true, value: 0x2000n }), true);
    assert.equal(ev('port == 0x604 && write && value == 0x2000', { port: 0x604n, write: false, value: 0x2000n }), false);
    assert.equal(ev('msr >= 0x800 && msr < 0x840', { msr: 0x83fn }), true);
    assert.equal(ev('msr >= 0x800 && msr < 0x840', { msr: 0x840n }), false);
    assert.equal(ev('cr == 0 && (value & 0x80000000)', { cr: 0n, value: 0x80000011n }), true);
    assert.equal(ev('cr == 0 && (value & 0x80000000)', { cr: 0n, value: 0x11n }), false);
    assert.equal(ev('gpa >= 0xfee00000', { gpa: 0xfee00020n }), true);
    assert.equal(ev('vector == 14', { vector: 14n }), true);
    assert.equal(ev('rip == 7c00h', { rip: 0x7c00n }), true);
    assert.equal(ev('!write || port != 0x80', { write: true, port: 0x80n }), false);
  });
  it('compares large unsigned values and is case-insensitive in names', () => {
    assert.equal(ev('GPA >= 0xfee00000', { gpa: 0xfffffffffee00000n }), true);
  });
  it('a value the exit does not report makes the condition false', () => {
    assert.equal(ev('value == 0', { value: undefined }), false);
  });
  it('reports syntax errors and unknown names with what is available', () => {
    assert.throws(() => parseCondition('leaf == '), /condition 'leaf == ': expression expected/);
    assert.throws(() => parseCondition('leaf === 1'), /unexpected '='/);
    assert.throws(() => checkNames(parseCondition('lef == 1'), ['leaf', 'subleaf', 'rip']), /unknown name 'lef' \(available: leaf, subleaf, rip\)/);
    assert.doesNotThrow(() => checkNames(parseCondition('LEAF == 1 && rip'), ['leaf', 'subleaf', 'rip']));
  });
});
