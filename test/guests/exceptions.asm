; Exceptions in 64-bit mode (flat binary, started in long mode by the vtx loader or by
; modes.asm-style code): installs an IDT and its own 4-level page tables, then takes
; #DE (divide by zero and quotient overflow), #BP, #UD, #GP (non-canonical address,
; selector beyond the GDT limit), #PF (not present read, not present write, write to a
; read-only page with CR0.WP) and checks vector, error code and CR2 against the SDM
; (vol. 3A §6.15 and §4.7). Prints one line per case, then PASS or FAIL.
[bits 64]
[org 0x1000]
PT_BASE equ 0x20000                  ; PML4, PDPT, PD, PT at 0x20000..0x23fff
NP_PAGE equ 0x50000                  ; not present
RO_PAGE equ 0x51000                  ; read-only
start:
    cli
    mov rsp, 0x70000
    call idt_setup
    call build_paging
    mov rsi, m_start
    call puts

%macro EXPECT 4                       ; label-of-name, vector, error code, cr2 (or -1: don't check)
    mov rsi, %1
    call report
    cmp qword [last_vec], %2
    jne fail
    cmp qword [last_err], %3
    jne fail
  %if %4 != -1
    mov rax, %4
    cmp [last_cr2], rax
    jne fail
  %endif
%endmacro

    ; #DE: divide by zero.
    mov qword [resume], .de1
    mov eax, 10
    xor edx, edx
    xor ecx, ecx
    div ecx
.de1:
    EXPECT m_de, 0, 0, -1
    ; #DE: quotient too large for EAX.
    mov qword [resume], .de2
    mov edx, 1
    xor eax, eax
    mov ecx, 1
    div ecx
.de2:
    EXPECT m_de2, 0, 0, -1
    ; #BP: INT3 is a trap; the handler still resumes at [resume].
    mov qword [resume], .bp
    int3
.bp:
    EXPECT m_bp, 3, 0, -1
    ; #UD
    mov qword [resume], .ud
    ud2
.ud:
    EXPECT m_ud, 6, 0, -1
    ; #GP(0): non-canonical address through DS.
    mov qword [resume], .gp1
    mov rbx, 0x8000000000000000
    mov rax, [rbx]
.gp1:
    EXPECT m_gp1, 13, 0, -1
    ; #GP(selector): loading DS with a selector beyond the GDT limit.
    mov qword [resume], .gp2
    mov ax, 0x100
    mov ds, ax
.gp2:
    EXPECT m_gp2, 13, 0x100, -1
    ; #PF: read of a not-present page: error code 0 (P=0, W/R=0, U/S=0), CR2 = address.
    mov qword [resume], .pf1
    mov rax, [NP_PAGE + 0x10]
.pf1:
    EXPECT m_pf1, 14, 0, NP_PAGE + 0x10
    ; #PF: write to a not-present page: W/R=1.
    mov qword [resume], .pf2
    mov dword [NP_PAGE + 0x24], 1
.pf2:
    EXPECT m_pf2, 14, 2, NP_PAGE + 0x24
    ; #PF: supervisor write to a read-only page with CR0.WP=1: P=1, W/R=1.
    mov qword [resume], .pf3
    mov dword [RO_PAGE + 8], 1
.pf3:
    EXPECT m_pf3, 14, 3, RO_PAGE + 8
    ; The read-only page is still readable.
    mov qword [resume], fail
    mov rax, [RO_PAGE]
    mov rsi, m_pass
    call puts
    jmp poweroff

fail:
    mov rsi, m_fail
    call puts
    jmp fail_exit

; report: prints "<name> vector=XX error=XXXX cr2=XXXXXXXX"
report:
    call puts
    mov rsi, m_vec
    call puts
    mov rax, [last_vec]
    mov cl, 2
    call puthex
    mov rsi, m_err
    call puts
    mov rax, [last_err]
    mov cl, 4
    call puthex
    mov rsi, m_cr2
    call puts
    mov rax, [last_cr2]
    mov cl, 8
    call puthex
    mov rsi, m_nl
    call puts
    ret

build_paging:
    mov rdi, PT_BASE
    mov ecx, 4 * 512
    xor eax, eax
    rep stosq
    mov qword [PT_BASE], PT_BASE + 0x1000 + 3
    mov qword [PT_BASE + 0x1000], PT_BASE + 0x2000 + 3
    mov qword [PT_BASE + 0x2000], PT_BASE + 0x3000 + 3   ; PD[0] -> PT (4 KiB pages for 0-2 MiB)
    mov rdi, PT_BASE + 0x2008
    mov eax, 0x200000 | 0x83
    mov ecx, 511
.pd:
    mov [rdi], rax
    add rax, 0x200000
    add rdi, 8
    loop .pd
    mov rdi, PT_BASE + 0x3000
    mov eax, 3
    mov ecx, 512
.pt:
    mov [rdi], rax
    add rax, 0x1000
    add rdi, 8
    loop .pt
    mov qword [PT_BASE + 0x3000 + (NP_PAGE >> 12) * 8], 0
    mov qword [PT_BASE + 0x3000 + (RO_PAGE >> 12) * 8], RO_PAGE | 1
    mov rax, cr0
    or eax, 1 << 16                   ; CR0.WP
    mov cr0, rax
    mov rax, PT_BASE
    mov cr3, rax
    ret

%include "serial.inc"
%include "idt64.inc"

m_start: db "exceptions: IDT and page tables installed", 10, 0
m_de:  db "#DE divide by zero", 0
m_de2: db "#DE quotient overflow", 0
m_bp:  db "#BP int3", 0
m_ud:  db "#UD ud2", 0
m_gp1: db "#GP non-canonical", 0
m_gp2: db "#GP selector beyond GDT", 0
m_pf1: db "#PF read not present", 0
m_pf2: db "#PF write not present", 0
m_pf3: db "#PF write read-only", 0
m_vec: db " vector=", 0
m_err: db " error=", 0
m_cr2: db " cr2=", 0
m_nl:  db 10, 0
m_pass: db "PASS exceptions", 10, 0
m_fail: db "FAIL exceptions", 10, 0
