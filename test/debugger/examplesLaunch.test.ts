/**
 * examples/.vscode/launch.json: every configuration is valid against the launch schema the
 * extension contributes (package.json), names a program that exists, and — launched through the
 * debug engine as VS Code would start it — stops on the exits it promises and ends the way the
 * example's comment says. examples/.vscode/tasks.json holds the preLaunchTask it names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from './engineHarness';
import type { StopInfo } from '../../src/debugger/engine';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');

/** launch.json is JSON with comments (VS Code's JSONC): drop the comments, keep strings intact. */
export function parseJsonc(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2) + 1;
    } else {
      out += c;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The JSON-schema subset package.json's launch schema uses; returns the problems found. */
export function validate(v: unknown, s: Schema, at: string): string[] {
  if (s.anyOf !== undefined) {
    const each = s.anyOf.map((alt) => validate(v, alt, at));
    return each.some((p) => p.length === 0) ? [] : [`${at}: matches none of the alternatives (${each.map((p) => p[0]).join('; ')})`];
  }
  const problems: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(v);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${at}: is ${t}, the schema wants ${types.join(' or ')}`];
  }
  if (s.enum !== undefined && !s.enum.includes(v)) problems.push(`${at}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof v === 'number' && s.minimum !== undefined && v < s.minimum) problems.push(`${at}: below ${s.minimum}`);
  if (typeof v === 'number' && s.maximum !== undefined && v > s.maximum) problems.push(`${at}: above ${s.maximum}`);
  if (typeOf(v) === 'object' && (s.properties !== undefined || s.required !== undefined)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) problems.push(`${at}: lacks '${r}'`);
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k];
      if (p === undefined) {
        if (s.additionalProperties === false || s.properties !== undefined) problems.push(`${at}.${k}: not in the schema`);
      } else {
        problems.push(...validate(x, p, `${at}.${k}`));
      }
    }
  }
  if (Array.isArray(v) && s.items !== undefined) v.forEach((x, i) => problems.push(...validate(x, s.items!, `${at}[${i}]`)));
  return problems;
}

/** Fields every VS Code launch configuration may have, besides the debugger's own. */
const COMMON = new Set(['type', 'request', 'name', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'presentation', 'debugServer']);

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { debuggers: Array<{ type: string; configurationAttributes: { launch: Schema } }> };
};
const schema = pkg.contributes.debuggers.find((d) => d.type === 'vtx')!.configurationAttributes.launch;
const launch = parseJsonc(readFileSync(join(EXAMPLES, '.vscode', 'launch.json'), 'utf8')) as { version: string; configurations: Array<Record<string, unknown>> };
const tasks = parseJsonc(readFileSync(join(EXAMPLES, '.vscode', 'tasks.json'), 'utf8')) as { tasks: Array<{ label: string }> };

function substitute(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$\{workspaceFolder\}/g, EXAMPLES);
  if (Array.isArray(v)) return v.map(substitute);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x)]));
  return v;
}

test('the JSONC reader and the schema check catch what they should', () => {
  assert.deepEqual(parseJsonc('// c\n{ "a": "x // y", /* z */ "b": [1, 2,], }'), { a: 'x // y', b: [1, 2] });
  const s: Schema = { type: 'object', properties: { n: { type: ['number', 'string'] }, e: { type: 'string', enum: ['a'] }, l: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'object', required: ['f'], properties: { f: { type: 'string' } } }] } } } };
  assert.deepEqual(validate({ n: 1, e: 'a', l: ['x', { f: 'y' }] }, s, 'c'), []);
  assert.equal(validate({ n: true }, s, 'c').length, 1);
  assert.equal(validate({ e: 'b' }, s, 'c').length, 1);
  assert.equal(validate({ zz: 1 }, s, 'c').length, 1);
  assert.equal(validate({ l: [{ g: 1 }] }, s, 'c').length, 1);
});

test('examples/.vscode/launch.json: a configuration for each example, every field in the launch schema with its type, every program there', () => {
  assert.equal(launch.version, '0.2.0');
  const programs = launch.configurations.map((c) => String(c.program).replace('${workspaceFolder}/', ''));
  for (const p of ['hello16.asm', 'longmode.asm', 'cpuid.asm', 'x2apic.asm', 'mmio.asm', 'interrupt.asm', 'c-kernel/kernel.elf', 'byoh.asm']) assert.ok(programs.includes(p), p);
  const names = new Set<string>();
  for (const c of launch.configurations) {
    const name = String(c.name);
    assert.ok(!names.has(name), `duplicate name ${name}`);
    names.add(name);
    assert.equal(c.type, 'vtx', name);
    assert.equal(c.request, 'launch', name);
    const own = Object.fromEntries(Object.entries(c).filter(([k]) => !COMMON.has(k)));
    assert.deepEqual(validate(own, { ...schema, additionalProperties: false }, name), []);
    assert.ok(existsSync(String(substitute(c.program))), `${name}: ${String(c.program)}`);
    assert.ok(Array.isArray(c.exitBreakpoints) && c.exitBreakpoints.length > 0, `${name}: exit breakpoints that show what it teaches`);
    if (c.preLaunchTask !== undefined) assert.ok(tasks.tasks.some((t) => t.label === c.preLaunchTask), `${name}: task '${String(c.preLaunchTask)}'`);
  }
  // The first configuration (F5 in a freshly opened folder) is the CPUID example the walkthrough names.
  assert.match(String(launch.configurations[0].program), /cpuid\.asm$/);
});

interface Expect {
  /** The stops in order: 'entry', or the exit's filter id and a field check. */
  stops: Array<'entry' | { id: string; fields?: Record<string, bigint | boolean> }>;
  serial: RegExp;
  /** The tracepoints' lines (Debug Console), in order. */
  logged?: RegExp;
  /** How the session ends: SystemDown (the built-in hypervisor's power-off) unless given. */
  end?: string;
}

const EXPECT: Record<string, Expect> = {
  'cpuid.asm': { stops: [{ id: 'cpuid', fields: { leaf: 0x40000000n } }], serial: /hypervisor \(ecx bit 31\): 1\n[\s\S]*signature: vtxvtxvtxvtx\n/, logged: /^CPUID leaf 1 at 0x7c09$/m },
  'hello16.asm': { stops: ['entry', { id: 'io_instruction', fields: { port: 0x604n, value: 0x2000n, write: true } }], serial: /^hello from a VMX guest\n$/ },
  'longmode.asm': { stops: [{ id: 'cr_access', fields: { cr: 0n, value: 0x80000031n } }], serial: /paging tables ready[\s\S]*long mode\n/, logged: /^WRMSR IA32_EFER = 0x100$/m },
  'x2apic.asm': { stops: [{ id: 'msr_write', fields: { msr: 0x838n, value: 100000n } }], serial: /version 0x00050014[\s\S]*3 timer interrupts\n/, logged: /^(timer interrupt: external interrupt, vector 0x40\n){3}$/ },
  'mmio.asm': { stops: [{ id: 'ept_violation', fields: { gpa: 0xfee00020n } }, { id: 'ept_violation', fields: { gpa: 0xfee00030n } }], serial: /xAPIC version register: 0x00050014\n/ },
  'interrupt.asm': { stops: [{ id: 'interrupt_window' }], serial: /count before STI: 0\ncount after STI: 1\nhandler count: 3\n/, logged: /^IRQ: external interrupt, vector 0x20\n/ },
  'byoh.asm': {
    stops: [{ id: 'cpuid', fields: { leaf: 0n } }],
    serial: /^VMLAUNCH\nexit reason 0x0000000a [\s\S]*L2 halted\nVMXOFF: VMsucceed\n$/m,
    logged: /^VM entry: VMLAUNCH of the VMCS at 0x14000 entered the L2 guest at RIP=0x[0-9a-f]+\n(VM entry: VMRESUME of the VMCS at 0x14000 entered the L2 guest at RIP=0x[0-9a-f]+\n){4}$/,
    end: 'exit',
  },
  'c-kernel/kernel.elf': { stops: [{ id: 'cpuid', fields: { leaf: 0x40000000n } }], serial: /hello from C\nhypervisor: vtxvtxvtxvtx\nprimes: 2 3 5[\s\S]*count: 15\n/ },
};

function describeStop(s: StopInfo): string {
  return s.exit === undefined ? s.reason : `${s.exit.id} ${s.exit.summary}`;
}

for (const config of launch.configurations) {
  const program = String(config.program).replace('${workspaceFolder}/', '');
  test(`examples/.vscode/launch.json "${String(config.name)}": stops where it promises, ends with the power-off`, async () => {
    const want = EXPECT[program];
    assert.ok(want, `no expectation for ${program}: add one`);
    const s = new Session({ ...(substitute(config) as Record<string, unknown>), cwd: EXAMPLES });
    s.engine.start();
    const seen: string[] = [];
    for (const w of want.stops) {
      const stop = await s.stop();
      seen.push(describeStop(stop));
      if (w === 'entry') {
        assert.equal(stop.reason, 'entry', seen.join(' | '));
      } else {
        assert.equal(stop.exit?.id, w.id, seen.join(' | '));
        for (const [k, v] of Object.entries(w.fields ?? {})) assert.equal(stop.exit!.fields[k], v, `${seen.at(-1)}: ${k}`);
      }
      s.engine.continue();
    }
    const end = await s.end();
    assert.equal(end.reason, want.end ?? 'SystemDown', `${end.description} after ${seen.join(' | ')}`);
    assert.match(s.serial(), want.serial);
    if (want.logged !== undefined) assert.match(s.console(), want.logged);
  });
}
