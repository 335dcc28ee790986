// Small statistics for benchmark reports: medians, spreads and ratios, as numbers and as text.

export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new Error("median of no values");
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Lowest and highest value. */
export function spread(values: readonly number[]): { min: number; max: number } {
  if (values.length === 0) {
    throw new Error("spread of no values");
  }
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** "0.91×", or "–" when the base is zero or missing. */
export function formatRatio(value: number, base: number | undefined): string {
  if (base === undefined || base === 0 || !Number.isFinite(value)) {
    return "–";
  }
  return `${(value / base).toFixed(2)}×`;
}
