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
