/**
 * Per-series model selection by rolling-origin backtest: each candidate is fitted on the history up to an origin
 * (the last day held out, then the day before), forecasts the held-out hours, and the candidate with the lowest
 * squared error wins and forecasts the future from all the history. Candidates depend on what the series is:
 * empty, brand new (a release), intermittent or dense. The winner's backtest residuals give the dispersion of the
 * count distribution.
 */
import { HoltWinters } from './holt-winters.js';
import { RELEASE_CURVE_HOURS, ReleaseAdoption, type ReleaseContext } from './release.js';
import { FleetShare, PooledSeasonal, SeasonalProfile } from './seasonal.js';
import { nzIndex, seriesStats, type Forecaster, type ModelName, type SeriesContext, type SeriesStats } from './series.js';
import { Croston, Tsb } from './tsb.js';
import { addResiduals, emptyResiduals, sizeFromResiduals, DEFAULT_SIZE, type ResidualSums } from './uncertainty.js';

export interface SelectOptions {
  /** Hours held out per origin. */
  holdoutHours: number;
  /** Number of rolling origins (each `holdoutHours` earlier than the previous). */
  origins: number;
  /** Least fitted history before an origin for it to count. */
  minFitHours: number;
  /** recentDensity and recentMean at or above these make a series dense. */
  denseDensity: number;
  denseMean: number;
}

export const DEFAULT_SELECT: SelectOptions = { holdoutHours: 24, origins: 2, minFitHours: 24, denseDensity: 0.5, denseMean: 1 };

export type SeriesClass = 'empty' | 'new' | 'intermittent' | 'dense';

export interface SeriesForecast {
  model: ModelName;
  seriesClass: SeriesClass;
  /** Hourly forecast from index n; a buffer owned by the selector, valid until its next call. */
  hourly: Float64Array;
  /** NB size of hourly counts (see uncertainty.ts). */
  size: number;
  /** Mean squared backtest error of the winner per held-out hour (NaN-free: 0 when not backtested). */
  error: number;
  /** Candidates compared. */
  candidates: number;
  stats: SeriesStats;
  /** The model was chosen by backtest here (not by the young-series rule nor kept): a choice worth keeping. */
  backtested: boolean;
  /** The model's own choice for the series (Forecaster.keptChoice), -1 when it makes none. */
  params: number;
}

/**
 * A model choice made by an earlier selection on the same series, with the dispersion its backtest gave: a series'
 * best model changes slowly, so a caller forecasting the series again soon (the backtest, hourly) may keep the
 * choice and spare the rolling-origin fits, re-forecasting with the kept model only.
 */
export interface KeptChoice {
  model: ModelName;
  seriesClass: SeriesClass;
  size: number;
  error: number;
  /** The model's own choice for the series (Forecaster.keptChoice), -1 when it makes none. */
  params: number;
}

/** Series with fewer non-zero hours do not compete with the seasonal profile or Croston (nothing to fit). */
const MIN_DEMANDS_FOR_SHAPE = 4;

const DENSE: ModelName[] = ['holt-winters', 'seasonal', 'pooled-seasonal', 'tsb'];
const INTERMITTENT: ModelName[] = ['tsb', 'croston', 'pooled-seasonal', 'seasonal'];

export class ModelSelector {
  private readonly models: Map<ModelName, Forecaster>;
  private readonly release = new ReleaseAdoption();
  private readonly scratch: Float64Array;
  private readonly out: Float64Array;
  /** Backtest sums per model, reused for every series (no allocation per fit). */
  private readonly errors = new Map<ModelName, { sse: number; residuals: ResidualSums }>();
  private readonly names: ModelName[] = [];

  constructor(
    /** Longest forecast asked of this selector. */
    readonly maxHorizon: number,
    private readonly options: SelectOptions = DEFAULT_SELECT,
  ) {
    const all: Forecaster[] = [new SeasonalProfile(), new PooledSeasonal(), new FleetShare(), new HoltWinters(), new Tsb(), new Croston(), this.release];
    this.models = new Map(all.map((m) => [m.name, m]));
    for (const m of all) this.errors.set(m.name, { sse: 0, residuals: emptyResiduals() });
    this.scratch = new Float64Array(Math.max(options.holdoutHours, 1));
    this.out = new Float64Array(maxHorizon);
  }

  classify(ctx: SeriesContext, stats: SeriesStats, release: ReleaseContext | null): SeriesClass {
    if (release && ctx.n - release.releaseIndex < RELEASE_CURVE_HOURS) return 'new';
    if (stats.total <= 0 && !hasPoolDemand(ctx)) return 'empty';
    return this.isDense(stats) ? 'dense' : 'intermittent';
  }

  private isDense(stats: SeriesStats): boolean {
    return stats.recentDensity >= this.options.denseDensity && stats.recentMean >= this.options.denseMean;
  }

  /** The models a series competes with that have enough history, into this.names. */
  private candidates(ctx: SeriesContext, seriesClass: SeriesClass, stats: SeriesStats, hours: number): ModelName[] {
    const names = this.names;
    names.length = 0;
    if (seriesClass === 'empty') return names;
    if (seriesClass === 'new') this.addCandidate('release', hours);
    // A week profile or an inter-demand interval needs a few demands to mean anything.
    const few = stats.nonZeroHours < MIN_DEMANDS_FOR_SHAPE;
    if (stats.total > 0) for (const n of this.isDense(stats) ? DENSE : INTERMITTENT) if (!(few && (n === 'seasonal' || n === 'croston'))) this.addCandidate(n, hours);
    // Demand elsewhere in the pool but none here yet: the pool is all there is to go on.
    if (hasPoolDemand(ctx)) this.addCandidate('fleet-share', hours);
    return names;
  }

  private addCandidate(name: ModelName, hours: number): void {
    if (this.models.get(name)!.minHistory <= hours) this.names.push(name);
  }

  /**
   * Forecasts `horizon` hours after ctx.n. `only` forces one model (the backtest compares each model alone);
   * `release` enables the adoption model for a young version.
   */
  forecast(ctx: SeriesContext, horizon: number, release: ReleaseContext | null = null, only?: ModelName): SeriesForecast {
    this.oneVariant[0] = only;
    this.forecastVariants(ctx, horizon, release, this.oneVariant, this.oneResult);
    return this.oneResult[0]!;
  }

  private readonly oneVariant: (ModelName | undefined)[] = [undefined];
  private readonly oneResult: SeriesForecast[] = [];
  /** Final forecast per model, for forecastVariants (a model chosen by several variants forecasts once). */
  private readonly finals = new Map<ModelName, Float64Array>();
  private readonly needed = new Set<ModelName>();
  private readonly ensemble: ModelName[] = [];
  /** Which call last wrote each model's final forecast. */
  private readonly forecastAt = new Map<ModelName, number>();
  private calls = 0;
  private readonly singleName: ModelName[] = [];

  private single(name: ModelName): ModelName[] {
    this.singleName[0] = name;
    return this.singleName;
  }

  /**
   * The same series forecast several ways at once: per variant, the selected model (undefined) or one model alone
   * (a name). Each model is backtested once per origin and forecasts the future once, in the order forecast()
   * would, so out[i] equals forecast(ctx, horizon, release, variants[i]) — the backtest compares every model on
   * every series without fitting each of them again per variant. out[i].hourly buffers are owned by the selector.
   * `kept`: the selected variants take this model without a backtest when the series is still of the class it was
   * chosen for and the model still a candidate (else they select as usual).
   */
  forecastVariants(
    ctx: SeriesContext,
    horizon: number,
    release: ReleaseContext | null,
    variants: readonly (ModelName | undefined)[],
    out: SeriesForecast[],
    kept: KeptChoice | null = null,
  ): void {
    if (horizon > this.maxHorizon) throw new RangeError(`horizon ${horizon} exceeds the selector's ${this.maxHorizon}`);
    if (ctx.how.length < ctx.n + horizon) throw new RangeError('hour-of-week grid shorter than history + horizon');
    this.release.release = release;
    const stats = seriesStats(ctx);
    const seriesClass = this.classify(ctx, stats, release);
    const hours = ctx.n - ctx.start;
    const ensemble = this.ensemble;
    ensemble.length = 0;
    if (variants.includes(undefined)) ensemble.push(...this.candidates(ctx, seriesClass, stats, hours));
    const keep = kept !== null && kept.seriesClass === seriesClass && ensemble.includes(kept.model) ? kept : null;
    const needed = this.needed;
    needed.clear();
    for (const v of variants) {
      if (v) needed.add(v);
      else if (!keep) for (const name of ensemble) needed.add(name);
    }
    for (const m of this.models.values()) m.beginSeries?.(keep?.model === m.name ? keep.params : undefined);

    const { holdoutHours, origins, minFitHours } = this.options;
    for (const name of needed) {
      const e = this.errors.get(name)!;
      e.sse = 0;
      e.residuals.sq = e.residuals.mean = e.residuals.meanSq = e.residuals.points = 0;
    }
    let evaluated = 0;
    for (let o = 1; o <= origins && needed.size > 0; o++) {
      const origin = ctx.n - o * holdoutHours;
      if (origin - ctx.start < minFitHours) break;
      evaluated++;
      for (const name of needed) {
        const model = this.models.get(name)!;
        if (model.minHistory > origin - ctx.start) continue;
        model.forecast(ctx, origin, holdoutHours, this.scratch);
        const e = this.errors.get(name)!;
        for (let k = 0; k < holdoutHours; k++) {
          const d = ctx.values[origin + k]! - this.scratch[k]!;
          e.sse += d * d;
        }
        addResiduals(e.residuals, ctx.values, origin, this.scratch, holdoutHours);
      }
    }

    const call = ++this.calls;
    for (let i = 0; i < variants.length; i++) {
      const only = variants[i];
      const names = only ? this.single(only) : ensemble;
      if (names.length === 0) {
        // Nothing to learn from (no history, no release curve): zeros, the floor probability does the rest.
        this.out.fill(0, 0, horizon);
        out[i] = { model: 'floor', seriesClass, hourly: this.out, size: DEFAULT_SIZE, error: 0, candidates: 0, stats, backtested: false, params: -1 };
        continue;
      }
      const winner = !only && keep ? keep.model : this.winner(names, evaluated, only);
      let hourly = this.finals.get(winner);
      if (!hourly) this.finals.set(winner, (hourly = new Float64Array(this.maxHorizon)));
      if (this.forecastAt.get(winner) !== call) {
        this.models.get(winner)!.forecast(ctx, ctx.n, horizon, hourly);
        this.forecastAt.set(winner, call);
      }
      const chosen = this.errors.get(winner)!;
      const reused = !only && keep !== null;
      out[i] = {
        model: winner,
        seriesClass,
        hourly,
        size: reused ? keep.size : sizeFromResiduals(chosen.residuals),
        error: reused ? keep.error : chosen.residuals.points > 0 ? chosen.sse / chosen.residuals.points : 0,
        candidates: names.length,
        stats,
        backtested: !reused && evaluated > 0,
        params: this.models.get(winner)!.keptChoice?.() ?? -1,
      };
    }
  }

  /** The candidate with the least backtest error (or, too young to backtest, the rule below). */
  private winner(names: readonly ModelName[], evaluated: number, only: ModelName | undefined): ModelName {
    let winner = names[0]!;
    if (evaluated > 0 && names.length > 1) {
      let best = Infinity;
      for (const name of names) {
        const e = this.errors.get(name)!;
        // A model that could not be fitted at some origin (too little history there) competes with what it has.
        if (e.residuals.points === 0) continue;
        const mse = e.sse / e.residuals.points;
        if (mse < best) {
          best = mse;
          winner = name;
        }
      }
    } else if (evaluated === 0 && !only) {
      // Too young to backtest: the release curve when there is one, else the pooled shape with the series' level.
      winner = names.includes('release') ? 'release' : names.includes('pooled-seasonal') ? 'pooled-seasonal' : names.includes('fleet-share') ? 'fleet-share' : names[0]!;
    }
    return winner;
  }
}

/** True when the series' pool has had any demand (so fleet-share has something to share). */
function hasPoolDemand(ctx: SeriesContext): boolean {
  const pool = ctx.pool;
  if (!pool || !(pool.share > 0)) return false;
  const memo = pool.ctx.memo;
  if (memo?.demand !== undefined) return memo.demand;
  const demand = nzIndex(pool.ctx, pool.ctx.n) > nzIndex(pool.ctx, pool.ctx.start);
  if (memo) memo.demand = demand;
  return demand;
}
