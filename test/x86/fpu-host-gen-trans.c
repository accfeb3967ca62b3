/* x87 transcendental samples (FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1) for
   test/x86/fpuTrans.test.ts (includes fpu-host-gen.c for the operand patterns). Lines use the
   harness's raw-opcode form "x:<opcode hex> cw a b result fsw" (FNINIT; FLDCW; FLD b; FLD a; FNCLEX;
   op; FNSTSW; FSTP m80), result = ST0 after the op (FSINCOS/FPTAN also with a trailing FXCH to
   read the other result). Every RC, PC 64 and 53/24 for a few; then every exception unmasked
   ("xu:" lines: the state is captured with the non-waiting FNSAVE, ST0 = its first register). */
#define main gen_main
#include "fpu-host-gen.c"
#undef main
#include <sys/mman.h>
struct form { const char *hex; unsigned char b[4]; int n; int kind; };
/* kind: 0 trig (a = angle), 1 fpatan, 2 f2xm1, 3 fyl2x, 4 fyl2xp1 */
static const struct form F[] = {
  {"d9fe",{0xd9,0xfe},2,0}, {"d9ff",{0xd9,0xff},2,0}, {"d9fb",{0xd9,0xfb},2,0}, {"d9fbd9c9",{0xd9,0xfb,0xd9,0xc9},4,0},
  {"d9f2",{0xd9,0xf2},2,0}, {"d9f2d9c9",{0xd9,0xf2,0xd9,0xc9},4,0},
  {"d9f3",{0xd9,0xf3},2,1}, {"d9f0",{0xd9,0xf0},2,2}, {"d9f1",{0xd9,0xf1},2,3}, {"d9f9",{0xd9,0xf9},2,4},
};
static f80 num(int lo, int span){ f80 r; r.m = sigpat(); r.se = (uint16_t)(16383 + lo + (int)(rnd() % (unsigned)span)); if (rnd()%2) r.se |= 0x8000; return r; }
static f80 special(f80 a, int kind){
  switch (kind) {
    case 0: switch (rnd()%6) {
      case 0: return num(-70, 140);
      case 1: { /* near a multiple of pi/2 */ long double k = (long double)(int64_t)(rnd()%2000000 - 1000000); long double v = k * 1.5707963267948966192313216916397514L; f80 r; memcpy(&r, &v, 10); r.m ^= rnd() >> (40 + rnd()%24); r.m |= 1ull<<63; if (v == 0) return num(-80, 80); return r; }
      case 2: { f80 r = num(55, 10); if ((r.se & 0x7fff) > 16383+63) r.se = (r.se & 0x8000) | (16383+62+rnd()%3); return r; }
      case 3: return num(-3, 6);
      default: return a; }
    case 1: return rnd()%3 ? num(-40, 80) : a;
    case 2: { if (rnd()%4==0) return a; f80 r = num(-70, 70); if (rnd()%3==0) r.se = (r.se&0x8000)|(16383-1-rnd()%4); if (rnd()%8==0) { r.se = (r.se & 0x8000) | 16383; r.m = 1ull<<63; } return r; }
    case 3: { if (rnd()%4==0) return a; f80 r = num(-40, 80); if (rnd()%2) r.se &= 0x7fff; if (rnd()%4==0) { r.se = 16383 - (rnd()%2); r.m = rnd()%2 ? ~(rnd()>>(rnd()%64)) : (1ull<<63)|(rnd()>>(rnd()%64)); } return r; }
    default: { if (rnd()%4==0) return a; f80 r = num(-70, 69); if (rnd()%4==0) { r.se = (r.se & 0x8000) | (16383-2); r.m = 0x95f619980c4336f7ull - (rnd()>>(rnd()%64 + 2)); } return r; }
  }
}
static unsigned char *code;
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50;
  code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) return 1;
  for (int um = 0; um < 2; um++)
  for (unsigned k = 0; k < sizeof F / sizeof F[0]; k++) for (int pc = 0; pc < 4; pc++) for (int rc = 0; rc < 4; rc++) {
    if (pc == 1 || (um && pc != 3)) continue;
    if (um && F[k].n > 2) continue; /* the trailing FXCH would wait on the pending exception (#MF) */
    uint16_t cw = (um ? 0x40 : 0x7f) | (pc << 8) | (rc << 10);
    int cnt = um ? n / 4 + 1 : pc == 3 ? n : n / 8 + 1;
    for (int i = 0; i < cnt; i++) {
      f80 a = opnd(0), b = opnd(&a), r; uint16_t sw; unsigned char m[0x50 + 108]; memset(m, 0, sizeof m); memset(&r, 0, sizeof r);
      if (rnd() % 8) a = special(a, F[k].kind);
      if (F[k].kind >= 1 && rnd() % 4) b = num(-20, 40);
      unsigned char *p = code; const unsigned char pre[] = {0xdb,0xe3,0xd9,0x2b,0xdb,0x6b,0x10,0xdb,0x6b,0x20,0xdb,0xe2};
      memcpy(p, pre, sizeof pre); p += sizeof pre; memcpy(p, F[k].b, F[k].n); p += F[k].n;
      const unsigned char post[] = {0xdd,0x7b,0x02,0xdb,0x7b,0x30,0xdb,0xe3,0xc3};
      const unsigned char postu[] = {0xdd,0x73,0x50,0xc3};
      if (um) memcpy(p, postu, sizeof postu); else memcpy(p, post, sizeof post);
      memcpy(m, &cw, 2); memcpy(m + 0x10, &b, 10); memcpy(m + 0x20, &a, 10);
      asm volatile("mov %0, %%rbx\n call *%1" :: "r"(m), "r"(code) : "rbx", "memory", "cc");
      if (um) { memcpy(&r, m + 0x50 + 28, 10); memcpy(&sw, m + 0x50 + 4, 2); }
      else { memcpy(&r, m + 0x30, 10); memcpy(&sw, m + 2, 2); }
      printf(um ? "xu:%s %04x " : "x:%s %04x ", F[k].hex, cw); pf(a); printf(" "); pf(b); printf(" "); pf(r); printf(" %04x\n", sw);
    }
  }
  return 0;
}
