/**
 * The scoring job: one run reads the hourly rollups of the last weeks chunk by chunk, forecasts every
 * module-version (and every module's list/@latest) in every region, node and the fleet, and writes the
 * predictions of the coming windows — hourly steps over the horizon, the horizon as a whole, and each region's
 * next business-hours block — under a new run id. Used by `modcast score`, the scheduler and the API.
 *
 * Memory is bounded by one chunk of series (config scoring.chunkSeries) plus fixed-size buffers; the run row in
 * prediction_runs says 'running' until every prediction is written, then 'done' (or 'failed').
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../store/client.js';
import {
  HOUR_MS,
  WEEK_HOURS,
  currentOrNextBusinessBlock,
  defaultCalendar,
  hourOfWeekGrid,
  type RegionCalendar,
} from '../domain/calendar.js';
import { floorToHour, hoursToCover, slidingWindows, windowSpan, type ForecastWindow, type WindowSpan } from '../domain/windows.js';
import { ItemForecaster, nodeShare, type ScopeGrid } from '../domain/forecast/item.js';
import { RELEASE_CURVE_HOURS, adoptionCurves, classCurves, releaseLevelCurve } from '../domain/forecast/release.js';
import { propagateHotness, requirementKey, type Requirement } from '../domain/forecast/dependency.js';
import { weekShape } from '../domain/forecast/series.js';
import { POISSON_SIZE, logProbabilityOfZero, summariseCount } from '../domain/forecast/uncertainty.js';
import {
  PredictionWriter,
  chunkBoundaries,
  readHotRequirements,
  readModuleVersions,
  readReleaseSamples,
  readScopeTotals,
  readSeriesChunk,
  writePredictionRun,
  type HistoryRange,
  type ItemKey,
  type SeriesRow,
  type VersionPoints,
} from '../store/queries/scoring.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { MODELS, chooseFromJudged } from '../domain/forecast/rankers.js';
import { readJudgedPicks, writeRankerPicks } from '../store/queries/ranker-picks.js';
import { CHOICE_MEMORY, PICK_LIMIT, SCORING_CONTENDERS, ScoringPool, type RegionOverride } from './ranker-choice.js';
import type { Clock } from '../lib/clock.js';

export interface Announcement {
  module: string;
  version: string;
  /** When it was published, epoch ms. */
  at: number;
}

export interface ScoringOptions {
  /** End of history and start of the forecast (rounded down to the hour); default now. */
  asOf?: number;
  runId?: string;
  historyHours: number;
  horizonHours: number;
  /**
   * Stretch the horizon (never shrink it) to the end of every region's next business block, so that the planner,
   * which reads the step windows, finds predictions for Monday's block when scoring runs on a Friday evening.
   */
  reachBusinessBlocks?: boolean;
  stepMinutes: number;
  /** Module-versions per chunk read from ClickHouse. */
  chunkSeries: number;
  /** Rows with a smaller P(any request) are not written (the long tail would be millions of rows). */
  minProbability: number;
  /** No item is ever certain not to be requested. */
  floorProbability: number;
  calendars: RegionCalendar[];
  /** Nodes of the fleet (from config): scored even before they have traffic. */
  nodes: { name: string; region: string }[];
  /** A version first seen this long after the start of history counts as a release seen happening. */
  releaseGraceHours: number;
  /** Share of a parent's fetches that fetch each requirement (go.mod graph). */
  dependencyFactor: number;
  /** Parents fetched less than this per hour do not propagate. */
  dependencyMinRate: number;
  dependencyLimit: number;
  /** Versions published (e.g. by an index feed) that may not have been fetched yet. */
  announcements: Announcement[];
  signal?: AbortSignal;
  logger?: Logger;
}

export interface ScoringSummary {
  runId: string;
  asOf: number;
  historyHours: number;
  horizonHours: number;
  /** Module-versions (and modules' list/@latest) scored. */
  items: number;
  /** Region series forecast (items × regions). */
  series: number;
  predictions: number;
  chunks: number;
  byModel: Record<string, number>;
  byClass: Record<string, number>;
  businessBlocks: { region: string; start: number; end: number }[];
  /** Per region, the forecaster it scored with: a ranker of the pool or the model ensemble, chosen on past runs' picks. */
  forecasters: { region: string; contender: string; evidenceRuns: number; calibration: number }[];
  seconds: number;
}

/** Scoring options from the validated config, overridable per run. */
export function scoringOptionsFrom(config: Config, overrides: Partial<ScoringOptions> = {}): ScoringOptions {
  const s = config.scoring;
  return {
    historyHours: s.historyDays * 24,
    horizonHours: s.horizonHours,
    stepMinutes: s.stepMinutes,
    chunkSeries: s.chunkSeries,
    minProbability: s.minProbability,
    floorProbability: s.floorProbability,
    calendars: config.regions,
    nodes: config.fleet.nodes.map((n) => ({ name: n.name, region: n.region })),
    releaseGraceHours: 24,
    dependencyFactor: s.dependencyFactor,
    dependencyMinRate: 1 / 24,
    dependencyLimit: 200_000,
    announcements: [],
    ...overrides,
  };
}

/** The scheduler's and the API's entry point (see src/scheduler/scoring-job.ts). */
export async function runScoring(o: { store: Store; config: Config; logger: Logger; signal?: AbortSignal; clock?: Clock }): Promise<ScoringSummary> {
  return scoreStore(
    o.store,
    scoringOptionsFrom(o.config, { logger: o.logger, reachBusinessBlocks: true, ...(o.clock ? { asOf: o.clock() } : {}), ...(o.signal ? { signal: o.signal } : {}) }),
  );
}

function newRunId(asOf: number): string {
  const stamp = new Date(asOf).toISOString().slice(0, 13).replace(/[-T:]/g, '');
  return `score-${stamp}-${randomBytes(4).toString('hex')}`;
}

interface Scope {
  regions: string[];
  regionIndex: Map<string, number>;
  calendars: RegionCalendar[];
  grids: ScopeGrid[];
  fleet: { how: Uint8Array; shape: Float64Array };
  /** Per region index: its nodes, each with its share of the region's traffic and its index among all nodes. */
  nodes: { name: string; share: number; index: number }[][];
  nodeIndex: Map<string, number>;
  /**
   * First history hour with any traffic: a store younger than the history window has no data before it, which
   * is not zero demand (series start there, shapes are measured from there).
   */
  dataStart: number;
}

function buildScope(o: ScoringOptions, range: HistoryRange, totals: Awaited<ReturnType<typeof readScopeTotals>>, gridHours: number): Scope {
  const configured = new Map(o.calendars.map((c) => [c.name, c]));
  const regions = [...new Set([...configured.keys(), ...totals.regionHours.keys(), ...o.nodes.map((n) => n.region)])].sort();
  const regionIndex = new Map(regions.map((r, i) => [r, i]));
  const calendars = regions.map((r) => configured.get(r) ?? defaultCalendar(r));
  const fleetTotals = new Float64Array(range.hours);
  const regionTotal = regions.map((r) => {
    const hours = totals.regionHours.get(r);
    let s = 0;
    if (hours) for (let i = 0; i < hours.length; i++) {
      s += hours[i]!;
      fleetTotals[i] = fleetTotals[i]! + hours[i]!;
    }
    return s;
  });
  const fleetTotal = regionTotal.reduce((a, b) => a + b, 0);
  let dataStart = fleetTotals.findIndex((x) => x > 0);
  if (dataStart < 0) dataStart = 0;
  const shapeOf = (hours: Float64Array, how: Uint8Array): Float64Array => weekShape(hours.subarray(dataStart), how.subarray(dataStart));
  const grids: ScopeGrid[] = regions.map((region, r) => {
    const how = hourOfWeekGrid(range.origin, gridHours, calendars[r]!.timeZone);
    const hours = totals.regionHours.get(region) ?? new Float64Array(range.hours);
    return { name: region, how, shape: shapeOf(hours, how), share: fleetTotal > 0 ? regionTotal[r]! / fleetTotal : 1 / regions.length };
  });
  const fleetHow = hourOfWeekGrid(range.origin, gridHours, 'UTC');
  // Node shares within a region, smoothed so a configured node without traffic yet still gets a part.
  const members = regions.map(() => new Map<string, number>());
  for (const [name, n] of totals.nodes) members[regionIndex.get(n.region)!]!.set(name, n.total);
  for (const n of o.nodes) {
    const m = members[regionIndex.get(n.region)!]!;
    if (!m.has(n.name)) m.set(n.name, 0);
  }
  const nodeIndex = new Map<string, number>();
  const nodes = members.map((m) => {
    const sum = [...m.values()].reduce((a, b) => a + b, 0);
    const eps = Math.max(1, (sum / Math.max(1, m.size)) * 0.1);
    return [...m.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, total]) => {
        nodeIndex.set(name, nodeIndex.size);
        return { name, share: (total + eps) / (sum + eps * m.size), index: nodeIndex.size - 1 };
      });
  });
  return { regions, regionIndex, calendars, grids, fleet: { how: fleetHow, shape: shapeOf(fleetTotals, fleetHow) }, nodes, nodeIndex, dataStart };
}

/** Windows of the run: steps and horizon for every scope, plus each region's next business block (its region only). */
interface RunWindows {
  common: { w: ForecastWindow; span: WindowSpan }[];
  business: ({ w: ForecastWindow; span: WindowSpan } | null)[];
}

const MAX_BUSINESS_AHEAD_MS = 14 * 24 * HOUR_MS;

/** Hours from `asOf` to the end of the latest of the regions' next business blocks (within 14 days); 0 without one. */
export function hoursToNextBusinessBlocks(o: Pick<ScoringOptions, 'calendars' | 'nodes'>, asOf: number): number {
  const calendars = [...o.calendars];
  for (const n of o.nodes) if (!calendars.some((c) => c.name === n.region)) calendars.push(defaultCalendar(n.region));
  let end = asOf;
  for (const cal of calendars) {
    const b = currentOrNextBusinessBlock(cal, asOf);
    if (b && b.start - asOf <= MAX_BUSINESS_AHEAD_MS) end = Math.max(end, b.end);
  }
  return Math.ceil((end - asOf) / HOUR_MS);
}

function buildWindows(o: ScoringOptions, asOf: number, scope: Scope): RunWindows {
  const common = slidingWindows({ from: asOf, horizonHours: o.horizonHours, stepMinutes: o.stepMinutes }).map((w) => ({ w, span: windowSpan(asOf, w) }));
  const business = scope.calendars.map((cal) => {
    const b = currentOrNextBusinessBlock(cal, asOf);
    if (!b || b.start - asOf > MAX_BUSINESS_AHEAD_MS) return null;
    const w: ForecastWindow = { start: Math.max(asOf, b.start), end: b.end, kind: 'business', region: cal.name };
    return { w, span: windowSpan(asOf, w) };
  });
  return { common, business };
}

/** Normal-approximation 10/90 % bounds of a sum of counts with the given mean and variance. */
function sumBounds(mean: number, variance: number): { lower: number; upper: number } {
  const sd = Math.sqrt(Math.max(0, variance));
  return { lower: Math.max(0, Math.floor(mean - 1.2816 * sd)), upper: Math.ceil(mean + 1.2816 * sd) };
}

type ScopeKind = 'node' | 'region' | 'fleet';

/** log(1e-12): P(any) is capped just below 1, as summariseCount does. */
const LOG_NONE_MIN = Math.log(1e-12);

/**
 * Turns an item's forecast into prediction rows: every scope (fleet, regions, nodes) × every window, keeping rows
 * whose P(any) reaches minProbability, and sums each module's items into its module-level totals (kind 'any',
 * version '') written when the stream moves to the next module. Works on flat typed arrays: it runs a few hundred
 * times per item.
 */
class RowEmitter {
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
    private readonly o: ScoringOptions,
    private readonly scope: Scope,
    windows: RunWindows,
    private readonly runId: string,
    private readonly madeAt: number,
    private readonly writer: PredictionWriter,
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
      text = JSON.stringify({ class: res.seriesClass, history: res.historyTotal, size: round(res.size), error: round(res.error), ...(res.boost > 0 ? { dependencyRate: round(res.boost) } : {}) });
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
    this.writer.push([this.runId, this.madeAt, sl.kind, sl.id, module, version, kind, sec(w.start), sec(w.end), w.kind, s.expected * k, s.pAny, s.lower * k, s.upper * k, model, this.featureOf(r)]);
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
          this.writer.push([this.runId, this.madeAt, sl.kind, sl.id, this.module, '', 'any', sec(w.start), sec(w.end), w.kind, this.totalsExpected[i]!, pAny, b.lower, b.upper, 'sum', '{}']);
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

export async function scoreStore(store: Store, o: ScoringOptions): Promise<ScoringSummary> {
  const started = Date.now();
  if (!(o.historyHours >= 24)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'scoring needs at least 24 hours of history');
  const asOf = floorToHour(o.asOf ?? started);
  if (o.reachBusinessBlocks) o = { ...o, horizonHours: Math.max(o.horizonHours, hoursToNextBusinessBlocks(o, asOf)) };
  const runId = o.runId ?? newRunId(asOf);
  const range: HistoryRange = { origin: asOf - o.historyHours * HOUR_MS, asOf, hours: o.historyHours };
  const params = {
    historyHours: o.historyHours,
    chunkSeries: o.chunkSeries,
    minProbability: o.minProbability,
    floorProbability: o.floorProbability,
    dependencyFactor: o.dependencyFactor,
    announcements: o.announcements.length,
  };
  const run = { runId, startedAt: started, asOf, horizonHours: o.horizonHours, stepMinutes: o.stepMinutes, params };
  await writePredictionRun(store, { ...run, finishedAt: null, status: 'running', series: 0, predictions: 0 });
  const writer = new PredictionWriter(store);
  try {
    const summary = await scoreInto(store, o, range, runId, writer);
    await writer.drain();
    summary.predictions = writer.written;
    summary.seconds = (Date.now() - started) / 1000;
    await writePredictionRun(store, { ...run, finishedAt: Date.now(), status: 'done', series: summary.series, predictions: writer.written });
    o.logger?.info({ runId, items: summary.items, predictions: summary.predictions, seconds: summary.seconds }, 'scoring run done');
    return summary;
  } catch (e) {
    await writer.drain().catch(() => undefined);
    await writePredictionRun(store, { ...run, finishedAt: Date.now(), status: 'failed', series: 0, predictions: writer.written }).catch(() => undefined);
    throw e;
  }
}

async function scoreInto(store: Store, o: ScoringOptions, range: HistoryRange, runId: string, writer: PredictionWriter): Promise<ScoringSummary> {
  const totals = await readScopeTotals(store, range);
  // Grid long enough for the furthest window: computed with a provisional scope for the calendars.
  const provisional = buildScope(o, range, totals, range.hours + 1);
  const windows = buildWindows(o, range.asOf, provisional);
  const horizon = Math.max(1, hoursToCover(range.asOf, [...windows.common, ...windows.business.filter((b) => b !== null)].map((x) => x.w)));
  const scope = buildScope(o, range, totals, range.hours + horizon);
  const undescribed = scope.regions.filter((r) => !o.calendars.some((c) => c.name === r));
  if (undescribed.length > 0) {
    o.logger?.warn({ regions: undescribed }, 'regions without a configured calendar: business hours taken as 09:00-18:00 UTC on weekdays (set regions[] in the config)');
  }
  const R = scope.regions.length;
  const forecaster = new ItemForecaster(scope.grids, scope.fleet, range.hours, horizon);
  const classes = classCurves(await releaseSamples(store, range, o, scope), R);
  const boosts = await dependencyBoosts(store, range, o, scope);
  const summary: ScoringSummary = {
    runId,
    asOf: range.asOf,
    historyHours: o.historyHours,
    horizonHours: o.horizonHours,
    items: 0,
    series: 0,
    predictions: 0,
    chunks: 0,
    byModel: {},
    byClass: {},
    businessBlocks: windows.business.flatMap((b) => (b ? [{ region: b.w.region, start: b.w.start, end: b.w.end }] : [])),
    forecasters: [],
    seconds: 0,
  };
  const madeAt = Date.now();
  const emitter = new RowEmitter(o, scope, windows, runId, madeAt, writer);
  // Which forecaster each region scores with: the contender whose picks of the last runs hit most (only the past).
  const judged = await readJudgedPicks(store, range.asOf, CHOICE_MEMORY);
  const choices = scope.regions.map((region) => chooseFromJudged(judged.picks.filter((p) => p.region === region), SCORING_CONTENDERS, PICK_LIMIT, judged.runs, MODELS));
  summary.forecasters = scope.regions.map((region, r) => ({ region, contender: choices[r]!.contender, evidenceRuns: choices[r]!.evidence, calibration: round(choices[r]!.calibration) }));
  const firstStep = windows.common[0]!;
  const pool = new ScoringPool(scope.regions, choices, Math.max(1, (firstStep.w.end - firstStep.w.start) / HOUR_MS));
  const overrides: (RegionOverride | null)[] = scope.regions.map(() => null);

  /** Forecasts one item (its series already in the forecaster) and buffers its rows. */
  const scoreItem = async (
    module: string, version: string, nodeCounts: Float64Array, start: number,
    release: Parameters<ItemForecaster['forecast']>[0]['release'], boost: Float64Array | null, withTotals: boolean,
  ): Promise<void> => {
    forecaster.forecast({ start, release: release ?? null, boost });
    summary.items++;
    const key = `${module}\u0000${version}`;
    for (let r = 0; r < R; r++) {
      const ov = pool.observe(r, key, forecaster.values[r]!, range.hours, forecaster.regionWindow(r, firstStep.span).mean);
      // A ranker speaks only for items with a history in the region: releases and requirements keep their models.
      overrides[r] = counts[r]! > 0 ? ov : null;
    }
    for (let r = 0; r < R; r++) {
      const res = forecaster.results[r]!;
      summary.series++;
      summary.byModel[res.model] = (summary.byModel[res.model] ?? 0) + 1;
      summary.byClass[res.seriesClass] = (summary.byClass[res.seriesClass] ?? 0) + 1;
    }
    emitter.emit(forecaster, module, version, ratio, counts, nodeCounts, withTotals, overrides);
    if (writer.full) await writer.flush();
  };

  // Keys with a history, among those that may need scoring without one afterwards.
  const seen = new Set<string>();
  const announced = new Set(o.announcements.map((a) => requirementKey(a.module, a.version)));
  const ratio = new Float64Array(R + 1);
  const counts = new Float64Array(R);
  const nodeCounts = new Float64Array(scope.nodeIndex.size);
  // The next chunk is read while this one is scored: ClickHouse and the forecasts overlap.
  // Chunk c holds the keys in (bounds[c-1], bounds[c]]; the last one runs to the end of the key space.
  const bounds: (ItemKey | null)[] = [...(await chunkBoundaries(store, range, o.chunkSeries)), null];
  const fetchChunk = async (c: number): Promise<{ rows: SeriesRow[]; observations: Map<string, ModuleReleases> } | null> => {
    if (c >= bounds.length) return null;
    const rows = await readSeriesChunk(store, range, c > 0 ? bounds[c - 1]! : null, bounds[c]!);
    // Young versions need their module's earlier releases: read per chunk, for those modules only.
    const youngModules = [...new Set(rows.filter((r) => isYoung(r, range, o, scope.dataStart)).map((r) => r.module))];
    return { rows, observations: groupReleases(await readModuleVersions(store, range, youngModules), scope) };
  };
  let pending = fetchChunk(0);
  for (let c = 1; ; c++) {
    const current = await pending;
    if (!current) break;
    if (o.signal?.aborted) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'scoring aborted');
    pending = fetchChunk(c);
    pending.catch(() => undefined); // awaited on the next turn; not unhandled if this turn throws
    summary.chunks++;
    for (const row of current.rows) {
      const key = requirementKey(row.module, row.version);
      if (boosts.has(key) || announced.has(key)) seen.add(key);
      fillSeries(forecaster, row, scope, counts, ratio, nodeCounts);
      const release = isYoung(row, range, o, scope.dataStart) ? releaseInput(current.observations.get(row.module), row.version, row.firstHour, range, scope, classes, true) : null;
      await scoreItem(row.module, row.version, nodeCounts, release ? release.releaseIndex : scope.dataStart, release, boosts.get(key)?.perRegion ?? null, true);
    }
    o.logger?.debug({ chunk: summary.chunks, items: summary.items, predictions: writer.written }, 'scoring chunk done');
  }
  emitter.flushModule();

  // Items with no history: requirements of hot modules, and announced versions nobody fetched yet.
  const extra = new Map<string, { module: string; version: string; announcedAt?: number }>();
  for (const [key, b] of boosts) if (!seen.has(key)) extra.set(key, { module: b.module, version: b.version });
  for (const a of o.announcements) {
    const key = requirementKey(a.module, a.version);
    if (!seen.has(key)) extra.set(key, { module: a.module, version: a.version, announcedAt: a.at });
  }
  if (extra.size > 0) {
    const observations = groupReleases(await readModuleVersions(store, range, [...new Set([...extra.values()].map((e) => e.module))]), scope);
    for (const [key, e] of extra) {
      forecaster.reset();
      counts.fill(0);
      ratio.fill(1);
      nodeCounts.fill(0);
      const releaseIndex = e.announcedAt !== undefined ? Math.min(range.hours, Math.max(0, Math.floor((e.announcedAt - range.origin) / HOUR_MS))) : -1;
      const release = releaseIndex >= 0 ? releaseInput(observations.get(e.module), e.version, releaseIndex, range, scope, classes, false) : null;
      await scoreItem(e.module, e.version, nodeCounts, release ? release.releaseIndex : range.hours, release, boosts.get(key)?.perRegion ?? null, false);
    }
  }
  await writeRankerPicks(store, { runId, madeAt, windowStart: firstStep.w.start, windowEnd: firstStep.w.end }, pool.picks());
  return summary;
}

const sec = (ms: number): number => Math.floor(ms / 1000);
const round = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : 0);

/** A version first fetched well after the data starts, less than an adoption curve ago: a release seen happening. */
function isYoung(row: { version: string; firstHour: number }, range: HistoryRange, o: ScoringOptions, dataStart: number): boolean {
  return row.version !== '' && row.firstHour >= dataStart + o.releaseGraceHours && range.hours - row.firstHour < RELEASE_CURVE_HOURS;
}

/** Hours a window span covers. */
function spanHours(span: WindowSpan): number {
  let h = 0;
  for (const x of span.weights) h += x;
  return h;
}

/** The region with most history of the item. */
function dominantRegion(counts: Float64Array): number {
  let best = 0;
  for (let r = 1; r < counts.length; r++) if (counts[r]! > counts[best]!) best = r;
  return best;
}

/** The fleet row's model label: the model of the region with most history (the fleet forecast is their sum). */
function dominantModel(f: ItemForecaster, counts: Float64Array): string {
  return f.results[dominantRegion(counts)]?.model ?? 'floor';
}

/** Writes a chunk row's points into the forecaster; fills per-region and per-node fetches and request/fetch ratios. */
function fillSeries(f: ItemForecaster, row: SeriesRow, scope: Scope, counts: Float64Array, ratio: Float64Array, nodeCounts: Float64Array): void {
  f.reset();
  counts.fill(0);
  ratio.fill(1);
  nodeCounts.fill(0);
  let allFetches = 0;
  let allRequests = 0;
  for (let j = 0; j < row.regions.length; j++) {
    const r = scope.regionIndex.get(row.regions[j]!);
    if (r === undefined) continue;
    f.addPoints(r, row.hours[j]!, row.counts[j]!);
    const fetches = f.regionTotal(r);
    counts[r] = fetches;
    ratio[r] = fetches > 0 ? Math.max(1, row.requests[j]! / fetches) : 1;
    allFetches += fetches;
    allRequests += row.requests[j]!;
    for (const [node, c] of row.nodes[j]!) {
      const i = scope.nodeIndex.get(node);
      if (i !== undefined) nodeCounts[i] = c;
    }
  }
  ratio[scope.regions.length] = allFetches > 0 ? Math.max(1, allRequests / allFetches) : 1;
}

/** Versions of one module, each with its first fetch hour, first region and per-region hourly fetches. */
interface ModuleReleases {
  versions: { version: string; firstHour: number; firstRegion: number; points: { hours: number[]; counts: number[] }[] }[];
  /** Fetches per hour over the last week (all versions). */
  rate: number;
}

function groupReleases(points: VersionPoints[], scope: Scope): Map<string, ModuleReleases> {
  const out = new Map<string, ModuleReleases>();
  for (const p of points) {
    let m = out.get(p.module);
    if (!m) out.set(p.module, (m = { versions: [], rate: 0 }));
    let v = m.versions.find((x) => x.version === p.version);
    if (!v) m.versions.push((v = { version: p.version, firstHour: Infinity, firstRegion: -1, points: scope.regions.map(() => ({ hours: [], counts: [] })) }));
    const r = scope.regionIndex.get(p.region);
    if (r === undefined || p.hours.length === 0) continue;
    v.points[r] = { hours: p.hours, counts: p.counts };
    if (p.hours[0]! < v.firstHour) {
      v.firstHour = p.hours[0]!;
      v.firstRegion = r;
    }
  }
  return out;
}

/** The release input of a young (or announced) version: per region adoption curves and the release index. */
function releaseInput(
  m: ModuleReleases | undefined,
  version: string,
  releaseIndex: number,
  range: HistoryRange,
  scope: Scope,
  classes: Map<number, (Float64Array | null)[]>,
  sighted: boolean,
): { releaseIndex: number; curves: (Float64Array | null)[]; sighted: boolean } {
  const R = scope.regions.length;
  let rate = 0;
  const priors: Float64Array[][] = [];
  for (const v of m?.versions ?? []) {
    for (const p of v.points) for (let k = 0; k < p.hours.length; k++) if (p.hours[k]! >= range.hours - WEEK_HOURS) rate += p.counts[k]!;
    if (v.version === version || !Number.isFinite(v.firstHour) || v.firstHour >= releaseIndex || range.hours - v.firstHour < 48) continue;
    priors.push(curvesFromPoints(v, range, scope));
  }
  return { releaseIndex, curves: adoptionCurves(priors, classes, rate / WEEK_HOURS, R), sighted };
}

/** Level curves per region of a release from its hourly points (see releaseLevelCurve). */
function curvesFromPoints(v: ModuleReleases['versions'][number], range: HistoryRange, scope: Scope): Float64Array[] {
  return scope.regions.map((_, r) => {
    const counts = new Float64Array(RELEASE_CURVE_HOURS);
    const p = v.points[r]!;
    for (let k = 0; k < p.hours.length; k++) {
      const a = p.hours[k]! - v.firstHour;
      if (a >= 0 && a < RELEASE_CURVE_HOURS) counts[a] = counts[a]! + p.counts[k]!;
    }
    const grid = scope.grids[r]!;
    return releaseLevelCurve(counts, v.firstRegion === r, range.hours - v.firstHour, (a) => grid.shape[grid.how[v.firstHour + a]!]!);
  });
}

/** Releases of the history per popularity class: the similar-popularity adoption samples. */
async function releaseSamples(store: Store, range: HistoryRange, o: ScoringOptions, scope: Scope): Promise<{ moduleRate: number; curves: Float64Array[] }[]> {
  const rows = await readReleaseSamples(store, range, { graceHours: scope.dataStart + o.releaseGraceHours, minLivedHours: 48, curveHours: RELEASE_CURVE_HOURS, perClass: 200 });
  const grouped = groupReleases(rows, scope);
  const rates = new Map(rows.map((r) => [r.module, r.moduleRate]));
  const out: { moduleRate: number; curves: Float64Array[] }[] = [];
  for (const [module, m] of grouped) {
    for (const v of m.versions) if (Number.isFinite(v.firstHour)) out.push({ moduleRate: rates.get(module) ?? 0, curves: curvesFromPoints(v, range, scope) });
  }
  return out;
}

/** Extra deseasonalised fetch rate per region of requirements of hot modules (go.mod graph, one level). */
async function dependencyBoosts(
  store: Store,
  range: HistoryRange,
  o: ScoringOptions,
  scope: Scope,
): Promise<Map<string, { module: string; version: string; perRegion: Float64Array }>> {
  const edges = o.dependencyFactor > 0 ? await readHotRequirements(store, range, o.dependencyMinRate, o.dependencyLimit) : [];
  const out = new Map<string, { module: string; version: string; perRegion: Float64Array }>();
  for (let r = 0; r < scope.regions.length; r++) {
    const region = scope.regions[r]!;
    const graph = new Map<string, Requirement[]>();
    const parents = new Map<string, { module: string; version: string; rate: number }>();
    for (const e of edges) {
      if (e.region !== region) continue;
      const pk = requirementKey(e.module, e.version);
      parents.set(pk, { module: e.module, version: e.version, rate: e.rate });
      const list = graph.get(pk) ?? [];
      list.push({ module: e.reqModule, version: e.reqVersion, indirect: false });
      graph.set(pk, list);
    }
    const boosts = propagateHotness(parents.values(), (m, v) => graph.get(requirementKey(m, v)), { factor: o.dependencyFactor, limit: o.dependencyLimit });
    for (const [key, b] of boosts) {
      let entry = out.get(key);
      if (!entry) out.set(key, (entry = { module: b.module, version: b.version, perRegion: new Float64Array(scope.regions.length) }));
      entry.perRegion[r] = b.rate;
    }
  }
  return out;
}
