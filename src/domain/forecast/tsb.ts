/**
 * Intermittent demand (most module-versions: a few requests a week, zero most hours).
 *
 * - TSB (Teunter, Syntetos & Babai 2011): smooths the probability of a non-zero hour every hour and the size of
 *   non-zero demands when they happen; forecast = probability × size. Unlike Croston it decays towards zero when a
 *   version stops being requested (obsolescence: the previous release after a new one ships).
 * - Croston with the Syntetos-Boylan bias correction: smooths size and interval between demands.
 * Both forecast a flat rate; the pooled-seasonal model covers the timing within the week.
 */
import { WEEK, sanitise, type Forecaster, type SeriesContext } from './series.js';

export interface TsbOptions {
  /** Smoothing of demand size. */
  alpha: number;
  /** Smoothing of demand probability (per hour: 0.02 ≈ a memory of two days). */
  beta: number;
}

export const DEFAULT_TSB: TsbOptions = { alpha: 0.1, beta: 0.02 };

/** Initial probability and size from the first week of history (or what exists). */
function initialState(values: Float64Array, start: number, end: number): { p: number; z: number } {
  const span = Math.min(end, start + WEEK);
  let nonZero = 0;
  let sum = 0;
  for (let i = start; i < span; i++) {
    const x = values[i]!;
    if (x > 0) {
      nonZero++;
      sum += x;
    }
  }
  return { p: span > start ? nonZero / (span - start) : 0, z: nonZero > 0 ? sum / nonZero : 0 };
}

export class Tsb implements Forecaster {
  readonly name = 'tsb' as const;
  readonly minHistory = 24;

  constructor(private readonly options: TsbOptions = DEFAULT_TSB) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const { values, start } = ctx;
    const { alpha, beta } = this.options;
    let { p, z } = initialState(values, start, end);
    for (let i = start; i < end; i++) {
      const x = values[i]!;
      if (x > 0) {
        p += beta * (1 - p);
        z += alpha * (x - z);
      } else {
        p -= beta * p;
      }
    }
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
    let z = 0;
    let q = 0;
    let sinceLast = 0;
    let seen = false;
    for (let i = start; i < end; i++) {
      sinceLast++;
      const x = values[i]!;
      if (x <= 0) continue;
      if (!seen) {
        // First demand: its size, and the wait before it as the first interval.
        z = x;
        q = sinceLast;
        seen = true;
      } else {
        z += a * (x - z);
        q += a * (sinceLast - q);
      }
      sinceLast = 0;
    }
    // A silence longer than the smoothed interval is evidence the rate dropped: count it as if a demand ended it
    // now (one smoothing step), so a version nobody asks for any more fades instead of staying at its old rate.
    const interval = sinceLast > q ? q + a * (sinceLast - q) : q;
    const rate = seen && interval > 0 ? (1 - a / 2) * (z / interval) : 0;
    out.fill(rate, 0, horizon);
    sanitise(out, horizon);
  }
}
