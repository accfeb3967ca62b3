/* Generator of test/x86/pcmpstr-host-samples.txt (and the live batch of pcmpstr.test.ts): host samples for PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (x86-64, SSE4.2).
 * Usage: pcmpstr-host-gen COUNT  (COUNT samples per opcode x REX.W x imm8; SEED env seeds)
 * Line: op w imm a b rax rdx flagsIn xmm0In  rcx flags xmm0 (hex; vectors as 16 bytes, byte 0 first). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

struct io { uint8_t a[16], b[16], x0[16], xo[16]; uint64_t rax, rdx, rcx, fl, flo, rco; };

#define WB0 ""
#define WB1 "0x48,"
#define F(OP, W, IMM) static void f_##OP##_##W##_##IMM(struct io *p) { \
  asm volatile("movdqu (%[a]), %%xmm1\n movdqu (%[b]), %%xmm2\n movdqu (%[x0]), %%xmm0\n" \
    "mov %[rax], %%rax\n mov %[rdx], %%rdx\n mov %[rcx], %%rcx\n push %[fl]\n popfq\n" \
    ".byte 0x66," WB##W "0x0f,0x3a," #OP ",0xca," #IMM "\n" \
    "pushfq\n pop %[flo]\n mov %%rcx, %[rco]\n movdqu %%xmm0, (%[xo])\n" \
    : [flo] "=&r"(p->flo), [rco] "=&r"(p->rco) \
    : [a] "r"(p->a), [b] "r"(p->b), [x0] "r"(p->x0), [xo] "r"(p->xo), [rax] "m"(p->rax), [rdx] "m"(p->rdx), \
      [rcx] "m"(p->rcx), [fl] "m"(p->fl) \
    : "rax", "rdx", "rcx", "xmm0", "xmm1", "xmm2", "memory", "cc"); }
#define L(OP, W, H) F(OP, W, 0x##H##0) F(OP, W, 0x##H##1) F(OP, W, 0x##H##2) F(OP, W, 0x##H##3) \
  F(OP, W, 0x##H##4) F(OP, W, 0x##H##5) F(OP, W, 0x##H##6) F(OP, W, 0x##H##7) F(OP, W, 0x##H##8) \
  F(OP, W, 0x##H##9) F(OP, W, 0x##H##a) F(OP, W, 0x##H##b) F(OP, W, 0x##H##c) F(OP, W, 0x##H##d) \
  F(OP, W, 0x##H##e) F(OP, W, 0x##H##f)
#define ALL(OP, W) L(OP, W, 0) L(OP, W, 1) L(OP, W, 2) L(OP, W, 3) L(OP, W, 4) L(OP, W, 5) L(OP, W, 6) \
  L(OP, W, 7) L(OP, W, 8) L(OP, W, 9) L(OP, W, a) L(OP, W, b) L(OP, W, c) L(OP, W, d) L(OP, W, e) L(OP, W, f)
#define N(OP, W, IMM) f_##OP##_##W##_##IMM,
#define LN(OP, W, H) N(OP, W, 0x##H##0) N(OP, W, 0x##H##1) N(OP, W, 0x##H##2) N(OP, W, 0x##H##3) \
  N(OP, W, 0x##H##4) N(OP, W, 0x##H##5) N(OP, W, 0x##H##6) N(OP, W, 0x##H##7) N(OP, W, 0x##H##8) \
  N(OP, W, 0x##H##9) N(OP, W, 0x##H##a) N(OP, W, 0x##H##b) N(OP, W, 0x##H##c) N(OP, W, 0x##H##d) \
  N(OP, W, 0x##H##e) N(OP, W, 0x##H##f)
#define ALLN(OP, W) { LN(OP, W, 0) LN(OP, W, 1) LN(OP, W, 2) LN(OP, W, 3) LN(OP, W, 4) LN(OP, W, 5) \
  LN(OP, W, 6) LN(OP, W, 7) LN(OP, W, 8) LN(OP, W, 9) LN(OP, W, a) LN(OP, W, b) LN(OP, W, c) LN(OP, W, d) \
  LN(OP, W, e) LN(OP, W, f) }

ALL(0x60, 0) ALL(0x60, 1) ALL(0x61, 0) ALL(0x61, 1) ALL(0x62, 0) ALL(0x62, 1) ALL(0x63, 0) ALL(0x63, 1)
typedef void (*fn)(struct io *);
static fn table[4][2][256] = {
  { ALLN(0x60, 0), ALLN(0x60, 1) }, { ALLN(0x61, 0), ALLN(0x61, 1) },
  { ALLN(0x62, 0), ALLN(0x62, 1) }, { ALLN(0x63, 0), ALLN(0x63, 1) },
};

static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }

static void vec(uint8_t *v, int words, int nullPct) {
  static const uint8_t ab[] = { 1, 2, 0x41, 0x42, 0x43, 0x61, 0x7f, 0x80, 0x81, 0xfe, 0xff };
  static const uint16_t aw[] = { 1, 2, 0x41, 0x4100, 0x4142, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x0100 };
  int kind = rnd() % 4;
  if (!words) {
    for (int i = 0; i < 16; i++) {
      uint8_t x = kind == 0 ? (uint8_t)rnd() : ab[rnd() % (kind == 1 ? 3 : sizeof ab)];
      if ((int)(rnd() % 100) < nullPct) x = 0;
      v[i] = x;
    }
  } else {
    for (int i = 0; i < 8; i++) {
      uint16_t x = kind == 0 ? (uint16_t)rnd() : aw[rnd() % (kind == 1 ? 3 : sizeof aw / 2)];
      if ((int)(rnd() % 100) < nullPct) x = 0;
      v[2 * i] = x & 0xff; v[2 * i + 1] = x >> 8;
    }
  }
}
static uint64_t len(void) {
  static const uint64_t special[] = { 0x80000000ull, 0x7fffffffull, 0x100000005ull, 0xffffffff00000003ull,
    0x8000000000000000ull, 0xfffffffffffffff8ull, 0x00000000fffffff7ull, 0xffffffff00000000ull, 0x10ull, 0x11ull, 9, 8 };
  int k = rnd() % 8;
  if (k < 4) return rnd() % 18;
  if (k < 6) return (uint64_t)(-(int64_t)(rnd() % 18));
  if (k == 6) return special[rnd() % 12];
  return rnd();
}
static void hex(const uint8_t *v) { for (int i = 0; i < 16; i++) printf("%02x", v[i]); }

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 4;
  if (getenv("SEED")) s = strtoull(getenv("SEED"), 0, 0) | 1;
  for (int op = 0; op < 4; op++)
    for (int w = 0; w < 2; w++)
      for (int imm = 0; imm < 256; imm++)
        for (int k = 0; k < count; k++) {
          struct io p;
          memset(&p, 0, sizeof p);
          int words = imm & 1;
          int nullPct = rnd() % 4 == 0 ? 0 : (int)(rnd() % 20);
          vec(p.a, words, nullPct); vec(p.b, words, nullPct);
          if (rnd() % 3 == 0) memcpy(p.b + rnd() % 8, p.a, 8);  /* substring matches */
          for (int i = 0; i < 16; i++) p.x0[i] = (uint8_t)rnd();
          p.rax = len(); p.rdx = len();
          p.rcx = 0xdeadbeefcafef00dull;
          p.fl = (rnd() & 1) ? 0x8d7 : 0x202;
          table[op][w][imm](&p);
          printf("%x %d %02x ", 0x60 + op, w, imm); hex(p.a); printf(" "); hex(p.b);
          printf(" %016llx %016llx %llx ", (unsigned long long)p.rax, (unsigned long long)p.rdx, (unsigned long long)p.fl);
          hex(p.x0); printf(" %016llx %llx ", (unsigned long long)p.rco, (unsigned long long)(p.flo & 0x8d5)); hex(p.xo); printf("\n");
        }
  return 0;
}
