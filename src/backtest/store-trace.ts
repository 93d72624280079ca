/**
 * The store as a backtest trace: access events of a time range in time order, read one day at a time (a day is
 * sorted by ClickHouse; the table is ordered by module, so a whole range at once would be one huge sort).
 */
import type { Store } from '../store/client.js';
import { streamRows } from '../store/client.js';
import type { TraceRequest } from '../domain/backtest/replay.js';
import type { RequestKind } from '../domain/event.js';
import { DAY_MS } from '../domain/calendar.js';

interface EventRow {
  t: number | string;
  module: string;
  version: string;
  node: string;
  region: string;
  bytes: number | string;
  kind: RequestKind;
}

export async function* readStoreTrace(store: Store, from: number, to: number, sliceMs = DAY_MS): AsyncGenerator<TraceRequest> {
  for (let start = from; start < to; start += sliceMs) {
    const end = Math.min(to, start + sliceMs);
    const chunks = streamRows<EventRow>(
      store,
      `SELECT toUnixTimestamp64Milli(ts) AS t, module, version, toString(node) AS node, toString(region) AS region,
              bytes, toString(kind) AS kind
       FROM access_events
       WHERE ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})
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
