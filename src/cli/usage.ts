/** Help texts for `vtx --help`, `vtx run --help` and `vtx bench --help`. */

export const MAIN_USAGE = `vtx — run guest code on an emulated x86 processor with Intel VT-x, under a built-in hypervisor

usage: vtx <command> [options]

commands:
  run <file>    run a guest (flat binary, ELF, Multiboot kernel, .asm source) on the emulated PC and print
                its serial output and how it stopped
  bench         measure the processor's speed on a CPU-bound 64-bit guest (MIPS)
  asm <file>    assemble NASM-syntax guest source into a flat binary (with a listing)

options:
  -h, --help    show this help (vtx <command> --help for the command's options)
  --version     print the version

exit status: 0 the guest halted (HLT); after isa-debug-exit or ACPI power-off the guest's exit
code (modulo 256, as QEMU); 1 it stopped otherwise (exception, triple fault, limit) or the
benchmark failed; 2 a usage or input error; 3 an internal error of vtx.`;

export const RUN_USAGE = `usage: vtx run <file> [options]

Loads <file> (an .asm/.nasm source is assembled first: its org is the load address, the bits
of its first instruction the mode) into the guest RAM of an emulated PC (processor, local APIC, 8259 PICs, 8254 PIT,
16550 UART on COM1, CMOS clock, QEMU's isa-debug-exit and ACPI power-off) and runs it. What the
guest writes to COM1 is printed as it comes; then a summary of how it stopped.

options:
  --format auto|flat|elf|multiboot
                            image format (default auto: ELF magic or a Multiboot header, else flat)
  --mode real|protected|long
                            flat binaries: processor mode with flat segments (default long)
  --load-address A          flat binaries: guest-physical load address (default 0x7c00 in real
                            mode, else 0x1000)
  --entry A                 first instruction (default the load address or the image's entry);
                            in real mode CS:IP is 0:A (A below 64 KiB) or (A>>4):(A&0xf), so A
                            must be below 1 MiB
  --stack A                 initial SP/ESP/RSP (flat: default 0x7c00 in real mode, else the top
                            of RAM, at most 4 GiB in protected mode)
  --memory SIZE             guest RAM, e.g. 65536, 0x100000, 16M, 1G (default 64M)
  --cmdline TEXT            Multiboot kernels: the command line passed in the boot information
  --max-instructions N      stop after N instructions (default 100000000)
  --hypervisor builtin|none builtin (default): the guest runs in VMX non-root operation under the
                            built-in hypervisor (the seed's x86_vcpu behaviour) and the summary
                            ends with a table of VM exits; none: bare VT-x, the machine directly
                            with VMX for the guest's own use (the guest may be a hypervisor: its
                            VMX instructions run on the VT-x engine, its VM exits continue at its
                            HOST_RIP, the summary counts the exits of its VMCSs)
  --trace-exits             print one line per VM exit on stderr (reason, RIP, decoded exit)
  --intercept-io all|PORTS  also intercept these I/O ports (e.g. 0x3f8-0x3ff,0x80); default 0x604
  --intercept-msr all|MSRS  also intercept these MSRs (e.g. 0x10,0xc0000080); default 0xe1, 0x800-0x83f
  --intercept LIST          also exit on: hlt, rdtsc, invlpg, descriptor-tables, mtf (every
                            instruction), exception:N (vector N); e.g. --intercept hlt,exception:14
  --json                    print the summary as one JSON object (the last line of stdout),
                            with "serial" (all COM1 output) and "exitCode"
  -h, --help                show this help

Numbers are decimal or hex (0x...). Stop reasons: "exit" (isa-debug-exit at port 0xf4: exit
code (value << 1) | 1; ACPI power-off, word 0x2000 to port 0x604: exit code 0), "hlt" (HLT with
interrupts disabled or no interrupt source armed), "exception" (one the guest cannot handle: the
report shows vector, error code, RIP, bytes and disassembly), "shutdown" (triple fault), "limit"
(the instruction limit was reached). Under the built-in hypervisor also: "SystemDown" (the ACPI
power-off, exit code 0), "FailEntry" (VM entry failed: the check is shown), "NestedPageFault"
(guest-physical memory that is neither RAM nor a device), "Halt" (an exit the hypervisor does not
handle), "CpuDown" (the vCPU took an INIT). Exit status: 0 after "hlt", the exit code modulo 256
after "exit" and "SystemDown", 1 otherwise.`;

export const BENCH_USAGE = `usage: vtx bench [options]

Runs a CPU-bound integer guest (loads, ALU, shifts, stores, data-dependent branches, call/ret,
push/pop) in 64-bit mode, checks its checksum against a model computed in TypeScript, and
prints guest instructions per second. Then runs an exit-heavy guest (a CPUID loop in VMX
non-root operation, each exit handled by a minimal TypeScript host that resumes at once) and
prints VM exits per second (exit + VMRESUME round trips), and the debugger's figures (the built
adapter driven over DAP).

options:
  --seconds S     measure each benchmark for at least S seconds (default 3)
  --passes N      passes over the guest's array per run (default 1000, about 85 M instructions)
  --paging        the integer guest with 4-level paging, every access a TLB miss (no VM exits part)
  --vmx           only the VM-exit benchmark
  --debugger      only the debugger's figures: instruction-step round trip over DAP, launch to
                  stopped-on-entry, slowdown with 10 exit filters armed (needs npm run build)
  --json          print one JSON object: {"mips", "instructions", "seconds", "mode", ...,
                  "exitsPerSecond"}
  -h, --help      show this help`;

export const ASM_USAGE = `usage: vtx asm <file.asm> -o <file.bin> [options]

Assembles NASM-syntax source (bits, org, labels, equ, db/dw/dd/dq, times, align, res*, %define,
%macro, %if, %rep, %include, sections of a flat image) into a flat binary, encoding every
instruction through iced-x86. Errors are printed as file:line:column: error: message.

options:
  -o, --output FILE     the flat binary to write
  --listing FILE        also write a listing (address, bytes, source; then the symbols)
  -I, --include DIR     another directory for %include files
  --bits 16|32|64       the initial bits (default 16, as NASM)

exit status: 0 assembled; 1 the source has errors; 2 a usage error.`;
