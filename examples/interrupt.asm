; interrupt.asm — an interrupt injected through the interrupt window.
;
; What it teaches: how a hypervisor delivers an interrupt to a guest that is not ready for it.
; The guest programs the classic PC timer — the 8259 PIC (IRQ 0 -> vector 0x20) and the 8254
; PIT channel 0 (a periodic rate generator) — with interrupts disabled (IF = 0), then spins long
; enough for the PIT to fire. Under the built-in hypervisor (SDM vol. 3C §25.2, §26.7.5):
;   1. the PIT's interrupt reaches the processor while the guest runs: EXTERNAL_INTERRUPT exit
;      (external-interrupt exiting does not care about the guest's IF); the hypervisor takes the
;      vector and queues it;
;   2. the guest has IF = 0, so the hypervisor cannot inject it: it turns on "interrupt-window
;      exiting" and resumes the guest;
;   3. the guest executes STI; after the one instruction of STI blocking the guest can take an
;      interrupt: INTERRUPT_WINDOW exit; the hypervisor injects the queued vector at that VM
;      entry and turns the window off;
;   4. the guest's handler (real-mode vector table entry 0x20) counts it and sends the PIC its
;      end of interrupt (OUT 0x20 to port 0x20).
; The guest then waits (HLT) for two more ticks (these arrive with IF = 1 and are injected at
; once), stops the PIT, prints the handler's count and powers off (word 0x2000 to port 0x604).
;
; Run:    vtx run examples/interrupt.asm --trace-exits
; Build:  nasm -f bin -o examples/interrupt.bin examples/interrupt.asm
; Serial: count before STI: 0
;         count after STI: 1
;         handler count: 3

        bits 16
        org 0x7c00

COM1    equ 0x3f8
PIC1    equ 0x20                ; master 8259: command port; data (mask) port = PIC1 + 1
PIC2    equ 0xa0                ; slave 8259
PIT_CH0 equ 0x40
PIT_CMD equ 0x43
VECTOR  equ 0x20                ; IRQ 0 after the remap below

start:
        cli
        mov word [VECTOR * 4], tick     ; interrupt vector table entry 0x20: offset ...
        mov word [VECTOR * 4 + 2], 0    ; ... and segment

        ; The PICs: ICW1 (edge, cascade, ICW4 follows), ICW2 (vector base), ICW3 (wiring), ICW4
        ; (8086 mode); then mask everything but IRQ 0.
        mov al, 0x11
        out PIC1, al
        out PIC2, al
        mov al, VECTOR
        out PIC1 + 1, al
        mov al, VECTOR + 8
        out PIC2 + 1, al
        mov al, 4                       ; master: slave on IRQ 2
        out PIC1 + 1, al
        mov al, 2                       ; slave: cascade identity 2
        out PIC2 + 1, al
        mov al, 1
        out PIC1 + 1, al
        out PIC2 + 1, al
        mov al, 0xfe                    ; only IRQ 0
        out PIC1 + 1, al
        mov al, 0xff
        out PIC2 + 1, al

        ; PIT channel 0: mode 2 (rate generator), lobyte/hibyte, count 1193 (about 1 ms).
        mov al, 0x34
        out PIT_CMD, al
        mov ax, 1193
        out PIT_CH0, al
        mov al, ah
        out PIT_CH0, al

        ; Spin with IF = 0 for longer than one PIT period: vtx's clock runs one instruction per
        ; nanosecond, so 1 ms is about 1,000,000 instructions; this loop is 2,000,000.
        mov ecx, 1000000
.spin:
        dec ecx
        jnz .spin
        mov si, msg_before
        call puts
        mov al, [count]                 ; nothing yet: IF = 0 held the interrupt back
        call digit

        sti                             ; the interrupt window opens after the next instruction
        nop                             ; (STI blocking) — the injected interrupt arrives here
        cli
        mov si, msg_after
        call puts
        mov al, [count]
        call digit

        sti
.wait:
        hlt                             ; sleep until the next tick
        cmp byte [count], 3
        jb .wait
        cli

        mov al, 0x30                    ; channel 0, mode 0, no count loaded: the PIT stops
        out PIT_CMD, al
        mov al, 0xff
        out PIC1 + 1, al                ; mask IRQ 0
        mov si, msg_count
        call puts
        mov al, [count]
        call digit

        mov dx, 0x604
        mov ax, 0x2000
        out dx, ax                      ; power off -> SystemDown
        hlt

tick:                                   ; IRQ 0 handler (vector 0x20)
        push ax
        inc byte [count]
        mov al, 0x20                    ; non-specific end of interrupt
        out PIC1, al
        pop ax
        iret

digit:                                  ; print AL (0-9) as a digit and a newline
        add al, '0'
        call putc
        mov al, 10
putc:                                   ; print AL
        push dx
        mov dx, COM1
        out dx, al
        pop dx
        ret

puts:                                   ; print the zero-terminated text at DS:SI
        lodsb
        test al, al
        jz .done
        call putc
        jmp puts
.done:
        ret

msg_before:     db "count before STI: ", 0
msg_after:      db "count after STI: ", 0
msg_count:      db "handler count: ", 0
count:          db 0
