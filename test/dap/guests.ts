/** The guests of the DAP tests, as assembly text (lines marked `; @name` are found by `lineOf`). */
import { POWEROFF } from '../debugger/engineHarness';

export const MAIN = `bits 64
org 0x1000
start:
  mov eax, 1            ; @first
  cpuid                 ; @cpuid1
  xor eax, eax
  cpuid                 ; @cpuid0
  call fn               ; @call
  mov dword [0x9000], 5 ; @store
  mov ebx, [0x9000]     ; @load
  mov ecx, 0x174        ; @msr
  rdmsr
  wrmsr
  mov rax, cr0          ; @cr
  or eax, 0x40000000
  mov cr0, rax
  and eax, ~0x40000000
  mov cr0, rax
  mov eax, [0xfee00030] ; @apic
  mov eax, 0            ; @print
  lea rdi, [rel msg]
  mov esi, msglen
  vmcall
${POWEROFF.split('\n').map((l) => `  ${l}`).join('\n')}
fn:
  push rbp              ; @fn
  mov rbp, rsp
  mov r8, 0x42          ; @body
  pop rbp
  ret
msg: db "hello from the guest", 10
msglen equ $ - msg
`;

/** launch.json additions MAIN needs (its MSR is intercepted). */
export const MAIN_CONFIG = { intercept: { msr: '0x174' } };

export const LOOP = `bits 64
org 0x1000
start:
  xor eax, eax
again:
  inc rax               ; @loop
  jmp again
`;

export const HALT = `bits 64
org 0x1000
  mov eax, 3
  hlt                   ; @hlt
`;

/** An IDT of limit 0: the first exception cannot be delivered, nor the #DF: a triple fault. */
export const TRIPLE = `bits 64
org 0x1000
  lidt [idtr]
  int3                  ; @int3
idtr: dw 0
  dq 0
`;

/** 1-based line of the line marked `; @name`. */
export function lineOf(text: string, name: string): number {
  const i = text.split('\n').findIndex((l) => new RegExp(`; @${name}\\b`).test(l));
  if (i < 0) throw new Error(`no line marked @${name}`);
  return i + 1;
}
