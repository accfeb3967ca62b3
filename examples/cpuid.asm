; cpuid.asm — what CPUID says inside a VMX guest: leaf 1 and the hypervisor leaves.
;
; What it teaches: CPUID always causes a VM exit (SDM vol. 3C §26.1.2), so the hypervisor
; decides what the guest sees. The built-in hypervisor answers from the virtual CPU with the
; seed's edits:
;   leaf 1, ECX bit 5 (VMX) = 0: the guest cannot use VT-x itself (the virtual CPU the
;                                 hypervisor runs on has it);
;   leaf 1, ECX bit 31 (hypervisor present) = 1: "you are running under a hypervisor";
;   leaf 0x40000000: EAX = the highest hypervisor leaf (0x40000001), EBX ECX EDX = a 12-byte
;                    vendor signature (software reads it to know which hypervisor it has);
;   leaf 0x40000001: the hypervisor's feature leaf (all zero here).
; The guest runs in real mode (32-bit registers through the operand-size prefix), prints what
; it found, then powers off (word 0x2000 to port 0x604).
;
; Run:    vtx run examples/cpuid.asm --trace-exits     (one CPUID exit per CPUID instruction)
; Build:  nasm -f bin -o examples/cpuid.bin examples/cpuid.asm
; Serial (the leaf-1 ECX value depends on the virtual CPU model):
;         leaf 1 ecx: 0xc5fa2209
;         VMX (ecx bit 5): 0
;         hypervisor (ecx bit 31): 1
;         leaf 0x40000000 eax: 0x40000001
;         signature: vtxvtxvtxvtx
;         leaf 0x40000001 eax: 0x00000000

        bits 16
        org 0x7c00

COM1    equ 0x3f8

start:
        mov eax, 1                      ; leaf in EAX, subleaf in ECX
        xor ecx, ecx
        cpuid                           ; VM exit (CPUID), answered by the hypervisor
        mov [leaf1_ecx], ecx
        mov si, msg_ecx
        call puts
        mov eax, [leaf1_ecx]
        call hex32
        call newline

        mov si, msg_vmx
        call puts
        mov eax, [leaf1_ecx]
        shr eax, 5
        call bit
        mov si, msg_hv
        call puts
        mov eax, [leaf1_ecx]
        shr eax, 31
        call bit

        mov eax, 0x40000000
        xor ecx, ecx
        cpuid
        mov [signature], ebx            ; 12 ASCII bytes in EBX, ECX, EDX order
        mov [signature + 4], ecx
        mov [signature + 8], edx
        mov si, msg_max
        call puts
        call hex32
        call newline
        mov si, msg_sig
        call puts
        mov si, signature
        call puts
        call newline

        mov eax, 0x40000001
        xor ecx, ecx
        cpuid
        mov si, msg_features
        call puts
        call hex32
        call newline

        mov dx, 0x604
        mov ax, 0x2000
        out dx, ax                      ; power off -> SystemDown
        hlt

bit:                                    ; print '0' or '1' (bit 0 of EAX) and a newline
        and al, 1
        add al, '0'
        call putc
newline:
        mov al, 10
putc:                                   ; print AL
        push dx
        mov dx, COM1
        out dx, al
        pop dx
        ret

puts:                                   ; print the zero-terminated text at DS:SI
        push ax                         ; (keeps EAX: LODSB loads AL)
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

msg_ecx:        db "leaf 1 ecx: ", 0
msg_vmx:        db "VMX (ecx bit 5): ", 0
msg_hv:         db "hypervisor (ecx bit 31): ", 0
msg_max:        db "leaf 0x40000000 eax: ", 0
msg_sig:        db "signature: ", 0
msg_features:   db "leaf 0x40000001 eax: ", 0
        align 4
leaf1_ecx:      dd 0
signature:      times 12 db 0
                db 0
