/**
 * One colour per exit reason from VS Code's chart palette (theme variables): the reasons present
 * in the report, in reason-number order, take the palette's colours in turn — distinct for up
 * to six reasons, and stable while the set of reasons stays the same.
 */
const PALETTE = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'] as const;

export type ReasonColors = (reason: number) => string;

export function reasonColors(counts: ReadonlyArray<{ reason: number }>): ReasonColors {
  const order = [...new Set(counts.map((c) => c.reason))].sort((a, b) => a - b);
  const index = new Map(order.map((r, i) => [r, i]));
  return (reason) => `reason-${PALETTE[(index.get(reason) ?? ((reason % PALETTE.length) + PALETTE.length)) % PALETTE.length]}`;
}

/** Reasons sorted by count (the chart's lanes and the legend use this order). */
export function laneOrder(counts: ReadonlyArray<{ name: string; reason: number; count: number }>): string[] {
  return [...counts].sort((a, b) => b.count - a.count || a.reason - b.reason).map((c) => c.name);
}
