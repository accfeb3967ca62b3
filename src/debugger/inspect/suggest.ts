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

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 4) return 99;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
