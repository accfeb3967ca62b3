; fault32.asm — 32-bit protected mode: do some work, then hit UD2. There is no IDT delivery
; yet, so vtx stops and reports the exception: vector 6 (#UD), no error code, the faulting
; EIP, its bytes (0f 0b) and its disassembly.
; Build:  nasm -f bin -o fault32.bin fault32.asm
; Run:    vtx run examples/fault32.bin --mode protected
; Result: stop reason "exception", EAX = 0x12345678, EBX = 0x2a, EIP at the UD2.

        bits 32
        org 0x1000

start:
        mov eax, 0x12345678
        mov ebx, 40
        add ebx, 2
        ud2                     ; invalid opcode: #UD
        hlt                     ; not reached
