/**
 * What warm-ups cost and did, read from the proxies' own logs (table warmup_events, pipelines/032_warmup_events.sql):
 * per node and UTC day, the warm-up requests the node served to modcast and their bytes, the versions warmed, and how
 * many of those versions clients then requested (access_events of that node, .info/.mod/.zip, from the version's first
 * warm-up request that day until `windowHours` later), with those demand requests and how many the cache answered.
 */
import { queryRows, type Store } from '../client.js';
import { SCOPE_WHERE, scopeParams, type ScopeFilter } from './module-history.js';

export interface WarmupTrafficQuery extends ScopeFilter {
  from: Date;
  to: Date;
  /** How long after a version's warm-up a client request on it counts as use of the warm-up. */
  windowHours: number;
}

export interface WarmupTrafficDay {
  /** Start of the UTC day, epoch ms. */
  day: number;
  node: string;
  /** Warm-up requests in the node's log (every kind, list and @latest included) and the bytes it answered them with. */
  requests: number;
  bytes: number;
  /** Distinct module versions warmed (.info/.mod/.zip). */
  warmedVersions: number;
  /** Of those, versions clients requested within the window. */
  usedVersions: number;
  /** Client requests on warmed versions within the window, and how many were cache hits. */
  demandRequests: number;
  demandHits: number;
}

export async function readWarmupTraffic(store: Store, q: WarmupTrafficQuery): Promise<WarmupTrafficDay[]> {
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `WITH
       warmed AS (
         SELECT node, toStartOfDay(ts) AS day, module, version, min(ts) AS first_at, count() AS requests, sum(bytes) AS bytes,
                countIf(kind IN ('info', 'mod', 'zip')) > 0 AS versioned
         FROM warmup_events
         WHERE ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64}) AND ${SCOPE_WHERE}
         GROUP BY node, day, module, version),
       demand AS (
         SELECT w.node AS node, w.day AS day, w.module AS module, w.version AS version, count() AS requests, countIf(a.cache_status = 'hit') AS hits
         FROM access_events AS a
         INNER JOIN (SELECT node, day, module, version, first_at FROM warmed WHERE versioned) AS w
           ON a.node = w.node AND a.module = w.module AND a.version = w.version
         WHERE a.kind IN ('info', 'mod', 'zip')
           AND a.ts >= fromUnixTimestamp64Milli({from:Int64}) AND a.ts < fromUnixTimestamp64Milli({to:Int64}) + toIntervalHour({hours:UInt32})
           AND a.ts >= w.first_at AND a.ts < w.first_at + toIntervalHour({hours:UInt32})
         GROUP BY node, day, module, version)
     SELECT w.node AS node_name, toUnixTimestamp(w.day) * 1000 AS day_ms, sum(w.requests) AS requests, sum(w.bytes) AS bytes,
            countIf(w.versioned) AS warmed_versions, countIf(d.requests > 0) AS used_versions,
            sum(d.requests) AS demand_requests, sum(d.hits) AS demand_hits
     FROM warmed AS w
     LEFT JOIN demand AS d ON w.node = d.node AND w.day = d.day AND w.module = d.module AND w.version = d.version
     GROUP BY node_name, day_ms
     ORDER BY day_ms, node_name`,
    { from: q.from.getTime(), to: q.to.getTime(), hours: q.windowHours, ...scopeParams(q) },
  );
  return rows.map((r) => ({
    day: Number(r.day_ms),
    node: String(r.node_name),
    requests: Number(r.requests),
    bytes: Number(r.bytes),
    warmedVersions: Number(r.warmed_versions),
    usedVersions: Number(r.used_versions),
    demandRequests: Number(r.demand_requests),
    demandHits: Number(r.demand_hits),
  }));
}
