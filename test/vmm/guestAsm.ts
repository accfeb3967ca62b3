/**
 * Small NASM guests for the machine and CLI tests, assembled at test time with `nasm -f bin`.
 * `hasNasm` is false when nasm is missing; the tests then skip with a printed reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasNasm = spawnSync('nasm', ['-v'], { encoding: 'utf8' }).status === 0;
export const NASM_MISSING = 'nasm is not installed (apt-get install nasm; .ci/run installs it)';

const dir = mkdtempSync(join(tmpdir(), 'vtx-machine-guests-'));
let n = 0;

/** Assemble `source`; returns the bytes and the path of the flat binary. */
export function nasm(source: string): { bytes: Uint8Array; path: string } {
  const base = join(dir, `g${n++}`);
  writeFileSync(`${base}.asm`, source);
  const r = spawnSync('nasm', ['-f', 'bin', '-o', `${base}.bin`, `${base}.asm`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr}`);
  return { bytes: new Uint8Array(readFileSync(`${base}.bin`)), path: `${base}.bin` };
}

/** 64-bit: print "hi\n" on COM1, then isa-debug-exit with value 0x10 (exit code 0x21). */
export const HELLO64 = `
bits 64
org 0x1000
  mov dx, 0x3f8
  mov al, 'h'
  out dx, al
  mov al, 'i'
  out dx, al
  mov al, 10
  out dx, al
  mov dx, 0xf4
  mov eax, 0x10
  out dx, eax
  mov dx, 0x3f8       ; never reached: the machine is off
  mov al, '!'
  out dx, al
  hlt
`;

/** 32-bit: print "bye" (no newline), ACPI power-off (exit code 0). */
export const POWEROFF32 = `
bits 32
org 0x1000
  mov dx, 0x3f8
  mov al, 'b'
  out dx, al
  mov al, 'y'
  out dx, al
  mov al, 'e'
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
  hlt
`;

/**
 * 64-bit: an IDT with a handler for vector 0x40, the local APIC timer periodic (divide by 1,
 * count PERIOD) in xAPIC mode; the main loop HLTs until five interrupts have come. The handler
 * stores RDTSC's low half at 0x3000 + 4n. Then it prints the count and exits with value 0.
 * With `spin` the loop polls (PAUSE) instead of halting.
 */
export function apicTimer64(period: number, x2apic = false, spin = false): string {
  const setup = x2apic ? `
  mov ecx, 0x1b
  rdmsr
  or eax, 0xc00          ; EN | EXTD: x2APIC mode
  wrmsr
  xor edx, edx
  mov ecx, 0x80f
  mov eax, 0x1ff
  wrmsr                  ; SVR
  mov ecx, 0x83e
  mov eax, 0xb
  wrmsr                  ; divide by 1
  mov ecx, 0x832
  mov eax, 0x20040
  wrmsr                  ; LVT timer: periodic, vector 0x40
  mov ecx, 0x838
  mov eax, ${period}
  wrmsr                  ; initial count` : `
  mov ebx, 0xfee00000
  mov dword [rbx + 0xf0], 0x1ff
  mov dword [rbx + 0x3e0], 0xb
  mov dword [rbx + 0x320], 0x20040
  mov dword [rbx + 0x380], ${period}`;
  const eoi = x2apic ? `
  push rcx
  mov ecx, 0x80b
  xor eax, eax
  xor edx, edx
  wrmsr
  pop rcx` : `
  mov edx, 0xfee000b0
  mov dword [rdx], 0`;
  const stop = x2apic ? `
  mov ecx, 0x838
  xor eax, eax
  xor edx, edx
  wrmsr` : `
  mov dword [rbx + 0x380], 0`;
  return `
bits 64
org 0x1000
  lea rdi, [rel idt + 0x40 * 16]
  lea rax, [rel handler]
  mov [rdi], ax
  mov word [rdi + 2], 0x08
  mov word [rdi + 4], 0x8e00
  shr rax, 16
  mov [rdi + 6], ax
  shr rax, 16
  mov [rdi + 8], eax
  mov dword [rdi + 12], 0
  lidt [rel idtr]
${setup}
  sti
.wait:
  ${spin ? 'pause' : 'hlt'}
  cmp dword [rel count], 5
  jb .wait
  cli
${stop}
  mov dx, 0x3f8
  mov al, '0'
  add al, [rel count]
  out dx, al
  mov al, 10
  out dx, al
  mov dx, 0xf4
  xor eax, eax
  out dx, eax
  hlt

handler:
  push rax
  push rcx
  push rdx
  rdtsc
  mov ecx, [rel count]
  mov [0x3000 + rcx * 4], eax
  inc dword [rel count]
${eoi}
  pop rdx
  pop rcx
  pop rax
  iretq

align 8
count: dd 0
idtr: dw 256 * 16 - 1
      dq idt
align 16
idt: times 256 * 16 db 0
`;
}

/**
 * Real mode at 0x7c00: remap the 8259s to 0x20/0x28, unmask IRQ 0, program PIT counter 0 in
 * mode 2 with DIVISOR, take three ticks in HLT (the IVT handler counts them and stores the TSC
 * at 0x600 + 4n), then print "T3" and the CMOS year, and power off.
 */
export function pitReal(divisor: number): string {
  return `
bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  mov word [0x20 * 4], tick
  mov word [0x20 * 4 + 2], 0
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x20
  out 0x21, al
  mov al, 0x28
  out 0xa1, al
  mov al, 4
  out 0x21, al
  mov al, 2
  out 0xa1, al
  mov al, 1
  out 0x21, al
  out 0xa1, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  mov al, 0x34
  out 0x43, al
  mov al, ${divisor & 0xff}
  out 0x40, al
  mov al, ${divisor >> 8}
  out 0x40, al
  sti
.wait:
  hlt
  cmp word [count], 3
  jb .wait
  cli
  mov dx, 0x3f8
  mov al, 'T'
  out dx, al
  mov al, '0'
  add al, [count]
  out dx, al
  mov al, ' '
  out dx, al
  mov al, 9
  out 0x70, al
  in al, 0x71             ; year, BCD: 0x26
  mov ah, al
  shr al, 4
  add al, '0'
  out dx, al
  mov al, ah
  and al, 0x0f
  add al, '0'
  out dx, al
  mov al, 10
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
  hlt

tick:
  push ax
  push bx
  push dx
  rdtsc
  mov bx, [count]
  shl bx, 2
  mov [0x600 + bx], eax
  inc word [count]
  mov al, 0x20
  out 0x20, al
  pop dx
  pop bx
  pop ax
  iret

count: dw 0
`;
}
