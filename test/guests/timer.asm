; Local APIC timer interrupt in 64-bit mode (flat binary at 0x1000, started in long mode by
; the vtx loader, whose identity map covers the APIC page at 0xfee00000). Enables the xAPIC
; (spurious-interrupt vector register bit 8), programs a one-shot then a periodic timer on
; vector 0x40 (SDM vol. 3A §10.5.4), sleeps in HLT with interrupts enabled and counts the
; interrupts in the handler, which writes EOI. Prints the counts, then PASS or FAIL.
[bits 64]
[org 0x1000]
APIC      equ 0xfee00000
; Register offsets; R15 holds the APIC base (a 32-bit absolute address above 2 GiB would be
; sign-extended in 64-bit addressing).
APIC_EOI  equ 0xb0
APIC_SVR  equ 0xf0
APIC_LVT  equ 0x320
APIC_INIT equ 0x380
APIC_CUR  equ 0x390
APIC_DIV  equ 0x3e0
start:
    cli
    mov rsp, 0x70000
    mov r15d, APIC
    call idt_setup
    mov rdi, 0x40
    mov rax, timer_handler
    call set_gate
    mov dword [r15 + APIC_SVR], 0x1ff       ; APIC software enable, spurious vector 0xff
    mov dword [r15 + APIC_DIV], 0xb         ; divide by 1
    ; One-shot: one interrupt.
    mov dword [r15 + APIC_LVT], 0x40        ; one-shot, not masked, vector 0x40
    mov dword [r15 + APIC_INIT], 20000
    sti
.wait1:
    hlt
    cmp qword [ticks], 1
    jb .wait1
    cli
    mov rsi, m_oneshot
    call puts
    mov rax, [ticks]
    mov cl, 2
    call puthex
    mov rsi, m_nl
    call puts
    ; A one-shot timer stays at 0 after it fired.
    cmp dword [r15 + APIC_CUR], 0
    jne fail
    ; Periodic: three more interrupts.
    mov dword [r15 + APIC_LVT], 0x20040     ; periodic, vector 0x40
    mov dword [r15 + APIC_INIT], 10000
    sti
.wait2:
    hlt
    cmp qword [ticks], 4
    jb .wait2
    cli
    mov dword [r15 + APIC_LVT], 0x10040     ; masked
    mov dword [r15 + APIC_INIT], 0
    mov rsi, m_periodic
    call puts
    mov rax, [ticks]
    mov cl, 2
    call puthex
    mov rsi, m_nl
    call puts
    cmp qword [ticks], 4
    jne fail
    mov rsi, m_pass
    call puts
    jmp poweroff
fail:
    mov rsi, m_fail
    call puts
    jmp fail_exit

timer_handler:
    inc qword [ticks]
    mov dword [r15 + APIC_EOI], 0
    iretq

%include "serial.inc"
%include "idt64.inc"

ticks: dq 0
m_oneshot:  db "one-shot timer interrupts: ", 0
m_periodic: db "after periodic timer: ", 0
m_nl: db 10, 0
m_pass: db "PASS timer", 10, 0
m_fail: db "FAIL timer", 10, 0
