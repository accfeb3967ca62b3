; Mode switches (flat binary at 0x7c00, started in real mode like a boot sector):
; real mode -> 32-bit protected mode (own GDT, CR0.PE, far jump) -> IA-32e mode (own
; 4-level page tables, CR4.PAE, EFER.LME, CR0.PG, far jump to a 64-bit code segment).
; Each stage checks the state the SDM says it must be in (vol. 3A §9.9.1, §9.8.5) and
; reports on COM1; the final line is PASS or FAIL.
[bits 16]
[org 0x7c00]
PML4 equ 0x10000                     ; PML4, PDPT, PD at 0x10000, 0x11000, 0x12000
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov si, m_real
    call puts
    lgdt [gdtr]
    mov eax, cr0
    or eax, 1                        ; CR0.PE
    mov cr0, eax
    jmp 0x08:pm32

%include "serial.inc"

[bits 32]
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    mov ax, cs
    cmp ax, 0x08
    jne fail32
    ; 32-bit operand size now: this push moves ESP by 4.
    mov ebx, esp
    push eax
    sub ebx, esp
    pop eax
    cmp ebx, 4
    jne fail32
    mov esi, m_prot
    call puts32
    ; Identity-map the first 1 GiB with 2 MiB pages (SDM vol. 3A §4.5).
    mov edi, PML4
    xor eax, eax
    mov ecx, 3 * 4096 / 4
    rep stosd
    mov dword [PML4], PML4 + 0x1000 + 3
    mov dword [PML4 + 0x1000], PML4 + 0x2000 + 3
    mov edi, PML4 + 0x2000
    mov eax, 0x83
    mov ecx, 512
.pde:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .pde
    mov eax, PML4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                   ; CR4.PAE
    mov cr4, eax
    mov ecx, 0xc0000080              ; IA32_EFER
    rdmsr
    or eax, 1 << 8                   ; LME
    wrmsr
    mov eax, cr0
    or eax, 1 << 31                  ; CR0.PG -> EFER.LMA
    mov cr0, eax
    jmp 0x18:lm64

fail32:
    mov esi, m_fail
    call puts32
    jmp fail_exit32

; 32-bit copies of the serial routines.
puts32:
    push eax
    push edx
    push esi
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    pop esi
    pop edx
    pop eax
    ret
fail_exit32:
    mov dx, 0xf4
    mov eax, 1
    out dx, eax
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
    cli
    hlt

[bits 64]
lm64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, 0x7c00
    mov ecx, 0xc0000080
    rdmsr
    test eax, 1 << 10                ; EFER.LMA
    jz fail64
    ; 64-bit operand size: a 64-bit register really holds 64 bits.
    mov rax, 0x123456789
    shr rax, 32
    cmp eax, 1
    jne fail64
    mov rbx, rsp
    push rax
    sub rbx, rsp
    pop rax
    cmp rbx, 8
    jne fail64
    mov rsi, m_long
    call puts64
    mov rsi, m_pass
    call puts64
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
    cli
    hlt
fail64:
    mov rsi, m_fail
    call puts64
    mov dx, 0xf4
    mov eax, 1
    out dx, eax
    cli
    hlt
puts64:
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff            ; 0x08: 32-bit code
    dq 0x00cf92000000ffff            ; 0x10: data
    dq 0x00af9a000000ffff            ; 0x18: 64-bit code
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt

m_real: db "real mode", 10, 0
m_prot: db "protected mode", 10, 0
m_long: db "long mode", 10, 0
m_pass: db "PASS modes", 10, 0
m_fail: db "FAIL modes", 10, 0
