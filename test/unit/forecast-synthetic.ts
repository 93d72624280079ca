/** Synthetic hourly series with known structure, seeded (shared by the forecast-*.test.ts files). */
import { probit } from 'simple-statistics';
import { rng } from '../../src/domain/random.js';
import { hourOfWeekGrid } from '../../src/domain/calendar.js';
import { normaliseShape, WEEK, type SeriesContext } from '../../src/domain/forecast/series.js';

/** The generator's seeded PRNG, so tests and demo data draw from one implementation. */
export { rng };

/** A Poisson draw by inversion (walking the CDF); a normal approximation for large means. */
export function poisson(rand: () => number, lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda > 60) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * probit(Math.min(1 - 1e-12, Math.max(1e-12, rand())))));
  const u = rand();
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u > cdf && k < 10_000) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

/** A Monday 00:00 UTC: grids start on a week boundary so hour-of-week = index mod 168. */
export const ORIGIN = Date.UTC(2026, 0, 5);

/** 1 during business hours (Mon-Fri 09-17), `night` otherwise, per hour of week. */
export function businessProfile(night = 0.1): Float64Array {
  const p = new Float64Array(WEEK);
  for (let h = 0; h < WEEK; h++) {
    const day = Math.floor(h / 24);
    const hour = h % 24;
    p[h] = day < 5 && hour >= 9 && hour < 17 ? 1 : night;
  }
  return p;
}

export interface Synthetic {
  ctx: SeriesContext;
  /** True expected count of every hour, history and future (length n + horizon). */
  truth: Float64Array;
}

/** Series with expected count `rate(i)` at index i, Poisson noise, UTC grid. */
export function synthetic(n: number, horizon: number, rate: (i: number, howIndex: number) => number, seed: number, shape?: Float64Array): Synthetic {
  const rand = rng(seed);
  const how = hourOfWeekGrid(ORIGIN, n + horizon, 'UTC');
  const truth = new Float64Array(n + horizon);
  const values = new Float64Array(n);
  for (let i = 0; i < n + horizon; i++) {
    truth[i] = rate(i, how[i]!);
    if (i < n) values[i] = poisson(rand, truth[i]!);
  }
  return { ctx: { values, n, start: 0, how, shape: shape ?? normaliseShape(new Float64Array(WEEK).fill(1)) }, truth };
}

export function sum(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s;
}
