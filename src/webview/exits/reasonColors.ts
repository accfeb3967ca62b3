/** One colour per exit reason, from VS Code's chart palette (theme variables), stable by reason number. */
const PALETTE = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'] as const;

export function reasonColorClass(reason: number): string {
  return `reason-${PALETTE[((reason % PALETTE.length) + PALETTE.length) % PALETTE.length]}`;
}

/** Reasons sorted by count (the chart's lanes and the legend use this order). */
export function laneOrder(counts: ReadonlyArray<{ name: string; reason: number; count: number }>): string[] {
  return [...counts].sort((a, b) => b.count - a.count || a.reason - b.reason).map((c) => c.name);
}
