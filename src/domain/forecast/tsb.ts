/**
 * Intermittent demand (most module-versions: a few requests a week, zero most hours).
 *
 * - TSB (Teunter, Syntetos & Babai 2011): smooths the probability of a non-zero hour every hour and the size of
 *   non-zero demands when they happen; forecast = probability × size. Unlike Croston it decays towards zero when a
 *   version stops being requested (obsolescence: the previous release after a new one ships).
 * - Croston with the Syntetos-Boylan bias correction: smooths size and interval between demands.
 * Both forecast a flat rate; the pooled-seasonal model covers the timing within the week.
 */
import { WEEK, nonZeros, sanitise, type Forecaster, type SeriesContext } from './series.js';

export interface TsbOptions {
  /** Smoothing of demand size. */
  alpha: number;
  /** Smoothing of demand probability (per hour: 0.02 ≈ a memory of two days). */
  beta: number;
}

export const DEFAULT_TSB: TsbOptions = { alpha: 0.1, beta: 0.02 };

/** Initial probability and size from the first week of history (or what exists), from the non-zero hours. */
function initialState(ctx: SeriesContext, nz: Int32Array, count: number, end: number): { p: number; z: number } {
  const span = Math.min(end, ctx.start + WEEK);
  let nonZero = 0;
  let sum = 0;
  for (let j = 0; j < count; j++) {
    const i = nz[j]!;
    if (i >= span) break;
    if (i < ctx.start) continue;
    nonZero++;
    sum += ctx.values[i]!;
  }
  return { p: span > ctx.start ? nonZero / (span - ctx.start) : 0, z: nonZero > 0 ? sum / nonZero : 0 };
}

export class Tsb implements Forecaster {
  readonly name = 'tsb' as const;
  readonly minHistory = 24;

  constructor(private readonly options: TsbOptions = DEFAULT_TSB) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const { values, start } = ctx;
    const { alpha, beta } = this.options;
    const { nz, count } = nonZeros(ctx);
    let { p, z } = initialState(ctx, nz, count, end);
    // Hour by hour p decays by (1-β) on a zero and moves β towards 1 on a demand; a run of g zeros is one power.
    const keep = 1 - beta;
    let next = start; // first hour not yet processed
    for (let j = 0; j < count; j++) {
      const i = nz[j]!;
      if (i < start) continue;
      if (i >= end) break;
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
    const { nz, count } = nonZeros(ctx);
    let z = 0;
    let q = 0;
    let previous = start - 1; // hour of the previous demand (or just before the series)
    let seen = false;
    for (let j = 0; j < count; j++) {
      const i = nz[j]!;
      if (i < start) continue;
      if (i >= end) break;
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
