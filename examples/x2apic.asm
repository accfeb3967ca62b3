; x2apic.asm — MSRs and the x2APIC timer: three timer interrupts, then power-off.
;
; What it teaches: model-specific registers (RDMSR/WRMSR: ECX = the MSR, EDX:EAX = the value)
; and the local APIC in x2APIC mode, where its registers are MSRs 0x800-0x8ff (SDM vol. 3A
; §10.12). The guest
;   1. sets IA32_APIC_BASE (MSR 0x1b) bits 11 (EN) and 10 (EXTD): x2APIC mode;
;   2. reads the x2APIC ID (MSR 0x802) and version (MSR 0x803) registers;
;   3. enables the APIC with the spurious-interrupt vector register (MSR 0x80f);
;   4. programs the timer: divide configuration (MSR 0x83e) = divide by 1, LVT timer (MSR 0x832)
;      = periodic mode with vector 0x40, initial count (MSR 0x838) = 100000 bus clocks;
;   5. waits with STI; HLT for three timer interrupts; the handler counts them and writes the
;      EOI register (MSR 0x80b);
;   6. stops the timer, prints what it saw and powers off (word 0x2000 to port 0x604).
; It stays in real mode: the timer's vector 0x40 goes through the real-mode interrupt vector
; table at address 0 (entry 0x40 at 0x100: offset, then segment).
;
; Under the built-in hypervisor the x2APIC range 0x800-0x83f is in the MSR bitmap: each RDMSR/
; WRMSR of an APIC register exits (MSR_READ / MSR_WRITE) and the hypervisor completes it on the
; virtual local APIC. IA32_APIC_BASE is not in the bitmap (the guest owns it: no exit). Each
; timer interrupt arrives as an EXTERNAL_INTERRUPT exit (external-interrupt exiting); the
; hypervisor queues it and injects it into the guest at the next VM entry.
;
; Run:    vtx run examples/x2apic.asm --trace-exits
; Build:  nasm -f bin -o examples/x2apic.bin examples/x2apic.asm
; Serial: x2APIC ID 0x00000000 version 0x00050014
;         3 timer interrupts

        bits 16
        org 0x7c00

COM1            equ 0x3f8
IA32_APIC_BASE  equ 0x1b
X2APIC_ID       equ 0x802
X2APIC_VERSION  equ 0x803
X2APIC_EOI      equ 0x80b
X2APIC_SVR      equ 0x80f
X2APIC_LVT_TIMER equ 0x832
X2APIC_INIT_COUNT equ 0x838
X2APIC_DIV_CONF equ 0x83e
VECTOR          equ 0x40

start:
        cli
        mov word [VECTOR * 4], timer    ; interrupt vector table entry: offset ...
        mov word [VECTOR * 4 + 2], 0    ; ... and segment

        mov ecx, IA32_APIC_BASE         ; the guest's own MSR: no VM exit
        rdmsr
        or eax, (1 << 11) | (1 << 10)   ; EN | EXTD: x2APIC mode
        wrmsr

        mov ecx, X2APIC_ID              ; MSR_READ exit
        rdmsr
        mov ebx, eax
        mov ecx, X2APIC_VERSION         ; MSR_READ exit
        rdmsr
        mov si, msg_id
        call puts
        xchg eax, ebx
        call hex32                      ; the ID
        mov si, msg_version
        call puts
        mov eax, ebx
        call hex32                      ; the version
        mov al, 10
        call putc

        xor edx, edx
        mov ecx, X2APIC_SVR             ; MSR_WRITE exits from here on
        mov eax, 0x1ff                  ; APIC software enable, spurious vector 0xff
        wrmsr
        mov ecx, X2APIC_DIV_CONF
        mov eax, 0xb                    ; divide by 1
        wrmsr
        mov ecx, X2APIC_LVT_TIMER
        mov eax, (1 << 17) | VECTOR     ; periodic, not masked
        wrmsr
        mov ecx, X2APIC_INIT_COUNT
        mov eax, 100000                 ; starts the timer
        wrmsr

        sti
.wait:
        hlt                             ; sleep until the next interrupt
        cmp word [ticks], 3
        jb .wait
        cli

        mov ecx, X2APIC_LVT_TIMER
        mov eax, 1 << 16                ; masked
        xor edx, edx
        wrmsr
        mov ecx, X2APIC_INIT_COUNT
        xor eax, eax                    ; count 0: the timer stops
        wrmsr

        mov al, [ticks]
        add al, '0'
        call putc
        mov si, msg_ticks
        call puts

        mov dx, 0x604
        mov ax, 0x2000
        out dx, ax                      ; power off -> SystemDown
        hlt

timer:                                  ; the timer interrupt handler (vector 0x40)
        push eax
        push ecx
        push edx
        inc word [ticks]
        mov ecx, X2APIC_EOI
        xor eax, eax
        xor edx, edx
        wrmsr                           ; end of interrupt (MSR_WRITE exit)
        pop edx
        pop ecx
        pop eax
        iret

putc:                                   ; print AL
        push dx
        mov dx, COM1
        out dx, al
        pop dx
        ret

puts:                                   ; print the zero-terminated text at DS:SI (keeps EAX)
        push ax
.next:
        lodsb
        test al, al
        jz .done
        call putc
        jmp .next
.done:
        pop ax
        ret

hex32:                                  ; print EAX as 0x and 8 hex digits
        push eax
        push cx
        push edx
        mov edx, eax
        mov al, '0'
        call putc
        mov al, 'x'
        call putc
        mov cx, 8
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
        pop edx
        pop cx
        pop eax
        ret

msg_id:         db "x2APIC ID ", 0
msg_version:    db " version ", 0
msg_ticks:      db " timer interrupts", 10, 0
ticks:          dw 0
