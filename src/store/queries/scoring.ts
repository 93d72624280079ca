/**
 * SQL of the scoring job. ClickHouse does the heavy lifting: it sums the hourly rollups over nodes per region,
 * turns each series into (hour, count) arrays, keeps per-node totals for node shares, and finds hot parents of
 * requirements; JS only sees one chunk of module-versions at a time, keyed on (module, version) so every chunk
 * is a primary-key range of rollups_1h.
 *
 * Counts are *fetches*, not requests: a go command asks for .info, .mod and .zip of one version in a row, so a
 * version's fetches in an hour are the largest of its info/mod/zip counts; a module's mutable endpoints (version
 * '') count list + @latest requests. Series with only sumdb/other requests are not warmable and are skipped.
 */
import type { Store } from '../client.js';
import { queryRows } from '../client.js';
import type { HistoryRange, ItemHistory, ScopeTotals } from '../../domain/forecast/scope.js';
import type { ReleaseSample, VersionPoints } from '../../domain/forecast/release-history.js';
import type { HotEdge } from '../../domain/forecast/dependency.js';
import { dateTimeParam, hoursSinceParam } from '../time-params.js';

const secs = (ms: number): number => Math.floor(ms / 1000);

/** Fetches of a (module, version) group, see the file comment. */
export const FETCHES = "if(version = '', sum(lists) + sum(latests), greatest(sum(infos), sum(mods), sum(zips)))";

const RANGE_PARAMS = (r: HistoryRange) => ({ origin: r.origin, asOf: r.asOf });
const IN_RANGE = `bucket >= ${dateTimeParam('origin')} AND bucket < ${dateTimeParam('asOf')}`;

/** Hourly request totals per region and node (traffic shapes and shares). Small: hours × nodes rows. */
export async function readScopeTotals(store: Store, range: HistoryRange): Promise<ScopeTotals> {
  const rows = await queryRows<{ region: string; node: string; h: number; c: number }>(
    store,
    `SELECT toString(region) AS region, toString(node) AS node,
            ${hoursSinceParam('bucket', 'origin')} AS h, toFloat64(sum(requests)) AS c
     FROM rollups_1h WHERE ${IN_RANGE}
     GROUP BY region, node, h`,
    RANGE_PARAMS(range),
  );
  const regionHours = new Map<string, Float64Array>();
  const nodes = new Map<string, { region: string; total: number }>();
  for (const r of rows) {
    let hours = regionHours.get(r.region);
    if (!hours) regionHours.set(r.region, (hours = new Float64Array(range.hours)));
    const h = Number(r.h);
    if (h >= 0 && h < range.hours) hours[h] = hours[h]! + Number(r.c);
    const n = nodes.get(r.node) ?? { region: r.region, total: 0 };
    n.total += Number(r.c);
    nodes.set(r.node, n);
  }
  return { regionHours, nodes };
}

export type ItemKey = [module: string, version: string];

/**
 * Chunk boundaries for the whole run in one pass: the last (module, version) of every `chunk` keys in key order.
 * The final chunk (after the last boundary) is read with no upper bound.
 */
export async function chunkBoundaries(store: Store, range: HistoryRange, chunk: number): Promise<ItemKey[]> {
  const rows = await queryRows<{ m: string; v: string }>(
    store,
    `SELECT m, v FROM (
       SELECT module AS m, version AS v, row_number() OVER (ORDER BY module, version) AS rn
       FROM (SELECT module, version FROM rollups_1h WHERE ${IN_RANGE} GROUP BY module, version)
     )
     WHERE rn % {chunk:UInt32} = 0
     ORDER BY m, v`,
    { ...RANGE_PARAMS(range), chunk },
  );
  return rows.map((r) => [r.m, r.v]);
}

/** One item's history as ClickHouse returns it: per region sorted hour indices and fetch counts, node totals. */
export interface SeriesRow extends ItemHistory {
  module: string;
  version: string;
  /** First history hour with a fetch. */
  firstHour: number;
}

/** A row of readSeriesChunk, in its SELECT order. */
type SeriesTuple = [string, string, string[], number[][], number[][], [string, number][][], number[], number];

/**
 * The series of every key in (after, last] (last null: to the end): one row per module-version, ordered by key.
 * JSONCompactEachRow: positional rows parse faster than keyed objects at a million rows.
 */
export async function readSeriesChunk(store: Store, range: HistoryRange, after: ItemKey | null, last: ItemKey | null): Promise<SeriesRow[]> {
  const rs = await store.client.query({
    query: `SELECT module, version, groupArray(region) AS regions, groupArray(pts.1) AS hours, groupArray(pts.2) AS counts,
            groupArray(node_totals) AS nodes, groupArray(reqs) AS requests, min(first) AS first_hour
     FROM (
       SELECT module, version, region,
              CAST(sumMap(hs, cs), 'Tuple(Array(UInt32), Array(Float64))') AS pts,
              groupArray((node, total)) AS node_totals, sum(r) AS reqs, min(first) AS first
       FROM (
         SELECT module, version, toString(region) AS region, toString(node) AS node,
                groupArray(h) AS hs, groupArray(c) AS cs, sum(c) AS total, sum(r) AS r, min(h) AS first
         FROM (
           SELECT module, version, region, node,
                  ${hoursSinceParam('bucket', 'origin')} AS h,
                  toFloat64(${FETCHES}) AS c, toFloat64(sum(requests)) AS r
           FROM rollups_1h
           WHERE ${IN_RANGE}
             AND ({hasAfter:UInt8} = 0 OR (module, version) > ({m0:String}, {v0:String}))
             AND ({hasLast:UInt8} = 0 OR (module, version) <= ({m1:String}, {v1:String}))
           GROUP BY module, version, region, node, h
           HAVING c > 0
         )
         GROUP BY module, version, region, node
       )
       GROUP BY module, version, region
     )
     GROUP BY module, version
     ORDER BY module, version`,
    query_params: {
      ...RANGE_PARAMS(range),
      hasAfter: after ? 1 : 0,
      m0: after?.[0] ?? '',
      v0: after?.[1] ?? '',
      hasLast: last ? 1 : 0,
      m1: last?.[0] ?? '',
      v1: last?.[1] ?? '',
    },
    format: 'JSONCompactEachRow',
  });
  // Every number is a UInt32 or Float64 in SQL, so JSON already gives numbers: no per-point conversion.
  const rows = await rs.json<SeriesTuple>();
  return rows.map(([module, version, regions, hours, counts, nodes, requests, firstHour]) => ({ module, version, regions, hours, counts, nodes, requests, firstHour }));
}

/** Hourly fetches of every version of the given modules, per region (release curves). */
export async function readModuleVersions(store: Store, range: HistoryRange, modules: readonly string[]): Promise<VersionPoints[]> {
  if (modules.length === 0) return [];
  const rows = await queryRows<VersionPoints>(
    store,
    `SELECT module, version, region, groupArray(h) AS hours, groupArray(c) AS counts FROM (
       SELECT module, version, toString(region) AS region,
              ${hoursSinceParam('bucket', 'origin')} AS h, toFloat64(${FETCHES}) AS c
       FROM rollups_1h
       WHERE module IN {modules:Array(String)} AND version != '' AND ${IN_RANGE}
       GROUP BY module, version, region, h
       HAVING c > 0 ORDER BY h
     )
     GROUP BY module, version, region
     ORDER BY module, version, region`,
    { ...RANGE_PARAMS(range), modules: [...modules] },
  );
  return rows.map((r) => ({ ...r, hours: r.hours.map(Number), counts: r.counts.map(Number) }));
}

/**
 * Releases seen happening in the history (first fetch after `graceHours`, at least `minLivedHours` old), with their
 * hourly fetches per region over their first `curveHours` and their module's rate: the similar-popularity curves.
 * At most `perClass` most recent releases per popularity class (log2 of the module's weekly fetches).
 */
export async function readReleaseSamples(
  store: Store,
  range: HistoryRange,
  o: { graceHours: number; minLivedHours: number; curveHours: number; perClass: number },
): Promise<ReleaseSample[]> {
  const rows = await queryRows<ReleaseSample & { module_rate: number }>(
    store,
    `WITH firsts AS (
       SELECT module, version, min(bucket) AS first FROM rollups_1h
       WHERE ${IN_RANGE} AND version != ''
       GROUP BY module, version
       HAVING first >= ${dateTimeParam('origin')} + toIntervalHour({grace:UInt32})
          AND first <= ${dateTimeParam('asOf')} - toIntervalHour({lived:UInt32})
     ),
     rates AS (
       SELECT module, toFloat64(sum(requests)) / 168 AS module_rate FROM rollups_1h
       WHERE bucket >= ${dateTimeParam('asOf')} - toIntervalHour(168) AND bucket < ${dateTimeParam('asOf')}
         AND module IN (SELECT module FROM firsts)
       GROUP BY module
     ),
     picked AS (
       SELECT f.module AS module, f.version AS version, f.first AS first, r.module_rate AS module_rate
       FROM firsts AS f INNER JOIN rates AS r ON f.module = r.module
       WHERE r.module_rate > 0
       ORDER BY f.first DESC, f.module, f.version
       LIMIT {perClass:UInt32} BY toUInt32(floor(log2(1 + r.module_rate * 168)))
     )
     SELECT p.module AS module, p.version AS version, toString(x.region) AS region, any(p.module_rate) AS module_rate,
            groupArray(x.h) AS hours, groupArray(x.c) AS counts
     FROM (
       SELECT module, version, region, ${hoursSinceParam('bucket', 'origin')} AS h, toFloat64(${FETCHES}) AS c
       FROM rollups_1h
       WHERE ${IN_RANGE} AND (module, version) IN (SELECT module, version FROM picked)
       GROUP BY module, version, region, h
       HAVING c > 0 ORDER BY h
     ) AS x
     INNER JOIN picked AS p ON x.module = p.module AND x.version = p.version
     WHERE x.h < ${hoursSinceParam('p.first', 'origin')} + {curve:UInt32}
     GROUP BY module, version, region
     ORDER BY module, version, region`,
    { ...RANGE_PARAMS(range), grace: o.graceHours, lived: o.minLivedHours, curve: o.curveHours, perClass: o.perClass },
  );
  return rows.map((r) => ({
    module: r.module,
    version: r.version,
    region: r.region,
    hours: r.hours.map(Number),
    counts: r.counts.map(Number),
    moduleRate: Number(r.module_rate),
  }));
}

/** Requirement edges of parents fetched at least `minRate` per hour over the last week, per region, bounded. */
export async function readHotRequirements(store: Store, range: HistoryRange, minRate: number, limit: number): Promise<HotEdge[]> {
  const rows = await queryRows<{ module: string; version: string; region: string; rate: number; req_module: string; req_version: string }>(
    store,
    `SELECT p.module AS module, p.version AS version, p.region AS region, p.rate AS rate,
            r.req_module AS req_module, r.req_version AS req_version
     FROM (
       SELECT module, version, toString(region) AS region, toFloat64(${FETCHES}) / 168 AS rate FROM rollups_1h
       WHERE bucket >= ${dateTimeParam('asOf')} - toIntervalHour(168) AND bucket < ${dateTimeParam('asOf')} AND version != ''
         AND module IN (SELECT DISTINCT module FROM module_requires)
       GROUP BY module, version, region
       HAVING rate >= {minRate:Float64}
     ) AS p
     INNER JOIN (SELECT module, version, req_module, req_version FROM module_requires FINAL) AS r
       ON p.module = r.module AND p.version = r.version
     ORDER BY rate DESC, module, version, req_module, req_version
     LIMIT {limit:UInt32}`,
    { ...RANGE_PARAMS(range), minRate, limit },
  );
  return rows.map((r) => ({ module: r.module, version: r.version, region: r.region, rate: Number(r.rate), reqModule: r.req_module, reqVersion: r.req_version }));
}

/** Records a go.mod's requirements (parsed by the caller). Idempotent: the table keeps one row per edge. */
export async function recordRequirements(
  store: Store,
  module: string,
  version: string,
  requirements: readonly { module: string; version: string; indirect: boolean }[],
): Promise<void> {
  if (requirements.length === 0) return;
  await store.client.insert({
    table: 'module_requires',
    format: 'JSONEachRow',
    values: requirements.map((r) => ({ module, version, req_module: r.module, req_version: r.version, indirect: r.indirect })),
  });
}

export interface PredictionRunRow {
  runId: string;
  startedAt: number;
  finishedAt: number | null;
  status: 'running' | 'done' | 'failed';
  asOf: number;
  horizonHours: number;
  stepMinutes: number;
  series: number;
  predictions: number;
  params: Record<string, unknown>;
}

/** Inserts a new version of the run's row (ReplacingMergeTree keeps the newest by updated_at). */
export async function writePredictionRun(store: Store, run: PredictionRunRow): Promise<void> {
  await store.client.insert({
    table: 'prediction_runs',
    format: 'JSONEachRow',
    values: [
      {
        run_id: run.runId,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        status: run.status,
        as_of: secs(run.asOf),
        horizon_hours: run.horizonHours,
        step_minutes: run.stepMinutes,
        series: run.series,
        predictions: run.predictions,
        params: JSON.stringify(run.params),
        updated_at: Date.now(),
      },
    ],
  });
}

export const PREDICTION_COLUMNS = [
  'run_id', 'made_at', 'scope', 'scope_id', 'module', 'version', 'kind', 'window_start', 'window_end', 'window_kind',
  'expected_requests', 'p_any_request', 'lower', 'upper', 'model', 'features',
] as const;

/** One predictions row in PREDICTION_COLUMNS order (times: made_at epoch ms, windows epoch seconds). */
export type PredictionTuple = [
  runId: string,
  madeAt: number,
  scope: 'node' | 'region' | 'fleet',
  scopeId: string,
  module: string,
  version: string,
  kind: string,
  windowStart: number,
  windowEnd: number,
  windowKind: string,
  expected: number,
  pAny: number,
  lower: number,
  upper: number,
  model: string,
  features: string,
];

/**
 * Buffers prediction rows and inserts them in batches (JSONCompactEachRow: the cheapest client format measured).
 * The scorer awaits each full batch's insert before going on, so it cannot outrun the store and memory stays
 * bounded.
 */
export class PredictionWriter {
  private buffer: PredictionTuple[] = [];
  /** The batch being inserted while the scorer computes the next one (at most one). */
  private inflight: Promise<void> | null = null;
  written = 0;

  constructor(
    private readonly store: Store,
    private readonly batchRows = 50_000,
  ) {}

  /** Buffers a row; the caller awaits flush() when `full` (at a point where that is cheap, e.g. per item). */
  push(row: PredictionTuple): void {
    this.buffer.push(row);
  }

  get full(): boolean {
    return this.buffer.length >= this.batchRows;
  }

  /**
   * Starts inserting the buffered rows once the previous batch is in: ClickHouse works on one batch while the
   * scorer computes the next, and at most two batches exist at any time.
   */
  async flush(): Promise<void> {
    if (this.inflight) {
      const previous = this.inflight;
      this.inflight = null;
      await previous;
    }
    if (this.buffer.length === 0) return;
    const values = this.buffer;
    this.buffer = [];
    this.inflight = this.store.client
      .insert({ table: 'predictions', columns: [...PREDICTION_COLUMNS], values, format: 'JSONCompactEachRow' })
      .then(() => {
        this.written += values.length;
      });
    // Reported by the next flush()/drain(); never an unhandled rejection in between.
    this.inflight.catch(() => undefined);
  }

  /** Writes everything still buffered and waits for it. */
  async drain(): Promise<void> {
    await this.flush();
    if (this.inflight) {
      const last = this.inflight;
      this.inflight = null;
      await last;
    }
  }
}
