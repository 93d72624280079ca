/**
 * The access event: one GOPROXY request seen by one proxy node.
 * This is the unit that flows from parsers through Kafka into ClickHouse.
 */

/** What a GOPROXY request asked for. `sumdb` covers /sumdb/<name>/{supported,lookup,tile}. */
export const REQUEST_KINDS = ['list', 'info', 'mod', 'zip', 'latest', 'sumdb', 'other'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export const CACHE_STATUSES = ['hit', 'miss', 'unknown'] as const;
export type CacheStatus = (typeof CACHE_STATUSES)[number];

export interface AccessEvent {
  /** Deterministic id of the source record (source identity + byte offset); lets replays be recognised. */
  id: string;
  /** Request time, epoch milliseconds (UTC). */
  ts: number;
  node: string;
  region: string;
  /** Decoded module path (capitals restored), e.g. github.com/Azure/azure-sdk-for-go. */
  module: string;
  /** Version or '' when the request names none (list, latest, sumdb supported). */
  version: string;
  kind: RequestKind;
  status: number;
  bytes: number;
  durationMs: number;
  cacheStatus: CacheStatus;
  /** Salted hash of the client address, '' when the log has none. Never the address itself. */
  clientHash: string;
  /** modcast's own warm-up fetch read back from a proxy log: stored in warmup_events, never as demand. */
  warmup?: true;
}

/** A source record that could not become an event. Kept with its original bytes, never dropped. */
export interface RejectedRecord {
  /** Where it came from: file path, `stdin`, `http`, `kafka:<topic>/<partition>`. */
  source: string;
  node: string;
  /** Byte offset of the record in its source (or the Kafka offset). */
  offset: number;
  reason: string;
  /** The original bytes, as read. */
  raw: Buffer;
  /** When it was rejected, epoch ms. */
  receivedAt: number;
}

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
