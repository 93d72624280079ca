/**
 * Hour-of-week seasonal profiles with exponential recency decay.
 *
 * - `seasonal`: the series' own week profile, each hour-of-week an exponentially decayed mean of its past values,
 *   shrunk towards level × pooled shape (a sparse series has ~4 observations per hour-of-week in 4 weeks).
 * - `pooled-seasonal`: the series' decayed level distributed over the week by the pooled shape of its region — the
 *   right model for most module-versions, which are too sparse to have a shape of their own.
 */
import { WEEK, decayPowers, decayedDemand, decayedExposure, decayedLevel, ensureNonZeros, gridOf, nzIndex, sanitise, type Forecaster, type SeriesContext } from './series.js';

export interface SeasonalOptions {
  /** Weight halves every this many hours back. */
  halfLifeHours: number;
  /**
   * Pseudo-observations (decayed weight units) of the pooled prior per hour-of-week, for a series averaging one
   * request an hour. Scaled by 1/level: a per-hour mean of Poisson counts is noisy in proportion to 1/μ, so a busy
   * series keeps its own profile and a sparse one borrows the pooled shape.
   */
  priorStrength: number;
}

const MAX_PRIOR = 50;

export const DEFAULT_SEASONAL: SeasonalOptions = { halfLifeHours: 336, priorStrength: 1 };

export class SeasonalProfile implements Forecaster {
  readonly name = 'seasonal' as const;
  readonly minHistory = 48;
  private readonly num = new Float64Array(WEEK);

  constructor(private readonly options: SeasonalOptions = DEFAULT_SEASONAL) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const { values, how, shape, start } = ctx;
    const hl = this.options.halfLifeHours;
    const num = this.num;
    num.fill(0);
    // Demand per hour-of-week from the non-zero hours; weights and exposure depend on the grid only.
    const nz = ensureNonZeros(ctx);
    const lo = nzIndex(ctx, start);
    const hi = nzIndex(ctx, end);
    const pw = decayPowers(hl, end);
    let swx = 0;
    for (let j = lo; j < hi; j++) {
      const i = nz[j]!;
      const wx = pw[end - 1 - i]! * values[i]!;
      num[how[i]!] = num[how[i]!]! + wx;
      swx += wx;
    }
    if (end <= start) {
      out.fill(0, 0, horizon);
      return;
    }
    const grid = gridOf(ctx);
    const den = grid.weightsByHour(ctx, start, end, hl);
    const sws = grid.exposure(ctx, start, end, hl);
    // Deseasonalised level (see decayedLevel).
    const level = sws > 0 ? swx / sws : 0;
    const m = Math.min(MAX_PRIOR, this.options.priorStrength / Math.max(level, 1e-3));
    for (let k = 0; k < horizon; k++) {
      const h = how[end + k]!;
      out[k] = (num[h]! + m * level * shape[h]!) / (den[h]! + m);
    }
    sanitise(out, horizon);
  }
}

export class PooledSeasonal implements Forecaster {
  readonly name = 'pooled-seasonal' as const;
  readonly minHistory = 1;

  constructor(private readonly halfLifeHours = 168) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const level = decayedLevel(ctx, end, this.halfLifeHours);
    for (let k = 0; k < horizon; k++) out[k] = level * ctx.shape[ctx.how[end + k]!]!;
    sanitise(out, horizon);
  }
}

/**
 * `fleet-share`: the item's level across the wider pool (the fleet) times this scope's share of the pool's traffic
 * is the prior mean of a gamma-Poisson model, updated by the scope's own decayed demand and exposure:
 * level = (a + Σw·x) / (a/m + Σw·shape). A module popular elsewhere that this region has never asked for keeps
 * the pool's level while the region's silence is weak evidence (little exposure at the pool's rate), and loses it
 * as the silence grows (a region that never builds with it).
 */
export class FleetShare implements Forecaster {
  readonly name = 'fleet-share' as const;
  readonly minHistory = 0;

  constructor(
    private readonly halfLifeHours = 168,
    /** Prior strength in pseudo-requests. */
    private readonly priorRequests = 1,
  ) {}

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const pool = ctx.pool;
    const prior = pool ? this.poolLevel(pool.ctx, end) * pool.share : 0;
    const demand = decayedDemand(ctx, end, this.halfLifeHours);
    const exposure = decayedExposure(ctx, end, this.halfLifeHours);
    const a = this.priorRequests;
    const level = prior > 0 ? (a + demand) / (a / prior + exposure) : exposure > 0 ? demand / exposure : 0;
    for (let k = 0; k < horizon; k++) out[k] = level * ctx.shape[ctx.how[end + k]!]!;
    sanitise(out, horizon);
  }

  /** The pool's decayed level at `end`, memoised on the pool: every region of an item asks for the same ones. */
  private poolLevel(pool: SeriesContext, end: number): number {
    const memo = pool.memo?.levels;
    const known = memo?.get(end);
    if (known !== undefined) return known;
    const level = decayedLevel(pool, end, this.halfLifeHours);
    memo?.set(end, level);
    return level;
  }
}
