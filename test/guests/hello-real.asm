; Real-mode guest (flat binary at 0x7c00, CS:IP = 0:7c00): prints on COM1, checks a few
; real-mode facts itself (segment arithmetic, 16-bit wrap) and powers off.
[bits 16]
[org 0x7c00]
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov si, hello
    call puts
    ; Segment arithmetic: 0x1000:0x0010 is linear 0x10010.
    mov byte [0x0010], 0            ; (DS = 0) linear 0x10 is not the target
    mov ax, 0x1000
    mov es, ax
    mov byte [es:0x0010], 0x5a
    mov al, [es:0x0010]
    cmp al, 0x5a
    jne fail
    mov bx, 0x10010 & 0xffff
    mov ax, 0x1000
    mov ds, ax
    cmp byte [bx - 0], 0x5a         ; DS = 0x1000, offset 0x10 -> linear 0x10010
    jne fail
    xor ax, ax
    mov ds, ax
    ; 16-bit arithmetic wraps.
    mov ax, 0xffff
    add ax, 2
    jnc fail
    cmp ax, 1
    jne fail
    mov si, pass
    call puts
    jmp poweroff
fail:
    xor ax, ax
    mov ds, ax
    mov si, failed
    call puts
    jmp fail_exit

%include "serial.inc"

hello:  db "hello from real mode", 10, 0
pass:   db "PASS hello-real", 10, 0
failed: db "FAIL hello-real", 10, 0
