/**
 * Percentiles by the nearest-rank definition: the p-th percentile of n values is the smallest value with at
 * least p % of the values at or below it, i.e. the ⌈p/100 · n⌉-th smallest. It is always one of the measured
 * values (a wait someone really had), which is what the queue figures and the daily report show, and what
 * PostgreSQL's `percentile_disc` computes, so the SQL reports and the in-process figures agree.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
