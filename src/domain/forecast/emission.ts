/**
 * Prediction rows from item forecasts: the count of every scope (fleet, regions, nodes) over every window of the run,
 * summarised as a negative binomial (expected requests, P(any), 10/90 % bounds), the rows too unlikely to matter left
 * out, and each module's items summed into module-level totals (normal-approximation bounds). Pure: the rows go to
 * a sink given by the caller.
 */
import type { ForecastWindow, WindowSpan } from '../windows.js';
import { nodeShare, type ItemForecaster } from './item.js';
import { POISSON_SIZE, logProbabilityOfZero, summariseCount } from './uncertainty.js';
import type { RunWindows, Scope } from './scope.js';

export interface EmissionOptions {
  /** Rows with a smaller P(any request) are not written (the long tail would be millions of rows). */
  minProbability: number;
  /** No item is ever certain not to be requested. */
  floorProbability: number;
}

/** A region's forecaster when a ranker of the pool scores there instead of the models (see src/scoring/ranker-choice.ts). */
export interface RegionOverride {
  /** Expected fetches per hour (calibrated), flat over the horizon. */
  perHour: number;
  model: string;
}

/** Receives one prediction row (positional: called millions of times per run, without an object per row). */
export type PredictionSink = (
  scope: ScopeKind, scopeId: string, module: string, version: string, kind: string, window: ForecastWindow,
  expected: number, pAny: number, lower: number, upper: number, model: string, features: string,
) => void;

/** Rounds to 4 decimals (features JSON, summaries); non-finite values become 0. */
export const round4 = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : 0);

/** Normal-approximation 10/90 % bounds of a sum of counts with the given mean and variance. */
export function sumBounds(mean: number, variance: number): { lower: number; upper: number } {
  const sd = Math.sqrt(Math.max(0, variance));
  return { lower: Math.max(0, Math.floor(mean - 1.2816 * sd)), upper: Math.ceil(mean + 1.2816 * sd) };
}

export type ScopeKind = 'node' | 'region' | 'fleet';

/** log(1e-12): P(any) is capped just below 1, as summariseCount does. */
const LOG_NONE_MIN = Math.log(1e-12);

/**
 * Turns an item's forecast into prediction rows: every scope (fleet, regions, nodes) × every window, keeping rows
 * whose P(any) reaches minProbability, and sums each module's items into its module-level totals (kind 'any',
 * version '') written when the stream moves to the next module. Works on flat typed arrays: it runs a few hundred
 * times per item.
 */
export class PredictionEmitter {
  /** Scope slots: 0 = fleet, 1 … R = regions, then nodes. */
  private readonly slots: { kind: ScopeKind; id: string; region: number }[] = [];
  private readonly windowsOf: { w: ForecastWindow; span: WindowSpan; wi: number }[][];
  private readonly totalsExpected: Float64Array;
  private readonly totalsLogNone: Float64Array;
  private readonly totalsVariance: Float64Array;
  private readonly windowList: ForecastWindow[];
  private module: string | null = null;
  private touched = false;
  private readonly window = { mean: 0, size: 0 };
  private readonly shares: Float64Array;
  /** The item being emitted and its features JSON per region (lazily built). */
  private item: ItemForecaster | null = null;
  private readonly features: (string | undefined)[];
  /** log(1 − minProbability): rows with a larger log P(none) are not written. */
  private readonly logNoneThreshold: number;
  /** log(1 − floorProbability). */
  private readonly logNoneFloor: number;

  constructor(
    private readonly o: EmissionOptions,
    private readonly scope: Scope,
    windows: RunWindows,
    private readonly sink: PredictionSink,
  ) {
    this.slots.push({ kind: 'fleet', id: 'fleet', region: -1 });
    scope.regions.forEach((name, r) => this.slots.push({ kind: 'region', id: name, region: r }));
    scope.nodes.forEach((nodes, r) => nodes.forEach((n) => this.slots.push({ kind: 'node', id: n.name, region: r })));
    const common = windows.common.map((x, wi) => ({ ...x, wi }));
    this.windowList = [...windows.common.map((x) => x.w), ...windows.business.map((b) => b?.w ?? windows.common[0]!.w)];
    this.windowsOf = scope.regions.map((_, r) => {
      const b = windows.business[r];
      return b ? [...common, { ...b, wi: common.length + r }] : common;
    });
    this.windowsOf.push(common); // fleet
    this.shares = new Float64Array(Math.max(1, ...scope.nodes.map((n) => n.length)));
    this.features = new Array<string | undefined>(scope.regions.length).fill(undefined);
    this.logNoneThreshold = Math.log1p(-Math.min(o.minProbability, 1 - 1e-12));
    this.logNoneFloor = Math.log1p(-Math.min(o.floorProbability, 1 - 1e-12));
    const cells = this.slots.length * this.windowList.length;
    this.totalsExpected = new Float64Array(cells);
    this.totalsLogNone = new Float64Array(cells);
    this.totalsVariance = new Float64Array(cells);
  }

  /** Writes the rows of one forecast item. `module` changes flush the previous module's totals first. */
  emit(
    f: ItemForecaster, module: string, version: string, ratio: Float64Array, counts: Float64Array, nodeCounts: Float64Array, withTotals: boolean,
    overrides: readonly (RegionOverride | null)[] = [],
  ): void {
    if (withTotals && module !== this.module) this.flushModule(module);
    const { scope } = this;
    const R = scope.regions.length;
    const kind = version === '' ? 'list' : 'any';
    this.item = f;
    this.features.fill(undefined);
    const W = this.windowList.length;
    let slot = 1 + R;
    for (let r = 0; r < R; r++) {
      const ov = overrides[r] ?? null;
      const model = ov ? ov.model : f.results[r]!.model;
      const nodes = scope.nodes[r]!;
      for (let j = 0; j < nodes.length; j++) this.shares[j] = nodeShare(nodeCounts[nodes[j]!.index]!, counts[r]!, nodes[j]!.share);
      for (const { w, span, wi } of this.windowsOf[r]!) {
        const c = this.regionCount(f, r, span, ov, this.window);
        this.cell(1 + r, W, wi, w, c.mean, c.size, ratio[r]!, withTotals, module, version, kind, model, r);
        for (let j = 0; j < nodes.length; j++) this.cell(slot + j, W, wi, w, c.mean * this.shares[j]!, c.size, ratio[r]!, withTotals, module, version, kind, model, r);
      }
      slot += nodes.length;
    }
    const overridden = overrides.some((x) => x !== null);
    const fleetModel = overrides[dominantRegion(counts)]?.model ?? dominantModel(f, counts);
    for (const { w, span, wi } of this.windowsOf[R]!) {
      const c = overridden ? this.fleetCount(f, span, overrides) : f.fleetWindow(span, this.window);
      this.cell(0, W, wi, w, c.mean, c.size, ratio[R]!, withTotals, module, version, kind, fleetModel, -1);
    }
  }

  /** Region r's count over a window: the chosen ranker's flat calibrated rate (Poisson), else the models' forecast. */
  private regionCount(f: ItemForecaster, r: number, span: WindowSpan, ov: RegionOverride | null, out: { mean: number; size: number }): { mean: number; size: number } {
    f.regionWindow(r, span, out);
    if (ov) {
      out.mean = ov.perHour * spanHours(span);
      out.size = POISSON_SIZE;
    }
    return out;
  }

  private readonly scratch = { mean: 0, size: 0 };

  /** The fleet's count as the sum of its regions' (overridden or not), as a Poisson count. */
  private fleetCount(f: ItemForecaster, span: WindowSpan, overrides: readonly (RegionOverride | null)[]): { mean: number; size: number } {
    let mean = 0;
    for (let r = 0; r < this.scope.regions.length; r++) mean += this.regionCount(f, r, span, overrides[r] ?? null, this.scratch).mean;
    this.window.mean = mean;
    this.window.size = POISSON_SIZE;
    return this.window;
  }

  /** The features JSON of region r's series of the current item (built once, only when a row is written). */
  private featureOf(r: number): string {
    if (r < 0) return '{}';
    let text = this.features[r];
    if (text === undefined) {
      const res = this.item!.results[r]!;
      text = JSON.stringify({ class: res.seriesClass, history: res.historyTotal, size: round4(res.size), error: round4(res.error), ...(res.boost > 0 ? { dependencyRate: round4(res.boost) } : {}) });
      this.features[r] = text;
    }
    return text;
  }

  private cell(
    slot: number, W: number, wi: number, w: ForecastWindow, mean: number, size: number, k: number, withTotals: boolean,
    module: string, version: string, kind: string, model: string, r: number,
  ): void {
    // Compared in log space: log P(none), floored (P(any) ≥ floorProbability) and capped (P(any) < 1). For the
    // long tail (mean ≪ size) the NB term −k·log(1 + μ/k) is −μ to within μ/2k: no log needed.
    const raw = mean * 100 < size ? -mean : logProbabilityOfZero(mean, size);
    const logNone = Math.max(LOG_NONE_MIN, Math.min(raw, this.logNoneFloor));
    if (withTotals) {
      const i = slot * W + wi;
      this.totalsExpected[i] = this.totalsExpected[i]! + Math.max(mean, 0) * k;
      this.totalsLogNone[i] = this.totalsLogNone[i]! + logNone;
      this.totalsVariance[i] = this.totalsVariance[i]! + (mean + (size < POISSON_SIZE ? (mean * mean) / size : 0)) * k * k;
      this.touched = true;
    }
    if (logNone > this.logNoneThreshold) return;
    const s = summariseCount(mean, size, this.o.floorProbability);
    const sl = this.slots[slot]!;
    this.sink(sl.kind, sl.id, module, version, kind, w, s.expected * k, s.pAny, s.lower * k, s.upper * k, model, this.featureOf(r));
  }

  /** Writes the module-level totals of the module just finished and starts `next`. */
  flushModule(next: string | null = null): void {
    if (this.module !== null && this.touched) {
      const W = this.windowList.length;
      for (let slot = 0; slot < this.slots.length; slot++) {
        const sl = this.slots[slot]!;
        for (let wi = 0; wi < W; wi++) {
          const i = slot * W + wi;
          const pAny = Math.min(1 - 1e-12, 1 - Math.exp(this.totalsLogNone[i]!));
          if (pAny < this.o.minProbability || !(this.totalsExpected[i]! > 0)) continue;
          const w = this.windowList[wi]!;
          const b = sumBounds(this.totalsExpected[i]!, this.totalsVariance[i]!);
          this.sink(sl.kind, sl.id, this.module, '', 'any', w, this.totalsExpected[i]!, pAny, b.lower, b.upper, 'sum', '{}');
        }
      }
    }
    this.totalsExpected.fill(0);
    this.totalsLogNone.fill(0);
    this.totalsVariance.fill(0);
    this.touched = false;
    this.module = next;
  }
}

/** Hours a window span covers. */
function spanHours(span: WindowSpan): number {
  let h = 0;
  for (const x of span.weights) h += x;
  return h;
}

/** The region with most history of the item. */
export function dominantRegion(counts: Float64Array): number {
  let best = 0;
  for (let r = 1; r < counts.length; r++) if (counts[r]! > counts[best]!) best = r;
  return best;
}

/** The fleet row's model label: the model of the region with most history (the fleet forecast is their sum). */
function dominantModel(f: ItemForecaster, counts: Float64Array): string {
  return f.results[dominantRegion(counts)]?.model ?? 'floor';
}
