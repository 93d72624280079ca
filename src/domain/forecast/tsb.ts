/**
 * Intermittent demand (most module-versions: a few requests a week, zero most hours).
 *
 * - TSB (Teunter, Syntetos & Babai 2011): smooths the probability of a non-zero hour every hour and the size of
 *   non-zero demands when they happen; forecast = probability × size. Unlike Croston it decays towards zero when a
 *   version stops being requested (obsolescence: the previous release after a new one ships).
 * - Croston with the Syntetos-Boylan bias correction: smooths size and interval between demands.
 * Both forecast a flat rate; the pooled-seasonal model covers the timing within the week.
 */
import { WEEK, ensureNonZeros, nzIndex, sanitise, type Forecaster, type SeriesContext } from './series.js';

export interface TsbOptions {
  /** Smoothing of demand size. */
  alpha: number;
  /** Smoothing of demand probability (per hour: 0.02 ≈ a memory of two days). */
  beta: number;
}

export const DEFAULT_TSB: TsbOptions = { alpha: 0.1, beta: 0.02 };

/** Initial probability and size from the first week of history (or what exists), from the non-zero hours. */
function initialState(ctx: SeriesContext, end: number): { p: number; z: number } {
  const span = Math.min(end, ctx.start + WEEK);
  const nz = ensureNonZeros(ctx);
  const lo = nzIndex(ctx, ctx.start);
  const hi = nzIndex(ctx, span);
  const nonZero = hi - lo;
  let sum = 0;
  for (let j = lo; j < hi; j++) sum += ctx.values[nz[j]!]!;
  return { p: span > ctx.start ? nonZero / (span - ctx.start) : 0, z: nonZero > 0 ? sum / nonZero : 0 };
}

export class Tsb implements Forecaster {
  readonly name = 'tsb' as const;
  readonly minHistory = 24;

  constructor(private readonly options: TsbOptions = DEFAULT_TSB) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const { values, start } = ctx;
    const { alpha, beta } = this.options;
    let { p, z } = initialState(ctx, end);
    // Hour by hour p decays by (1-β) on a zero and moves β towards 1 on a demand; a run of g zeros is one power.
    const keep = 1 - beta;
    let next = start; // first hour not yet processed
    const nz = ensureNonZeros(ctx);
    const lo = nzIndex(ctx, start);
    const hi = nzIndex(ctx, end);
    for (let j = lo; j < hi; j++) {
      const i = nz[j]!;
      p *= Math.pow(keep, i - next);
      p += beta * (1 - p);
      z += alpha * (values[i]! - z);
      next = i + 1;
    }
    if (end > next) p *= Math.pow(keep, end - next);
    out.fill(p * z, 0, horizon);
    sanitise(out, horizon);
  }
}

export class Croston implements Forecaster {
  readonly name = 'croston' as const;
  readonly minHistory = 24;

  constructor(private readonly alpha = 0.1) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const { values, start } = ctx;
    const a = this.alpha;
    const nz = ensureNonZeros(ctx);
    const lo = nzIndex(ctx, start);
    const hi = nzIndex(ctx, end);
    let z = 0;
    let q = 0;
    let previous = start - 1; // hour of the previous demand (or just before the series)
    let seen = false;
    for (let j = lo; j < hi; j++) {
      const i = nz[j]!;
      const interval = i - previous;
      const x = values[i]!;
      if (!seen) {
        // First demand: its size, and the wait before it as the first interval.
        z = x;
        q = interval;
        seen = true;
      } else {
        z += a * (x - z);
        q += a * (interval - q);
      }
      previous = i;
    }
    const sinceLast = end - 1 - previous;
    // A silence longer than the smoothed interval is evidence the rate dropped: count it as if a demand ended it
    // now (one smoothing step), so a version nobody asks for any more fades instead of staying at its old rate.
    const interval = sinceLast > q ? q + a * (sinceLast - q) : q;
    const rate = seen && interval > 0 ? (1 - a / 2) * (z / interval) : 0;
    out.fill(rate, 0, horizon);
    sanitise(out, horizon);
  }
}
