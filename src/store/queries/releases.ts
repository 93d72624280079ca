/**
 * Release detection for the scheduler: is a module hot, which nodes already hold a version (served it or were
 * warmed with it), and which versions of hot modules appeared lately. Times are epoch ms.
 */
import { queryRows, type Store } from '../client.js';
import { dateTime64Param, dateTimeParam } from '../time-params.js';

/** At least `minRequests` requests of `module` since `since`, from the hourly rollups. */
export async function isHotModule(store: Store, module: string, since: number, minRequests: number): Promise<boolean> {
  const rows = await queryRows<{ n: string }>(
    store,
    `SELECT sum(requests) AS n FROM rollups_1h WHERE module = {module:String} AND bucket >= ${dateTimeParam('since')}`,
    { module, since },
  );
  return Number(rows[0]?.n ?? 0) >= minRequests;
}

export async function nodesHolding(store: Store, module: string, version: string): Promise<Set<string>> {
  const rows = await queryRows<{ node: string }>(
    store,
    `SELECT DISTINCT node FROM access_events
     WHERE module = {module:String} AND version = {version:String} AND kind IN ('info', 'mod', 'zip') AND status >= 200 AND status < 300
     UNION DISTINCT
     SELECT DISTINCT node FROM warmup_items WHERE module = {module:String} AND version = {version:String} AND status = 'ok'`,
    { module, version },
  );
  return new Set(rows.map((r) => r.node));
}

/**
 * New versions first seen (fleet-wide) since `since`, of modules with at least `minRequests` requests since
 * `hotSince`, and the nodes that served them.
 */
export async function newHotVersions(
  store: Store,
  q: { since: number; hotSince: number; minRequests: number },
): Promise<{ module: string; version: string; nodes: string[] }[]> {
  return queryRows<{ module: string; version: string; nodes: string[] }>(
    store,
    `SELECT module, version, groupUniqArray(node) AS nodes FROM access_events
     WHERE ts >= ${dateTime64Param('since')} AND version != '' AND kind IN ('info', 'mod', 'zip') AND status = 200
       AND module IN (SELECT module FROM rollups_1h WHERE bucket >= ${dateTimeParam('hotSince')} GROUP BY module HAVING sum(requests) >= {minReq:UInt64})
       AND (module, version) NOT IN (
         SELECT module, version FROM rollups_1h WHERE bucket < toStartOfHour(${dateTime64Param('since')}) AND bucket >= ${dateTimeParam('hotSince')})
     GROUP BY module, version
     LIMIT 100`,
    { since: q.since, hotSince: q.hotSince, minReq: q.minRequests },
  );
}
