/**
 * What every forecaster works on: one hourly count series in a typed array, with the hour-of-week of each index
 * (local time of the series' region, so DST and business hours line up) and a pooled week profile to borrow
 * shape from when the series itself is too sparse. Forecasters write into caller-owned buffers: scoring a million
 * series allocates nothing per point.
 *
 * Most module-versions have a handful of requests in four weeks, so models work on the non-zero hours (`nz`) and
 * take everything that depends only on the hour grid — decayed exposure, decayed weight per hour-of-week — from a
 * cache shared by every series on the same grid. A fit then costs O(non-zero hours), not O(history).
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
  /**
   * Ascending indices in [start, n) whose value is > 0 (the first nzCount entries). Computed on first use when
   * absent and then kept: whoever changes values or start afterwards calls indexNonZeros.
   */
  nz?: Int32Array;
  nzCount?: number;
  /** Grid-only sums shared by every series on this hour grid (same how, shape); computed when absent. */
  grid?: GridCache;
}

/** Σ over the grid of decayed shape and of decayed weight per hour-of-week, per (start, end, half-life). */
export class GridCache {
  private readonly exposures = new Map<number, number>();
  private readonly howWeights = new Map<number, Float64Array>();
  private readonly halfLives: number[] = [];

  /** A numeric key (no string per lookup): half-life slot, start and end packed below 2^53. */
  private key(start: number, end: number, halfLifeHours: number): number {
    let slot = this.halfLives.indexOf(halfLifeHours);
    if (slot < 0) slot = this.halfLives.push(halfLifeHours) - 1;
    return (slot * 65536 + start) * 65536 + end;
  }

  /** Σ_{start ≤ i < end} r^(end-1-i) · shape[how_i], r = 2^(-1/halfLife). */
  exposure(ctx: SeriesContext, start: number, end: number, halfLifeHours: number): number {
    const key = this.key(start, end, halfLifeHours);
    let e = this.exposures.get(key);
    if (e === undefined) {
      e = 0;
      const pw = decayPowers(halfLifeHours, end);
      for (let i = start; i < end; i++) e += pw[end - 1 - i]! * ctx.shape[ctx.how[i]!]!;
      this.remember(this.exposures, key, e);
    }
    return e;
  }

  /** Per hour-of-week h: Σ_{start ≤ i < end, how_i = h} r^(end-1-i). */
  weightsByHour(ctx: SeriesContext, start: number, end: number, halfLifeHours: number): Float64Array {
    const key = this.key(start, end, halfLifeHours);
    let w = this.howWeights.get(key);
    if (w === undefined) {
      w = new Float64Array(WEEK);
      const pw = decayPowers(halfLifeHours, end);
      for (let i = start; i < end; i++) w[ctx.how[i]!] = w[ctx.how[i]!]! + pw[end - 1 - i]!;
      this.remember(this.howWeights, key, w);
    }
    return w;
  }

  /** Bounded: a long run sees few distinct (start, end) pairs, but never lets them pile up. */
  private remember<T>(map: Map<number, T>, key: number, value: T): void {
    if (map.size > 4096) map.clear();
    map.set(key, value);
  }
}

const powerTables = new Map<number, Float64Array>();

/** r^d for d = 0 … at least `length`, r = 2^(-1/halfLife); grown on demand, shared process-wide. */
export function decayPowers(halfLifeHours: number, length: number): Float64Array {
  let t = powerTables.get(halfLifeHours);
  if (!t || t.length <= length) {
    const r = Math.pow(0.5, 1 / halfLifeHours);
    t = new Float64Array(Math.max(length + 1, 2 * (t?.length ?? 0), 1024));
    let w = 1;
    for (let d = 0; d < t.length; d++) {
      t[d] = w;
      w *= r;
    }
    powerTables.set(halfLifeHours, t);
  }
  return t;
}

/**
 * The non-zero hours of a series (ctx.nz, first ctx.nzCount entries), indexed from [start, n) on first use when the
 * caller keeps none. Hot paths call this and nzIndex instead of receiving objects: nothing is allocated per fit.
 */
export function ensureNonZeros(ctx: SeriesContext): Int32Array {
  if (!ctx.nz || ctx.nzCount === undefined) indexNonZeros(ctx);
  return ctx.nz!;
}

/** First position j with nz[j] ≥ hour (binary search over the first nzCount entries). */
export function nzIndex(ctx: SeriesContext, hour: number): number {
  const nz = ensureNonZeros(ctx);
  let lo = 0;
  let hi = ctx.nzCount!;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nz[mid]! < hour) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Refreshes ctx.nz/nzCount after the caller refilled values or moved start (reusing ctx.nz's buffer). */
export function indexNonZeros(ctx: SeriesContext): void {
  if (!ctx.nz || ctx.nz.length < ctx.n) ctx.nz = new Int32Array(ctx.n);
  let count = 0;
  const { values, nz } = ctx;
  for (let i = ctx.start; i < ctx.n; i++) if (values[i]! > 0) nz[count++] = i;
  ctx.nzCount = count;
}

/** The grid cache of a context (a private one when the caller shares none). */
export function gridOf(ctx: SeriesContext): GridCache {
  return (ctx.grid ??= new GridCache());
}

export interface Forecaster {
  readonly name: ModelName;
  /** Least history (hours since `start`) the model needs to be a candidate. */
  readonly minHistory: number;
  /** Writes the forecast of hours end … end+horizon-1 into out[0 … horizon), seeing only values[start … end). */
  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void;
  /**
   * Called before the fits of a new series (a model may keep choices across the fits of one series). `kept`: a
   * choice this model reported by keptChoice() for the same series earlier, to take instead of choosing again.
   */
  beginSeries?(kept?: number): void;
  /** The choice (parameters) this model made for the current series, or -1: what beginSeries may be given back. */
  keptChoice?(): number;
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

const DAY_PRIOR_HOURS = 2;

/**
 * Mean-1 week profile of hourly totals, each hour placed by a (local) hour-of-week grid (index = day × 24 + hour).
 * An hour of the week never observed is not "no demand": with less than a week of history the next hour is
 * always unseen. It takes the mean of the same hour of day on the days observed, shrunk towards the mean of every
 * observed hour (flat when that hour of day was never observed either).
 */
export function weekShape(totals: ArrayLike<number>, how: Uint8Array): Float64Array {
  const sums = new Float64Array(WEEK);
  const counts = new Float64Array(WEEK);
  const n = Math.min(totals.length, how.length);
  for (let i = 0; i < n; i++) {
    const h = how[i]!;
    sums[h] = sums[h]! + totals[i]!;
    counts[h] = counts[h]! + 1;
  }
  const daySums = new Float64Array(DAY);
  const dayCounts = new Float64Array(DAY);
  let allSum = 0;
  let allCount = 0;
  for (let h = 0; h < WEEK; h++) {
    daySums[h % DAY] = daySums[h % DAY]! + sums[h]!;
    dayCounts[h % DAY] = dayCounts[h % DAY]! + counts[h]!;
    allSum += sums[h]!;
    allCount += counts[h]!;
  }
  const flat = allCount > 0 ? allSum / allCount : 0;
  for (let h = 0; h < WEEK; h++) {
    if (counts[h]! > 0) sums[h] = sums[h]! / counts[h]!;
    // Shrunk towards the flat level by two pseudo-hours: two days of one hour of day say little on their own.
    else sums[h] = (daySums[h % DAY]! + DAY_PRIOR_HOURS * flat) / (dayCounts[h % DAY]! + DAY_PRIOR_HOURS);
  }
  return normaliseShape(sums);
}

/** Σ_{start ≤ i < end} r^(end-1-i) · x_i over the non-zero hours: the decayed demand. */
export function decayedDemand(ctx: SeriesContext, end: number, halfLifeHours: number): number {
  const nz = ensureNonZeros(ctx);
  const lo = nzIndex(ctx, ctx.start);
  const hi = nzIndex(ctx, end);
  const pw = decayPowers(halfLifeHours, end);
  let demand = 0;
  for (let j = lo; j < hi; j++) demand += pw[end - 1 - nz[j]!]! * ctx.values[nz[j]!]!;
  return demand;
}

/** Σ_{start ≤ i < end} r^(end-1-i) · shape[how_i]: the demand a level of 1 would have produced (grid cache). */
export function decayedExposure(ctx: SeriesContext, end: number, halfLifeHours: number): number {
  return end > ctx.start ? gridOf(ctx).exposure(ctx, ctx.start, end, halfLifeHours) : 0;
}

/**
 * Deseasonalised decayed level L under x_i ≈ L · shape[how_i]: Σ w·x / Σ w·shape. Unlike a plain decayed mean it
 * is not dragged down when the newest hours happen to be a night or a weekend.
 */
export function decayedLevel(ctx: SeriesContext, end: number, halfLifeHours: number): number {
  const exposure = decayedExposure(ctx, end, halfLifeHours);
  return exposure > 0 ? decayedDemand(ctx, end, halfLifeHours) / exposure : 0;
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
  const nz = ensureNonZeros(ctx);
  const lo = nzIndex(ctx, start);
  const hi = nzIndex(ctx, end);
  let total = 0;
  let nonZero = 0;
  let first = -1;
  let last = -1;
  const recentFrom = Math.max(start, end - 2 * WEEK);
  let recentTotal = 0;
  let recentNonZero = 0;
  for (let j = lo; j < hi; j++) {
    const i = nz[j]!;
    const x = values[i]!;
    total += x;
    nonZero++;
    if (first < 0) first = i;
    last = i;
    if (i >= recentFrom) {
      recentTotal += x;
      recentNonZero++;
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
