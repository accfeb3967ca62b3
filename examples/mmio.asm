; mmio.asm — a device reached through an EPT violation: the local APIC's xAPIC page.
;
; What it teaches: memory-mapped I/O under a hypervisor. The guest-physical page at 0xfee00000
; is the local APIC's register page (xAPIC mode, SDM vol. 3A §10.4.1). The built-in hypervisor
; leaves that page out of the EPT (an "MMIO hole"), so a plain MOV that reads it cannot complete
; in the guest: the processor stops with an EPT violation (SDM vol. 3C §29.3.3.2) that carries
; the guest-physical address. The hypervisor decodes the faulting MOV, the VMM reads the device
; register, the hypervisor writes the value into the MOV's destination register and moves RIP
; past the instruction — to the guest it looks like an ordinary memory read.
;
; The guest starts in 32-bit protected mode with flat segments and paging off (the first
; instruction is `bits 32`), so linear = guest-physical. It reads the APIC ID register
; (offset 0x20) and the version register (offset 0x30: bits 7:0 version, bits 23:16 the
; highest LVT entry), prints them, then powers off (word 0x2000 to port 0x604).
;
; Run:    vtx run examples/mmio.asm --trace-exits     (one EPT_VIOLATION per MOV from the page)
; Build:  nasm -f bin -o examples/mmio.bin examples/mmio.asm
; Serial: xAPIC ID register:      0x00000000
;         xAPIC version register: 0x00050014    (version 0x14, highest LVT entry 5)

        bits 32
        org 0x1000              ; vtx's default load address outside real mode

COM1    equ 0x3f8
APIC    equ 0xfee00000          ; the xAPIC page (IA32_APIC_BASE's default)

start:
        mov ebx, [APIC + 0x20]  ; APIC ID: EPT violation, completed by the hypervisor
        mov edi, [APIC + 0x30]  ; version register: another EPT violation
        mov esi, msg_id
        call puts
        mov eax, ebx
        call hex32
        mov esi, msg_version
        call puts
        mov eax, edi
        call hex32

        mov dx, 0x604
        mov ax, 0x2000
        out dx, ax              ; power off -> SystemDown
        hlt

puts:                           ; print the zero-terminated text at ESI (keeps EAX)
        push eax
.next:
        lodsb
        test al, al
        jz .done
        call putc
        jmp .next
.done:
        pop eax
        ret

putc:                           ; print AL
        push edx
        mov dx, COM1
        out dx, al
        pop edx
        ret

hex32:                          ; print EAX as 0x and 8 hex digits, then a newline
        push ecx
        push edx
        mov edx, eax
        mov al, '0'
        call putc
        mov al, 'x'
        call putc
        mov ecx, 8
.digit:
        rol edx, 4
        mov al, dl
        and al, 0x0f
        add al, '0'
        cmp al, '9'
        jbe .print
        add al, 'a' - '9' - 1
.print:
        call putc
        loop .digit
        mov al, 10
        call putc
        pop edx
        pop ecx
        ret

msg_id:         db "xAPIC ID register:      ", 0
msg_version:    db "xAPIC version register: ", 0
