/**
 * modcast's Kafka message schema, version 1: compact JSON, one object per message (documented in docs/kafka.md).
 *
 * Every message names where it came from: `src` (the shipper's source id: node + content fingerprint of the log
 * file) and `off` (byte offset of the line in that file). The ingestor uses the pair to drop lines a restarted
 * shipper sends a second time. Decoding never throws: a message that does not fit is `{ ok: false, error }`.
 */
import {
  CACHE_STATUSES,
  REQUEST_KINDS,
  type AccessEvent,
  type AccessEventRow,
  type CacheStatus,
  type RejectedRecord,
  type RejectedRow,
  type RequestKind,
} from '../domain/event.js';

export const SCHEMA_VERSION = 1;

export interface SourcePosition {
  /** Shipper source id (12 hex): node + fingerprint of the file's first line. */
  src: string;
  /** Byte offset of the line in its source. */
  off: number;
}

/** `modcast.access` value. Keys are short but readable; gzip/snappy take care of the rest. */
interface AccessMessageV1 {
  v: 1;
  src: string;
  off: number;
  id: string;
  ts: number;
  node: string;
  region: string;
  module: string;
  version: string;
  kind: RequestKind;
  status: number;
  bytes: number;
  dur: number;
  cache: CacheStatus;
  client: string;
}

/** `modcast.rejected` value: the original line bytes in base64, never altered. */
interface RejectedMessageV1 {
  v: 1;
  src: string;
  off: number;
  source: string;
  node: string;
  reason: string;
  raw: string;
  at: number;
}

export function encodeAccessEvent(e: AccessEvent, pos: SourcePosition): Buffer {
  const m: AccessMessageV1 = {
    v: 1,
    src: pos.src,
    off: pos.off,
    id: e.id,
    ts: e.ts,
    node: e.node,
    region: e.region,
    module: e.module,
    version: e.version,
    kind: e.kind,
    status: e.status,
    bytes: e.bytes,
    dur: e.durationMs,
    cache: e.cacheStatus,
    client: e.clientHash,
  };
  return Buffer.from(JSON.stringify(m));
}

export function encodeRejected(r: RejectedRecord, src: string): Buffer {
  const m: RejectedMessageV1 = {
    v: 1,
    src,
    off: r.offset,
    source: r.source,
    node: r.node,
    reason: r.reason,
    raw: r.raw.toString('base64'),
    at: r.receivedAt,
  };
  return Buffer.from(JSON.stringify(m));
}

export type Decoded<T> = ({ ok: true; value: T } & SourcePosition) | { ok: false; error: string };

const KINDS = new Set<string>(REQUEST_KINDS);
const CACHES = new Set<string>(CACHE_STATUSES);

/** Parses a v1 message and checks its fields' types; the object, or the first problem found. */
function readMessage(value: Buffer | null, strings: readonly string[], numbers: readonly string[]): Record<string, unknown> | string {
  if (value === null || value.length === 0) return 'empty message';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  const o = parsed as Record<string, unknown>;
  if (o.v !== SCHEMA_VERSION) return `unsupported schema version ${JSON.stringify(o.v)} (expected ${SCHEMA_VERSION})`;
  for (const k of strings) if (typeof o[k] !== 'string') return `field ${k} must be a string`;
  for (const k of numbers) {
    const n = o[k];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return `field ${k} must be a non-negative number`;
  }
  return o;
}

const ACCESS_STRINGS = ['src', 'id', 'node', 'region', 'module', 'version', 'kind', 'cache', 'client'] as const;
const ACCESS_NUMBERS = ['off', 'ts', 'status', 'bytes', 'dur'] as const;

export function decodeAccessEvent(value: Buffer | null): Decoded<AccessEventRow> {
  const o = readMessage(value, ACCESS_STRINGS, ACCESS_NUMBERS);
  if (typeof o === 'string') return { ok: false, error: o };
  const m = o as unknown as AccessMessageV1;
  if (!KINDS.has(m.kind)) return { ok: false, error: `unknown kind ${JSON.stringify(m.kind)}` };
  if (!CACHES.has(m.cache)) return { ok: false, error: `unknown cache status ${JSON.stringify(m.cache)}` };
  if (m.module === '') return { ok: false, error: 'empty module' };
  if (!Number.isInteger(m.status) || m.status > 999) return { ok: false, error: `invalid status ${m.status}` };
  return {
    ok: true,
    src: m.src,
    off: m.off,
    value: {
      event_id: m.id,
      ts: m.ts,
      node: m.node,
      region: m.region,
      module: m.module,
      version: m.version,
      kind: m.kind,
      status: m.status,
      bytes: m.bytes,
      duration_ms: m.dur,
      cache_status: m.cache,
      client_hash: m.client,
    },
  };
}

const REJECTED_STRINGS = ['src', 'source', 'node', 'reason', 'raw'] as const;
const REJECTED_NUMBERS = ['off', 'at'] as const;

export function decodeRejected(value: Buffer | null): Decoded<RejectedRow> {
  const o = readMessage(value, REJECTED_STRINGS, REJECTED_NUMBERS);
  if (typeof o === 'string') return { ok: false, error: o };
  const m = o as unknown as RejectedMessageV1;
  return {
    ok: true,
    src: m.src,
    off: m.off,
    value: { received_at: m.at, source: m.source, node: m.node, offset: m.off, reason: m.reason, raw_base64: m.raw },
  };
}
