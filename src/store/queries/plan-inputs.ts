/**
 * The planner's inputs from the store for one node (see warmup/demand.ts): predicted demand of a run over a window,
 * what the node already holds, response sizes and cold-vs-warm latency, and the most requested recent versions.
 * All queries are parameterised and bounded to the candidate modules; times are epoch ms.
 */
import { queryRows, type Store } from '../client.js';
import { sizeKey, warmKey, type Demand, type WarmEndpoint } from '../../domain/plan.js';
import { dateTime64Param, dateTimeParam } from '../time-params.js';

interface DemandRow {
  module: string;
  version: string;
  kind: string;
  scope: 'node' | 'region' | 'fleet';
  expected: number;
  p_any: number;
}

/**
 * Predictions overlapping the window, combined across the run's hourly steps: P(any) = 1 - Π(1 - p).
 * Only 'step' windows: a run also writes whole-horizon and business-block windows over the same hours.
 */
export async function readDemand(
  store: Store,
  runId: string,
  target: { name: string; region: string },
  window: { from: number; to: number },
  limit: number,
): Promise<Demand[]> {
  const rows = await queryRows<DemandRow>(
    store,
    `SELECT module, version, kind, toString(scope) AS scope, sum(expected_requests) AS expected,
            1 - exp(sum(log(greatest(1e-12, 1 - least(1, greatest(0, p_any_request)))))) AS p_any
     FROM predictions
     WHERE run_id = {run:String} AND window_kind = 'step'
       AND ((scope = 'node' AND scope_id = {node:String}) OR (scope = 'region' AND scope_id = {region:String}) OR scope = 'fleet')
       AND window_start < ${dateTimeParam('to')} AND window_end > ${dateTimeParam('from')}
     GROUP BY module, version, kind, scope
     ORDER BY p_any DESC, module, version
     LIMIT {limit:UInt32}`,
    { run: runId, node: target.name, region: target.region, from: window.from, to: window.to, limit },
  );
  return rows.map((r) => ({ module: r.module, version: r.version, kind: r.kind, scope: r.scope, expectedRequests: Number(r.expected), pAny: Number(r.p_any) }));
}

/** What the node holds among the candidate modules: bundle keys and per-file keys. */
export async function readWarmKeys(store: Store, node: string, modules: string[], since: number): Promise<Set<string>> {
  const rows = await queryRows<{ module: string; version: string; kind: string }>(
    store,
    `SELECT DISTINCT module, version, toString(kind) AS kind FROM access_events
     WHERE node = {node:String} AND module IN {modules:Array(String)} AND ts >= ${dateTime64Param('since')}
       AND kind IN ('info', 'mod', 'zip') AND status >= 200 AND status < 300
     UNION ALL
     SELECT DISTINCT module, version, endpoint AS kind FROM warmup_items
     WHERE node = {node:String} AND module IN {modules:Array(String)} AND status = 'ok' AND updated_at >= ${dateTime64Param('since')}`,
    { node, modules, since },
  );
  const keys = new Set<string>();
  for (const r of rows) {
    keys.add(warmKey(r.module, r.version));
    keys.add(warmKey(r.module, r.version, r.kind as WarmEndpoint));
  }
  return keys;
}

interface StatsRow {
  module: string;
  version: string;
  zip: number;
  mod: number;
  info: number;
  miss_ms: number;
  hit_ms: number;
}

/** Response sizes (largest 2xx seen) and the node's cold-minus-warm latency per module@version. */
export async function readSizesAndPenalties(store: Store, node: string, modules: string[], since: number) {
  const rows = await queryRows<StatsRow>(
    store,
    `SELECT module, version,
            maxIf(bytes, kind = 'zip' AND status = 200) AS zip, maxIf(bytes, kind = 'mod' AND status = 200) AS mod,
            maxIf(bytes, kind = 'info' AND status = 200) AS info,
            avgIf(duration_ms, cache_status = 'miss' AND node = {node:String}) AS miss_ms,
            avgIf(duration_ms, cache_status = 'hit' AND node = {node:String}) AS hit_ms
     FROM access_events
     WHERE module IN {modules:Array(String)} AND version != '' AND ts >= ${dateTime64Param('since')}
     GROUP BY module, version`,
    { node, modules, since },
  );
  const sizes = new Map<string, number>();
  const penalties = new Map<string, number>();
  for (const r of rows) {
    for (const e of ['zip', 'mod', 'info'] as const) if (Number(r[e]) > 0) sizes.set(sizeKey(r.module, r.version, e), Number(r[e]));
    const miss = Number(r.miss_ms);
    const hit = Number(r.hit_ms);
    if (Number.isFinite(miss) && Number.isFinite(hit) && miss > hit) penalties.set(warmKey(r.module, r.version), miss - hit);
  }
  return { sizes, penalties };
}

/** The most requested version of each module over the lookback (for module-level predictions). */
export async function readVersionHints(store: Store, modules: string[], since: number): Promise<Map<string, string>> {
  const rows = await queryRows<{ module: string; version: string }>(
    store,
    `SELECT module, argMax(version, n) AS version FROM (
       SELECT module, version, sum(requests) AS n FROM rollups_1h
       WHERE module IN {modules:Array(String)} AND version != '' AND bucket >= ${dateTimeParam('since')}
       GROUP BY module, version)
     GROUP BY module`,
    { modules, since },
  );
  return new Map(rows.map((r) => [r.module, r.version]));
}

/** What a run's step windows for a node's scopes (node, its region, the fleet) cover: count, first start, last end (ms). */
export async function predictionCoverage(store: Store, runId: string, node: string, region: string): Promise<{ count: number; first: number; last: number }> {
  const rows = await queryRows<{ n: string; first: number; last: number }>(
    store,
    `SELECT count() AS n, toUnixTimestamp(min(window_start)) AS first, toUnixTimestamp(max(window_end)) AS last
     FROM predictions
     WHERE run_id = {run:String} AND window_kind = 'step'
       AND ((scope = 'node' AND scope_id = {node:String}) OR (scope = 'region' AND scope_id = {region:String}) OR scope = 'fleet')`,
    { run: runId, node, region },
  );
  const r = rows[0];
  return { count: Number(r?.n ?? 0), first: Number(r?.first ?? 0) * 1000, last: Number(r?.last ?? 0) * 1000 };
}
