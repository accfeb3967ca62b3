; A Multiboot 1 kernel in a flat binary, loaded through the a.out kludge (header flag 16:
; header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr). Checks the machine state
; the Multiboot specification (0.6.96 §3.2) promises: EAX = 0x2BADB002, EBX = the information
; structure, protected mode without paging, interrupts off, flat 32-bit segments; reloads CS
; and DS from the boot loader's GDT (selectors as found), checks the bss was zeroed, and
; prints the command-line token. Runs the same under QEMU (-kernel) and vtx.
[bits 32]
LOAD equ 0x200000
[org LOAD]
MB_FLAGS equ (1 << 1) | (1 << 16)    ; memory information; a.out kludge addresses
header:
    dd 0x1badb002
    dd MB_FLAGS
    dd -(0x1badb002 + MB_FLAGS)
    dd header                        ; header_addr
    dd LOAD                          ; load_addr
    dd load_end                      ; load_end_addr
    dd bss_end                       ; bss_end_addr
    dd start                         ; entry_addr
start:
    mov esp, stack_top
    cmp eax, 0x2badb002
    jne fail
    mov ebp, ebx                     ; the information structure
    ; The bss (load_end_addr..bss_end_addr) is zero (checked before anything is stored there;
    ; the stack at its end is left out).
    mov edi, bss_start
    mov ecx, stack - bss_start
    xor eax, eax
    repe scasb
    jne fail
    mov esi, m_hello
    call puts
    ; CR0: PE = 1, PG = 0.
    mov eax, cr0
    test eax, 1
    jz fail
    test eax, 0x80000000
    jnz fail
    ; EFLAGS: IF = 0, VM = 0.
    pushfd
    pop eax
    test eax, (1 << 9) | (1 << 17)
    jnz fail
    ; Flat segments: a byte through DS, ES and SS at the same linear address agrees.
    mov byte [probe], 0x5a
    cmp byte [es:probe], 0x5a
    jne fail
    cmp byte [ss:probe], 0x5a
    jne fail
    ; Reload DS/ES/SS and CS with the selectors the loader left (its GDT must hold them).
    mov ax, ds
    mov ds, ax
    mov es, ax
    mov ax, ss
    mov ss, ax
    xor eax, eax
    mov ax, cs
    push eax
    push .reloaded
    retf
.reloaded:
    mov esi, m_reload
    call puts
    mov esi, m_bss
    call puts
    ; Information structure: flags bit 0 (mem_*), bit 2 (cmdline), bit 6 (mmap).
    mov ebx, ebp
    mov eax, [ebx]
    and eax, (1 << 0) | (1 << 2) | (1 << 6)
    cmp eax, (1 << 0) | (1 << 2) | (1 << 6)
    jne fail
    mov esi, m_flags
    call puts
    ; The command line holds "token=..."; print its value.
    mov esi, [ebx + 16]
.scan:
    cmp byte [esi], 0
    je fail
    cmp dword [esi], 'toke'
    jne .next
    cmp word [esi + 4], 'n='
    je .found
.next:
    inc esi
    jmp .scan
.found:
    add esi, 6
    push esi
    mov esi, m_token
    call puts
    pop esi
    mov dx, 0x3f8
.tok:
    lodsb
    cmp al, ' '
    je .tokend
    test al, al
    jz .tokend
    out dx, al
    jmp .tok
.tokend:
    mov al, 10
    out dx, al
    mov esi, m_pass
    call puts
    mov dx, 0xf4                     ; isa-debug-exit: status (0x21 << 1) | 1 = 0x43
    mov eax, 0x21
    out dx, eax
    jmp poweroff
fail:
    mov esi, m_fail
    call puts
    jmp fail_exit

%include "serial.inc"

m_hello:  db "multiboot a.out kludge kernel: EAX magic ok", 10, 0
m_reload: db "segment reload from the loader's GDT ok", 10, 0
m_bss:    db "bss zeroed", 10, 0
m_flags:  db "info flags: mem, cmdline, mmap", 10, 0
m_token:  db "cmdline token: ", 0
m_pass:   db "PASS multiboot-aout", 10, 0
m_fail:   db "FAIL multiboot-aout", 10, 0
align 4
load_end:
section .bss
bss_start:
probe:  resb 1
        resb 4095
        alignb 16
stack:  resb 4096
stack_top:
bss_end:
