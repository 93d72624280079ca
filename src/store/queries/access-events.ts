/**
 * SQL of `access_events` read whole (the other reads go through the rollups, see top.ts and scoring.ts): the store
 * as a backtest trace, its time range, and the demo's reset of the events and everything derived from them.
 */
import { streamRows, type Store } from '../client.js';
import { localName } from '../cluster.js';
import type { TraceRequest } from '../../domain/backtest/replay.js';
import type { RequestKind } from '../../domain/event.js';
import { DAY_MS } from '../../domain/calendar.js';
import { dateTime64Param } from '../time-params.js';

interface EventRow {
  t: number | string;
  module: string;
  version: string;
  node: string;
  region: string;
  bytes: number | string;
  kind: RequestKind;
}

/**
 * Access events of a time range in time order, read one day at a time (a day is sorted by ClickHouse; the table is
 * ordered by module, so a whole range at once would be one huge sort).
 */
export async function* readStoreTrace(store: Store, from: number, to: number, sliceMs = DAY_MS): AsyncGenerator<TraceRequest> {
  for (let start = from; start < to; start += sliceMs) {
    const end = Math.min(to, start + sliceMs);
    const chunks = streamRows<EventRow>(
      store,
      `SELECT toUnixTimestamp64Milli(ts) AS t, module, version, toString(node) AS node, toString(region) AS region,
              bytes, toString(kind) AS kind
       FROM access_events
       WHERE ts >= ${dateTime64Param('from')} AND ts < ${dateTime64Param('to')}
       ORDER BY ts, node, module, version`,
      { from: start, to: end },
    );
    for await (const rows of chunks) {
      for (const r of rows) {
        yield { ts: Number(r.t), module: r.module, version: r.version, node: r.node, region: r.region, bytes: Number(r.bytes), kind: r.kind };
      }
    }
  }
}

/** First and last event time in the store (null when empty). */
export async function storeTimeRange(store: Store): Promise<{ from: number; to: number } | null> {
  for await (const rows of streamRows<{ lo: string | number; hi: string | number; n: string | number }>(
    store,
    'SELECT toUnixTimestamp64Milli(min(ts)) AS lo, toUnixTimestamp64Milli(max(ts)) AS hi, count() AS n FROM access_events',
  )) {
    const r = rows[0];
    if (!r || Number(r.n) === 0) return null;
    return { from: Number(r.lo), to: Number(r.hi) + 1 };
  }
  return null;
}

/** The events, their rollups and the rejected lines: what `modcast demo --reset` regenerates. */
/** Also the lines already stored (event_lines): a reset that kept them would drop every re-ingested line as stored. */
const EVENT_TABLES = ['access_events', 'rollups_5m', 'rollups_1h', 'rejected_events', 'warmup_events', 'event_lines'];

/**
 * Empties the event tables. On a cluster the data lives in each shard's local table (a Distributed table holds none,
 * and TRUNCATE of one does not reach the shards): those are truncated, node by node or with ON CLUSTER as migrations
 * are applied.
 */
export async function truncateEventTables(store: Store): Promise<void> {
  const cluster = store.cluster;
  if (!cluster) {
    for (const t of EVENT_TABLES) await store.client.command({ query: `TRUNCATE TABLE IF EXISTS ${t}` });
    return;
  }
  if (cluster.nodes.length === 0) {
    for (const t of EVENT_TABLES) await store.client.command({ query: `TRUNCATE TABLE IF EXISTS ${localName(t)} ON CLUSTER ${cluster.name}` });
    return;
  }
  for (const url of cluster.nodes) {
    const node = await cluster.openNode(url);
    try {
      for (const t of EVENT_TABLES) await node.client.command({ query: `TRUNCATE TABLE IF EXISTS ${localName(t)}` });
    } finally {
      await node.close();
    }
  }
}
