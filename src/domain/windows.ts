/**
 * Sliding forecast windows and hour-grid arithmetic. A forecast is made hourly on a grid that starts at the run's
 * `asOf` (an hour boundary); a window is any [start, end) interval, and its expected count is the sum of the hourly
 * forecasts it covers (partial hours pro rata, e.g. a business block opening at 08:30).
 */
import { HOUR_MS, MINUTE_MS } from './calendar.js';

export type WindowKind = 'step' | 'horizon' | 'business';

export interface ForecastWindow {
  start: number;
  end: number;
  kind: WindowKind;
  /** Region of a business-hours window; '' otherwise. */
  region: string;
}

export function floorTo(t: number, stepMs: number): number {
  return Math.floor(t / stepMs) * stepMs;
}

export const floorToHour = (t: number): number => floorTo(t, HOUR_MS);

export interface SlidingWindowOptions {
  /** Start of the first window (usually the run's asOf, an hour boundary). */
  from: number;
  horizonHours: number;
  stepMinutes: number;
  /** Window length; defaults to the step (adjacent windows). Longer than the step = overlapping windows. */
  windowMinutes?: number;
}

/**
 * Windows [from + i·step, from + i·step + length) for every start before from + horizon; plus, when asked, the whole
 * horizon as one window. Never empty for a positive horizon.
 */
export function slidingWindows(o: SlidingWindowOptions, includeHorizon = true): ForecastWindow[] {
  if (!(o.horizonHours > 0) || !(o.stepMinutes > 0)) throw new RangeError('horizonHours and stepMinutes must be positive');
  const step = o.stepMinutes * MINUTE_MS;
  const len = (o.windowMinutes ?? o.stepMinutes) * MINUTE_MS;
  const horizonEnd = o.from + o.horizonHours * HOUR_MS;
  const out: ForecastWindow[] = [];
  for (let s = o.from; s < horizonEnd; s += step) out.push({ start: s, end: Math.min(s + len, horizonEnd), kind: 'step', region: '' });
  if (includeHorizon && out.length > 1) out.push({ start: o.from, end: horizonEnd, kind: 'horizon', region: '' });
  return out;
}

/** Hours of forecast grid (starting at `gridStart`) needed to cover every window. */
export function hoursToCover(gridStart: number, windows: readonly ForecastWindow[]): number {
  let end = gridStart;
  for (const w of windows) end = Math.max(end, w.end);
  return Math.ceil((end - gridStart) / HOUR_MS);
}

/**
 * The part of a window on an hourly grid: first hour index and the fraction of each covered hour, precomputed once
 * per window so summing a forecast is a tight loop.
 */
export interface WindowSpan {
  first: number;
  weights: Float64Array;
}

export function windowSpan(gridStart: number, w: { start: number; end: number }): WindowSpan {
  const a = Math.max(0, (w.start - gridStart) / HOUR_MS);
  const b = Math.max(a, (w.end - gridStart) / HOUR_MS);
  const first = Math.floor(a);
  const last = Math.ceil(b);
  const weights = new Float64Array(Math.max(0, last - first));
  for (let i = first; i < last; i++) weights[i - first] = Math.min(i + 1, b) - Math.max(i, a);
  return { first, weights };
}

/** Σ hourly[first + k] · weights[k]: the expected count in the window. Hours past the array count as 0. */
export function sumOverSpan(hourly: ArrayLike<number>, span: WindowSpan): number {
  let s = 0;
  const n = Math.min(span.weights.length, hourly.length - span.first);
  for (let k = 0; k < n; k++) s += hourly[span.first + k]! * span.weights[k]!;
  return s;
}

/** Σ hourly² · weight over the span (used to combine over-dispersion across hours). */
export function sumSquaresOverSpan(hourly: ArrayLike<number>, span: WindowSpan): number {
  let s = 0;
  const n = Math.min(span.weights.length, hourly.length - span.first);
  for (let k = 0; k < n; k++) {
    const v = hourly[span.first + k]! * span.weights[k]!;
    s += v * v;
  }
  return s;
}
