/**
 * The ClickHouse rows of the events: `access_events` (and `warmup_events`, same columns) and `rejected_events`, as
 * the parsers, Kafka messages and the event writer carry them. The domain's event (src/domain/event.ts) knows no
 * column names.
 */
import type { AccessEvent, CacheStatus, RejectedRecord, RequestKind } from '../domain/event.js';

/** The ClickHouse row of `access_events` (see pipelines/001_access_events.sql). */
export interface AccessEventRow {
  event_id: string;
  ts: number; // DateTime64(3) accepts epoch ms as a number in JSON formats
  node: string;
  region: string;
  module: string;
  version: string;
  kind: RequestKind;
  status: number;
  bytes: number;
  duration_ms: number;
  cache_status: CacheStatus;
  client_hash: string;
  /** Not a column: a warm-up fetch's row goes to warmup_events instead of access_events. */
  warmup?: true;
}

export function toRow(e: AccessEvent): AccessEventRow {
  return {
    event_id: e.id,
    ts: e.ts,
    node: e.node,
    region: e.region,
    module: e.module,
    version: e.version,
    kind: e.kind,
    status: e.status,
    bytes: e.bytes,
    duration_ms: e.durationMs,
    cache_status: e.cacheStatus,
    client_hash: e.clientHash,
    ...(e.warmup ? { warmup: true as const } : {}),
  };
}

export interface RejectedRow {
  received_at: number;
  source: string;
  node: string;
  offset: number;
  reason: string;
  /** Base64 of the original bytes: keeps non-UTF-8 input intact through JSON formats. */
  raw_base64: string;
}

export function toRejectedRow(r: RejectedRecord): RejectedRow {
  return {
    received_at: r.receivedAt,
    source: r.source,
    node: r.node,
    offset: r.offset,
    reason: r.reason,
    raw_base64: r.raw.toString('base64'),
  };
}
