; fib16.asm — 16-bit real mode, loaded at 0x7c00 like a boot sector: the 24th Fibonacci
; number with a loop over 16-bit registers, stored through DS, then halt.
; Build:  nasm -f bin -o fib16.bin fib16.asm
; Run:    vtx run examples/fib16.bin --mode real
; Result: AX = 46368 (0xb520), the word at "result" (0x7c1d) holds the same; the stop
;         reason is "hlt" with CS:IP = 0000:7c1d, just after the HLT.

        bits 16
        org 0x7c00              ; vtx's default load address in real mode (CS:IP = 0:7c00)

start:
        xor ax, ax              ; F(0)
        mov bx, 1               ; F(1)
        mov cx, 24
.next:
        mov dx, ax
        add dx, bx              ; F(n+1) = F(n) + F(n-1)
        mov ax, bx
        mov bx, dx
        dec cx
        jnz .next
        mov [result], ax        ; DS = 0, so this is linear 0x7c00 + offset
        cmp ax, [result]
        jne start               ; never taken: the store and the load agree
        hlt

result: dw 0
