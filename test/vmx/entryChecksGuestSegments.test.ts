/**
 * §26.3.1.2 checks on the guest segment registers: selectors, bases, limits and access rights,
 * with the virtual-8086 rules (RFLAGS.VM = 1), the unusable bit and the unrestricted-guest
 * relaxations. Each failing VMCS gives exit reason 33, qualification 0, and the named check.
 */
import { runCases, Case } from './entryChecksCases';
import { Fixture, guest } from './entryChecksFixture';

const S = (m: string) => guest(`26.3.1.2 guest ${m}`);
const NONCANON = 0x1234000000000000n;
const SEGS = ['CS', 'SS', 'DS', 'ES', 'FS', 'GS'];
/** A paged 32-bit guest in virtual-8086 mode with valid v86 segments. */
const v86 = (fx: Fixture) => {
  fx.set('GUEST_RFLAGS', 0x20002);
  SEGS.forEach((s, k) => {
    fx.set(`GUEST_${s}_SELECTOR`, 0x1000 + k * 0x111);
    fx.set(`GUEST_${s}_BASE`, (0x1000 + k * 0x111) * 16);
    fx.set(`GUEST_${s}_LIMIT`, 0xffff);
    fx.set(`GUEST_${s}_ACCESS_RIGHTS`, 0xf3);
  });
};
const ar = (s: string, v: number) => (fx: Fixture) => fx.set(`GUEST_${s}_ACCESS_RIGHTS`, v);
/** A usable LDT: selector 0x28, base 0x5000, limit 0xff, type 2, present. */
const ldt = (fx: Fixture) => { fx.set('GUEST_LDTR_SELECTOR', 0x28); fx.set('GUEST_LDTR_BASE', 0x5000); fx.set('GUEST_LDTR_LIMIT', 0xff); fx.set('GUEST_LDTR_ACCESS_RIGHTS', 0x82); };

const cases: Case[] = [
  // ---- selectors ----
  { name: 'TR selector with TI', change: (fx) => fx.set('GUEST_TR_SELECTOR', 0x1c), expect: S('TR selector TI set') },
  { name: 'usable LDTR selector with TI', change: (fx) => { ldt(fx); fx.set('GUEST_LDTR_SELECTOR', 0x2c); }, expect: S('LDTR selector TI set') },
  { name: 'unusable LDTR selector with TI passes', change: (fx) => fx.set('GUEST_LDTR_SELECTOR', 0x2c), expect: null },
  { name: 'usable LDTR passes', change: ldt, expect: null },
  { name: 'SS.RPL differs from CS.RPL', change: (fx) => fx.set('GUEST_SS_SELECTOR', 0x13), expect: S('SS.RPL differs from CS.RPL') },
  { name: 'SS.RPL may differ under unrestricted guest', kind: 'real', change: (fx) => fx.set('GUEST_SS_SELECTOR', 0x3), expect: null },
  { name: 'SS.RPL not compared in virtual-8086 mode', kind: '32pae', change: (fx) => { v86(fx); fx.set('GUEST_SS_SELECTOR', 0x1113); fx.set('GUEST_SS_BASE', 0x11130); }, expect: null },
  // ---- bases ----
  { name: 'virtual-8086 segments pass', kind: '32pae', change: v86, expect: null },
  ...SEGS.map((s): Case => ({ name: `virtual-8086 ${s} base not selector * 16`, kind: '32pae', change: (fx) => { v86(fx); fx.set(`GUEST_${s}_BASE`, 0x10); }, expect: S(`${s} base not selector * 16 (virtual-8086)`) })),
  { name: 'virtual-8086 CS base with bit 32', kind: '32pae', change: (fx) => { v86(fx); fx.set('GUEST_CS_BASE', 0x100010000n); }, expect: S('CS base not selector * 16 (virtual-8086)') },
  ...['TR', 'FS', 'GS'].map((s): Case => ({ name: `${s} base not canonical`, change: (fx) => fx.set(`GUEST_${s}_BASE`, NONCANON), expect: S(`${s} base not canonical`) })),
  { name: 'usable LDTR base not canonical', change: (fx) => { ldt(fx); fx.set('GUEST_LDTR_BASE', NONCANON); }, expect: S('LDTR base not canonical') },
  { name: 'unusable LDTR base not canonical passes', change: (fx) => fx.set('GUEST_LDTR_BASE', NONCANON), expect: null },
  { name: 'CS base bit 32', change: (fx) => fx.set('GUEST_CS_BASE', 1n << 32n), expect: S('CS base bits 63:32 not 0') },
  ...['SS', 'DS', 'ES'].map((s): Case => ({ name: `usable ${s} base bit 32`, change: (fx) => fx.set(`GUEST_${s}_BASE`, 1n << 32n), expect: S(`${s} base bits 63:32 not 0`) })),
  { name: 'unusable DS base bit 32 passes', change: (fx) => { fx.set('GUEST_DS_ACCESS_RIGHTS', 0x10000); fx.set('GUEST_DS_BASE', 1n << 32n); }, expect: null },
  { name: 'FS and GS bases above 4 GiB pass', change: (fx) => { fx.set('GUEST_FS_BASE', 0x7fff12345000n); fx.set('GUEST_GS_BASE', 0xffff880000000000n); }, expect: null },
  // ---- limits (virtual-8086) ----
  ...SEGS.map((s): Case => ({ name: `virtual-8086 ${s} limit not FFFFH`, kind: '32pae', change: (fx) => { v86(fx); fx.set(`GUEST_${s}_LIMIT`, 0xfffe); }, expect: S(`${s} limit not FFFFH (virtual-8086)`) })),
  // ---- access rights (virtual-8086) ----
  ...SEGS.map((s): Case => ({ name: `virtual-8086 ${s} access rights not F3H`, kind: '32pae', change: (fx) => { v86(fx); fx.set(`GUEST_${s}_ACCESS_RIGHTS`, 0xf2); }, expect: S(`${s} access rights not F3H (virtual-8086)`) })),
  { name: 'virtual-8086 DS unusable', kind: '32pae', change: (fx) => { v86(fx); fx.set('GUEST_DS_ACCESS_RIGHTS', 0x100f3); }, expect: S('DS access rights not F3H (virtual-8086)') },
  // ---- type ----
  ...[0, 1, 2, 3, 8, 10, 12, 14].map((t): Case => ({ name: `CS type ${t} without unrestricted guest`, change: ar('CS', 0xa090 | t), expect: S('CS type') })),
  { name: 'CS type 3 under unrestricted guest passes', kind: 'real', change: ar('CS', 0x93), expect: null },
  { name: 'CS type 1 under unrestricted guest', kind: 'real', change: ar('CS', 0x91), expect: S('CS type') },
  ...[9, 13, 15].map((t): Case => ({ name: `CS type ${t} passes`, change: ar('CS', 0xa090 | t), expect: null })),
  ...[0, 1, 2, 5, 11].map((t): Case => ({ name: `usable SS type ${t}`, change: ar('SS', 0xc090 | t), expect: S('SS type') })),
  { name: 'SS type 7 (expand-down) passes', change: ar('SS', 0xc097), expect: null },
  { name: 'unusable SS passes (64-bit guest)', change: ar('SS', 0x10000), expect: null },
  ...['DS', 'ES', 'FS', 'GS'].flatMap((s): Case[] => [
    { name: `usable ${s} type not accessed`, change: ar(s, 0xc092), expect: S(`${s} type not accessed`) },
    { name: `usable ${s} execute-only code`, change: ar(s, 0xc099), expect: S(`${s} code segment not readable`) },
    { name: `usable ${s} readable code passes`, change: ar(s, 0xc09b), expect: null },
    { name: `unusable ${s} with any type passes`, change: ar(s, 0x10000), expect: null },
  ]),
  // ---- S ----
  { name: 'CS S bit clear', change: ar('CS', 0xa08b), expect: S('CS S bit') },
  { name: 'usable SS S bit clear', change: ar('SS', 0xc083), expect: S('SS S bit') },
  { name: 'usable GS S bit clear', change: ar('GS', 0xc083), expect: S('GS S bit') },
  // ---- DPL ----
  { name: 'non-conforming CS DPL differs from SS DPL', change: ar('CS', 0xa0fb), expect: S('CS DPL') },
  { name: 'conforming CS DPL above SS DPL', change: ar('CS', 0xa0ff), expect: S('CS DPL') },
  { name: 'conforming CS DPL below SS DPL passes', change: (fx) => { ar('CS', 0xa09f)(fx); fx.set('GUEST_SS_SELECTOR', 0x13); fx.set('GUEST_CS_SELECTOR', 0x0b); ar('SS', 0xc0f3)(fx); for (const s of ['DS', 'ES', 'FS', 'GS']) ar(s, 0xc0f3)(fx); }, expect: null },
  { name: 'CS type 3 with DPL 3 under unrestricted guest', kind: 'real', change: ar('CS', 0xf3), expect: S('CS DPL') },
  { name: 'SS DPL differs from SS.RPL', change: (fx) => { ar('CS', 0xa09f)(fx); ar('SS', 0xc0f3)(fx); }, expect: S('SS DPL') },
  { name: 'SS DPL 3 with CR0.PE = 0 (unrestricted guest)', kind: 'real', change: (fx) => { ar('CS', 0x9f)(fx); ar('SS', 0xf3)(fx); }, expect: S('SS DPL') },
  { name: 'SS DPL 3 with CS type 3 (unrestricted guest, protected mode)', kind: 'real', change: (fx) => { fx.set('GUEST_CR0', 0x21); ar('CS', 0x93)(fx); ar('SS', 0xf3)(fx); }, expect: S('SS DPL') },
  { name: 'SS DPL may differ from RPL under unrestricted guest (protected mode)', kind: 'real', change: (fx) => { fx.set('GUEST_CR0', 0x21); fx.set('GUEST_SS_SELECTOR', 0x13); fx.set('GUEST_CS_SELECTOR', 0x08); }, expect: null },
  ...['DS', 'ES', 'FS', 'GS'].map((s): Case => ({ name: `${s} DPL below its selector's RPL`, change: (fx) => fx.set(`GUEST_${s}_SELECTOR`, 0x13), expect: S(`${s} DPL`) })),
  { name: 'DS DPL below RPL allowed for a conforming code segment', change: (fx) => { fx.set('GUEST_DS_SELECTOR', 0x13); ar('DS', 0xc09f)(fx); }, expect: null },
  { name: 'DS DPL below RPL allowed under unrestricted guest', kind: 'real', change: (fx) => fx.set('GUEST_DS_SELECTOR', 0x3), expect: null },
  { name: 'DS DPL below RPL allowed when DS is unusable', change: (fx) => { fx.set('GUEST_DS_SELECTOR', 0x13); ar('DS', 0x10000)(fx); }, expect: null },
  // ---- P ----
  { name: 'CS not present', change: ar('CS', 0xa01b), expect: S('CS not present') },
  { name: 'usable SS not present', change: ar('SS', 0xc013), expect: S('SS not present') },
  { name: 'usable FS not present', change: ar('FS', 0xc013), expect: S('FS not present') },
  // ---- reserved 11:8 ----
  { name: 'CS access rights bit 8', change: ar('CS', 0xa19b), expect: S('CS access rights bits 11:8 not 0') },
  { name: 'ES access rights bit 11', change: ar('ES', 0xc893), expect: S('ES access rights bits 11:8 not 0') },
  { name: 'unusable ES with bit 11 passes', change: ar('ES', 0x10800), expect: null },
  // ---- D/B ----
  { name: 'CS with L and D in IA-32e mode', change: ar('CS', 0xe09b), expect: S('CS D/B set with L in IA-32e mode') },
  { name: 'CS with L and D outside IA-32e mode passes', kind: '32pae', change: ar('CS', 0xe09b), expect: null },
  // ---- G ----
  { name: 'CS G set with limit bits 11:0 not all ones', change: (fx) => fx.set('GUEST_CS_LIMIT', 0xfffff000), expect: S('CS G bit inconsistent with limit') },
  { name: 'CS G clear with limit above 1 MiB', change: (fx) => { ar('CS', 0x209b)(fx); fx.set('GUEST_CS_LIMIT', 0x100000); }, expect: S('CS G bit inconsistent with limit') },
  { name: 'CS G clear with limit 0xfffff passes', change: (fx) => { ar('CS', 0x209b)(fx); fx.set('GUEST_CS_LIMIT', 0xfffff); }, expect: null },
  { name: 'SS G set with limit 0xffffe', change: (fx) => fx.set('GUEST_SS_LIMIT', 0xffffe), expect: S('SS G bit inconsistent with limit') },
  { name: 'GS G clear with limit 0xffffffff', change: ar('GS', 0x4093), expect: S('GS G bit inconsistent with limit') },
  // ---- reserved 31:17 ----
  { name: 'CS access rights bit 17', change: ar('CS', 0x2a09b), expect: S('CS access rights bits 31:17 not 0') },
  { name: 'DS access rights bit 31', change: (fx) => fx.set('GUEST_DS_ACCESS_RIGHTS', 0x8000c093), expect: S('DS access rights bits 31:17 not 0') },
  // ---- TR ----
  { name: 'TR 16-bit busy TSS in IA-32e mode', change: ar('TR', 0x83), expect: S('TR type') },
  { name: 'TR 16-bit busy TSS in a 32-bit guest passes', kind: '32pae', change: ar('TR', 0x83), expect: null },
  { name: 'TR available TSS (type 9)', change: ar('TR', 0x89), expect: S('TR type') },
  { name: 'TR available 16-bit TSS in a 32-bit guest', kind: '32pae', change: ar('TR', 0x81), expect: S('TR type') },
  { name: 'TR S bit set', change: ar('TR', 0x9b), expect: S('TR S bit') },
  { name: 'TR not present', change: ar('TR', 0x0b), expect: S('TR not present') },
  { name: 'TR access rights bit 9', change: ar('TR', 0x28b), expect: S('TR access rights bits 11:8 not 0') },
  { name: 'TR G set with limit 0x67', change: ar('TR', 0x808b), expect: S('TR G bit inconsistent with limit') },
  { name: 'TR unusable', change: ar('TR', 0x1008b), expect: S('TR unusable') },
  { name: 'TR access rights bit 20', change: ar('TR', 0x10008b), expect: S('TR access rights bits 31:17 not 0') },
  { name: 'TR checked in virtual-8086 mode too', kind: '32pae', change: (fx) => { v86(fx); ar('TR', 0x89)(fx); }, expect: S('TR type') },
  // ---- LDTR ----
  { name: 'usable LDTR type 3', change: (fx) => { ldt(fx); ar('LDTR', 0x83)(fx); }, expect: S('LDTR type') },
  { name: 'usable LDTR S bit set', change: (fx) => { ldt(fx); ar('LDTR', 0x92)(fx); }, expect: S('LDTR S bit') },
  { name: 'usable LDTR not present', change: (fx) => { ldt(fx); ar('LDTR', 0x02)(fx); }, expect: S('LDTR not present') },
  { name: 'usable LDTR access rights bit 10', change: (fx) => { ldt(fx); ar('LDTR', 0x482)(fx); }, expect: S('LDTR access rights bits 11:8 not 0') },
  { name: 'usable LDTR G clear with limit 0x100000', change: (fx) => { ldt(fx); fx.set('GUEST_LDTR_LIMIT', 0x100000); }, expect: S('LDTR G bit inconsistent with limit') },
  { name: 'usable LDTR access rights bit 31', change: (fx) => { ldt(fx); fx.set('GUEST_LDTR_ACCESS_RIGHTS', 0x80000082); }, expect: S('LDTR access rights bits 31:17 not 0') },
  // ---- order ----
  { name: 'order: selectors before bases', change: (fx) => { fx.set('GUEST_TR_SELECTOR', 0x1c); fx.set('GUEST_CS_BASE', 1n << 32n); }, expect: S('TR selector TI set') },
  { name: 'order: bases before access rights', change: (fx) => { fx.set('GUEST_CS_BASE', 1n << 32n); ar('CS', 0)(fx); }, expect: S('CS base bits 63:32 not 0') },
  { name: 'order: types of all registers before S bits', change: (fx) => { ar('CS', 0xa08b)(fx); ar('DS', 0xc092)(fx); }, expect: S('DS type not accessed') },
  { name: 'order: code/data registers before TR', change: (fx) => { ar('TR', 0)(fx); ar('GS', 0xc013)(fx); }, expect: S('GS not present') },
  { name: 'order: TR before LDTR', change: (fx) => { ldt(fx); ar('LDTR', 0x83)(fx); ar('TR', 0x8b | 0x10000)(fx); }, expect: S('TR unusable') },
];

runCases('§26.3.1.2 guest segments', cases);
