/**
 * Call frame instructions (DWARF 4/5 §6.4.2): the row of the unwind table at an address, by
 * running the CIE's initial instructions and then the FDE's up to that address. Every CFA
 * definition, register rule, location advance and remember/restore_state is executed;
 * DW_CFA_def_cfa_expression, DW_CFA_expression and DW_CFA_val_expression are recorded as
 * unsupported (the unwinder falls back for that frame). Malformed instructions end the program
 * there (the row so far is kept, with a warning).
 */
import type { RegisterRule, UnwindRow } from '../model';
import { addAddress } from '../address';
import { ByteReader, DebugFormatError } from './byteReader';
import { readEncoded, type Fde } from './dwarfFrameEntries';

interface State {
  cfa: UnwindRow['cfa'];
  regs: Map<number, RegisterRule>;
}

const copy = (s: State): State => ({ cfa: s.cfa === undefined ? undefined : { ...s.cfa }, regs: new Map(s.regs) });

/** The row in force at `pc` (which the FDE covers). */
export function rowAt(fde: Fde, pc: number, bits: 32 | 64, warnings?: string[]): UnwindRow {
  const cie = fde.cie;
  const state: State = { cfa: undefined, regs: new Map() };
  const limit = { loc: fde.start, pc, stop: false };
  run(cie.initialInstructions, state, undefined, limit, fde, bits, warnings);
  const initial = copy(state);
  limit.loc = fde.start;
  limit.stop = false;
  run(fde.instructions, state, initial, limit, fde, bits, warnings);
  return { cfa: state.cfa, returnAddressRegister: cie.returnAddressRegister, registers: state.regs };
}

/** Distance of `a` past `b`, for 32-bit and 64-bit address numbers alike. */
function past(a: number, b: number): number { return a - b; }

function run(code: Uint8Array, s: State, initial: State | undefined, limit: { loc: number; pc: number; stop: boolean }, fde: Fde, bits: 32 | 64, warnings?: string[]): void {
  const cie = fde.cie;
  const r = new ByteReader(code, 0, 'call frame instructions');
  const stack: State[] = [];
  const advance = (delta: number) => {
    const next = addAddress(limit.loc, delta * cie.codeAlign);
    if (past(next, limit.pc) > 0) limit.stop = true;
    else limit.loc = next;
  };
  const restore = (reg: number) => {
    const v = initial?.regs.get(reg);
    if (v === undefined) s.regs.delete(reg);
    else s.regs.set(reg, v);
  };
  const setCfa = (register: number | undefined, offset: number | undefined) => {
    const cur = s.cfa ?? { register: 0, offset: 0 };
    s.cfa = { register: register ?? cur.register, offset: offset ?? cur.offset };
  };
  try {
    while (!r.atEnd && !limit.stop) {
      const op = r.u8();
      const hi = op & 0xc0;
      const low = op & 0x3f;
      if (hi === 0x40) { advance(low); continue; } // DW_CFA_advance_loc
      if (hi === 0x80) { s.regs.set(low, { kind: 'offset', offset: r.uleb() * cie.dataAlign }); continue; } // DW_CFA_offset
      if (hi === 0xc0) { restore(low); continue; } // DW_CFA_restore
      switch (op) {
        case 0x00: break; // nop
        case 0x01: { // set_loc
          const to = readEncoded(r, cie.fdeEncoding, cie.addressSize, 0, bits);
          if (past(to, limit.pc) > 0) limit.stop = true;
          else limit.loc = to;
          break;
        }
        case 0x02: advance(r.u8()); break;
        case 0x03: advance(r.u16()); break;
        case 0x04: advance(r.u32()); break;
        case 0x05: { const reg = r.uleb(); s.regs.set(reg, { kind: 'offset', offset: r.uleb() * cie.dataAlign }); break; }
        case 0x06: restore(r.uleb()); break;
        case 0x07: s.regs.set(r.uleb(), { kind: 'undefined' }); break;
        case 0x08: s.regs.set(r.uleb(), { kind: 'same' }); break;
        case 0x09: { const reg = r.uleb(); s.regs.set(reg, { kind: 'register', register: r.uleb() }); break; }
        case 0x0a: stack.push(copy(s)); break; // remember_state
        case 0x0b: { // restore_state: the register rules (and, as implementations do, the CFA)
          const top = stack.pop();
          if (top) { s.regs = top.regs; s.cfa = top.cfa; }
          break;
        }
        case 0x0c: { const reg = r.uleb(); setCfa(reg, r.uleb()); break; }
        case 0x0d: setCfa(r.uleb(), undefined); break;
        case 0x0e: setCfa(undefined, r.uleb()); break;
        case 0x0f: r.skip(r.uleb()); s.cfa = undefined; break; // def_cfa_expression: unsupported
        case 0x10: { const reg = r.uleb(); r.skip(r.uleb()); s.regs.set(reg, { kind: 'expression' }); break; }
        case 0x11: { const reg = r.uleb(); s.regs.set(reg, { kind: 'offset', offset: r.sleb() * cie.dataAlign }); break; }
        case 0x12: { const reg = r.uleb(); setCfa(reg, r.sleb() * cie.dataAlign); break; }
        case 0x13: setCfa(undefined, r.sleb() * cie.dataAlign); break;
        case 0x14: { const reg = r.uleb(); s.regs.set(reg, { kind: 'valOffset', offset: r.uleb() * cie.dataAlign }); break; }
        case 0x15: { const reg = r.uleb(); s.regs.set(reg, { kind: 'valOffset', offset: r.sleb() * cie.dataAlign }); break; }
        case 0x16: { const reg = r.uleb(); r.skip(r.uleb()); s.regs.set(reg, { kind: 'valExpression' }); break; }
        case 0x2e: r.uleb(); break; // DW_CFA_GNU_args_size
        case 0x2f: { const reg = r.uleb(); s.regs.set(reg, { kind: 'offset', offset: -r.uleb() * cie.dataAlign }); break; }
        default: r.fail(`unknown call frame instruction 0x${op.toString(16)}`);
      }
    }
  } catch (e) {
    if (!(e instanceof DebugFormatError)) throw e;
    warnings?.push(`FDE at ${fde.start.toString(16)}: ${e.message}`);
  }
}
