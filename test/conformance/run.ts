/**
 * Command line for the differential conformance harness:
 *   npm run conformance -- [--cases N] [--seed S] [--mode 64|32|both] [--mnemonic X]...
 *                          [--form CODE] [--case I] [--strict] [--count-known] [--verbose] [--list]
 * See README.md in this directory.
 */
import { expandMnemonics, allForms } from './forms';
import type { Mode } from './forms';
import { formatCounts, formatKnown, formatMismatchSummary, formatOutcomes, runConformance } from './harness';

const HELP = `usage: npm run conformance -- [options]

  --cases N          number of generated cases, split across the modes (default 50000)
  --seed S           generator seed (default: random; printed)
  --mode 64|32|both  processor mode(s) (default both; 32 = compatibility mode)
  --mnemonic X       only these mnemonics (repeatable or comma list; aliases: JCC SETCC CMOVCC
                     BCD MOVS STOS LODS CMPS SCAS LOOPCC JCXZ PUSHF POPF CBW SHIFT BMI X87
                     TRANSCENDENTAL). The x87 transcendentals (FSIN FCOS FSINCOS FPTAN FPATAN
                     F2XM1 FYL2X FYL2XP1) run only when named here (1-ulp model, see README.md)
  --form NAME        only iced Code names containing NAME (repeatable), e.g. Add_rm32_imm8
  --case I           replay case I of the given --mode (with the same --seed and filters)
  --strict           compare flags and results the SDM leaves undefined too
  --count-known      count the known x87 differences (known.ts) as mismatches
  --verbose          print every mismatch in full (bytes, disassembly, inputs, differences)
  --details N        full reports to print at the end (default 10; verbose prints all)
  --batch N          cases per host round trip (default 2000)
  --stats            print the host's outcomes per mnemonic (completed / which exception)
  --list             list the instruction forms and exit
  --help             this text`;

function main(argv: string[]): Promise<number> | number {
  let cases = 50000;
  let seed = (Math.random() * 0x100000000) >>> 0;
  let modes: Mode[] = [64, 32];
  const mnemonics: string[] = [];
  const forms: string[] = [];
  let caseIndex: number | undefined;
  let strict = false, verbose = false, list = false, stats = false, countKnown = false;
  let details = 10, batch = 2000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (): number => {
      const s = val();
      const n = Number(s);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: not a number: ${s}`);
      return n;
    };
    switch (a) {
      case '--cases': cases = Math.floor(num()); break;
      case '--seed': seed = num() >>> 0; break;
      case '--mode': {
        const m = val();
        modes = m === 'both' ? [64, 32] : m === '64' ? [64] : m === '32' ? [32] : (() => { throw new Error(`--mode: 64, 32 or both, not ${m}`); })();
        break;
      }
      case '--mnemonic': mnemonics.push(val()); break;
      case '--form': forms.push(val()); break;
      case '--case': caseIndex = Math.floor(num()); break;
      case '--strict': strict = true; break;
      case '--count-known': countKnown = true; break;
      case '--verbose': case '-v': verbose = true; break;
      case '--details': details = Math.floor(num()); break;
      case '--batch': batch = Math.max(1, Math.floor(num())); break;
      case '--list': list = true; break;
      case '--stats': stats = true; break;
      case '--help': case '-h': console.log(HELP); return 0;
      default: throw new Error(`unknown option ${a}\n${HELP}`);
    }
  }
  const groups = expandMnemonics(mnemonics);
  if (list) {
    for (const f of allForms()) {
      if (!modes.includes(f.mode)) continue;
      if (groups.length > 0 && !groups.includes(f.group)) continue;
      if (forms.length > 0 && !forms.some((s) => f.name.toLowerCase().includes(s.toLowerCase()))) continue;
      console.log(`${f.mode}  ${f.group.padEnd(11)} ${f.name}`);
    }
    return 0;
  }
  if (caseIndex !== undefined && modes.length !== 1) modes = [modes[0]];
  return (async () => {
    console.log(`conformance: seed ${seed}, ${caseIndex !== undefined ? `case ${caseIndex}` : `${cases} cases`}, mode ${modes.join('+')}` +
      `${groups.length ? `, mnemonics ${groups.join(',')}` : ''}${strict ? ', strict' : ''}`);
    const s = await runConformance({
      cases, seed, modes, mnemonics: groups, forms, caseIndex, strict, batch, countKnown,
      maxDetails: caseIndex !== undefined ? 1 : details,
      onMismatch: verbose ? (r) => console.log(`${r}\n`) : undefined,
    });
    console.log(`\nper-mnemonic cases (✗ = mismatches, ~ = known x87 differences):\n${formatCounts(s)}\n`);
    if (stats) console.log(`host outcomes per mnemonic:\n${formatOutcomes(s)}\n`);
    if (!s.gsCompat) console.log('note: modify_ldt is unavailable: no GS-based (16-bit addressing) cases in compatibility mode');
    if (s.known.size > 0) console.log(`${formatKnown(s, !verbose)}\n`);
    if (s.mismatches > 0) {
      console.log(formatMismatchSummary(s, !verbose));
      if (!verbose && s.details.length > 0 && caseIndex !== undefined) console.log(`\n${s.details.join('\n\n')}`);
    }
    if (s.uncovered.length > 0) {
      console.log(`\nno cases for: ${s.uncovered.join(' ')}${s.hostLacks.length ? ` (the host CPU lacks the feature for: ${s.hostLacks.join(' ')})` : ''}`);
    }
    console.log(`\n${s.total} cases, ${s.mismatches} mismatches${s.known.size ? ` (+${[...s.known.values()].reduce((a, v) => a + v.count, 0)} known x87)` : ''}, ${s.seconds.toFixed(1)} s (generate ${s.timing.generate.toFixed(1)} s, ours ${s.timing.ours.toFixed(1)} s, waiting for the host ${s.timing.hostWait.toFixed(1)} s; seed ${seed})`);
    return s.mismatches === 0 && s.uncovered.length === 0 ? 0 : 1;
  })();
}

Promise.resolve()
  .then(() => main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; })
  .catch((e: unknown) => {
    console.error(`conformance: ${(e as Error).message ?? e}`);
    process.exitCode = 2;
  });
