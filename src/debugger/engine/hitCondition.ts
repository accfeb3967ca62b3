/**
 * Hit conditions of breakpoints and exit filters (DAP `hitCondition`): when the n-th hit stops.
 * `5` or `== 5`: the fifth hit only; `>= 5`, `> 5`, `<= 5`, `< 5`, `!= 5`; `% 5`: every fifth.
 */
export type HitTest = (count: number) => boolean;

export class HitConditionError extends Error {}

export function parseHitCondition(text: string): HitTest {
  const m = /^\s*(==|>=|<=|!=|>|<|%)?\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(text);
  if (m === null) throw new HitConditionError(`hit condition '${text}': expected a count like 5, >= 5 or % 5`);
  const n = Number(m[2]);
  switch (m[1] ?? '==') {
    case '==': return (c) => c === n;
    case '>=': return (c) => c >= n;
    case '<=': return (c) => c <= n;
    case '!=': return (c) => c !== n;
    case '>': return (c) => c > n;
    case '<': return (c) => c < n;
    default:
      if (n === 0) throw new HitConditionError(`hit condition '${text}': % 0 never matches`);
      return (c) => c % n === 0;
  }
}
