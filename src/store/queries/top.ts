/** "What is hot": request counts per module/version/node/region over a window, from the rollups (never raw scans). */
import type { Store } from '../client.js';
import { queryRows } from '../client.js';
import { dateTime64Param } from '../time-params.js';

export const TOP_DIMENSIONS = ['module', 'version', 'node', 'region'] as const;
export type TopDimension = (typeof TOP_DIMENSIONS)[number];

/** Grouping expressions per dimension: a fixed allow-list, never user text. */
const KEY_SQL: Record<TopDimension, string> = {
  module: 'module',
  version: "concat(module, '@', version)",
  node: 'node',
  region: 'region',
};

/** Rows without the dimension: checksum-database requests (supported, latest, tile) name no module or version. */
const NON_EMPTY_KEY: Record<TopDimension, string> = { module: "AND module != ''", version: "AND version != ''", node: '', region: '' };

export interface TopRow {
  key: string;
  requests: number;
  zips: number;
  misses: number;
  bytes: number;
  clients: number;
}

export interface TopQuery {
  by: TopDimension;
  from: Date;
  to: Date;
  limit: number;
  node?: string;
  region?: string;
  modulePrefix?: string;
  /** Only these keys (e.g. the API's forecast-ranked list). */
  keys?: string[];
}

/** 5-minute rollups for windows up to two days (finer edges), hourly beyond. */
export function rollupFor(from: Date, to: Date): 'rollups_5m' | 'rollups_1h' {
  return to.getTime() - from.getTime() <= 2 * 86_400_000 ? 'rollups_5m' : 'rollups_1h';
}

export async function topQuery(store: Store, q: TopQuery): Promise<TopRow[]> {
  const table = rollupFor(q.from, q.to);
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `SELECT ${KEY_SQL[q.by]} AS key, sum(requests) AS requests, sum(zips) AS zips, sum(misses) AS misses,
            sum(bytes) AS bytes, uniqMerge(clients) AS clients
     FROM ${table}
     WHERE bucket >= ${dateTime64Param('from')} AND bucket < ${dateTime64Param('to')}
       ${NON_EMPTY_KEY[q.by]}
       AND ({node:String} = '' OR node = {node:String})
       AND ({region:String} = '' OR region = {region:String})
       AND startsWith(module, {prefix:String})
       AND ({useKeys:UInt8} = 0 OR key IN {keys:Array(String)})
     GROUP BY key ORDER BY requests DESC, key LIMIT {limit:UInt32}`,
    {
      from: q.from.getTime(),
      to: q.to.getTime(),
      node: q.node ?? '',
      region: q.region ?? '',
      prefix: q.modulePrefix ?? '',
      useKeys: q.keys ? 1 : 0,
      keys: q.keys ?? [],
      limit: q.limit,
    },
  );
  return rows.map((r) => ({
    key: String(r.key),
    requests: Number(r.requests),
    zips: Number(r.zips),
    misses: Number(r.misses),
    bytes: Number(r.bytes),
    clients: Number(r.clients),
  }));
}

/** End of the newest data (exclusive), for "the last hour of data" when the store holds a past trace. */
export async function latestBucketEnd(store: Store): Promise<Date | undefined> {
  const [row] = await queryRows<{ t: number | null }>(store, 'SELECT toUnixTimestamp(max(bucket)) + 300 AS t FROM rollups_5m HAVING count() > 0');
  return row && row.t ? new Date(Number(row.t) * 1000) : undefined;
}

export interface StoreStats {
  events: number;
  rejected: number;
  first: string | null;
  last: string | null;
  modules: number;
  versions: number;
  perNode: { node: string; region: string; events: number; first: string; last: string; misses: number }[];
}

export async function storeStats(store: Store): Promise<StoreStats> {
  const [totals] = await queryRows<Record<string, string | number | null>>(
    store,
    `SELECT count() AS events, if(count() = 0, NULL, toString(min(ts))) AS first, if(count() = 0, NULL, toString(max(ts))) AS last,
            uniqExact(module) AS modules, uniqExact(module, version) AS versions FROM access_events`,
  );
  const [rej] = await queryRows<{ c: string }>(store, 'SELECT count() AS c FROM rejected_events');
  const perNode = await queryRows<Record<string, string | number>>(
    store,
    `SELECT node, any(region) AS region, count() AS events, toString(min(ts)) AS first, toString(max(ts)) AS last,
            countIf(cache_status = 'miss') AS misses
     FROM access_events GROUP BY node ORDER BY node`,
  );
  return {
    events: Number(totals?.events ?? 0),
    rejected: Number(rej?.c ?? 0),
    first: (totals?.first as string | null) ?? null,
    last: (totals?.last as string | null) ?? null,
    modules: Number(totals?.modules ?? 0),
    versions: Number(totals?.versions ?? 0),
    perNode: perNode.map((r) => ({
      node: String(r.node),
      region: String(r.region),
      events: Number(r.events),
      first: String(r.first),
      last: String(r.last),
      misses: Number(r.misses),
    })),
  };
}

export interface EventSpread {
  /** Events before `from`, within [from, to), at or after `to`. */
  before: number;
  within: number;
  after: number;
  first: number | null;
  last: number | null;
}

/** How the stored events fall around a window (e.g. scoring's history window), to explain an empty result. */
export async function eventSpread(store: Store, from: number, to: number): Promise<EventSpread> {
  const [r] = await queryRows<Record<string, string | number | null>>(
    store,
    `SELECT countIf(ts < ${dateTime64Param('from')}) AS before,
            countIf(ts >= ${dateTime64Param('from')} AND ts < ${dateTime64Param('to')}) AS within,
            countIf(ts >= ${dateTime64Param('to')}) AS after,
            if(count() = 0, NULL, toUnixTimestamp64Milli(min(ts))) AS first, if(count() = 0, NULL, toUnixTimestamp64Milli(max(ts))) AS last
     FROM access_events`,
    { from, to },
  );
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { before: Number(r?.before ?? 0), within: Number(r?.within ?? 0), after: Number(r?.after ?? 0), first: n(r?.first), last: n(r?.last) };
}
