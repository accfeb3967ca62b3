; An ELF64 executable (nasm -f elf64, linked at 0x200000) started by the vtx 64-bit
; convenience boot: the loader identity-maps memory, writes a GDT and enters 64-bit mode at
; _start. Checks the promised state (CR0.PG/PE, CR4.PAE, EFER.LME/LMA, 64-bit code, RSP
; 16-byte aligned inside RAM), that .bss (p_memsz beyond p_filesz) is zero, reloads the data
; segments and CS (far return) from the loader's GDT, and prints the results.
[bits 64]
global _start
section .text
_start:
    ; .bss is zero.
    lea rdi, [rel bss_start]
    mov ecx, bss_len
    xor eax, eax
    repe scasb
    jne fail
    mov rsi, m_hello
    call puts
    mov rax, cr0
    test eax, 1
    jz fail
    bt eax, 31
    jnc fail
    mov rax, cr4
    test eax, 1 << 5
    jz fail
    mov ecx, 0xc0000080
    rdmsr
    and eax, (1 << 8) | (1 << 10)
    cmp eax, (1 << 8) | (1 << 10)
    jne fail
    test rsp, 15
    jnz fail
    mov rsi, m_state
    call puts
    ; Reload the data segments and CS with the selectors found.
    mov ax, ds
    mov ds, ax
    mov es, ax
    mov ax, ss
    mov ss, ax
    xor eax, eax
    mov ax, cs
    push rax
    lea rax, [rel .reloaded]
    push rax
    o64 retf
.reloaded:
    mov rsi, m_reload
    call puts
    ; Write to .bss and read it back.
    mov qword [rel counter], 41
    inc qword [rel counter]
    cmp qword [rel counter], 42
    jne fail
    mov rsi, m_pass
    call puts
    jmp poweroff
fail:
    mov rsi, m_fail
    call puts
    jmp fail_exit

%include "serial.inc"

section .data
m_hello:  db "ELF64 kernel in 64-bit mode, bss zeroed", 10, 0
m_state:  db "paging, PAE, EFER.LMA on; RSP aligned", 10, 0
m_reload: db "segment reload from the loader's GDT ok", 10, 0
m_pass:   db "PASS elf64", 10, 0
m_fail:   db "FAIL elf64", 10, 0

section .bss
bss_start:
counter: resq 1
         resb 8184
bss_len equ $ - bss_start
