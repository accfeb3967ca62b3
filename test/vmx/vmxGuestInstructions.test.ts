/**
 * The VMX instructions executed by guest code (bare VT-x mode: src/vmx/vmxGuestInstructions.ts,
 * the processor's ops in src/x86/insn/vmxOps.ts) against the engine: the architectural checks
 * of SDM vol. 3C §30.3 (#UD, #GP, VMfailInvalid, VMfailValid with the §30.4 error numbers), the
 * RFLAGS conventions of §30.2, and operands through the processor's memory access. Snippets
 * are assembled with vtx's assembler and run on a 64-bit processor with the engine attached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cpu } from '../../src/x86/cpu';
import type { RunResult } from '../../src/x86/cpu';
import { PhysicalMemory } from '../../src/x86/physicalMemory';
import { enterMode } from '../../src/x86/modes';
import { VmxEngine } from '../../src/vmx/engine';
import type { EngineOptions, VmEntryOutcome, VmxObserver } from '../../src/vmx/engine';
import { REVISION_ID } from '../../src/vmx/capabilities';
import { assemble } from '../../src/language/asm/assembler';

const VMXON = 0x10000;
const VMCS = 0x11000;
const DATA = 0x12000;
const CR4_VMXE = 1 << 13;
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;
const DF = 0x400;

interface Setup {
  /** Attach the VT-x engine (default true). */
  engine?: boolean;
  /** CR4.VMXE (default true). */
  vmxe?: boolean;
  cpl?: number;
  /** RFLAGS before the code runs. */
  rflags?: number;
  engineOptions?: EngineOptions;
}

interface Ran {
  cpu: Cpu;
  engine: VmxEngine | null;
  result: RunResult;
  r32(addr: number): number;
  flags(): number;
}

/** Assemble `body` (64-bit, at 0x1000, HLT appended) and run it. */
function run(body: string, s: Setup = {}): Ran {
  const a = assemble(`bits 64\norg 0x1000\n${body}\nhlt\n`, { file: 'snippet.asm' });
  assert.ok(a.ok, JSON.stringify(a.diagnostics));
  const mem = new PhysicalMemory(0x100000);
  const cpu = new Cpu(mem);
  enterMode(cpu, 'long');
  cpu.cr0 |= 0x20; // CR0.NE: fixed to 1 in VMX operation (IA32_VMX_CR0_FIXED0)
  if (s.vmxe ?? true) cpu.cr4 |= CR4_VMXE;
  const engine = (s.engine ?? true) ? new VmxEngine(cpu, s.engineOptions) : null;
  if (engine !== null) cpu.vmExitStops = false;
  const w32 = (addr: number, v: number): void => {
    for (let i = 0; i < 4; i++) mem.write8(addr + i, (v >>> (8 * i)) & 0xff);
  };
  w32(VMXON, REVISION_ID);
  w32(VMCS, REVISION_ID);
  a.bytes.forEach((b, i) => mem.write8(0x1000 + i, b));
  cpu.setRip(0x1000n);
  cpu.setReg64(4, 0x8000n);
  if (s.rflags !== undefined) cpu.setRflags(s.rflags);
  if (s.cpl !== undefined) cpu.cpl = s.cpl;
  const result = cpu.run(10_000);
  const r32 = (addr: number): number => mem.read8(addr) | (mem.read8(addr + 1) << 8) | (mem.read8(addr + 2) << 16) | (mem.read8(addr + 3) << 24);
  return { cpu, engine, result, r32, flags: () => cpu.getRflags() & STATUS };
}

/** Run `body` next on the same processor (after a HLT), at CPL `cpl`. */
function more(r: Ran, body: string, cpl = 0): Ran {
  const a = assemble(`bits 64\norg 0x3000\n${body}\nhlt\n`, { file: 'more.asm' });
  assert.ok(a.ok, JSON.stringify(a.diagnostics));
  a.bytes.forEach((b, i) => r.cpu.mem.write8(0x3000 + i, b));
  r.cpu.setRip(0x3000n);
  r.cpu.halted = false;
  r.cpu.cpl = cpl;
  return { ...r, result: r.cpu.run(r.cpu.icount + 10_000) };
}

function vector(r: Ran): number {
  assert.equal(r.result.reason, 'exception', `expected an exception, stopped with ${r.result.reason}`);
  return r.result.exception!.vector;
}

function halted(r: Ran): void {
  const e = r.result.exception;
  assert.equal(r.result.reason, 'hlt', e ? `${e.name} at 0x${e.rip.toString(16)} ${e.text}: ${e.detail}` : r.result.reason);
}

const PTRS = `jmp start\nalign 8\nvmxon_ptr: dq ${VMXON}\nvmcs_ptr: dq ${VMCS}\nbad_ptr: dq ${VMXON + 8}\nstart:\n`;
const ON = `${PTRS}vmxon [vmxon_ptr]\n`;
const LOADED = `${ON}vmclear [vmcs_ptr]\nvmptrld [vmcs_ptr]\n`;

test('without the VT-x engine the VMX instructions are #UD (a processor without VMX)', () => {
  assert.equal(vector(run(`${ON}`, { engine: false })), 6);
  assert.equal(vector(run('vmcall', { engine: false })), 6);
});

test('VMXON with CR4.VMXE = 0 is #UD (§30.3 VMXON)', () => {
  const r = run(ON, { vmxe: false });
  assert.equal(vector(r), 6);
  assert.equal(r.cpu.inVmxOperation, false);
});

test('outside VMX operation every VMX instruction but VMXON is #UD (§30.3)', () => {
  for (const insn of ['vmxoff', 'vmclear [rax]', 'vmptrld [rax]', 'vmptrst [rax]', 'vmread rbx, rax', 'vmwrite rax, rbx', 'vmlaunch', 'vmresume', 'vmcall']) {
    assert.equal(vector(run(`mov eax, ${DATA}\n${insn}`)), 6, insn);
  }
});

test('VMXON and VMCLEAR at CPL > 0 are #GP(0), raised before the memory operand is read', () => {
  let r = run('mov rax, 0x8000000000000000\nvmxon [rax]', { cpl: 3 });
  assert.equal(vector(r), 13);
  assert.equal(r.result.exception!.errorCode, 0);
  assert.match(r.result.exception!.detail, /CPL 3/);
  // In VMX root operation, at CPL 3 (the rest of the run): VMCLEAR's CPL check comes first.
  r = run(ON);
  halted(r);
  r = more(r, 'mov rax, 0x8000000000000000\nvmclear [rax]', 3);
  assert.equal(vector(r), 13);
  assert.match(r.result.exception!.detail, /CPL 3/);
});

test('VMXON with a region whose revision identifier is wrong: VMfailInvalid (CF = 1, the other status flags 0)', () => {
  const r = run(`${PTRS}mov dword [${VMXON}], 0x1234\nvmxon [vmxon_ptr]`, { rflags: 0x2 | ZF | SF | OF | PF | AF });
  halted(r);
  assert.equal(r.flags(), CF);
  assert.equal(r.cpu.inVmxOperation, false);
});

test('VMXON: VMsucceed clears CF, PF, AF, ZF, SF and OF and leaves the other flags (§30.2)', () => {
  const r = run(ON, { rflags: 0x2 | STATUS | DF });
  halted(r);
  assert.equal(r.flags(), 0);
  assert.equal(r.cpu.getRflags() & DF, DF);
  assert.equal(r.cpu.inVmxOperation, true);
  assert.equal(r.engine!.vmxonRegion, VMXON);
});

test('VMXON with an unaligned region: VMfailInvalid; in VMX root operation: VMfailInvalid without a current VMCS, VMfailValid(15) with one', () => {
  let r = run(`${PTRS}vmxon [bad_ptr]`);
  halted(r);
  assert.equal(r.flags(), CF);
  r = run(`${ON}vmxon [vmxon_ptr]`);
  halted(r);
  assert.equal(r.flags(), CF);
  r = run(`${LOADED}vmxon [vmxon_ptr]\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  // VMREAD succeeded (flags clear) and read the error VMXON left.
  assert.equal(r.cpu.lo[1], 15);
});

test('VMPTRLD of the VMXON region: VMfailValid(10) — ZF = 1, CF = 0, the error in the current VMCS', () => {
  const r = run(`${LOADED}vmptrld [vmxon_ptr]\npushfq\npop rdx\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[2] & STATUS, ZF);
  assert.equal(r.cpu.lo[1], 10);
  assert.equal(r.engine!.current?.address, VMCS);
});

test('VMPTRLD of the VMXON region without a current VMCS: VMfailInvalid (VMfail with no VMCS to record the error)', () => {
  const r = run(`${ON}vmptrld [vmxon_ptr]`);
  halted(r);
  assert.equal(r.flags(), CF);
});

test('VMREAD of an unsupported field: VMfailValid(12), the destination unchanged; of a supported one: the value, zero-extended', () => {
  let r = run(`${LOADED}mov rcx, -1\nmov ebx, 0x7ffe\nvmread rcx, rbx\npushfq\npop rdx\nmov ebx, 0x4400\nvmread rsi, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[2] & STATUS, ZF);
  assert.equal(r.cpu.getReg64(1), 0xffffffffffffffffn);
  assert.equal(r.cpu.lo[6], 12);
  // Bits 63:32 of the encoding must be 0 in 64-bit mode: otherwise unsupported too (§30.3 VMREAD).
  r = run(`${LOADED}mov rbx, 0x100004402\nvmread rcx, rbx\nmov ebx, 0x4400\nvmread rsi, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[6], 12);
  // VMWRITE from a register and from memory, VMREAD to a register and to memory.
  r = run(`${LOADED}mov rax, 0x123456789\nmov ebx, 0x681c\nvmwrite rbx, rax\nmov qword [${DATA}], -1\nvmread [${DATA}], rbx\n` +
    `mov ebx, 0x0802\nvmwrite rbx, [${DATA}]\nmov rcx, -1\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.flags(), 0);
  assert.equal(r.r32(DATA), 0x23456789);
  assert.equal(r.r32(DATA + 4), 1);
  // The 16-bit CS selector field takes the source's low 16 bits; VMREAD zero-extends it.
  assert.equal(r.cpu.getReg64(1), 0x6789n);
});

test('VMWRITE of a read-only field is allowed (IA32_VMX_MISC[29] = 1); of an unsupported one VMfailValid(12)', () => {
  const r = run(`${LOADED}mov ebx, 0x7ffe\nvmwrite rbx, rax\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[1], 12);
});

test('VMPTRST: the current-VMCS pointer, all ones without one (§30.3 VMPTRST)', () => {
  let r = run(`${LOADED}vmptrst [${DATA}]`);
  halted(r);
  assert.equal(r.r32(DATA), VMCS);
  assert.equal(r.r32(DATA + 4), 0);
  r = run(`${ON}vmptrst [${DATA}]`);
  halted(r);
  assert.equal(r.flags(), 0);
  assert.equal(r.r32(DATA) >>> 0, 0xffffffff);
  assert.equal(r.r32(DATA + 4) >>> 0, 0xffffffff);
});

test('VMCLEAR with an unaligned address: VMfailValid(2); a memory operand that faults: the fault', () => {
  let r = run(`${LOADED}vmclear [bad_ptr]\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[1], 2);
  r = run(`${ON}mov rax, 0x8000000000000000\nvmclear [rax]`);
  assert.equal(vector(r), 13);
});

test('VMLAUNCH/VMRESUME: VMfailInvalid without a current VMCS, VMfailValid(5) for VMRESUME of a clear VMCS, RIP after the instruction', () => {
  let r = run(`${ON}vmlaunch\nmov edx, 1`);
  halted(r);
  assert.equal(r.flags(), CF);
  assert.equal(r.cpu.lo[2], 1);
  r = run(`${LOADED}vmresume\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[1], 5);
  // An empty VMCS: its controls (all 0) pass §26.2.1 with the TRUE_ capability MSRs, its host
  // CR0 (0, without PE/NE/PG fixed to 1) fails §26.2.2: VMfailValid(8).
  r = run(`${LOADED}vmlaunch\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[1], 8);
  // A control the capability MSR does not allow: VMfailValid(7). Pin-based bit 7 (posted interrupts) is not allowed-1.
  r = run(`${LOADED}mov ebx, 0x4000\nmov eax, 0x80\nvmwrite rbx, rax\nvmlaunch\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[1], 7);
});

test('VMCALL in VMX root operation: VMfailInvalid without a current VMCS, VMfailValid(1) with one (§30.3 VMCALL)', () => {
  let r = run(`${ON}vmcall`);
  halted(r);
  assert.equal(r.flags(), CF);
  r = run(`${LOADED}vmcall\nmov ebx, 0x4400\nvmread rcx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[1], 1);
});

test('INVEPT/INVVPID: an unsupported type is VMfailValid(28) before the descriptor is read; a faulting descriptor then faults', () => {
  let r = run(`${LOADED}mov rax, 0x8000000000000000\nmov ecx, 3\ninvept rcx, [rax]\nmov ebx, 0x4400\nvmread rdx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[2], 28);
  r = run(`${LOADED}mov rax, 0x8000000000000000\nmov ecx, 2\ninvept rcx, [rax]`);
  assert.equal(vector(r), 13);
  // All-context INVEPT, and INVVPID with a VPID above 0xFFFF (descriptor bits 63:16 not 0).
  r = run(`${LOADED}mov ecx, 2\ninvept rcx, [${DATA}]\npushfq\npop rsi\nmov qword [${DATA}], 0x10001\nmov ecx, 1\ninvvpid rcx, [${DATA}]\nmov ebx, 0x4400\nvmread rdx, rbx`);
  halted(r);
  assert.equal(r.cpu.lo[6] & STATUS, 0);
  assert.equal(r.cpu.lo[2], 28);
});

test('VMFUNC outside non-root operation is #UD (§30.3 VMFUNC); VMXOFF leaves VMX operation', () => {
  assert.equal(vector(run(`${LOADED}xor eax, eax\nvmfunc`)), 6);
  const r = run(`${LOADED}vmxoff`);
  halted(r);
  assert.equal(r.flags(), 0);
  assert.equal(r.cpu.inVmxOperation, false);
});

test('IA32_FEATURE_CONTROL: locked at power-on with VMXON outside SMX enabled (bits 0 and 2); WRMSR is then #GP(0)', () => {
  let r = run('mov ecx, 0x3a\nrdmsr');
  halted(r);
  assert.equal(r.cpu.lo[0], 5);
  r = run('mov ecx, 0x3a\nxor eax, eax\nxor edx, edx\nwrmsr');
  assert.equal(vector(r), 13);
  // CPUID.1:ECX.VMX = 1 with the engine.
  r = run('mov eax, 1\ncpuid');
  halted(r);
  assert.equal((r.cpu.lo[1] >>> 5) & 1, 1);
});

test('IA32_FEATURE_CONTROL lock semantics from guest code (SDM vol. 3C §23.7): unlocked, VMXON is #GP(0); written with lock and bit 2, VMXON works and WRMSR is #GP(0)', () => {
  const unlocked = { engineOptions: { keepFeatureControl: true } };
  let r = run('mov ecx, 0x3a\nrdmsr', unlocked);
  halted(r);
  assert.equal(r.cpu.lo[0], 0);
  r = run(ON, unlocked);
  assert.equal(vector(r), 13);
  assert.match(r.result.exception!.detail, /not locked/);
  // Locked without "VMXON outside SMX": VMXON is #GP(0) too.
  r = run(`${PTRS}mov ecx, 0x3a\nmov eax, 1\nxor edx, edx\nwrmsr\nvmxon [vmxon_ptr]`, unlocked);
  assert.equal(vector(r), 13);
  assert.match(r.result.exception!.detail, /outside SMX/);
  r = run(`${PTRS}mov ecx, 0x3a\nmov eax, 5\nxor edx, edx\nwrmsr\nvmxon [vmxon_ptr]\nmov ecx, 0x3a\nrdmsr`, unlocked);
  halted(r);
  assert.equal(r.cpu.inVmxOperation, true);
  assert.equal(r.cpu.lo[0], 5);
  r = more(r, 'mov ecx, 0x3a\nmov eax, 1\nxor edx, edx\nwrmsr');
  assert.equal(vector(r), 13);
});

test('VmxObserver: VMfail, VM entries and VM exits of guest code, in order (the hooks the debugger uses)', () => {
  const events: string[] = [];
  const o: VmxObserver = {
    vmExit: (_e, reason) => { events.push(`exit 0x${reason.toString(16)}`); },
    vmEntry: (_e, launch, out: VmEntryOutcome) => { events.push(`${launch ? 'launch' : 'resume'} ${out.kind}`); },
  };
  const mem = new PhysicalMemory(0x100000);
  const cpu = new Cpu(mem);
  const engine = new VmxEngine(cpu);
  engine.addObserver(o);
  engine.addObserver(o); // once only
  enterMode(cpu, 'long');
  // VMLAUNCH without a current VMCS is a VMfail: no VM entry happened, but the observer hears of it.
  cpu.cr0 |= 0x20;
  cpu.cr4 |= CR4_VMXE;
  for (let i = 0; i < 4; i++) mem.write8(VMXON + i, (REVISION_ID >>> (8 * i)) & 0xff);
  assert.equal(engine.vmxon(VMXON).status, 'succeed');
  engine.vmlaunch();
  assert.deepEqual(events, ['launch fail']);
  engine.removeObserver(o);
  engine.vmlaunch();
  assert.deepEqual(events, ['launch fail']);
});
