/** Aggregates behind the dashboard panels: scopes, hour-of-week heatmap, release spread, ingest health. */
import { queryRows, type Store } from '../client.js';
import { rollupFor } from './top.js';
import { SCOPE_WHERE, scopeParams, type ScopeFilter } from './module-history.js';
import { dateTime64Param } from '../time-params.js';


/** Start of the oldest hourly bucket, undefined on an empty store. */
export async function dataStart(store: Store): Promise<Date | undefined> {
  const [row] = await queryRows<{ t: string | number }>(store, 'SELECT toUnixTimestamp(min(bucket)) AS t FROM rollups_1h HAVING count() > 0');
  return row ? new Date(Number(row.t) * 1000) : undefined;
}

/** Regions and the nodes seen in each (from the hourly rollups). */
export async function seenScopes(store: Store): Promise<{ region: string; nodes: string[] }[]> {
  const rows = await queryRows<{ region: string; nodes: string[] }>(
    store,
    'SELECT toString(region) AS region, arraySort(groupUniqArray(toString(node))) AS nodes FROM rollups_1h GROUP BY region ORDER BY region',
  );
  return rows;
}

export interface HeatmapQuery extends ScopeFilter {
  from: Date;
  to: Date;
  modulePrefix: string;
  limit: number;
  timeZone: string;
}

/** Requests per (module, hour of week) for the top modules; hour of week 0 = Monday 00:00 in `timeZone`. */
export async function hourOfWeekHeatmap(store: Store, q: HeatmapQuery): Promise<{ modules: string[]; cells: [number, number, number][] }> {
  const params = { from: q.from.getTime(), to: q.to.getTime(), prefix: q.modulePrefix, limit: q.limit, tz: q.timeZone, ...scopeParams(q) };
  const range = `bucket >= ${dateTime64Param('from')} AND bucket < ${dateTime64Param('to')} AND ${SCOPE_WHERE} AND startsWith(module, {prefix:String})`;
  const modules = (
    await queryRows<{ module: string }>(
      store,
      `SELECT module FROM rollups_1h WHERE ${range} GROUP BY module ORDER BY sum(requests) DESC, module LIMIT {limit:UInt32}`,
      params,
    )
  ).map((r) => r.module);
  if (modules.length === 0) return { modules, cells: [] };
  const rows = await queryRows<{ module: string; how: number; r: string }>(
    store,
    `SELECT module, (toDayOfWeek(bucket, 0, {tz:String}) - 1) * 24 + toHour(toTimeZone(bucket, {tz:String})) AS how, sum(requests) AS r
     FROM rollups_1h WHERE ${range} AND module IN {modules:Array(String)}
     GROUP BY module, how`,
    { ...params, modules },
  );
  const index = new Map(modules.map((m, i) => [m, i]));
  return { modules, cells: rows.map((r) => [Number(r.how), index.get(r.module)!, Number(r.r)]) };
}

export interface ReleaseSpread {
  module: string;
  version: string;
  firstSeen: number;
  requests: number;
  regions: { region: string; firstSeen: number; requests: number }[];
}

/**
 * Versions first requested in [from, to) (and not at the very start of the data, where everything looks new),
 * most requested first, with when and how much each region requested them.
 */
export async function releaseSpread(store: Store, q: { from: Date; to: Date; modulePrefix: string; limit: number }): Promise<ReleaseSpread[]> {
  const rows = await queryRows<{ module: string; version: string; first_ms: string; total: string; regions: unknown[][] }>(
    store,
    `WITH firsts AS (
       SELECT module, version, min(bucket) AS first_seen, sum(requests) AS total FROM rollups_1h
       WHERE version != '' AND startsWith(module, {prefix:String})
       GROUP BY module, version
       HAVING first_seen >= ${dateTime64Param('from')} AND first_seen < ${dateTime64Param('to')}
          AND first_seen > (SELECT min(bucket) FROM rollups_1h)
       ORDER BY total DESC, module, version LIMIT {limit:UInt32})
     SELECT module, version, toUnixTimestamp(min(first_region)) * 1000 AS first_ms, sum(req) AS total,
            arraySort(x -> x.2, groupArray((region, toUnixTimestamp(first_region) * 1000, req))) AS regions
     FROM (
       SELECT module, version, toString(region) AS region, min(bucket) AS first_region, sum(requests) AS req FROM rollups_1h
       WHERE (module, version) IN (SELECT module, version FROM firsts)
       GROUP BY module, version, region)
     GROUP BY module, version ORDER BY total DESC, module, version`,
    { from: q.from.getTime(), to: q.to.getTime(), prefix: q.modulePrefix, limit: q.limit },
  );
  return rows.map((r) => ({
    module: r.module,
    version: r.version,
    firstSeen: Number(r.first_ms),
    requests: Number(r.total),
    regions: r.regions.map((x) => ({ region: String(x[0]), firstSeen: Number(x[1]), requests: Number(x[2]) })),
  }));
}

export interface IngestHealth {
  bucketMinutes: number;
  events: [number, number][];
  rejects: [number, number][];
  reasons: { reason: string; count: number }[];
  latency: { hitMs: number | null; missMs: number | null };
}

/** Events per bucket (by event time, ending at the newest data), rejects per bucket (by receive time, ending now). */
export async function ingestHealth(store: Store, q: { from: Date; to: Date; rejectsFrom: Date } & ScopeFilter): Promise<IngestHealth> {
  const table = rollupFor(q.from, q.to);
  const bucketMinutes = table === 'rollups_5m' ? 5 : 60;
  const params = { from: q.from.getTime(), to: q.to.getTime(), rfrom: q.rejectsFrom.getTime(), ...scopeParams(q) };
  const [events, rejects, reasons, latency] = await Promise.all([
    queryRows<{ t: string; n: string }>(
      store,
      `SELECT toUnixTimestamp(bucket) * 1000 AS t, sum(requests) AS n FROM ${table}
       WHERE bucket >= ${dateTime64Param('from')} AND bucket < ${dateTime64Param('to')} AND ${SCOPE_WHERE} GROUP BY t ORDER BY t`,
      params,
    ),
    queryRows<{ t: string; n: string }>(
      store,
      `SELECT toUnixTimestamp(toStartOfInterval(received_at, INTERVAL ${bucketMinutes} MINUTE)) * 1000 AS t, count() AS n
       FROM rejected_events WHERE received_at >= ${dateTime64Param('rfrom')} AND ({node:String} = '' OR node = {node:String})
       GROUP BY t ORDER BY t`,
      params,
    ),
    queryRows<{ reason: string; n: string }>(
      store,
      `SELECT replaceRegexpAll(reason, '"[^"]*"', '"…"') AS reason, count() AS n FROM rejected_events
       WHERE received_at >= ${dateTime64Param('rfrom')} AND ({node:String} = '' OR node = {node:String})
       GROUP BY reason ORDER BY n DESC, reason LIMIT 10`,
      params,
    ),
    queryRows<{ hit: number | null; miss: number | null }>(
      store,
      `SELECT if(sum(hits) = 0, NULL, sum(hit_duration_ms) / sum(hits)) AS hit, if(sum(misses) = 0, NULL, sum(miss_duration_ms) / sum(misses)) AS miss
       FROM ${table} WHERE bucket >= ${dateTime64Param('from')} AND bucket < ${dateTime64Param('to')} AND ${SCOPE_WHERE}`,
      params,
    ),
  ]);
  return {
    bucketMinutes,
    events: events.map((r) => [Number(r.t), Number(r.n)]),
    rejects: rejects.map((r) => [Number(r.t), Number(r.n)]),
    reasons: reasons.map((r) => ({ reason: r.reason, count: Number(r.n) })),
    latency: {
      hitMs: latency[0]?.hit === null || latency[0]?.hit === undefined ? null : Number(latency[0].hit),
      missMs: latency[0]?.miss === null || latency[0]?.miss === undefined ? null : Number(latency[0].miss),
    },
  };
}

export interface WarmupSummary {
  days: { day: number; status: string; runs: number; itemsDone: number; itemsFailed: number; bytes: number }[];
  totals: { runs: number; itemsPlanned: number; itemsDone: number; itemsFailed: number; bytes: number };
}

/** Warm-up runs per day and status since `from` (wall-clock time of the runs). */
export async function warmupSummary(store: Store, q: { from: Date } & ScopeFilter): Promise<WarmupSummary> {
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `SELECT toUnixTimestamp(toStartOfDay(created_at)) * 1000 AS day, toString(status) AS status, count() AS runs,
            sum(items_planned) AS planned, sum(items_done) AS done, sum(items_failed) AS failed, sum(bytes) AS bytes
     FROM warmup_runs FINAL
     WHERE created_at >= ${dateTime64Param('from')} AND ${SCOPE_WHERE}
     GROUP BY day, status ORDER BY day, status`,
    { from: q.from.getTime(), ...scopeParams(q) },
  );
  const days = rows.map((r) => ({
    day: Number(r.day),
    status: String(r.status),
    runs: Number(r.runs),
    itemsDone: Number(r.done),
    itemsFailed: Number(r.failed),
    bytes: Number(r.bytes),
  }));
  const totals = { runs: 0, itemsPlanned: 0, itemsDone: 0, itemsFailed: 0, bytes: 0 };
  for (const r of rows) {
    totals.runs += Number(r.runs);
    totals.itemsPlanned += Number(r.planned);
    totals.itemsDone += Number(r.done);
    totals.itemsFailed += Number(r.failed);
    totals.bytes += Number(r.bytes);
  }
  return { days, totals };
}
