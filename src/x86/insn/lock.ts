/**
 * Where a LOCK prefix is legal (SDM vol. 2A, LOCK—Assert LOCK# Signal Prefix): only these
 * instructions, and only with a memory destination. Anything else raises #UD.
 */
import { Mnemonic, OpKind } from 'iced-x86';
import type { DecodedInsn } from '../decoded';

const LOCKABLE = new Set<Mnemonic>([
  Mnemonic.Add, Mnemonic.Adc, Mnemonic.And, Mnemonic.Btc, Mnemonic.Btr, Mnemonic.Bts,
  Mnemonic.Cmpxchg, Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b, Mnemonic.Dec, Mnemonic.Inc,
  Mnemonic.Neg, Mnemonic.Not, Mnemonic.Or, Mnemonic.Sbb, Mnemonic.Sub, Mnemonic.Xor,
  Mnemonic.Xadd, Mnemonic.Xchg,
]);

export function lockAllowed(d: DecodedInsn): boolean {
  return LOCKABLE.has(d.mnemonic) && d.opCount > 0 && d.opKinds[0] === OpKind.Memory;
}
