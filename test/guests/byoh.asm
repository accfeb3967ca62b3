; byoh.asm — "bring your own hypervisor": a small VT-x hypervisor in assembly, run by vtx in bare
; VT-x mode (`vtx run --hypervisor none`, flat binary, long mode at 0x1000). It does what a 64-bit
; hypervisor does on a real Intel machine (SDM vol. 3C chapters 23-30):
;   - finds VMX in CPUID.1:ECX[5], checks IA32_FEATURE_CONTROL (lock, VMXON outside SMX; locks it
;     itself if firmware did not), sets the CR0/CR4 bits VMX operation fixes (IA32_VMX_CR0/CR4_FIXED0/1);
;   - VMXON with the revision identifier of IA32_VMX_BASIC, VMCLEAR, VMPTRLD, VMPTRST;
;   - builds a VMCS: controls adjusted to the capability MSRs, EPT identity map of 0-8 MiB with
;     2 MiB pages, an I/O bitmap intercepting port 0x80, an MSR bitmap intercepting RDMSR of
;     IA32_FEATURE_CONTROL (0x3a), HLT exiting; host and guest state of a 64-bit processor;
;   - VMLAUNCHes an L2 guest that executes CPUID, OUT 0x80, RDMSR 0x3a, reads the unmapped GPA
;     0x800000 (EPT violation: the handler maps it and INVEPTs) and HLT; each exit is printed on
;     COM1 with its exit reason and qualification, then the handler advances the guest's RIP by
;     the VM-exit instruction length and VMRESUMEs;
;   - resumes L2 with a VMX-preemption timer of 0 (an exit before its first instruction);
;   - breaks the VMCS once for each class of VM-entry check and prints what the processor reports:
;     VMfailValid 7 (controls, §26.2.1), 8 (host state, §26.2.2-26.2.4), VM exits 0x80000021
;     (guest state, §26.3.1) and 0x80000022 (MSR loading, §26.4), and the VMLAUNCH/VMRESUME
;     launch-state rules (VMfailValid 4 and 5, VMfailInvalid without a current VMCS);
;   - VMCALL in VMX root operation, VMXOFF, then the ACPI power-off (word 0x2000 to port 0x604).
; test/guests/byoh.test.ts compares the serial output with text derived from the SDM.
[bits 64]
[org 0x1000]

COM1        equ 0x3f8
; Memory (all below 8 MiB, the part of guest-physical memory the EPT maps from the start).
PML4        equ 0x10000         ; paging of L1 and L2: 1 GiB identity map with 2 MiB pages
PDPT        equ 0x11000
PD          equ 0x12000
VMXON_R     equ 0x13000         ; VMXON region
VMCS_R      equ 0x14000         ; VMCS region
IO_A        equ 0x15000         ; I/O bitmap A (ports 0-0x7fff)
IO_B        equ 0x16000         ; I/O bitmap B
MSR_BM      equ 0x17000         ; MSR bitmaps (read low at +0)
EPT_PML4    equ 0x18000
EPT_PDPT    equ 0x19000
EPT_PD      equ 0x1a000
MSR_AREA    equ 0x1b000         ; VM-entry MSR-load area (one entry)
L2_STACK    equ 0x1e000
L1_STACK    equ 0x20000
UNMAPPED    equ 0x800000        ; the first guest-physical address the EPT does not map
EPTP        equ EPT_PML4 | (3 << 3) | 6   ; 4-level walk, write-back (§24.6.11)
EPT_2M      equ 0x80 | (6 << 3) | 7       ; 2 MiB page, WB, read/write/execute (§28.3.2)

; VMCS field encodings (SDM vol. 3C appendix B)
G_ES_SEL    equ 0x0800
G_CS_SEL    equ 0x0802
G_SS_SEL    equ 0x0804
G_DS_SEL    equ 0x0806
G_FS_SEL    equ 0x0808
G_GS_SEL    equ 0x080a
G_LDTR_SEL  equ 0x080c
G_TR_SEL    equ 0x080e
H_ES_SEL    equ 0x0c00
H_CS_SEL    equ 0x0c02
H_SS_SEL    equ 0x0c04
H_DS_SEL    equ 0x0c06
H_FS_SEL    equ 0x0c08
H_GS_SEL    equ 0x0c0a
H_TR_SEL    equ 0x0c0c
IO_BITMAP_A equ 0x2000
IO_BITMAP_B equ 0x2002
MSR_BITMAPS equ 0x2004
ENTRY_MSR_LOAD_ADDR equ 0x200a
EPT_POINTER equ 0x201a
GUEST_PHYS  equ 0x2400
LINK_PTR    equ 0x2800
G_DEBUGCTL  equ 0x2802
PIN_CTLS    equ 0x4000
PROC_CTLS   equ 0x4002
EXC_BITMAP  equ 0x4004
EXIT_CTLS   equ 0x400c
ENTRY_CTLS  equ 0x4012
ENTRY_MSR_LOAD_COUNT equ 0x4014
PROC_CTLS2  equ 0x401e
INSN_ERROR  equ 0x4400
EXIT_REASON equ 0x4402
EXIT_LEN    equ 0x440c
G_ES_LIMIT  equ 0x4800          ; ES, CS, SS, DS, FS, GS, LDTR, TR, GDTR, IDTR limits: +2 each
G_ES_AR     equ 0x4814          ; ES, CS, SS, DS, FS, GS, LDTR, TR access rights: +2 each
G_INTERRUPTIBILITY equ 0x4824
G_ACTIVITY  equ 0x4826
G_SYSENTER_CS equ 0x482a
PREEMPT_TIMER equ 0x482e
H_SYSENTER_CS equ 0x4c00
EXIT_QUAL   equ 0x6400
G_CR0       equ 0x6800
G_CR3       equ 0x6802
G_CR4       equ 0x6804
G_ES_BASE   equ 0x6806          ; ES, CS, SS, DS, FS, GS, LDTR, TR, GDTR, IDTR bases: +2 each
G_DR7       equ 0x681a
G_RSP       equ 0x681c
G_RIP       equ 0x681e
G_RFLAGS    equ 0x6820
G_PENDING_DBG equ 0x6822
G_SYSENTER_ESP equ 0x6824
G_SYSENTER_EIP equ 0x6826
H_CR0       equ 0x6c00
H_CR3       equ 0x6c02
H_CR4       equ 0x6c04
H_FS_BASE   equ 0x6c06
H_GS_BASE   equ 0x6c08
H_TR_BASE   equ 0x6c0a
H_GDTR_BASE equ 0x6c0c
H_IDTR_BASE equ 0x6c0e
H_SYSENTER_ESP equ 0x6c10
H_SYSENTER_EIP equ 0x6c12
H_RSP       equ 0x6c14
H_RIP       equ 0x6c16

%macro VMW 2                    ; VMWRITE field %1 := %2 (stops on VMfail)
    mov edi, %1
    mov rsi, %2
    call do_vmwrite
%endmacro
%macro VMR 1                    ; rax := VMREAD field %1 (stops on VMfail)
    mov edi, %1
    call do_vmread
%endmacro
%macro SAY 1                    ; print the string at label %1
    lea rsi, [%1]
    call puts
%endmacro
%macro STATUS 1                 ; print the string at label %1, then the outcome of the last VMX instruction
    lea rsi, [%1]               ; (LEA and CALL leave RFLAGS alone)
    call print_status
%endmacro

start:
    cli
    mov rsp, L1_STACK
    ; Our own GDT (code 0x08, data 0x10, 64-bit TSS 0x18) and TSS: the host state needs a TR.
    mov eax, tss
    mov [gdt_tss + 2], ax
    shr eax, 16
    mov [gdt_tss + 4], al
    lgdt [gdtr]
    push 0x08
    lea rax, [.reload]
    push rax
    db 0x48, 0xcb               ; retfq (REX.W far return: pops RIP, then CS)
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov ax, 0x18
    ltr ax
    ; Our own page tables: 1 GiB identity map with 2 MiB pages (L1 and L2 share them).
    mov edi, PML4
    mov ecx, 0x20000 / 8        ; clear 0x10000-0x2ffff: tables, VMX regions, bitmaps, stacks
    xor eax, eax
    rep stosq
    mov qword [PML4], PDPT | 3
    mov qword [PDPT], PD | 3
    xor ecx, ecx
.pd:
    mov rax, rcx
    shl rax, 21
    or rax, 0x83
    mov [PD + rcx * 8], rax
    inc ecx
    cmp ecx, 512
    jne .pd
    mov eax, PML4
    mov cr3, rax

    ; ---- VMX support (SDM vol. 3C §23.6-23.8) ----
    mov eax, 1
    cpuid
    bt ecx, 5                   ; CPUID.1:ECX.VMX
    jnc no_vmx
    SAY m_cpuid
    mov ecx, 0x3a               ; IA32_FEATURE_CONTROL
    rdmsr
    test al, 1
    jnz .locked
    or eax, 5                   ; lock, enable VMXON outside SMX
    wrmsr
.locked:
    test al, 4
    jz no_vmx
    SAY m_fc
    ; CR0 and CR4: bits 1 in FIXED0 must be 1, bits 0 in FIXED1 must be 0 (§23.8)
    mov ecx, 0x486
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov rbx, cr0
    or rbx, rax
    mov ecx, 0x487
    rdmsr
    shl rdx, 32
    or rax, rdx
    and rbx, rax
    mov cr0, rbx
    mov ecx, 0x488
    rdmsr
    shl rdx, 32
    or rax, rdx
    mov rbx, cr4
    or rbx, rax
    mov ecx, 0x489
    rdmsr
    shl rdx, 32
    or rax, rdx
    and rbx, rax
    mov cr4, rbx                ; CR4.VMXE is in FIXED0
    ; VMXON and VMCS regions start with the revision identifier (IA32_VMX_BASIC[30:0], §24.2)
    mov ecx, 0x480
    rdmsr
    and eax, 0x7fffffff
    mov [VMXON_R], eax
    mov [VMCS_R], eax
    vmxon [vmxon_ptr]
    STATUS m_vmxon
    vmclear [vmcs_ptr]
    STATUS m_vmclear
    vmptrld [vmcs_ptr]
    STATUS m_vmptrld
    vmptrst [scratch]
    SAY m_vmptrst
    mov rax, [scratch]
    mov cl, 16
    call puthex
    SAY m_nl
    ; The instructions' own rules (§30.3): now that a VMCS is current, failures are VMfailValid.
    vmxon [vmxon_ptr]
    STATUS m_vmxon_again
    vmptrld [vmxon_ptr]
    STATUS m_vmptrld_vmxon

    ; ---- the VMCS ----
    call setup_vmcs
    SAY m_launch
    vmlaunch
    ; Only a VMfail comes back here; a successful entry continues in L2, its exits at exit_handler.
    STATUS m_launch_failed
    jmp poweroff

; ---- the exit handler: HOST_RIP ---------------------------------------------------------------
exit_handler:
    ; A VM exit saves and loads RIP, RSP, RFLAGS, control and segment registers (§27.3, §27.5), not
    ; the general registers: a hypervisor saves the guest's here. This one's guest needs none kept.
    VMR EXIT_REASON
    mov r12, rax
    VMR EXIT_QUAL
    mov r13, rax
    SAY m_exit
    mov rax, r12
    mov cl, 8
    call puthex
    SAY m_qual
    mov rax, r13
    mov cl, 16
    call puthex
    bt r12d, 31                 ; a VM-entry failure (§26.8): back to the test that caused it
    jc .continue
    cmp r12d, 52                ; the VMX-preemption timer: back to the test that armed it
    je .continue
    cmp r12d, 48
    je .ept_violation
    SAY m_nl
    cmp r12d, 12
    je .hlt
    cmp r12d, 10                ; CPUID
    je .skip
    cmp r12d, 30                ; I/O instruction
    je .skip
    cmp r12d, 31                ; RDMSR
    je .skip
    SAY m_unexpected
    jmp poweroff
.continue:
    SAY m_nl
    jmp qword [after_failure]
.ept_violation:
    ; Map the 2 MiB page of the faulting GPA, flush the EPT's cached translations and retry.
    SAY m_gpa
    VMR GUEST_PHYS
    mov rbx, rax
    mov cl, 16
    call puthex
    SAY m_nl
    shr rbx, 21
    mov rax, rbx
    shl rax, 21
    or rax, EPT_2M
    mov [EPT_PD + rbx * 8], rax
    mov eax, 1                  ; single-context
    invept rax, [invept_desc]
    jmp .resume
.skip:
    ; The exiting instruction is done (emulated or dropped): continue after it.
    VMR G_RIP
    mov rbx, rax
    VMR EXIT_LEN
    add rbx, rax
    VMW G_RIP, rbx
.resume:
    vmresume
    STATUS m_resume_failed
    jmp poweroff
.hlt:
    SAY m_l2_done
    ; §25.5.1: a VMX-preemption timer of 0 at VM entry expires before the guest's first instruction.
    SAY m_timer
    VMR PIN_CTLS
    bts rax, 6                  ; activate VMX-preemption timer
    VMW PIN_CTLS, rax
    VMW PREEMPT_TIMER, 0
    mov qword [after_failure], .timer_done
    vmresume
    STATUS m_resume_failed
    jmp poweroff
.timer_done:
    VMR PIN_CTLS
    btr rax, 6
    VMW PIN_CTLS, rax
    jmp entry_checks

; ---- one broken VMCS for each class of VM-entry check ----------------------------------------
entry_checks:
    ; §26.2.1: a control bit the capability MSR does not allow to be 1 (IA32_VMX_PINBASED_CTLS
    ; bits 63:32 are the allowed-1 settings): VMfailValid(7).
    mov ecx, 0x481
    rdmsr
    not edx
    bsf ecx, edx                ; lowest pin-based control that must be 0
    VMR PIN_CTLS
    mov r14, rax
    bts rax, rcx
    VMW PIN_CTLS, rax
    vmresume
    STATUS m_bad_pin
    VMW PIN_CTLS, r14
    ; §26.2.2: host CR4 without VMXE (a bit IA32_VMX_CR4_FIXED0 fixes to 1): VMfailValid(8).
    VMR H_CR4
    mov r14, rax
    btr rax, 13
    VMW H_CR4, rax
    vmresume
    STATUS m_bad_host_cr4
    VMW H_CR4, r14
    ; §26.2.3: host TR selector 0: VMfailValid(8).
    VMW H_TR_SEL, 0
    vmresume
    STATUS m_bad_host_tr
    VMW H_TR_SEL, 0x18
    ; §26.2.4: "host address-space size" 0 while the processor is in IA-32e mode: VMfailValid(8).
    VMR EXIT_CTLS
    mov r14, rax
    btr rax, 9
    VMW EXIT_CTLS, rax
    vmresume
    STATUS m_bad_host_size
    VMW EXIT_CTLS, r14
    ; §26.3.1.4: guest RFLAGS bit 1 (reserved, must be 1) clear: VM exit 0x80000021.
    SAY m_bad_guest_rflags
    VMW G_RFLAGS, 0
    mov qword [after_failure], .msr_load
    vmresume
    STATUS m_no_exit
    jmp poweroff
.msr_load:
    VMW G_RFLAGS, 2
    ; §26.4: a VM-entry MSR-load entry for IA32_FS_BASE (C0000100H may not be loaded this way):
    ; VM exit 0x80000022, qualification = the entry's number (1).
    SAY m_bad_msr_load
    mov dword [MSR_AREA], 0xc0000100
    VMW ENTRY_MSR_LOAD_ADDR, MSR_AREA
    VMW ENTRY_MSR_LOAD_COUNT, 1
    mov qword [after_failure], .launch_state
    vmresume
    STATUS m_no_exit
    jmp poweroff
.launch_state:
    VMW ENTRY_MSR_LOAD_COUNT, 0
    ; §30.3 VMLAUNCH: the VMCS is launched: VMfailValid(4).
    vmlaunch
    STATUS m_launch_launched
    ; VMCLEAR makes the launch state clear and, this VMCS being current, leaves no current VMCS.
    vmclear [vmcs_ptr]
    vmlaunch
    STATUS m_launch_none
    ; Current again, launch state clear: VMRESUME is VMfailValid(5).
    vmptrld [vmcs_ptr]
    vmresume
    STATUS m_resume_clear
    ; VMCALL in VMX root operation (§30.3 VMCALL; no dual-monitor treatment of SMM): VMfailValid(1).
    vmcall
    STATUS m_vmcall
    vmxoff
    STATUS m_vmxoff
    jmp poweroff

; ---- the VMCS of the L2 guest -----------------------------------------------------------------
setup_vmcs:
    ; Controls: what we want, adjusted to the capability MSRs (bits 31:0 must-be-1, 63:32 may-be-1, §A.3-A.5).
    mov esi, 0
    mov ecx, 0x481
    call adjust
    VMW PIN_CTLS, rax
    mov esi, (1 << 7) | (1 << 25) | (1 << 28) | (1 << 31) ; HLT exiting, I/O bitmaps, MSR bitmaps, secondary controls
    mov ecx, 0x482
    call adjust
    VMW PROC_CTLS, rax
    mov esi, 1 << 1             ; enable EPT
    mov ecx, 0x48b
    call adjust
    VMW PROC_CTLS2, rax
    mov esi, 1 << 9             ; host address-space size (64-bit host)
    mov ecx, 0x483
    call adjust
    VMW EXIT_CTLS, rax
    mov esi, 1 << 9             ; IA-32e mode guest
    mov ecx, 0x484
    call adjust
    VMW ENTRY_CTLS, rax
    VMW EXC_BITMAP, 0
    ; I/O bitmap: port 0x80 (bit 0x80 of bitmap A); MSR bitmap: RDMSR of 0x3a (read-low bitmap, bit 0x3a).
    or byte [IO_A + 0x80 / 8], 1 << (0x80 % 8)
    or byte [MSR_BM + 0x3a / 8], 1 << (0x3a % 8)
    VMW IO_BITMAP_A, IO_A
    VMW IO_BITMAP_B, IO_B
    VMW MSR_BITMAPS, MSR_BM
    ; EPT: identity map of 0-8 MiB (2 MiB pages); 0x800000 and above not mapped yet.
    mov qword [EPT_PML4], EPT_PDPT | 7
    mov qword [EPT_PDPT], EPT_PD | 7
    xor ecx, ecx
.ept:
    mov rax, rcx
    shl rax, 21
    or rax, EPT_2M
    mov [EPT_PD + rcx * 8], rax
    inc ecx
    cmp ecx, 4
    jne .ept
    VMW EPT_POINTER, EPTP
    VMW LINK_PTR, -1
    ; Host state: this processor as it is now (§24.5).
    mov rax, cr0
    VMW H_CR0, rax
    mov rax, cr3
    VMW H_CR3, rax
    mov rax, cr4
    VMW H_CR4, rax
    VMW H_CS_SEL, 0x08
    VMW H_SS_SEL, 0x10
    VMW H_DS_SEL, 0x10
    VMW H_ES_SEL, 0x10
    VMW H_FS_SEL, 0x10
    VMW H_GS_SEL, 0x10
    VMW H_TR_SEL, 0x18
    VMW H_FS_BASE, 0
    VMW H_GS_BASE, 0
    VMW H_TR_BASE, tss
    VMW H_GDTR_BASE, gdt
    VMW H_IDTR_BASE, 0
    VMW H_SYSENTER_CS, 0
    VMW H_SYSENTER_ESP, 0
    VMW H_SYSENTER_EIP, 0
    VMW H_RSP, L1_STACK
    VMW H_RIP, exit_handler
    ; Guest state: a 64-bit guest on the same page tables (§24.4).
    mov rax, cr0
    VMW G_CR0, rax
    mov rax, cr3
    VMW G_CR3, rax
    mov rax, cr4
    VMW G_CR4, rax
    VMW G_DR7, 0x400
    VMW G_DEBUGCTL, 0
    VMW G_RSP, L2_STACK
    VMW G_RIP, l2_entry
    VMW G_RFLAGS, 2
    VMW G_ES_SEL, 0x10
    VMW G_CS_SEL, 0x08
    VMW G_SS_SEL, 0x10
    VMW G_DS_SEL, 0x10
    VMW G_FS_SEL, 0x10
    VMW G_GS_SEL, 0x10
    VMW G_LDTR_SEL, 0
    VMW G_TR_SEL, 0x18
    xor ebx, ebx                ; ES, CS, SS, DS, FS, GS: base 0, limit 4 GiB
.seg:
    lea edi, [rbx + rbx + G_ES_BASE]
    xor esi, esi
    call do_vmwrite
    lea edi, [rbx + rbx + G_ES_LIMIT]
    mov esi, 0xffffffff
    call do_vmwrite
    lea edi, [rbx + rbx + G_ES_AR]
    mov esi, 0xc093             ; data: read/write, accessed, present, 32-bit, 4 KiB granularity
    cmp ebx, 1
    jne .ar
    mov esi, 0xa09b             ; code: execute/read, accessed, present, 64-bit (L), 4 KiB granularity
.ar:
    call do_vmwrite
    inc ebx
    cmp ebx, 6
    jne .seg
    VMW G_ES_BASE + 12, 0       ; LDTR: unusable
    VMW G_ES_LIMIT + 12, 0
    VMW G_ES_AR + 12, 0x10000
    VMW G_ES_BASE + 14, tss     ; TR: busy 64-bit TSS
    VMW G_ES_LIMIT + 14, 0x67
    VMW G_ES_AR + 14, 0x8b
    VMW G_ES_BASE + 16, gdt     ; GDTR
    VMW G_ES_LIMIT + 16, gdt_end - gdt - 1
    VMW G_ES_BASE + 18, 0       ; IDTR
    VMW G_ES_LIMIT + 18, 0xffff
    VMW G_INTERRUPTIBILITY, 0
    VMW G_ACTIVITY, 0
    VMW G_PENDING_DBG, 0
    VMW G_SYSENTER_CS, 0
    VMW G_SYSENTER_ESP, 0
    VMW G_SYSENTER_EIP, 0
    ret

; eax := (esi | must-be-1 bits) & may-be-1 bits of capability MSR ecx
adjust:
    rdmsr
    or eax, esi
    and eax, edx
    ret

; ---- the L2 guest ---------------------------------------------------------------------------------
l2_entry:
    xor eax, eax
    cpuid                       ; exit 10 (always)
    mov al, 0x42
    out 0x80, al                ; exit 30 (I/O bitmap A, bit 0x80)
    mov ecx, 0x3a
    rdmsr                       ; exit 31 (MSR bitmap, read-low bit 0x3a)
    mov rax, [UNMAPPED]         ; exit 48 (EPT violation), then again after the handler mapped it
    hlt                         ; exit 12 (HLT exiting)
    jmp l2_entry

; ---- helpers -------------------------------------------------------------------------------------
do_vmwrite:
    vmwrite rdi, rsi
    jbe vmx_failed
    ret
do_vmread:
    vmread rax, rdi
    jbe vmx_failed
    ret
vmx_failed:
    SAY m_vmx_failed
    mov rax, rdi
    mov cl, 4
    call puthex
    SAY m_nl
    jmp poweroff

; Print the string at rsi, then the outcome of the VMX instruction just executed, from RFLAGS as it
; left them (§30.2): VMsucceed (CF = ZF = 0), VMfailInvalid (CF = 1), VMfailValid (ZF = 1) with the
; VM-instruction error field (§30.4).
print_status:
    pushfq
    pop rbx
    call puts
    test bl, 1
    jnz .invalid
    test bl, 0x40
    jnz .valid
    SAY m_succeed
    ret
.invalid:
    SAY m_fail_invalid
    ret
.valid:
    SAY m_fail_valid
    mov edi, INSN_ERROR
    vmread rax, rdi
    mov cl, 2
    call puthex
    SAY m_nl
    ret

no_vmx:
    SAY m_no_vmx
    jmp poweroff

puts:                           ; the NUL-terminated string at rsi
    push rax
    push rdx
    mov dx, COM1
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    pop rdx
    pop rax
    ret

puthex:                         ; the low cl hex digits of rax
    push rax
    push rbx
    push rcx
    push rdx
    mov rbx, rax
    mov dx, COM1
    movzx ecx, cl
.digit:
    dec ecx
    mov rax, rbx
    push rcx
    shl ecx, 2
    shr rax, cl
    pop rcx
    and al, 0xf
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '0' - 10
.out:
    out dx, al
    test ecx, ecx
    jnz .digit
    pop rdx
    pop rcx
    pop rbx
    pop rax
    ret

poweroff:
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
.halt:
    hlt
    jmp .halt

; ---- data ------------------------------------------------------------------------------------------
align 8
vmxon_ptr:   dq VMXON_R
vmcs_ptr:    dq VMCS_R
scratch:     dq 0
after_failure: dq 0
invept_desc: dq EPTP, 0
gdtr:        dw gdt_end - gdt - 1
             dq gdt
align 16
gdt:         dq 0
             dq 0x00af9b000000ffff  ; 0x08: 64-bit code
             dq 0x00cf93000000ffff  ; 0x10: data
gdt_tss:     dq 0x0000890000000067  ; 0x18: 64-bit TSS (base filled in at start), 16 bytes
             dq 0
gdt_end:
tss:         times 104 db 0

m_cpuid:        db 'CPUID.1:ECX.VMX = 1', 10, 0
m_fc:           db 'IA32_FEATURE_CONTROL: locked, VMXON outside SMX enabled', 10, 0
m_vmxon:        db 'VMXON: ', 0
m_vmclear:      db 'VMCLEAR: ', 0
m_vmptrld:      db 'VMPTRLD: ', 0
m_vmptrst:      db 'VMPTRST: 0x', 0
m_vmxon_again:  db 'VMXON in VMX root operation: ', 0
m_vmptrld_vmxon: db 'VMPTRLD of the VMXON region: ', 0
m_launch:       db 'VMLAUNCH', 10, 0
m_launch_failed: db 'VMLAUNCH failed: ', 0
m_exit:         db 'exit reason 0x', 0
m_qual:         db ' qualification 0x', 0
m_gpa:          db ' guest-physical 0x', 0
m_l2_done:      db 'L2 halted', 10, 0
m_timer:        db 'VMRESUME, preemption timer 0: ', 0
m_unexpected:   db 'unexpected exit', 10, 0
m_resume_failed: db 'VMRESUME failed: ', 0
m_bad_pin:      db 'VMRESUME, pin-based control not allowed: ', 0
m_bad_host_cr4: db 'VMRESUME, host CR4.VMXE = 0: ', 0
m_bad_host_tr:  db 'VMRESUME, host TR selector 0: ', 0
m_bad_host_size: db 'VMRESUME, host address-space size 0 in IA-32e mode: ', 0
m_bad_guest_rflags: db 'VMRESUME, guest RFLAGS bit 1 clear: ', 0
m_bad_msr_load: db 'VMRESUME, VM-entry MSR-load of IA32_FS_BASE: ', 0
m_no_exit:      db 'no VM exit: ', 0
m_launch_launched: db 'VMLAUNCH of a launched VMCS: ', 0
m_launch_none:  db 'VMLAUNCH without a current VMCS: ', 0
m_resume_clear: db 'VMRESUME of a clear VMCS: ', 0
m_vmcall:       db 'VMCALL in VMX root operation: ', 0
m_vmxoff:       db 'VMXOFF: ', 0
m_succeed:      db 'VMsucceed', 10, 0
m_fail_invalid: db 'VMfailInvalid', 10, 0
m_fail_valid:   db 'VMfailValid, error 0x', 0
m_vmx_failed:   db 'VMREAD/VMWRITE failed for field 0x', 0
m_no_vmx:       db 'no VMX', 10, 0
m_nl:           db 10, 0
