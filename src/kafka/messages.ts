/**
 * modcast's Kafka message schemas (documented in docs/kafka.md), compact JSON:
 * - version 2 (`modcast.access`, what shippers send): one message carries many events of one source, all bound for
 *   the same partition, in line order, each event a positional array;
 * - version 1: one object per message; `modcast.rejected` uses it, and the ingestor still reads v1 access events
 *   (shippers from before version 2: a rolling upgrade may mix both).
 *
 * Every event names where it came from: `src` (the shipper's source id: node + content fingerprint of the log
 * file) and `off` (byte offset of the line in that file). The ingestor uses the pair to drop lines a restarted
 * shipper sends a second time. Decoding never throws: a message that does not fit is `{ ok: false, error }`, and a
 * batch message with one bad event is bad as a whole (it goes to the dead-letter topic with its original bytes).
 */
import { CACHE_STATUSES, REQUEST_KINDS, type AccessEvent, type CacheStatus, type RejectedRecord, type RequestKind } from '../domain/event.js';
import type { AccessEventRow, RejectedRow } from '../store/event-rows.js';

export const SCHEMA_VERSION = 1;
/** Version of the batched `modcast.access` message. */
export const BATCH_SCHEMA_VERSION = 2;

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

/** A v1 access event: what shippers before version 2 sent (kept to test that ingestors still read it). */
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
export type Positioned<T> = { value: T } & SourcePosition;
/** Every event of one message (one for v1), or why the message cannot be read. */
export type DecodedMessage<T> = { ok: true; events: Positioned<T>[] } | { ok: false; error: string };

/**
 * One event of a v2 batch: `[off, ts, module, version, kind, status, bytes, dur, cache, client]`. The event id is
 * `<src>:<off>` (how every event id is made), node and region are the message's.
 */
/** off, ts, module, version, kind, status, bytes, dur, cache, client, and 1 for a warm-up fetch. */
type BatchEventV2 = [number, number, string, string, RequestKind, number, number, number, CacheStatus, string, 1?];

/** `modcast.access` value, version 2. */
interface AccessBatchV2 {
  v: 2;
  src: string;
  node: string;
  region: string;
  e: BatchEventV2[];
}

/**
 * Collects the events of one source bound for one partition, in line order, into one v2 message. `bytes` is an
 * estimate of the encoded size (for capping a message well below the broker's message.max.bytes).
 */
export class AccessBatchBuilder {
  private events: BatchEventV2[] = [];
  bytes = 0;

  constructor(
    readonly src: string,
    readonly node: string,
    readonly region: string,
  ) {}

  get size(): number {
    return this.events.length;
  }

  add(e: AccessEvent, off: number): void {
    if (e.node !== this.node || e.region !== this.region || e.id !== `${this.src}:${off}`) {
      throw new Error(`event ${e.id} does not belong to source ${this.src} at offset ${off} (${this.node}/${this.region})`);
    }
    const fields: BatchEventV2 = [off, e.ts, e.module, e.version, e.kind, e.status, e.bytes, e.durationMs, e.cacheStatus, e.clientHash];
    // An 11th field only on warm-up fetches: ingestors of before it read every other event unchanged.
    if (e.warmup) fields.push(1);
    this.events.push(fields);
    this.bytes += 64 + e.module.length + e.version.length + e.clientHash.length;
  }

  /** The message so far; the builder starts over empty. */
  take(): Buffer {
    const m: AccessBatchV2 = { v: 2, src: this.src, node: this.node, region: this.region, e: this.events };
    this.events = [];
    this.bytes = 0;
    return Buffer.from(JSON.stringify(m));
  }
}

const KINDS = new Set<string>(REQUEST_KINDS);
const CACHES = new Set<string>(CACHE_STATUSES);

/** Parses a message into a JSON object; the object, or what is wrong. */
function parseObject(value: Buffer | null): Record<string, unknown> | string {
  if (value === null || value.length === 0) return 'empty message';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  return parsed as Record<string, unknown>;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Checks a v1 object's fields' types; the first problem found, or undefined. */
function checkFields(o: Record<string, unknown>, strings: readonly string[], numbers: readonly string[]): string | undefined {
  for (const k of strings) if (typeof o[k] !== 'string') return `field ${k} must be a string`;
  for (const k of numbers) if (!isCount(o[k])) return `field ${k} must be a non-negative number`;
  return undefined;
}

/** Parses a v1 message and checks its fields' types; the object, or the first problem found. */
function readMessage(value: Buffer | null, strings: readonly string[], numbers: readonly string[]): Record<string, unknown> | string {
  const o = parseObject(value);
  if (typeof o === 'string') return o;
  if (o.v !== SCHEMA_VERSION) return `unsupported schema version ${JSON.stringify(o.v)} (expected ${SCHEMA_VERSION})`;
  return checkFields(o, strings, numbers) ?? o;
}

const ACCESS_STRINGS = ['src', 'id', 'node', 'region', 'module', 'version', 'kind', 'cache', 'client'] as const;
const ACCESS_NUMBERS = ['off', 'ts', 'status', 'bytes', 'dur'] as const;

/** What is wrong with an event's enumerated and bounded fields, or undefined. */
function checkEvent(kind: unknown, cache: unknown, module: unknown, status: number): string | undefined {
  if (typeof kind !== 'string' || !KINDS.has(kind)) return `unknown kind ${JSON.stringify(kind)}`;
  if (typeof cache !== 'string' || !CACHES.has(cache)) return `unknown cache status ${JSON.stringify(cache)}`;
  if (module === '') return 'empty module';
  if (!Number.isInteger(status) || status > 999) return `invalid status ${status}`;
  return undefined;
}

/** A `modcast.access` message of either version: its events in order, or why it cannot be read. */
export function decodeAccessMessage(value: Buffer | null): DecodedMessage<AccessEventRow> {
  const o = parseObject(value);
  if (typeof o === 'string') return { ok: false, error: o };
  if (o.v === BATCH_SCHEMA_VERSION) return decodeBatch(o);
  if (o.v !== SCHEMA_VERSION) return { ok: false, error: `unsupported schema version ${JSON.stringify(o.v)} (expected ${SCHEMA_VERSION} or ${BATCH_SCHEMA_VERSION})` };
  const d = accessEventV1(o);
  return d.ok ? { ok: true, events: [{ src: d.src, off: d.off, value: d.value }] } : d;
}

function decodeBatch(o: Record<string, unknown>): DecodedMessage<AccessEventRow> {
  const problem = checkFields(o, ['src', 'node', 'region'], []);
  if (problem) return { ok: false, error: problem };
  if (!Array.isArray(o.e) || o.e.length === 0) return { ok: false, error: 'field e must be a non-empty array' };
  const src = o.src as string;
  const node = o.node as string;
  const region = o.region as string;
  const events: Positioned<AccessEventRow>[] = new Array(o.e.length);
  for (let i = 0; i < o.e.length; i++) {
    const row: unknown = o.e[i];
    if (!Array.isArray(row) || (row.length !== 10 && row.length !== 11)) return { ok: false, error: `event ${i}: not an array of 10 or 11 fields` };
    const [off, ts, module, version, kind, status, bytes, dur, cache, client, warmup] = row as unknown[];
    if (row.length === 11 && warmup !== 1) return { ok: false, error: `event ${i}: field 11 (warm-up) must be 1` };
    if (!isCount(off) || !isCount(ts) || !isCount(status) || !isCount(bytes) || !isCount(dur)) {
      return { ok: false, error: `event ${i}: off, ts, status, bytes and dur must be non-negative numbers` };
    }
    if (typeof module !== 'string' || typeof version !== 'string' || typeof client !== 'string') {
      return { ok: false, error: `event ${i}: module, version and client must be strings` };
    }
    const bad = checkEvent(kind, cache, module, status);
    if (bad) return { ok: false, error: `event ${i}: ${bad}` };
    events[i] = {
      src,
      off,
      value: {
        event_id: `${src}:${off}`,
        ts,
        node,
        region,
        module,
        version,
        kind: kind as RequestKind,
        status,
        bytes,
        duration_ms: dur,
        cache_status: cache as CacheStatus,
        client_hash: client,
        ...(warmup === 1 ? { warmup: true as const } : {}),
      },
    };
  }
  return { ok: true, events };
}

/** A single v1 access event (shippers before version 2; tests). */
export function decodeAccessEvent(value: Buffer | null): Decoded<AccessEventRow> {
  const o = readMessage(value, [], []);
  return typeof o === 'string' ? { ok: false, error: o } : accessEventV1(o);
}

function accessEventV1(o: Record<string, unknown>): Decoded<AccessEventRow> {
  const problem = checkFields(o, ACCESS_STRINGS, ACCESS_NUMBERS);
  if (problem) return { ok: false, error: problem };
  const m = o as unknown as AccessMessageV1;
  const bad = checkEvent(m.kind, m.cache, m.module, m.status);
  if (bad) return { ok: false, error: bad };
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
