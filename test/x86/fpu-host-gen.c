/* x87 sample generator for test/x86/fpuHost.test.ts: random and edge operands through the host x87
   in every precision/rounding mode; prints "op cw a b result fsw" lines (80-bit values as hex,
   sign+exponent first). Build: cc -O1 -include stdlib.h fpu-host-gen.c; run: SEED=n ./a.out count */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
typedef struct { uint64_t m; uint16_t se; } __attribute__((packed)) f80;
static uint64_t st = 88172645463325252ull; __attribute__((constructor)) static void seed(void){ char*e=getenv("SEED"); if(e) st ^= strtoull(e,0,10)*0x9E3779B97F4A7C15ull; }
static uint64_t rnd(void){ st ^= st<<13; st ^= st>>7; st ^= st<<17; return st; }
static uint64_t sigpat(void){
  switch(rnd()%8){
    case 0: return 0x8000000000000000ull;
    case 1: return 0xffffffffffffffffull;
    case 2: return 0x8000000000000000ull | (rnd() & 0xffffffffff000000ull);
    case 3: return 0x8000000000000000ull | (rnd() >> (rnd()%64));
    case 4: return 0xffffffffffffffffull ^ (rnd() >> (rnd()%64));
    case 5: return 0x8000000000000000ull | (rnd() & 0x7ffffffffffff800ull) | ((rnd()%2)?0x400:0);
    default: return 0x8000000000000000ull | rnd();
  }
}
static f80 opnd(f80 *other){
  f80 r; unsigned s = rnd()&1;
  switch(rnd()%24){
    case 0: case 1: case 2: case 3: case 4: case 5: r.m=sigpat(); r.se=16383-40+rnd()%80; break;
    case 6: case 7: r.m=sigpat(); r.se=1+rnd()%0x7ffe; break;
    case 8: r.m=sigpat()>>(1+rnd()%63); r.se=0; break; /* denormal */
    case 9: r.m=0; r.se=0; break;
    case 10: r.m=0x8000000000000000ull; r.se=0x7fff; break;
    case 11: r.m=0xc000000000000000ull | (rnd()>>(2+rnd()%62)); r.se=0x7fff; break; /* qnan */
    case 12: r.m=0x8000000000000000ull | ((rnd()>>(2+rnd()%62))|1); r.se=0x7fff; break; /* snan */
    case 13: case 14: r.m=sigpat(); r.se=(rnd()%2)? 1+rnd()%64 : 0x7ffe - rnd()%64; break;
    case 15: { uint64_t v=rnd()%100000; if(!v) v=1; int z=__builtin_clzll(v); r.m=v<<z; r.se=16383+63-z; break; }
    case 16: case 17: case 18: if(other){ r=*other; r.m ^= rnd()>>(rnd()%64); r.m|=0x8000000000000000ull; r.se += (int)(rnd()%3)-1; s = other->se>>15 ^ (rnd()&1); r.se = (r.se&0x7fff); } else { r.m=sigpat(); r.se=16383; } break;
    case 19: r.m=sigpat(); r.se=16383-16382+ (rnd()%40); break;
    case 20: r.m=sigpat(); r.se=16383+ (rnd()%40) - 20 - 8000; break;
    case 21: r.m=sigpat(); r.se=16383+(rnd()%40) + 8000; break;
    case 22: r.m=sigpat()>>(rnd()%2); r.se=(rnd()%2)?0:0x7fff; if(r.se==0x7fff) r.m &= 0x7fffffffffffffffull; if(r.m==0) r.m=1; break; /* pseudo-denormal/pseudo-nan or unnormal*/
    default: r.m=sigpat(); r.se=16383-8+rnd()%16; break;
  }
  r.se = (r.se & 0x7fff) | (s<<15);
  return r;
}
#define OP2(name, ins) static void name(uint16_t cw, f80*a, f80*b, f80*r, uint16_t*sw){ \
  asm volatile("fninit\n fldcw %4\n fldt %3\n fldt %2\n fnclex\n " ins "\n fnstsw %1\n fstpt %0\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(*b), "m"(cw) : "memory"); }
OP2(o_add, "fadd %%st(1), %%st")
OP2(o_sub, "fsub %%st(1), %%st")
OP2(o_mul, "fmul %%st(1), %%st")
OP2(o_div, "fdiv %%st(1), %%st")
OP2(o_sqrt, "fsqrt")
OP2(o_rndint, "frndint")
OP2(o_scale, "fscale")
OP2(o_prem, "fprem")
OP2(o_prem1, "fprem1")
OP2(o_xtract, "fxtract\n fstp %%st(2)")
OP2(o_xtract2, "fxtract")
OP2(o_com, "fcom %%st(1)")
OP2(o_ucom, "fucom %%st(1)")
OP2(o_xam, "fxam")
OP2(o_tst, "ftst")
static void st32(uint16_t cw, f80*a, uint32_t*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n fsts %0\n fnstsw %1\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void st64(uint16_t cw, f80*a, uint64_t*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n fstl %0\n fnstsw %1\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void ist16(uint16_t cw, f80*a, uint16_t*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n fists %0\n fnstsw %1\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void ist32(uint16_t cw, f80*a, uint32_t*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n fistl %0\n fnstsw %1\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void ist64(uint16_t cw, f80*a, uint64_t*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n fld %%st(0)\n fistpll %0\n fnstsw %1\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void istt32(uint16_t cw, f80*a, uint32_t*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fldt %2\n fnclex\n fld %%st(0)\n fisttpl %0\n fnstsw %1\n fstp %%st(0)" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void ld32(uint16_t cw, uint32_t*a, f80*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fnclex\n flds %2\n fnstsw %1\n fstpt %0" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void ld64(uint16_t cw, uint64_t*a, f80*r, uint16_t*sw){ asm volatile("fninit\n fldcw %3\n fnclex\n fldl %2\n fnstsw %1\n fstpt %0" : "=m"(*r), "=m"(*sw) : "m"(*a), "m"(cw) : "memory"); }
static void pf(f80 x){ printf("%04x%016llx", x.se, (unsigned long long)x.m); }
int main(int argc, char**argv){
  int n = argc>1 ? atoi(argv[1]) : 200;
  const char* names[] = {"add","sub","mul","div","sqrt","rndint","scale","com","ucom","xam","tst","st32","st64","ist16","ist32","ist64","ld32","ld64","prem","prem1","xtract","xtract2","istt32"};
  void (*f2[])(uint16_t,f80*,f80*,f80*,uint16_t*) = {o_add,o_sub,o_mul,o_div,o_sqrt,o_rndint,o_scale,o_com,o_ucom,o_xam,o_tst};
  for (int op=0; op<23; op++) for (int pc=0; pc<4; pc++) for (int rc=0; rc<4; rc++) {
    if (pc==1) continue;
    if (op>=7 && pc!=3) continue;
    uint16_t cw = 0x7f | (pc<<8) | (rc<<10);
    for (int i=0;i<n;i++){
      f80 a=opnd(0), b=opnd(&a), r; uint16_t sw=0; memset(&r,0,sizeof r);
      if (rnd()%2) { f80 t=a; a=b; b=t; }
      if ((op==2||op==3) && rnd()%2==0) { a.se=(rnd()%2?0x8000:0)|(1+rnd()%2); a.m=~(rnd()>>(rnd()%64)); b.se=(op==2?0x3ffe:0x3fff)|(rnd()%2?0x8000:0); b.m= op==2 ? ~(rnd()>>(rnd()%64)) : (0x8000000000000000ull|(rnd()>>(rnd()%64))); if(rnd()%4==0) b.m = op==2? 0xffffffffffffffffull : 0x8000000000000001ull; }
      if (op==6) { /* scale: b small integer-ish */ if(rnd()%2){ int64_t k=(int64_t)(rnd()%40000)-20000; if(rnd()%3==0) k=(int64_t)(rnd()%200)-100; long double kd=k; memcpy(&b,&kd,10);} }
      printf("%s %04x ", names[op], cw); pf(a); printf(" "); pf(b); printf(" ");
      if (op==22){ uint32_t v; istt32(cw,&a,&v,&sw); printf("%08x",v); }
      else if (op<11 || op>=18) { if(op<11) f2[op](cw,&a,&b,&r,&sw); else if(op==18) o_prem(cw,&a,&b,&r,&sw); else if(op==19) o_prem1(cw,&a,&b,&r,&sw); else if(op==20) o_xtract(cw,&a,&b,&r,&sw); else o_xtract2(cw,&a,&b,&r,&sw); pf(r); }
      else if (op==11){ uint32_t v; st32(cw,&a,&v,&sw); printf("%08x",v); }
      else if (op==12){ uint64_t v; st64(cw,&a,&v,&sw); printf("%016llx",(unsigned long long)v); }
      else if (op==13){ uint16_t v; ist16(cw,&a,&v,&sw); printf("%04x",v); }
      else if (op==14){ uint32_t v; ist32(cw,&a,&v,&sw); printf("%08x",v); }
      else if (op==15){ uint64_t v; ist64(cw,&a,&v,&sw); printf("%016llx",(unsigned long long)v); }
      else if (op==16){ uint32_t v=(uint32_t)a.m ^ (uint32_t)(a.m>>32); if(rnd()%4==0) v&=0x807fffff; if(rnd()%8==0) v|=0x7f800000; ld32(cw,&v,&r,&sw); printf("m%08x ",v); pf(r); }
      else { uint64_t v=a.m ^ ((uint64_t)a.se<<48); if(rnd()%4==0) v&=0x800fffffffffffffull; if(rnd()%8==0) v|=0x7ff0000000000000ull; ld64(cw,&v,&r,&sw); printf("m%016llx ",(unsigned long long)v); pf(r); }
      printf(" %04x\n", sw);
    }
  }
  return 0;
}
