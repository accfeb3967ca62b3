; sum64.asm — 64-bit long mode: add up 1..1000 with a counting loop, then halt.
; Build:  nasm -f bin -o sum64.bin sum64.asm
; Run:    vtx run examples/sum64.bin
; Result: RAX = 500500 (0x7a314), RCX = 0; the stop reason is "hlt".

        bits 64
        org 0x1000              ; vtx's default load address outside real mode

start:
        xor eax, eax            ; sum = 0 (a 32-bit write clears the upper half)
        mov ecx, 1000           ; n = 1000
.loop:
        add rax, rcx            ; sum += n
        dec rcx
        jnz .loop               ; until n == 0
        mov [result], rax       ; keep it in memory too
        hlt

result: dq 0
