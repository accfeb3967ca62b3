/** "Did you mean" for unknown names: the known names closest by edit distance (or sharing a prefix). */
export function closeNames(name: string, known: Iterable<string>, max = 3): string[] {
  const n = name.toLowerCase();
  const scored: Array<[number, string]> = [];
  for (const k of new Set(known)) {
    const l = k.toLowerCase();
    const d = distance(n, l);
    const limit = Math.max(1, Math.floor(n.length / 3));
    if (d <= limit || (n.length >= 3 && l.startsWith(n))) scored.push([d, k]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, max).map(([, k]) => k);
}

/** Edit distance with adjacent transpositions counted as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 4) return 99;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
