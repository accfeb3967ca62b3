/* Unmasked-exception x87 samples for test/x86/fpuHost.test.ts (includes fpu-host-gen.c). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
/* Unmasked-exception variant: same operands as fpu-host-gen.c, FCW with every exception unmasked,
   state captured with FNSAVE (non-waiting, so the pending #MF never fires). */
#define main gen_main
#include "fpu-host-gen.c"
#undef main
typedef struct { uint8_t b[108]; } sv;
#define U2(name, ins) static void name(uint16_t cw, f80*a, f80*b, sv*s){ \
  asm volatile("fninit\n fldcw %3\n fldt %2\n fldt %1\n fnclex\n " ins "\n fnsave %0" : "=m"(*s) : "m"(*a), "m"(*b), "m"(cw) : "memory"); }
U2(u_add, "fadd %%st(1), %%st") U2(u_sub, "fsub %%st(1), %%st") U2(u_mul, "fmul %%st(1), %%st") U2(u_div, "fdiv %%st(1), %%st")
U2(u_sqrt, "fsqrt") U2(u_rndint, "frndint") U2(u_scale, "fscale") U2(u_prem, "fprem") U2(u_com, "fcom %%st(1)")
#define U1(name, ins, T) static void name(uint16_t cw, f80*a, T*r, sv*s){ \
  asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n " ins " %1\n fnsave %0" : "=m"(*s), "=m"(*r) : "m"(*a), "m"(cw) : "memory"); }
U1(u_st32, "fsts", uint32_t) U1(u_st64, "fstl", uint64_t) U1(u_ist32, "fistl", uint32_t)
static void pfs(sv*s){ f80 x; memcpy(&x, s->b+28, 10); printf("%04x%016llx %04x\n", x.se, (unsigned long long)x.m, s->b[4] | (s->b[5]<<8)); }
int main(int argc, char**argv){
  int n = argc>1 ? atoi(argv[1]) : 100;
  const char* names[] = {"addu","subu","mulu","divu","sqrtu","rndintu","scaleu","premu","comu","st32u","st64u","ist32u"};
  void (*f2[])(uint16_t,f80*,f80*,sv*) = {u_add,u_sub,u_mul,u_div,u_sqrt,u_rndint,u_scale,u_prem,u_com};
  for (int op=0; op<12; op++) for (int pc=0; pc<4; pc++) for (int rc=0; rc<4; rc++) {
    if (pc==1) continue;
    if (op>=5 && pc!=3) continue;
    uint16_t cw = 0x40 | (pc<<8) | (rc<<10);
    for (int i=0;i<n;i++){
      f80 a=opnd(0), b=opnd(&a); sv s; memset(&s,0,sizeof s);
      if (rnd()%2) { f80 t=a; a=b; b=t; }
      if ((op==2||op==3) && rnd()%2==0) { a.se=(rnd()%2?0x8000:0)|(1+rnd()%2); a.m=~(rnd()>>(rnd()%64)); b.se=(op==2?0x3ffe:0x3fff)|(rnd()%2?0x8000:0); b.m=~(rnd()>>(rnd()%64)); }
      if (op==2 && rnd()%3==0) { a.se = (a.se&0x8000) | (0x7ff0 + rnd()%15); b.se = (b.se & 0x8000) | (0x3ff0 + rnd()%30); }
      printf("%s %04x ", names[op], cw); pf(a); printf(" "); pf(b); printf(" ");
      if (op<9) { f2[op](cw,&a,&b,&s); pfs(&s); }
      else if (op==9){ uint32_t v=0; u_st32(cw,&a,&v,&s); printf("%08x %04x\n", v, s.b[4]|(s.b[5]<<8)); }
      else if (op==10){ uint64_t v=0; u_st64(cw,&a,&v,&s); printf("%016llx %04x\n", (unsigned long long)v, s.b[4]|(s.b[5]<<8)); }
      else { uint32_t v=0; u_ist32(cw,&a,&v,&s); printf("%08x %04x\n", v, s.b[4]|(s.b[5]<<8)); }
    }
  }
  return 0;
}
