/* x87 instruction-form samples for test/x86/fpuHost.test.ts (includes fpu-host-gen.c): memory
   operand forms (m32fp/m64fp/m16int/m32int arithmetic and compares) and the reversed/popping
   register forms, given as raw opcode bytes with the memory operand at [rbx+0x40].
   Line: "x:<opcode hex> cw a b m<memory hex> result fsw"; result = ST0 after the instruction. */
#define main gen_main
#include "fpu-host-gen.c"
#undef main
struct form { const char *hex; unsigned char b[3]; int n; int msize; int isint; };
static const struct form F[] = {
  {"d84340",{0xd8,0x43,0x40},3,4,0}, {"dc4b40",{0xdc,0x4b,0x40},3,8,0}, {"d86340",{0xd8,0x63,0x40},3,4,0},
  {"dc6b40",{0xdc,0x6b,0x40},3,8,0}, {"d87340",{0xd8,0x73,0x40},3,4,0}, {"dc7b40",{0xdc,0x7b,0x40},3,8,0},
  {"dc4340",{0xdc,0x43,0x40},3,8,0}, {"d84b40",{0xd8,0x4b,0x40},3,4,0}, {"d86b40",{0xd8,0x6b,0x40},3,4,0},
  {"de4340",{0xde,0x43,0x40},3,2,1}, {"da4b40",{0xda,0x4b,0x40},3,4,1}, {"de6340",{0xde,0x63,0x40},3,2,1},
  {"da6b40",{0xda,0x6b,0x40},3,4,1}, {"da7340",{0xda,0x73,0x40},3,4,1}, {"de7b40",{0xde,0x7b,0x40},3,2,1},
  {"d85340",{0xd8,0x53,0x40},3,4,0}, {"dc5b40",{0xdc,0x5b,0x40},3,8,0}, {"de5340",{0xde,0x53,0x40},3,2,1},
  {"da5b40",{0xda,0x5b,0x40},3,4,1},
  {"d8e9",{0xd8,0xe9},2,0,0}, {"d8f9",{0xd8,0xf9},2,0,0}, {"dee9",{0xde,0xe9},2,0,0}, {"dee1",{0xde,0xe1},2,0,0},
  {"def9",{0xde,0xf9},2,0,0}, {"def1",{0xde,0xf1},2,0,0}, {"dec1",{0xde,0xc1},2,0,0}, {"dec9",{0xde,0xc9},2,0,0},
  {"dce9",{0xdc,0xe9},2,0,0}, {"dcf9",{0xdc,0xf9},2,0,0}, {"ded9",{0xde,0xd9},2,0,0}, {"dae9",{0xda,0xe9},2,0,0},
};
#include <sys/mman.h>
static unsigned char *code;
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50;
  code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) return 1;
  for (int um = 0; um < 2; um++)
  for (unsigned k = 0; k < sizeof F / sizeof F[0]; k++) for (int pc = 0; pc < 4; pc += (pc == 0 ? 2 : 1)) for (int rc = 0; rc < 4; rc++) {
    /* um = 1: every exception unmasked; the state is captured with FNSAVE [rbx+0x50] ("xu:" lines) */
    uint16_t cw = (um ? 0x40 : 0x7f) | (pc << 8) | (rc << 10);
    for (int i = 0; i < n; i++) {
      f80 a = opnd(0), b = opnd(&a), r; uint16_t sw; unsigned char m[0x50 + 108]; memset(m, 0, sizeof m); memset(&r, 0, sizeof r);
      uint64_t v = rnd();
      if (F[k].isint) { if (rnd() % 2) v = (uint64_t)((int64_t)(rnd() % 2001) - 1000); if (rnd() % 8 == 0) v = F[k].msize == 2 ? 0x8000 : 0x80000000; }
      else if (F[k].msize == 4) { uint32_t x = (uint32_t)a.m ^ (uint32_t)(a.m >> 32); x = (x & 0x807fffff) | ((uint32_t)(127 - 40 + rnd() % 80) << 23); switch (rnd() % 8) { case 0: x &= 0x807fffff; break; case 1: x |= 0x7f800000; break; case 2: x &= 0x80000000; break; } v = x; }
      else { uint64_t x = b.m >> 11; x = (x & 0x800fffffffffffffull) | ((uint64_t)(1023 - 60 + rnd() % 120) << 52) | ((uint64_t)(rnd() & 1) << 63); switch (rnd() % 8) { case 0: x &= 0x800fffffffffffffull; break; case 1: x |= 0x7ff0000000000000ull; break; case 2: x &= 0x8000000000000000ull; break; } v = x; }
      memcpy(m + 0x40, &v, 8);
      /* fninit; fldcw [rbx]; fld t[rbx+0x10]; fld t[rbx+0x20]; fnclex; OP; fnstsw [rbx+2]; fstp t[rbx+0x30]; ffree st0..7; ret */
      unsigned char *p = code; const unsigned char pre[] = {0xdb,0xe3,0xd9,0x2b,0xdb,0x6b,0x10,0xdb,0x6b,0x20,0xdb,0xe2};
      memcpy(p, pre, sizeof pre); p += sizeof pre; memcpy(p, F[k].b, F[k].n); p += F[k].n;
      const unsigned char post[] = {0xdd,0x7b,0x02,0xdb,0x7b,0x30,0xdb,0xe3,0xc3};
      const unsigned char postu[] = {0xdd,0x73,0x50,0xc3};
      if (um) memcpy(p, postu, sizeof postu); else memcpy(p, post, sizeof post);
      memcpy(m, &cw, 2); memcpy(m + 0x10, &b, 10); memcpy(m + 0x20, &a, 10);
      asm volatile("mov %0, %%rbx\n call *%1" :: "r"(m), "r"(code) : "rbx", "memory", "cc");
      if (um) { memcpy(&r, m + 0x50 + 28, 10); memcpy(&sw, m + 0x50 + 4, 2); }
      else { memcpy(&r, m + 0x30, 10); memcpy(&sw, m + 2, 2); }
      printf("%s:%s %04x ", um ? "xu" : "x", F[k].hex, cw); pf(a); printf(" "); pf(b); printf(" m");
      for (int j = F[k].msize ? F[k].msize - 1 : 0; j >= 0 && F[k].msize; j--) printf("%02x", m[0x40 + j]);
      if (!F[k].msize) printf("00");
      printf(" "); pf(r); printf(" %04x\n", sw);
    }
  }
  return 0;
}
