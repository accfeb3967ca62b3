; SYSCALL/SYSRET between ring 0 and ring 3 in 64-bit mode (flat binary at 0x1000, started in
; long mode by the vtx loader). Sets EFER.SCE, STAR, LSTAR and FMASK (SDM vol. 2B SYSCALL,
; SYSRET; vol. 3A §5.8.8), makes the loader's identity map user-accessible, loads its own
; GDT with ring-3 segments, SYSRETs to ring 3, and from there makes a "write" system call
; (the kernel prints the user's buffer) and an "exit" call (the kernel reports and powers off).
[bits 64]
[org 0x1000]
MSR_EFER  equ 0xc0000080
MSR_STAR  equ 0xc0000081
MSR_LSTAR equ 0xc0000082
MSR_FMASK equ 0xc0000084
start:
    cli
    mov rsp, 0x70000
    ; A kernel checks CPUID before it uses SYSCALL (CPUID.80000001H:EDX bit 11).
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 11
    jnz .have_syscall
    mov rsi, m_nosyscall
    call puts
    jmp poweroff
.have_syscall:
    lgdt [gdtr]
    ; The loader's identity map: set U/S on PML4[0], PDPT[0] and every PDE of the first GiB.
    mov rax, cr3
    and rax, ~0xfff
    or qword [rax], 4
    mov rbx, [rax]
    and rbx, ~0xfff
    or qword [rbx], 4
    mov rbx, [rbx]
    and rbx, ~0xfff
    mov ecx, 512
.pde:
    or qword [rbx], 4
    add rbx, 8
    loop .pde
    mov rax, cr3
    mov cr3, rax                      ; flush the TLB
    ; EFER.SCE
    mov ecx, MSR_EFER
    rdmsr
    or eax, 1
    wrmsr
    ; STAR: SYSCALL CS = 0x08 (SS 0x10); SYSRET base 0x18: 64-bit CS = 0x2b, SS = 0x23.
    mov ecx, MSR_STAR
    xor eax, eax
    mov edx, (0x18 << 16) | 0x08
    wrmsr
    mov ecx, MSR_LSTAR
    mov rax, syscall_entry
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, MSR_FMASK
    mov eax, 0x200                    ; clear IF on entry
    xor edx, edx
    wrmsr
    mov rsi, m_kernel
    call puts
    ; To ring 3: RIP from RCX, RFLAGS from R11.
    mov rcx, user_main
    mov r11, 0x002
    o64 sysret

user_main:
    mov rsp, 0x60000                  ; ring-3 stack
    mov ax, cs
    cmp ax, 0x2b
    jne user_bad
    mov ax, ss
    cmp ax, 0x23
    jne user_bad
    mov eax, 1                        ; write(msg, len)
    mov rdi, m_user
    mov rsi, m_user_len
    syscall
    cmp rax, m_user_len               ; the kernel returns the count
    jne user_bad
    mov eax, 1
    mov rdi, m_user2
    mov rsi, m_user2_len
    syscall
    mov eax, 60                       ; exit(0)
    xor edi, edi
    syscall
user_bad:
    mov eax, 60
    mov edi, 1
    syscall

; Kernel side: RCX = user RIP, R11 = user RFLAGS; runs on the user stack (no swap needed here).
syscall_entry:
    mov r8, rsp
    mov rsp, 0x70000
    push r8
    push rcx
    push r11
    mov bx, cs
    cmp bx, 0x08
    jne fail
    cmp eax, 1
    je .write
    cmp eax, 60
    je .exit
    jmp fail
.write:
    mov r9, rsi                       ; the count is the return value
    mov rcx, rsi
    mov rsi, rdi
    mov dx, COM1
.w:
    lodsb
    out dx, al
    loop .w
    mov rax, r9
    pop r11
    pop rcx
    pop r8
    mov rsp, r8
    o64 sysret
.exit:
    test edi, edi
    jnz fail
    mov rsi, m_pass
    call puts
    jmp poweroff
fail:
    mov rsi, m_fail
    call puts
    jmp fail_exit

%include "serial.inc"

align 8
gdt:
    dq 0
    dq 0x00af9b000000ffff            ; 0x08: kernel 64-bit code
    dq 0x00cf93000000ffff            ; 0x10: kernel data
    dq 0x00cffb000000ffff            ; 0x18: user 32-bit code (SYSRET to compat mode)
    dq 0x00cff3000000ffff            ; 0x20: user data
    dq 0x00affb000000ffff            ; 0x28: user 64-bit code
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dq gdt

m_kernel: db "ring 0: entering ring 3 with SYSRET", 10, 0
m_user:   db "ring 3: hello through SYSCALL", 10
m_user_len equ $ - m_user
m_user2:  db "ring 3: second call", 10
m_user2_len equ $ - m_user2
m_pass:   db "ring 0: exit(0) from ring 3", 10, "PASS syscall", 10, 0
m_fail:   db "FAIL syscall", 10, 0
m_nosyscall: db "SKIP CPUID.80000001H:EDX.SYSCALL[bit 11] = 0: the processor does not offer SYSCALL/SYSRET", 10, 0
