/**
 * Forecasts one item (a module-version, or a module's mutable endpoints when version is '') in every scope at once:
 *
 * - region: each region's hourly series, in local time, with model selection per series; the fleet-wide series is
 *   the pool a sparse region borrows its level from (fleet-share model);
 * - fleet: the sum of the region forecasts (bottom-up, so scopes agree);
 * - node: a region forecast thinned by the node's share of the item in that region (binomial thinning keeps the
 *   negative-binomial size, so the node's count distribution follows exactly).
 *
 * Used by scoring (series streamed from ClickHouse) and by the backtest (series built from a replayed trace), so
 * both judge the same code. Buffers are allocated once per forecaster and reused for every item.
 */
import { POISSON_SIZE, windowSize } from './uncertainty.js';
import { expectedSince, releaseScale, type ReleaseContext } from './release.js';
import { ModelSelector, DEFAULT_SELECT, type KeptChoice, type SelectOptions, type SeriesClass, type SeriesForecast } from './select.js';
import { GridCache, type ModelName, type SeriesContext } from './series.js';
import { sumOverSpan, sumSquaresOverSpan, type WindowSpan } from '../windows.js';

export interface ScopeGrid {
  name: string;
  /** Hour of week of every grid index, local time (length ≥ n + horizon). */
  how: Uint8Array;
  /** Week profile of the scope's traffic, mean 1. */
  shape: Float64Array;
  /** The region's share of fleet traffic (0-1). */
  share: number;
}

export interface ItemInput {
  /** First grid index that is history of this item (its first appearance anywhere, or 0). */
  start: number;
  /**
   * A young version: the release hour on the grid and an adoption curve per region (null = none known).
   * `sighted`: the release time is the version's first request (not an announcement), so that request says nothing
   * about demand after it and is left out of the evidence, as it is left out of the curves.
   */
  release?: { releaseIndex: number; curves: readonly (Float64Array | null)[]; sighted: boolean } | null;
  /** Extra deseasonalised hourly rate per region (dependency hotness), or null. */
  boost?: Float64Array | null;
  /** Force one model everywhere (the backtest scores each model alone). */
  only?: ModelName;
  /** Per region, an earlier model choice the selection may keep (see ModelSelector.forecastVariants), or null. */
  kept?: readonly (KeptChoice | null)[] | null;
}

export interface RegionResult {
  /** The selected model; 'dependency' when the only demand expected is from hot modules requiring this one. */
  model: ModelName | 'dependency';
  seriesClass: SeriesClass;
  /** NB size of hourly counts. */
  size: number;
  /** Backtest mean squared error per hour of the chosen model. */
  error: number;
  /** Requests in the region's history. */
  historyTotal: number;
  /** Deseasonalised dependency boost added (0 when none). */
  boost: number;
  /** The model won a backtest in this forecast (a choice worth keeping, see keptChoice). */
  backtested: boolean;
  /** The model's own choice for the series (Forecaster.keptChoice), -1 when none. */
  params: number;
}

/** The model choice of a region's result to hand back as ItemInput.kept later, or null when it is not worth keeping. */
export function keptChoice(res: RegionResult): KeptChoice | null {
  if (!res.backtested || res.model === 'floor' || res.model === 'dependency') return null;
  return { model: res.model, seriesClass: res.seriesClass, size: res.size, error: res.error, params: res.params };
}

export interface WindowCount {
  mean: number;
  size: number;
}

export class ItemForecaster {
  /** Per region hourly history (written through addPoints). */
  readonly values: Float64Array[];
  /** Per region hourly forecast from index n (valid after forecast()). */
  readonly hourly: Float64Array[];
  readonly results: RegionResult[];
  private readonly fleetValues: Float64Array;
  private readonly fleetCtx: SeriesContext;
  private readonly contexts: SeriesContext[];
  private readonly selector: ModelSelector;
  /** Per region: grid indices written since reset (unsorted, may repeat) and their count; region totals. */
  private readonly touched: Int32Array[];
  private readonly touchedCount: number[];
  private readonly totals: Float64Array;
  private readonly scratchWindow: WindowCount = { mean: 0, size: 0 };

  constructor(
    readonly regions: readonly ScopeGrid[],
    fleet: { how: Uint8Array; shape: Float64Array },
    readonly n: number,
    readonly horizon: number,
    select: SelectOptions = DEFAULT_SELECT,
  ) {
    this.values = regions.map(() => new Float64Array(n));
    this.hourly = regions.map(() => new Float64Array(horizon));
    this.results = regions.map(() => emptyResult());
    this.variantHourly = [this.hourly];
    this.variantResults = [this.results];
    this.fleetValues = new Float64Array(n);
    this.fleetCtx = {
      values: this.fleetValues,
      n,
      start: 0,
      how: fleet.how,
      shape: fleet.shape,
      memo: { levels: new Map() },
      grid: new GridCache(),
      nz: new Int32Array(n),
      nzCount: 0,
    };
    this.contexts = regions.map((g, r) => ({
      values: this.values[r]!,
      n,
      start: 0,
      how: g.how,
      shape: g.shape,
      pool: { ctx: this.fleetCtx, share: g.share },
      grid: new GridCache(),
      nz: new Int32Array(n),
      nzCount: 0,
    }));
    this.touched = regions.map(() => new Int32Array(64));
    this.touchedCount = regions.map(() => 0);
    this.totals = new Float64Array(regions.length);
    this.selector = new ModelSelector(horizon, select);
  }

  /** Forgets the previous item: zeroes only what it wrote. */
  reset(): void {
    for (let r = 0; r < this.regions.length; r++) {
      const v = this.values[r]!;
      const t = this.touched[r]!;
      for (let k = 0; k < this.touchedCount[r]!; k++) v[t[k]!] = 0;
      this.touchedCount[r] = 0;
    }
    const f = this.fleetCtx;
    for (let k = 0; k < f.nzCount!; k++) this.fleetValues[f.nz![k]!] = 0;
    f.nzCount = 0;
    this.totals.fill(0);
  }

  /** Adds counts at absolute hours (grid index = hour − offset) to region r; hours outside the grid are ignored. */
  addPoints(r: number, hours: ArrayLike<number>, counts: ArrayLike<number>, length = hours.length, offset = 0): void {
    for (let k = 0; k < length; k++) this.addPoint(r, hours[k]!, counts[k]!, offset);
  }

  /** Adds a count at an absolute hour (grid index = hour − offset) to region r; an hour outside the grid is ignored. */
  addPoint(r: number, hour: number, count: number, offset = 0): void {
    const i = hour - offset;
    if (i < 0 || i >= this.n || !(count > 0)) return;
    let t = this.touched[r]!;
    const c = this.touchedCount[r]!;
    if (c === t.length) {
      const grown = new Int32Array(t.length * 2);
      grown.set(t);
      this.touched[r] = t = grown;
    }
    t[c] = i;
    this.touchedCount[r] = c + 1;
    const v = this.values[r]!;
    v[i] = v[i]! + count;
    this.totals[r] = this.totals[r]! + count;
  }

  /** Requests written to region r for this item. */
  regionTotal(r: number): number {
    return this.totals[r]!;
  }

  forecast(input: ItemInput): void {
    this.oneVariant[0] = input.only;
    this.forecastVariants(input, this.oneVariant);
  }

  private readonly oneVariant: (ModelName | undefined)[] = [undefined];
  /** Per variant (index 0 = this.hourly / this.results), per region. */
  private readonly variantHourly: Float64Array[][];
  private readonly variantResults: RegionResult[][];
  private readonly regionForecasts: SeriesForecast[] = [];

  /** Results of variant v of the last forecastVariants call (v = 0: this.results). */
  resultsOf(v: number): readonly RegionResult[] {
    return this.variantResults[v]!;
  }

  /**
   * Forecasts the item several ways from one reading of its series: per variant, model selection (undefined) or one
   * model alone (a name). Variant v equals forecast({ ...input, only: variants[v] }); every model fits each region
   * once whatever number of variants ask for it (ModelSelector.forecastVariants). Read variant v with
   * regionWindow(r, span, out, v) and resultsOf(v).
   */
  forecastVariants(input: Omit<ItemInput, 'only'>, variants: readonly (ModelName | undefined)[]): void {
    const { n, horizon } = this;
    for (let v = this.variantHourly.length; v < variants.length; v++) {
      this.variantHourly.push(this.regions.map(() => new Float64Array(horizon)));
      this.variantResults.push(this.regions.map(() => emptyResult()));
    }
    const start = Math.max(0, Math.min(n, input.start));
    // Sorted non-zero hours per region from what was written, and the fleet as their union.
    const fleet = this.fleetCtx;
    let fleetCount = 0;
    for (let r = 0; r < this.regions.length; r++) {
      const ctx = this.contexts[r]!;
      ctx.start = start;
      const t = this.touched[r]!.subarray(0, this.touchedCount[r]!);
      t.sort();
      let count = 0;
      for (let k = 0; k < t.length; k++) {
        const i = t[k]!;
        if (i < start || (k > 0 && i === t[k - 1])) continue;
        ctx.nz![count++] = i;
        if (this.fleetValues[i] === 0) fleet.nz![fleetCount++] = i;
        this.fleetValues[i] = this.fleetValues[i]! + ctx.values[i]!;
      }
      ctx.nzCount = count;
    }
    fleet.nz!.subarray(0, fleetCount).sort();
    fleet.nzCount = fleetCount;
    fleet.start = start;
    fleet.memo!.levels.clear();
    delete fleet.memo!.demand;

    let scale: number | undefined;
    const release = input.release ?? null;
    if (release) {
      let observed = 0;
      for (let k = 0; k < fleetCount; k++) if (fleet.nz![k]! >= release.releaseIndex) observed += this.fleetValues[fleet.nz![k]!]!;
      if (release.sighted) observed = Math.max(0, observed - 1);
      let expected = 0;
      release.curves.forEach((c, r) => {
        if (c) expected += expectedSince(c, release.releaseIndex, n - release.releaseIndex, this.regions[r]!.how, this.regions[r]!.shape);
      });
      scale = releaseScale(observed, expected);
    }

    for (let r = 0; r < this.regions.length; r++) {
      const grid = this.regions[r]!;
      const ctx = this.contexts[r]!;
      const curve = release?.curves[r] ?? null;
      const rc: ReleaseContext | null = release && curve ? { curve, releaseIndex: release.releaseIndex, ...(scale !== undefined ? { scale } : {}) } : null;
      this.selector.forecastVariants(ctx, horizon, rc, variants, this.regionForecasts, input.kept?.[r] ?? null);
      const boost = input.boost?.[r] ?? 0;
      for (let v = 0; v < variants.length; v++) {
        const f = this.regionForecasts[v]!;
        const out = this.variantHourly[v]![r]!;
        out.set(f.hourly.subarray(0, horizon));
        if (boost > 0) for (let k = 0; k < horizon; k++) out[k] = out[k]! + boost * grid.shape[grid.how[n + k]!]!;
        const res = this.variantResults[v]![r]!;
        res.model = f.model === 'floor' && boost > 0 ? 'dependency' : f.model;
        res.seriesClass = f.seriesClass;
        res.size = f.size;
        res.error = f.error;
        res.historyTotal = f.stats.total;
        res.boost = boost;
        res.backtested = f.backtested;
        res.params = f.params;
      }
    }
  }

  /** Expected count and NB size of region r over a window (into `out`, a fresh object when not given), of variant v. */
  regionWindow(r: number, span: WindowSpan, out: WindowCount = { mean: 0, size: 0 }, v = 0): WindowCount {
    const h = this.variantHourly[v]![r]!;
    const mean = sumOverSpan(h, span);
    out.mean = mean;
    out.size = windowSize(mean, sumSquaresOverSpan(h, span), this.variantResults[v]![r]!.size);
    return out;
  }

  /** Fleet count over a window: regions summed, variances added (Var = Σ μ + μ²/k), moment-matched to one NB. */
  fleetWindow(span: WindowSpan, out: WindowCount = { mean: 0, size: 0 }): WindowCount {
    let mean = 0;
    let extra = 0;
    const w = this.scratchWindow;
    for (let r = 0; r < this.regions.length; r++) {
      this.regionWindow(r, span, w);
      mean += w.mean;
      if (w.size < POISSON_SIZE) extra += (w.mean * w.mean) / w.size;
    }
    out.mean = mean;
    out.size = extra > 0 ? Math.min(POISSON_SIZE, (mean * mean) / extra) : POISSON_SIZE;
    return out;
  }
}

function emptyResult(): RegionResult {
  return { model: 'floor', seriesClass: 'empty', size: POISSON_SIZE, error: 0, historyTotal: 0, boost: 0, backtested: false, params: -1 };
}

/**
 * Share of a region's demand for an item that falls on one node: the item's own split shrunk towards the node's
 * share of all the region's traffic (`prior` pseudo-requests), so a node that has not asked for an item its
 * neighbour asks for still gets a fair part.
 */
export function nodeShare(nodeCount: number, regionCount: number, nodeTrafficShare: number, prior = 20): number {
  const c = Math.max(0, nodeCount);
  const total = Math.max(c, regionCount);
  return (c + prior * nodeTrafficShare) / (total + prior);
}
