; longmode.asm — the climb from real mode to 64-bit long mode, one stage at a time.
;
; What it teaches: the steps every x86-64 boot loader takes (SDM vol. 3A §9.9 and §10.8.5),
; and which of them the hypervisor sees.
;   1. real mode: load a GDT (LGDT) with a 32-bit and a 64-bit code segment and a data segment;
;   2. protected mode: CR0.PE = 1, then a far jump into the 32-bit code segment;
;   3. identity-map the first 2 MiB with 4-level page tables (one 2 MiB page), CR3 = the PML4;
;   4. CR4.PAE = 1; EFER.LME = 1 (WRMSR to IA32_EFER, MSR 0xc0000080);
;   5. CR0.PG = 1: the processor activates IA-32e mode (EFER.LMA = 1), then a far jump into
;      the 64-bit code segment.
; It prints a line at each stage, then powers off (word 0x2000 to port 0x604).
;
; Under the built-in hypervisor the CR0 bits the processor pins in VMX operation (NE, and CD/NW
; which the hypervisor keeps clear) are owned by the hypervisor: a MOV to CR0 that changes one of
; them exits (CR_ACCESS) and the hypervisor checks and completes it — including turning on
; EFER.LMA and the "IA-32e mode guest" entry control when CR0.PG goes on with EFER.LME and
; CR4.PAE. This guest writes whole CR0 values (PE and ET; then PG, NE, ET, PE) so both writes
; clear CD/NW or set NE and exit. CR4.PAE is the guest's own bit (it is not in the CR4
; guest/host mask, only VMXE is): that MOV to CR4 does not exit. IA32_EFER is not in the MSR
; bitmap either; add `--intercept-msr 0xc0000080` to see the WRMSR exit too.
;
; Run:    vtx run examples/longmode.asm --trace-exits
; Build:  nasm -f bin -o examples/longmode.bin examples/longmode.asm
; Serial: real mode
;         protected mode
;         paging tables ready, CR4.PAE and EFER.LME set
;         long mode

        bits 16
        org 0x7c00

COM1    equ 0x3f8
PML4    equ 0x10000             ; page tables: PML4, PDPT, PD, one 4 KiB page each
PDPT    equ 0x11000
PD      equ 0x12000

start:
        cli
        mov si, msg_real
        call puts16
        lgdt [gdt_ptr]
        mov eax, 0x11           ; CR0 = PE | ET (CD and NW clear: caches on) -> CR_ACCESS exit
        mov cr0, eax
        jmp CODE32:pm32         ; far jump: CS = the 32-bit code segment

puts16:                         ; print the zero-terminated text at DS:SI
        lodsb
        test al, al
        jz .done
        mov dx, COM1
        out dx, al
        jmp puts16
.done:
        ret

        bits 32
pm32:
        mov ax, DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x7c00
        mov esi, msg_protected
        call puts32

        ; Page tables: zero 3 pages, then link PML4[0] -> PDPT -> PD, PD[0] = 2 MiB page at 0.
        mov edi, PML4
        xor eax, eax
        mov ecx, 3 * 4096 / 4
        rep stosd
        mov dword [PML4], PDPT | 3      ; present, writable
        mov dword [PDPT], PD | 3
        mov dword [PD], 0x83            ; present, writable, PS (2 MiB page)
        mov eax, PML4
        mov cr3, eax

        mov eax, cr4
        or eax, 1 << 5                  ; CR4.PAE (the guest's own bit: no exit)
        mov cr4, eax
        mov ecx, 0xc0000080             ; IA32_EFER
        rdmsr
        or eax, 1 << 8                  ; EFER.LME
        wrmsr
        mov esi, msg_tables
        call puts32

        mov eax, 0x80000031             ; CR0 = PG | NE | ET | PE -> CR_ACCESS exit (NE changes)
        mov cr0, eax                    ; IA-32e mode is active now (EFER.LMA = 1)
        jmp CODE64:lm64

puts32:                         ; print the zero-terminated text at ESI
        lodsb
        test al, al
        jz .done
        mov dx, COM1
        out dx, al
        jmp puts32
.done:
        ret

        bits 64
lm64:
        mov rsi, msg_long
.next:
        lodsb
        test al, al
        jz .off
        mov dx, COM1
        out dx, al
        jmp .next
.off:
        mov dx, 0x604
        mov ax, 0x2000
        out dx, ax                      ; power off -> SystemDown
        hlt

        align 8
gdt:
        dq 0                            ; null descriptor
        dq 0x00cf9a000000ffff           ; 0x08: 32-bit code, base 0, limit 4 GiB
        dq 0x00af9a000000ffff           ; 0x10: 64-bit code (L = 1)
        dq 0x00cf92000000ffff           ; 0x18: data, base 0, limit 4 GiB
gdt_end:
gdt_ptr:
        dw gdt_end - gdt - 1
        dd gdt

CODE32  equ 0x08
CODE64  equ 0x10
DATA    equ 0x18

msg_real:       db "real mode", 10, 0
msg_protected:  db "protected mode", 10, 0
msg_tables:     db "paging tables ready, CR4.PAE and EFER.LME set", 10, 0
msg_long:       db "long mode", 10, 0
