/**
 * Additive Holt-Winters with a damped trend, for dense series (popular modules: requests most hours).
 *
 * The seasonal index is the hour-of-week of each point (local time), so a DST change or a half-hour zone does not
 * smear the profile; with less than two weeks of history the season is the hour of day instead. Smoothing
 * parameters are picked per fit from a small grid by in-sample one-step squared error (cheap: a few passes), and
 * the model as a whole competes with the others in the rolling-origin selection. The parameters chosen at a
 * series' first fit are kept for its later fits (the other origins and the final forecast): one grid search per
 * series, not per fit.
 */
import { DAY, WEEK, sanitise, type Forecaster, type SeriesContext } from './series.js';

interface Params {
  alpha: number;
  beta: number;
  gamma: number;
}

const GRID: Params[] = [
  { alpha: 0.05, beta: 0.01, gamma: 0.05 },
  { alpha: 0.05, beta: 0.01, gamma: 0.2 },
  { alpha: 0.2, beta: 0.01, gamma: 0.05 },
  { alpha: 0.2, beta: 0.01, gamma: 0.2 },
  { alpha: 0.2, beta: 0.05, gamma: 0.05 },
];

const PHI = 0.98;

export class HoltWinters implements Forecaster {
  readonly name = 'holt-winters' as const;
  readonly minHistory = 2 * DAY;
  private readonly season = new Float64Array(WEEK);
  private readonly best = new Float64Array(WEEK);
  private readonly initialSeason = new Float64Array(WEEK);
  private readonly counts = new Uint16Array(WEEK);
  /** Grid index chosen at this series' first fit (-1: none yet). */
  private chosen = -1;
  private bestIndex = 0;

  beginSeries(kept = -1): void {
    this.chosen = kept >= 0 && kept < GRID.length ? kept : -1;
  }

  keptChoice(): number {
    return this.chosen;
  }

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const hours = end - ctx.start;
    if (hours < this.minHistory) {
      out.fill(0, 0, horizon);
      return;
    }
    const period = hours >= 2 * WEEK ? WEEK : DAY;
    const init = this.initialise(ctx, end, period);
    let bestSse = Infinity;
    let bestLevel = 0;
    let bestTrend = 0;
    for (let g = 0; g < GRID.length; g++) {
      if (this.chosen >= 0 && g !== this.chosen) continue;
      const r = this.run(ctx, end, period, GRID[g]!, init);
      if (r.sse < bestSse || this.chosen === g) {
        bestSse = r.sse;
        bestLevel = r.level;
        bestTrend = r.trend;
        this.best.set(this.season);
        if (this.chosen < 0) this.bestIndex = g;
      }
    }
    if (this.chosen < 0) this.chosen = this.bestIndex;
    let damp = 0;
    let phiK = 1;
    for (let k = 0; k < horizon; k++) {
      phiK *= PHI;
      damp += phiK;
      const s = this.best[seasonIndex(ctx.how[end + k]!, period)]!;
      out[k] = bestLevel + damp * bestTrend + s;
    }
    sanitise(out, horizon);
  }

  /**
   * Classical initialisation over the complete cycles: a least-squares line gives level and trend, the mean
   * deviation from that line per seasonal index gives the season (so a trend is not mistaken for a season).
   * Leaves the initial season in this.initialSeason.
   */
  private initialise(ctx: SeriesContext, end: number, period: number): { level: number; trend: number } {
    const { values, how, start } = ctx;
    const span = Math.max(1, Math.floor((end - start) / period)) * period;
    const to = Math.min(end, start + span);
    const line = leastSquares(values, start, to);
    const season = this.initialSeason;
    const counts = this.counts;
    season.fill(0, 0, period);
    counts.fill(0, 0, period);
    for (let i = start; i < to; i++) {
      const j = seasonIndex(how[i]!, period);
      season[j] = season[j]! + values[i]! - (line.b + line.m * (i - start));
      counts[j] = counts[j]! + 1;
    }
    for (let j = 0; j < period; j++) season[j] = counts[j]! > 0 ? season[j]! / counts[j]! : 0;
    return { level: line.b, trend: line.m };
  }

  /** One pass from the initial state; leaves the final seasonal state in this.season. */
  private run(ctx: SeriesContext, end: number, period: number, p: Params, init: { level: number; trend: number }): { sse: number; level: number; trend: number } {
    const { values, how, start } = ctx;
    const season = this.season;
    season.set(this.initialSeason);
    let level = init.level;
    let trend = init.trend;
    let sse = 0;
    for (let i = start; i < end; i++) {
      const x = values[i]!;
      const j = seasonIndex(how[i]!, period);
      const predicted = level + PHI * trend + season[j]!;
      if (i >= start + period) sse += (x - predicted) * (x - predicted);
      const prevLevel = level;
      level = p.alpha * (x - season[j]!) + (1 - p.alpha) * (level + PHI * trend);
      trend = p.beta * (level - prevLevel) + (1 - p.beta) * PHI * trend;
      season[j] = p.gamma * (x - level) + (1 - p.gamma) * season[j]!;
    }
    return { sse, level, trend };
  }
}

/**
 * Least-squares line of values[from … to) against i − from. simple-statistics' linearRegression computes the same
 * from [x, y] pairs; this runs on the typed array directly, since it runs for every dense series fit.
 */
export function leastSquares(values: Float64Array, from: number, to: number): { m: number; b: number } {
  const n = to - from;
  if (n < 2) return { m: 0, b: n === 1 ? values[from]! : 0 };
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = from; i < to; i++) {
    const x = i - from;
    const y = values[i]!;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const m = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return { m, b: (sy - m * sx) / n };
}

function seasonIndex(hourOfWeek: number, period: number): number {
  return period === WEEK ? hourOfWeek : hourOfWeek % DAY;
}
