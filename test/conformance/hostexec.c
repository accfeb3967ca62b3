/*
 * hostexec: runs one x86 instruction at a time on this machine's CPU for the differential
 * conformance harness (see README.md in this directory). Built at test time with `cc`.
 *
 * Protocol (little-endian, over stdin/stdout; the TypeScript side is host.ts):
 *   config  -> hello   once: layout of the shared address space and the pristine memory image
 *   batch   -> results any number of times, one result per case, in order
 *
 * How one case runs:
 *   - The low 4 GiB of the address space are reserved PROT_NONE, so any stray access below
 *     4 GiB faults instead of touching this process; the code, data and stack regions the
 *     harness uses are mapped inside that reservation at the addresses the config names.
 *   - The code region is filled with INT3 (0xCC) and the instruction is copied in. Whatever
 *     the instruction does (fall through, branch anywhere into the region), the next thing
 *     executed is an INT3, whose SIGTRAP handler records the full register state (GPRs, and
 *     x87/MXCSR/XMM from the frame's FXSAVE area) from the signal context. Faults (SIGSEGV/SIGILL/SIGFPE/SIGBUS) are recorded the same way, with
 *     the exception vector the kernel reports (trapno).
 *   - A small stub in low memory loads the x87/SSE state (FXRSTOR64 of an FXSAVE image), RFLAGS
 *     and the general registers from a state block and jumps to the instruction, in 64-bit mode directly, in compatibility mode after a far
 *     return to the 32-bit user code selector 0x23.
 *   - The handler runs on an alternate signal stack and longjmps back here.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAGIC_CONFIG 0x43585456u /* "VTXC" */
#define MAGIC_HELLO 0x48585456u  /* "VTXH" */
#define MAGIC_BATCH 0x42585456u  /* "VTXB" */
#define MAGIC_RESULT 0x52585456u /* "VTXR" */
#define PROTO_VERSION 5u

#define MAX_DIFF 4096
#define RF_TIMEOUT 2u
#define RF_DIFF_TRUNCATED 1u

struct config {
  uint32_t magic, version;
  uint32_t code_base, code_size;
  uint32_t data_base, data_size;
  uint32_t stack_base, stack_size;
  uint32_t stub_base; /* two pages: stubs (read/execute) and the state block */
  uint32_t gs_limit;  /* limit of the LDT data segment loaded into GS (base = data_base) */
};

struct hello {
  uint32_t magic, version;
  uint32_t cpuid1_ecx, cpuid1_edx, cpuid7_ebx, cpuid7_ecx, cpuid7_edx, cpuidx1_ecx, cpuidx1_edx;
  uint16_t cs64, cs32, ss, ds, es, fs, gs, pad;
  uint32_t gs_ldt; /* 1 when GS holds the LDT selector (base data_base) in both modes */
  uint32_t reserve_lo; /* lowest address of the PROT_NONE reservation */
};

#pragma pack(push, 1)
struct case_hdr {
  uint8_t mode; /* 64 or 32 */
  uint8_t len;
  uint8_t npatch;
  uint8_t flags;
  uint32_t insn_addr;
  uint8_t bytes[16];
  uint64_t regs[16];
  uint64_t rflags;
  uint8_t xmm[16][16]; /* XMM0-15 inputs */
  uint32_t mxcsr;      /* MXCSR input (valid: reserved bits clear) */
  uint32_t pad2;
  struct x87 {          /* x87 state in FXSAVE terms (SDM vol. 1 §10.5.1 table 10-2) */
    uint16_t fcw, fsw;  /* FSW with TOP in bits 13:11 */
    uint8_t ftw, pad;   /* abridged tag: bit i = physical register i not empty */
    uint16_t fop;
    uint64_t fip, fdp;
    uint8_t st[8][10];  /* ST(0)..ST(7) (stack order): significand (8 bytes), sign+exponent */
  } x87;
};
struct patch_hdr {
  uint32_t addr;
  uint16_t len;
  uint16_t pad;
};
struct result {
  uint32_t signo, trapno, err, ndiff, flags, pad;
  uint64_t regs[16];
  uint64_t rip, rflags, cr2;
  uint8_t xmm[16][16]; /* XMM0-15 after the instruction (from the signal frame) */
  uint32_t mxcsr, pad2;
  struct x87 x87;      /* x87 state after the instruction (the signal frame's FXSAVE area) */
};
struct diff {
  uint32_t addr, val;
};
#pragma pack(pop)

static struct config cfg;
static uint8_t *pristine_data, *pristine_stack;
static uint8_t *code, *data, *stack, *stubs;
static uint64_t *state;
static uint16_t gs_sel;
static int gs_ldt;

static uint32_t stub64_addr, enter32_addr;

static jmp_buf jb;
static volatile sig_atomic_t in_case;
static struct result cur;

static void die(const char *fmt, const char *arg) {
  fprintf(stderr, "hostexec: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(2);
}

static void read_full(void *p, size_t n) {
  uint8_t *b = p;
  while (n > 0) {
    ssize_t r = read(0, b, n);
    if (r == 0) exit(0); /* the harness closed the pipe: done */
    if (r < 0) {
      if (errno == EINTR) continue;
      die("read failed: %s", strerror(errno));
    }
    b += r;
    n -= (size_t)r;
  }
}

static void write_full(const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t r = write(1, b, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("write failed: %s", strerror(errno));
    }
    b += r;
    n -= (size_t)r;
  }
}

/* ucontext general-register slots in encoding order RAX..R15. */
static const int greg_of[16] = {
  REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
  REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static int in_test_code(uint64_t rip) {
  /* Anywhere below 4 GiB: the instruction, a branch target in the reservation, or the stubs. */
  return rip < 0x100000000ull || (int64_t)rip < 0;
}

static void handler(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  if (!in_case || !in_test_code((uint64_t)g[REG_RIP])) {
    if (sig == SIGVTALRM) return;
    /* A fault in the helper itself: report it and die with the default action. */
    static const char msg[] = "hostexec: fault outside the test code\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  (void)si;
  for (int i = 0; i < 16; i++) cur.regs[i] = (uint64_t)g[greg_of[i]];
  cur.rip = (uint64_t)g[REG_RIP];
  cur.rflags = (uint64_t)g[REG_EFL];
  cur.cr2 = (uint64_t)g[REG_CR2];
  cur.signo = (uint32_t)sig;
  cur.trapno = (uint32_t)g[REG_TRAPNO];
  cur.err = (uint32_t)g[REG_ERR];
  if (uc->uc_mcontext.fpregs != NULL) {
    struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    memcpy(cur.xmm, fp->_xmm, sizeof cur.xmm);
    cur.mxcsr = fp->mxcsr;
    cur.x87.fcw = fp->cwd;
    cur.x87.fsw = fp->swd;
    cur.x87.ftw = (uint8_t)fp->ftw;
    cur.x87.fop = fp->fop;
    cur.x87.fip = fp->rip;
    cur.x87.fdp = fp->rdp;
    for (int i = 0; i < 8; i++) memcpy(cur.x87.st[i], &fp->_st[i], 10);
  }
  if (sig == SIGVTALRM) {
    cur.flags |= RF_TIMEOUT;
    cur.trapno = 0xff;
  }
  in_case = 0;
  longjmp(jb, 1);
}

/* ---- stub emission ------------------------------------------------------------------------ */
static uint8_t *ep;
static void e8(uint8_t b) { *ep++ = b; }
static void e32(uint32_t v) {
  memcpy(ep, &v, 4);
  ep += 4;
}

/* State block layout (qwords): 0..15 GPRs, 16 RFLAGS, 17 jump target; at ST_FX a 512-byte
 * FXSAVE image (x87 state, MXCSR, XMM0-15) that the stub loads with FXRSTOR64. */
#define ST_FLAGS (16 * 8)
#define ST_TARGET (17 * 8)
#define ST_FX 0x400

/* fxrstor64 [st + ST_FX] (64-bit code): x87 registers, FCW/FSW/tags/FOP/FIP/FDP, MXCSR, XMM0-15.
 * A pending unmasked x87 exception (FSW.ES) loaded this way raises #MF only at the next waiting
 * x87 instruction: the instruction under test (SDM vol. 1 §8.6). */
static void emit_sse_loads(uint32_t st) {
  e8(0x48); e8(0x0f); e8(0xae); e8(0x0c); e8(0x25); e32(st + ST_FX);
}
#define ST_TEMP_STACK 0xf00

static void emit_stubs(void) {
  uint32_t st = cfg.stub_base + 0x1000;
  /* 64-bit stub: load GS (LDT selector), DS/ES, RFLAGS, the 16 GPRs, jump to the instruction. */
  ep = stubs;
  stub64_addr = cfg.stub_base;
  e8(0xb8); e32(0x2b);                 /* mov eax, 0x2b */
  e8(0x8e); e8(0xd8);                  /* mov ds, eax */
  e8(0x8e); e8(0xc0);                  /* mov es, eax */
  if (gs_ldt) {
    e8(0xb8); e32(gs_sel);             /* mov eax, gs_sel */
    e8(0x8e); e8(0xe8);                /* mov gs, eax */
  }
  emit_sse_loads(st);
  e8(0xbc); e32(st + ST_TEMP_STACK);   /* mov esp, temp stack */
  e8(0xff); e8(0x34); e8(0x25); e32(st + ST_FLAGS); /* push qword [flags] */
  e8(0x9d);                            /* popfq */
  for (int i = 0; i < 16; i++) {
    if (i == 4) continue;
    e8((uint8_t)(0x48 | (i >= 8 ? 4 : 0)));
    e8(0x8b);
    e8((uint8_t)(0x04 | ((i & 7) << 3)));
    e8(0x25);
    e32(st + 8 * (uint32_t)i);         /* mov reg, [abs] */
  }
  e8(0x48); e8(0x8b); e8(0x24); e8(0x25); e32(st + 4 * 8); /* mov rsp, [abs] */
  e8(0xff); e8(0x24); e8(0x25); e32(st + ST_TARGET);       /* jmp qword [target] */

  /* Entry to compatibility mode (64-bit code): segments, then a far return to 0x23:stub32. */
  ep = stubs + 0x200;
  enter32_addr = cfg.stub_base + 0x200;
  uint32_t stub32 = cfg.stub_base + 0x400;
  e8(0xb8); e32(0x2b);
  e8(0x8e); e8(0xd8);
  e8(0x8e); e8(0xc0);
  if (gs_ldt) {
    e8(0xb8); e32(gs_sel);
    e8(0x8e); e8(0xe8);
  }
  emit_sse_loads(st);
  e8(0xbc); e32(st + ST_TEMP_STACK);   /* mov esp, temp stack */
  e8(0x6a); e8(0x23);                  /* push 0x23 */
  e8(0x68); e32(stub32);               /* push stub32 */
  e8(0x48); e8(0xcb);                  /* retfq */

  /* 32-bit stub: RFLAGS, the 8 legacy GPRs, jump to the instruction. */
  ep = stubs + 0x400;
  e8(0xff); e8(0x35); e32(st + ST_FLAGS); /* push dword [flags] */
  e8(0x9d);                               /* popfd */
  for (int i = 0; i < 8; i++) {
    if (i == 4) continue;
    e8(0x8b);
    e8((uint8_t)(0x05 | (i << 3)));
    e32(st + 8 * (uint32_t)i);            /* mov reg, [abs] */
  }
  e8(0x8b); e8(0x25); e32(st + 4 * 8);    /* mov esp, [abs] */
  e8(0xff); e8(0x25); e32(st + ST_TARGET); /* jmp dword [target] */
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot) {
  void *p = mmap((void *)(uintptr_t)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) die("cannot map the test regions: %s", strerror(errno));
  return p;
}

static uint32_t reserve_low(void) {
  /* Reserve everything below 4 GiB that the kernel lets us map, PROT_NONE. */
  static const uint32_t starts[] = {0x1000, 0x10000, 0x100000};
  for (unsigned i = 0; i < sizeof starts / sizeof starts[0]; i++) {
    void *p = mmap((void *)(uintptr_t)starts[i], 0x100000000ull - starts[i], PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != MAP_FAILED) {
      if ((uintptr_t)p != starts[i]) die("%s", "the kernel ignored MAP_FIXED_NOREPLACE");
      return starts[i];
    }
  }
  die("cannot reserve the low 4 GiB of the address space: %s", strerror(errno));
  return 0;
}

static void setup(void) {
  uint32_t lo = reserve_low();
  code = map_fixed(cfg.code_base, cfg.code_size, PROT_READ | PROT_WRITE | PROT_EXEC);
  data = map_fixed(cfg.data_base, cfg.data_size, PROT_READ | PROT_WRITE);
  stack = map_fixed(cfg.stack_base, cfg.stack_size, PROT_READ | PROT_WRITE);
  stubs = map_fixed(cfg.stub_base, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC);
  state = map_fixed(cfg.stub_base + 0x1000, 0x1000, PROT_READ | PROT_WRITE);
  memset(code, 0xcc, cfg.code_size);

  /* GS: an LDT data segment based at the data region (16-bit addressing in compat mode needs a
   * segment base; 64-bit mode uses the same base). */
  struct user_desc d;
  memset(&d, 0, sizeof d);
  d.entry_number = 0;
  d.base_addr = cfg.data_base;
  d.limit = cfg.gs_limit;
  d.seg_32bit = 1;
  d.contents = 0;
  d.read_exec_only = 0;
  d.limit_in_pages = 0;
  d.seg_not_present = 0;
  d.useable = 1;
  /* VTX_HOSTEXEC_NO_LDT=1 exercises the fallback used where modify_ldt is not available. */
  const char *no_ldt = getenv("VTX_HOSTEXEC_NO_LDT");
  gs_ldt = !(no_ldt && *no_ldt == '1') && syscall(SYS_modify_ldt, 1, &d, sizeof d) == 0;
  gs_sel = gs_ldt ? (0 << 3) | 4 | 3 : 0;
  if (!gs_ldt) syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)cfg.data_base);

  emit_stubs();
  if (mprotect(stubs, 0x1000, PROT_READ | PROT_EXEC) != 0) die("mprotect: %s", strerror(errno));

  static uint8_t altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) die("sigaltstack: %s", strerror(errno));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGTRAP, SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGVTALRM};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  struct hello h;
  memset(&h, 0, sizeof h);
  h.magic = MAGIC_HELLO;
  h.version = PROTO_VERSION;
  unsigned a, b, c, dd;
  __cpuid(1, a, b, c, dd);
  h.cpuid1_ecx = c;
  h.cpuid1_edx = dd;
  __cpuid_count(7, 0, a, b, c, dd);
  h.cpuid7_ebx = b;
  h.cpuid7_ecx = c;
  h.cpuid7_edx = dd;
  __cpuid(0x80000001, a, b, c, dd);
  h.cpuidx1_ecx = c;
  h.cpuidx1_edx = dd;
  uint16_t s;
  __asm__ volatile("mov %%cs, %0" : "=r"(s)); h.cs64 = s;
  h.cs32 = 0x23;
  __asm__ volatile("mov %%ss, %0" : "=r"(s)); h.ss = s;
  h.ds = 0x2b;
  h.es = 0x2b;
  __asm__ volatile("mov %%fs, %0" : "=r"(s)); h.fs = s;
  h.gs = gs_sel;
  h.gs_ldt = (uint32_t)gs_ldt;
  h.reserve_lo = lo;
  write_full(&h, sizeof h);
}

/* Append the bytes of [base, base+size) that differ from `ref` to the diff list. */
static void diff_region(const uint8_t *mem, const uint8_t *ref, uint32_t base, uint32_t size,
                        struct diff *out, uint32_t *n, uint32_t *flags) {
  for (uint32_t off = 0; off < size; off += 64) {
    uint32_t chunk = size - off < 64 ? size - off : 64;
    if (memcmp(mem + off, ref + off, chunk) == 0) continue;
    for (uint32_t i = 0; i < chunk; i++) {
      if (mem[off + i] == ref[off + i]) continue;
      if (*n >= MAX_DIFF) {
        *flags |= RF_DIFF_TRUNCATED;
        return;
      }
      out[*n].addr = base + off + i;
      out[*n].val = mem[off + i];
      (*n)++;
    }
  }
}

static uint8_t *code_ref;

static void run_batch(uint32_t count, uint8_t *in, uint32_t in_len) {
  /* Output: header, then per case a result and its diff entries. */
  size_t cap = 16 + (size_t)count * (sizeof(struct result) + 64);
  uint8_t *out = malloc(cap);
  size_t used = 12;
  static struct diff diffs[MAX_DIFF];
  uint8_t *p = in, *end = in + in_len;
  /* Where the previous case's instruction was (it is put back to INT3 first). */
  static uint32_t last_off = 0, last_len = 0;

  /* Watchdog against an instruction that never reaches a breakpoint: user CPU time, so a busy
   * machine cannot fire it; generous, it covers a whole batch. */
  struct itimerval watchdog = {{0, 0}, {2 + count / 1000, 0}};
  setitimer(ITIMER_VIRTUAL, &watchdog, NULL);

  for (uint32_t k = 0; k < count; k++) {
    if ((size_t)(end - p) < sizeof(struct case_hdr)) die("%s", "truncated batch");
    struct case_hdr h;
    memcpy(&h, p, sizeof h);
    p += sizeof h;
    if (h.len > 16 || h.insn_addr < cfg.code_base || h.insn_addr >= cfg.code_base + cfg.code_size)
      die("%s", "bad case header");
    /* An instruction may run off the end of the code region (its fetch faults): keep the part inside. */
    uint32_t room = cfg.code_base + cfg.code_size - h.insn_addr;
    uint32_t len = h.len < room ? h.len : room;

    memcpy(data, pristine_data, cfg.data_size);
    memcpy(stack, pristine_stack, cfg.stack_size);
    memset(code + last_off, 0xcc, last_len);
    memset(code_ref + last_off, 0xcc, last_len);
    last_off = h.insn_addr - cfg.code_base;
    last_len = len;
    memcpy(code + last_off, h.bytes, len);
    memcpy(code_ref + last_off, h.bytes, len);

    for (int i = 0; i < h.npatch; i++) {
      struct patch_hdr ph;
      memcpy(&ph, p, sizeof ph);
      p += sizeof ph;
      uint32_t padded = (ph.len + 3u) & ~3u;
      if ((size_t)(end - p) < padded) die("%s", "truncated patch");
      if (ph.addr >= cfg.data_base && ph.addr + ph.len <= cfg.data_base + cfg.data_size)
        memcpy(data + (ph.addr - cfg.data_base), p, ph.len);
      else if (ph.addr >= cfg.stack_base && ph.addr + ph.len <= cfg.stack_base + cfg.stack_size)
        memcpy(stack + (ph.addr - cfg.stack_base), p, ph.len);
      else
        die("%s", "patch outside the data and stack regions");
      p += padded;
    }

    for (int i = 0; i < 16; i++) state[i] = h.regs[i];
    /* TF and AC stay clear (single-step and alignment checks would break the harness). */
    state[16] = (h.rflags & ~(uint64_t)((1u << 8) | (1u << 18) | (1u << 16))) | 0x202;
    state[17] = h.insn_addr;
    { /* The FXSAVE image (SDM vol. 1 §10.5.1): FXRSTOR64 format. */
      uint8_t *fx = (uint8_t *)state + ST_FX;
      memset(fx, 0, 512);
      memcpy(fx + 0, &h.x87.fcw, 2);
      memcpy(fx + 2, &h.x87.fsw, 2);
      fx[4] = h.x87.ftw;
      memcpy(fx + 6, &h.x87.fop, 2);
      memcpy(fx + 8, &h.x87.fip, 8);
      memcpy(fx + 16, &h.x87.fdp, 8);
      uint32_t mx = h.mxcsr & 0xffff; /* reserved MXCSR bits would fault in the stub */
      memcpy(fx + 24, &mx, 4);
      for (int i = 0; i < 8; i++) memcpy(fx + 32 + 16 * i, h.x87.st[i], 10);
      memcpy(fx + 160, h.xmm, sizeof h.xmm);
    }

    memset(&cur, 0, sizeof cur);
    in_case = 1;
    if (setjmp(jb) == 0) {
      if (h.mode == 64)
        ((void (*)(void))(uintptr_t)stub64_addr)();
      else
        ((void (*)(void))(uintptr_t)enter32_addr)();
      die("%s", "the test stub returned");
    }

    { /* The case may have left unmasked exceptions: back to the default MXCSR for the helper. */
      uint32_t mx = 0x1f80;
      __asm__ volatile("ldmxcsr %0" : : "m"(mx));
    }
    if (cur.flags & RF_TIMEOUT) setitimer(ITIMER_VIRTUAL, &watchdog, NULL); /* re-arm for the rest */

    uint32_t n = 0;
    diff_region(data, pristine_data, cfg.data_base, cfg.data_size, diffs, &n, &cur.flags);
    diff_region(stack, pristine_stack, cfg.stack_base, cfg.stack_size, diffs, &n, &cur.flags);
    diff_region(code, code_ref, cfg.code_base, cfg.code_size, diffs, &n, &cur.flags);
    if (n > 0) {
      /* Put the code region back for the next case. */
      memcpy(code, code_ref, cfg.code_size);
    }
    cur.ndiff = n;
    size_t need = sizeof cur + (size_t)n * sizeof(struct diff);
    if (used + need > cap) {
      cap = (used + need) * 2;
      out = realloc(out, cap);
      if (out == NULL) die("%s", "out of memory");
    }
    memcpy(out + used, &cur, sizeof cur);
    used += sizeof cur;
    memcpy(out + used, diffs, (size_t)n * sizeof(struct diff));
    used += (size_t)n * sizeof(struct diff);
  }

  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_VIRTUAL, &off, NULL);

  uint32_t hdr[3] = {MAGIC_RESULT, count, (uint32_t)used};
  memcpy(out, hdr, 12);
  write_full(out, used);
  free(out);
}

int main(void) {
  read_full(&cfg, sizeof cfg);
  if (cfg.magic != MAGIC_CONFIG) die("%s", "bad config magic");
  if (cfg.version != PROTO_VERSION) die("%s", "protocol version mismatch (rebuild the helper)");
  pristine_data = malloc(cfg.data_size);
  pristine_stack = malloc(cfg.stack_size);
  code_ref = malloc(cfg.code_size);
  if (!pristine_data || !pristine_stack || !code_ref) die("%s", "out of memory");
  read_full(pristine_data, cfg.data_size);
  read_full(pristine_stack, cfg.stack_size);
  memset(code_ref, 0xcc, cfg.code_size);
  setup();

  for (;;) {
    uint32_t hdr[3];
    read_full(hdr, sizeof hdr);
    if (hdr[0] != MAGIC_BATCH) die("%s", "bad batch magic");
    uint8_t *buf = malloc(hdr[2] ? hdr[2] : 1);
    if (buf == NULL) die("%s", "out of memory");
    read_full(buf, hdr[2]);
    run_batch(hdr[1], buf, hdr[2]);
    free(buf);
  }
}
