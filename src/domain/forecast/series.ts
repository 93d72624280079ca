/**
 * What every forecaster works on: one hourly count series in a typed array, with the hour-of-week of each index
 * (local time of the series' region, so DST and business hours line up) and a pooled week profile to borrow
 * shape from when the series itself is too sparse. Forecasters write into caller-owned buffers: scoring a million
 * series allocates nothing per point.
 */

export const WEEK = 168;
export const DAY = 24;

export const MODEL_NAMES = ['seasonal', 'pooled-seasonal', 'fleet-share', 'holt-winters', 'tsb', 'croston', 'release', 'floor'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface SeriesContext {
  /** Hourly counts, oldest first. Only indices [start, n) are history of this series. */
  values: Float64Array;
  /** History length: index n is the first forecast hour. */
  n: number;
  /**
   * First index that belongs to the series (its first appearance, or 0): hours before it are not zero demand,
   * the item did not exist yet.
   */
  start: number;
  /** Hour of week (0-167) of every index, history and forecast hours alike (length ≥ n + horizon). */
  how: Uint8Array;
  /** Pooled week profile of the series' scope (region or fleet), mean 1 over the 168 hours. */
  shape: Float64Array;
  /**
   * The wider series this one is a part of (a region's series within the fleet's) and this scope's share of the
   * wider scope's traffic: lets a region that has rarely or never seen an item borrow the item's fleet-wide level.
   */
  pool?: { ctx: SeriesContext; share: number };
  /**
   * Per-item memo of values derived from this series, when it is a pool shared by several series (its decayed level
   * at each fit end, whether it has any demand). Whoever refills `values` must clear it.
   */
  memo?: { levels: Map<number, number>; demand?: boolean };
}

export interface Forecaster {
  readonly name: ModelName;
  /** Least history (hours since `start`) the model needs to be a candidate. */
  readonly minHistory: number;
  /** Writes the forecast of hours end … end+horizon-1 into out[0 … horizon), seeing only values[start … end). */
  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void;
}

/** A flat week profile (no pooled shape known). */
export function flatShape(): Float64Array {
  return new Float64Array(WEEK).fill(1);
}

/**
 * Normalises a week of totals to mean 1, mixing in a little of the flat profile so that no hour is exactly 0
 * (a series must still be able to show demand at an hour the pool never saw).
 */
export function normaliseShape(totals: ArrayLike<number>, flatMix = 0.05): Float64Array {
  const out = new Float64Array(WEEK);
  let sum = 0;
  for (let h = 0; h < WEEK; h++) sum += Math.max(0, totals[h] ?? 0);
  if (!(sum > 0)) return out.fill(1);
  const mean = sum / WEEK;
  for (let h = 0; h < WEEK; h++) out[h] = (1 - flatMix) * (Math.max(0, totals[h] ?? 0) / mean) + flatMix;
  return out;
}

/** Mean-1 week profile of hourly totals, each hour placed by a (local) hour-of-week grid. */
export function weekShape(totals: ArrayLike<number>, how: Uint8Array): Float64Array {
  const sums = new Float64Array(WEEK);
  const counts = new Float64Array(WEEK);
  for (let i = 0; i < totals.length; i++) {
    const h = how[i]!;
    sums[h] = sums[h]! + totals[i]!;
    counts[h] = counts[h]! + 1;
  }
  for (let h = 0; h < WEEK; h++) sums[h] = counts[h]! > 0 ? sums[h]! / counts[h]! : 0;
  return normaliseShape(sums);
}

/**
 * Decayed sums over values[start … end) with the newest hour weighted 1: Σ w·x (demand) and Σ w·shape (exposure,
 * the demand a level of 1 would have produced at those hours of the week).
 */
export function decayedSums(ctx: SeriesContext, end: number, halfLifeHours: number): { demand: number; exposure: number } {
  const { values, how, shape } = ctx;
  const r = Math.pow(0.5, 1 / halfLifeHours);
  let w = 1;
  let exposure = 0;
  let demand = 0;
  for (let i = end - 1; i >= ctx.start; i--) {
    demand += w * values[i]!;
    exposure += w * shape[how[i]!]!;
    w *= r;
  }
  return { demand, exposure };
}

/**
 * Deseasonalised decayed level L under x_i ≈ L · shape[how_i]: Σ w·x / Σ w·shape. Unlike a plain decayed mean it
 * is not dragged down when the newest hours happen to be a night or a weekend.
 */
export function decayedLevel(ctx: SeriesContext, end: number, halfLifeHours: number): number {
  const { demand, exposure } = decayedSums(ctx, end, halfLifeHours);
  return exposure > 0 ? demand / exposure : 0;
}

export interface SeriesStats {
  /** Hours of history since start. */
  hours: number;
  total: number;
  nonZeroHours: number;
  /** nonZeroHours / hours over the last two weeks (or all history when shorter). */
  recentDensity: number;
  /** Mean count per hour over the same span. */
  recentMean: number;
  /** Index of the first non-zero hour, or -1. */
  firstNonZero: number;
  /** Index of the last non-zero hour, or -1. */
  lastNonZero: number;
}

export function seriesStats(ctx: SeriesContext, end = ctx.n): SeriesStats {
  const { values, start } = ctx;
  let total = 0;
  let nonZero = 0;
  let first = -1;
  let last = -1;
  const recentFrom = Math.max(start, end - 2 * WEEK);
  let recentTotal = 0;
  let recentNonZero = 0;
  for (let i = start; i < end; i++) {
    const x = values[i]!;
    if (x > 0) {
      total += x;
      nonZero++;
      if (first < 0) first = i;
      last = i;
      if (i >= recentFrom) {
        recentTotal += x;
        recentNonZero++;
      }
    }
  }
  const recentHours = Math.max(1, end - recentFrom);
  return {
    hours: Math.max(0, end - start),
    total,
    nonZeroHours: nonZero,
    recentDensity: recentNonZero / recentHours,
    recentMean: recentTotal / recentHours,
    firstNonZero: first,
    lastNonZero: last,
  };
}

/** Clamps a forecast to finite, non-negative values (models never emit NaN, but inputs can be odd). */
export function sanitise(out: Float64Array, length: number): void {
  for (let k = 0; k < length; k++) {
    const v = out[k]!;
    out[k] = Number.isFinite(v) && v > 0 ? v : 0;
  }
}
