/** Help texts for `vtx --help`, `vtx run --help` and `vtx bench --help`. */

export const MAIN_USAGE = `vtx — run guest code on an emulated x86 processor (the VT-x engine comes later)

usage: vtx <command> [options]

commands:
  run <file>    run a flat binary on the bare processor and print how it stopped
  bench         measure the processor's speed on a CPU-bound 64-bit guest (MIPS)

options:
  -h, --help    show this help (vtx <command> --help for the command's options)
  --version     print the version

exit status: 0 the guest halted (HLT), 1 it stopped otherwise (exception, limit) or the
benchmark failed, 2 a usage or input error, 3 an internal error of vtx.`;

export const RUN_USAGE = `usage: vtx run <file> [options]

Loads <file> into guest RAM and runs it on the bare processor until HLT, an exception that
cannot be delivered (there is no IDT delivery yet), or the instruction limit.

options:
  --format flat             image format (only flat binaries for now; the default)
  --mode real|protected|long
                            processor mode with flat segments (default long)
  --load-address A          guest-physical load address (default 0x7c00 in real mode, else 0x1000)
  --entry A                 first instruction (default the load address); in real mode CS:IP is
                            0:A (A below 64 KiB) or (A>>4):(A&0xf), so A must be below 1 MiB
  --stack A                 initial SP/ESP/RSP (default 0x7c00 in real mode, else the top of
                            RAM, at most 4 GiB in protected mode)
  --memory SIZE             guest RAM, e.g. 65536, 0x100000, 16M, 1G (default 64M)
  --max-instructions N      stop after N instructions (default 100000000)
  --json                    print the summary as one JSON object (the last line of stdout)
  -h, --help                show this help

Numbers are decimal or hex (0x...). Stop reasons: "hlt" (the guest executed HLT), "exception"
(an exception it cannot handle yet: the report shows vector, error code, RIP, bytes and
disassembly), "limit" (the instruction limit was reached).`;

export const BENCH_USAGE = `usage: vtx bench [options]

Runs a CPU-bound integer guest (loads, ALU, shifts, stores, data-dependent branches, call/ret,
push/pop) in 64-bit mode, checks its checksum against a model computed in TypeScript, and
prints guest instructions per second.

options:
  --seconds S     measure for at least S seconds (default 3)
  --passes N      passes over the guest's array per run (default 1000, about 85 M instructions)
  --json          print one JSON object: {"mips", "instructions", "seconds", "mode", ...}
  -h, --help      show this help`;
