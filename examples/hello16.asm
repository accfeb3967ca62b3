; hello16.asm — hello in real mode, then the QEMU power-off.
;
; What it teaches: the smallest guest that talks to the outside world. It starts in 16-bit
; real mode at 0000:7c00 (like a boot sector), writes a line to the COM1 serial port (a 16550
; UART at I/O port 0x3f8, waiting for "transmit holding register empty", bit 5 of the line
; status register at 0x3fd, before each byte), then powers the machine off the way QEMU's
; ACPI does: a word OUT of 0x2000 to port 0x604.
;
; Under the built-in hypervisor the serial ports belong to the guest (no VM exit), while port
; 0x604 is in the I/O bitmap: that OUT is the guest's only VM exit (IO_INSTRUCTION), and the
; hypervisor turns it into SystemDown.
;
; Run:    vtx run examples/hello16.asm --trace-exits
;         vtx run examples/hello16.asm --json     (stopReason "SystemDown", serial below)
; Build:  nasm -f bin -o examples/hello16.bin examples/hello16.asm
;         (or vtx asm examples/hello16.asm -o examples/hello16.bin; run the .bin with --mode real)
; Serial: hello from a VMX guest

        bits 16
        org 0x7c00              ; vtx's default load address in real mode (CS:IP = 0:7c00)

COM1    equ 0x3f8               ; transmit holding register (write)
LSR     equ COM1 + 5            ; line status register: bit 5 = ready for the next byte

start:
        mov si, message
.next:
        lodsb                   ; AL = [DS:SI], SI += 1 (DS = 0)
        test al, al
        jz .off                 ; the text ends with a zero byte
        mov bl, al
        mov dx, LSR
.wait:
        in al, dx
        test al, 0x20
        jz .wait
        mov al, bl
        mov dx, COM1
        out dx, al
        jmp .next

.off:
        mov dx, 0x604           ; QEMU's ACPI PM1a control port
        mov ax, 0x2000          ; SLP_EN with sleep type 0: power off
        out dx, ax              ; VM exit (IO_INSTRUCTION) -> SystemDown
        hlt                     ; not reached

message:
        db "hello from a VMX guest", 10, 0
