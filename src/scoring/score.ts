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
import { HOUR_MS } from '../domain/calendar.js';
import { floorToHour, hoursToCover } from '../domain/windows.js';
import { ItemForecaster } from '../domain/forecast/item.js';
import { RELEASE_CURVE_HOURS } from '../domain/forecast/release.js';
import { dependencyBoostsByRegion, requirementKey } from '../domain/forecast/dependency.js';
import { buildScope, buildWindows, fillSeries, hoursToNextBusinessBlocks, isYoung, type FleetLayout, type HistoryRange, type Scope } from '../domain/forecast/scope.js';
import { PredictionEmitter, round4, type EmissionOptions, type RegionOverride } from '../domain/forecast/emission.js';
import { groupReleases, releaseInput, similarPopularityCurves, type ModuleReleases } from '../domain/forecast/release-history.js';
import {
  PredictionWriter,
  chunkBoundaries,
  readHotRequirements,
  readModuleVersions,
  readReleaseSamples,
  readScopeTotals,
  readSeriesChunk,
  writePredictionRun,
  type ItemKey,
  type SeriesRow,
} from '../store/queries/scoring.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { MODELS, chooseFromJudged } from '../domain/forecast/rankers.js';
import { readJudgedPicks, writeRankerPicks } from '../store/queries/ranker-picks.js';
import { CHOICE_MEMORY, PICK_LIMIT, SCORING_CONTENDERS, ScoringPool } from './ranker-choice.js';
import type { Clock } from '../lib/clock.js';

export interface Announcement {
  module: string;
  version: string;
  /** When it was published, epoch ms. */
  at: number;
}

/** A scoring run's options: the fleet (calendars, nodes), what is written (EmissionOptions), and the run's own. */
export interface ScoringOptions extends FleetLayout, EmissionOptions {
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
  const classes = await releaseClasses(store, range, o, scope);
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
  const sec = (ms: number): number => Math.floor(ms / 1000);
  const emitter = new PredictionEmitter(o, scope, windows, (kind, id, module, version, requestKind, w, expected, pAny, lower, upper, model, features) =>
    writer.push([runId, madeAt, kind, id, module, version, requestKind, sec(w.start), sec(w.end), w.kind, expected, pAny, lower, upper, model, features]),
  );
  // Which forecaster each region scores with: the contender whose picks of the last runs hit most (only the past).
  const judged = await readJudgedPicks(store, range.asOf, CHOICE_MEMORY);
  const choices = scope.regions.map((region) => chooseFromJudged(judged.runs, judged.picks.filter((p) => p.region === region), SCORING_CONTENDERS, PICK_LIMIT, MODELS));
  summary.forecasters = scope.regions.map((region, r) => ({ region, contender: choices[r]!.contender, evidenceRuns: choices[r]!.evidence, calibration: round4(choices[r]!.calibration) }));
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

/** Releases of the history per popularity class: the similar-popularity adoption curves. */
async function releaseClasses(store: Store, range: HistoryRange, o: ScoringOptions, scope: Scope): Promise<Map<number, (Float64Array | null)[]>> {
  const rows = await readReleaseSamples(store, range, { graceHours: scope.dataStart + o.releaseGraceHours, minLivedHours: 48, curveHours: RELEASE_CURVE_HOURS, perClass: 200 });
  return similarPopularityCurves(rows, range, scope);
}

/** Extra deseasonalised fetch rate per region of requirements of hot modules (go.mod graph, one level). */
async function dependencyBoosts(store: Store, range: HistoryRange, o: ScoringOptions, scope: Scope): Promise<ReturnType<typeof dependencyBoostsByRegion>> {
  const edges = o.dependencyFactor > 0 ? await readHotRequirements(store, range, o.dependencyMinRate, o.dependencyLimit) : [];
  return dependencyBoostsByRegion(edges, scope.regions, { factor: o.dependencyFactor, limit: o.dependencyLimit });
}
