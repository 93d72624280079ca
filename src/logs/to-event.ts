/**
 * Turns a parsed HTTP request record into an AccessEvent: GOPROXY classification, deterministic
 * event id, salted client hash. Shared by the file ingest, the HTTP ingest and the Kafka shipper.
 */
import { createHash } from 'node:crypto';
import type { AccessEvent, AccessEventRow } from '../domain/event.js';
import { classifyRequestPath, compilePathPrefixes, DEFAULT_PATH_PREFIXES, type Classification, type PathPrefixes } from '../domain/goproxy.js';
import type { HttpRequestRecord } from './parser.js';

export interface EventBuilderOptions {
  node: string;
  region: string;
  /** Stable identity of the source; event ids are `${sourceId}:${offset}`. */
  sourceId: string;
  /** Salt of client address hashes (kept secret: without it hashes cannot be reversed by enumeration). */
  clientSalt: string;
  /** GOPROXY mount prefixes (`/`, `/go/`, `/api/go/<repo>/`); default DEFAULT_PATH_PREFIXES. */
  pathPrefixes?: readonly string[] | PathPrefixes;
}

export type BuildResult =
  | { type: 'event'; event: AccessEvent }
  | NotAnEvent;

export type NotAnEvent =
  /** Not a GOPROXY fetch (health check, UI, upload, other repository): count it, don't keep it. */
  | { type: 'skip'; reason: string }
  /** GOPROXY-shaped but invalid (bad module path or version) or an impossible record. */
  | { type: 'reject'; reason: string };

type Fetch = Extract<Classification, { ok: true }>;

/** Memo sizes, in entries (see RecentMemo). A path entry costs about 150 bytes: the memo stays under ~10 MB. */
const HASH_MEMO_SLOTS = 16384;
const CLASSIFY_MEMO_SLOTS = 65536;

const NOT_GOPROXY: NotAnEvent = Object.freeze({ type: 'skip', reason: 'not a GOPROXY request' });

export class EventBuilder {
  private readonly prefixes: PathPrefixes;
  private readonly hashes = new RecentMemo<string>(HASH_MEMO_SLOTS);
  /** Popular modules dominate GOPROXY traffic, so the same request paths recur constantly. */
  private readonly classified = new RecentMemo<Fetch | NotAnEvent>(CLASSIFY_MEMO_SLOTS);
  private readonly idPrefix: string;

  constructor(private readonly options: EventBuilderOptions) {
    const p = options.pathPrefixes ?? DEFAULT_PATH_PREFIXES;
    this.prefixes = isCompiled(p) ? p : compilePathPrefixes(p);
    this.idPrefix = `${options.sourceId}:`;
  }

  /** `offset`: the record's byte offset in its source (or its Kafka offset). */
  build(record: HttpRequestRecord, offset: number): BuildResult {
    const c = this.fetchOf(record);
    if (c.type !== undefined) return c;
    return {
      type: 'event',
      event: {
        id: this.idPrefix + offset,
        ts: record.ts,
        node: this.options.node,
        region: this.options.region,
        module: c.module,
        version: c.version,
        kind: c.kind,
        status: record.status,
        bytes: record.bytes,
        durationMs: record.durationMs,
        cacheStatus: record.cacheStatus,
        clientHash: this.clientHash(record.clientIp),
      },
    };
  }

  /**
   * The same as `build`, straight to the `access_events` row, for callers that store events and never look at
   * the AccessEvent (the ingest path): one object per event instead of three.
   */
  buildRow(record: HttpRequestRecord, offset: number): AccessEventRow | NotAnEvent {
    const c = this.fetchOf(record);
    if (c.type !== undefined) return c;
    return {
      event_id: this.idPrefix + offset,
      ts: record.ts,
      node: this.options.node,
      region: this.options.region,
      module: c.module,
      version: c.version,
      kind: c.kind,
      status: record.status,
      bytes: record.bytes,
      duration_ms: record.durationMs,
      cache_status: record.cacheStatus,
      client_hash: this.clientHash(record.clientIp),
    };
  }

  /** What the record fetched, or why it is no event. Fetches have no `type`. */
  private fetchOf(record: HttpRequestRecord): (Fetch & { type?: undefined }) | NotAnEvent {
    if (record.method !== 'GET' && record.method !== 'HEAD') return { type: 'skip', reason: `method ${record.method}` };
    if (!Number.isFinite(record.ts) || record.ts < 0) return { type: 'reject', reason: `invalid timestamp ${record.ts}` };
    return this.classify(record.path) as (Fetch & { type?: undefined }) | NotAnEvent;
  }

  private classify(path: string): Fetch | NotAnEvent {
    let c = this.classified.get(path);
    if (c === undefined) {
      const found = classifyRequestPath(path, this.prefixes);
      // Memoized in the shape callers return, so a repeated rejection or skip allocates nothing either.
      // Module and version are slices of the log line too (see detached): copied, so a memo entry pins no line.
      c = !found.ok
        ? { type: 'reject', reason: found.reason }
        : found.kind === 'other'
          ? NOT_GOPROXY
          : { ok: true, kind: found.kind, module: detached(found.module), version: detached(found.version) };
      this.classified.set(path, c);
    }
    return c;
  }

  /** First 16 hex digits of sha256(salt + address); '' when the log has no address. */
  clientHash(ip: string): string {
    if (ip === '' || ip === '-') return '';
    let h = this.hashes.get(ip);
    if (h === undefined) {
      h = createHash('sha256').update(this.options.clientSalt).update(ip).digest('hex').slice(0, 16);
      this.hashes.set(ip, h);
    }
    return h;
  }
}

/**
 * A bounded memo for string keys that keeps what is in use: a two-way set-associative table (the way hardware
 * caches work). A key can live in one of two slots chosen by its hash; a new entry takes the first slot and moves
 * the entry there to the second, so an entry is lost only after two newer entries of its set arrived. So recently
 * or often used keys stay memoized while a flood of distinct keys costs a fixed amount of memory, unlike a table
 * cleared whenever it fills (which keeps missing as soon as the working set is larger than the table).
 *
 * The hash is computed here rather than by a Map because keys are fresh slices of fresh log lines: V8 hashes such
 * a string in the runtime on every Map lookup, which cost more than the classification it saved.
 */
export class RecentMemo<V> {
  private readonly keys: (string | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly mask: number;

  /** `slots`: a power of two; the memo holds at most that many entries. */
  constructor(slots: number) {
    if (!Number.isInteger(Math.log2(slots)) || slots < 2) throw new RangeError(`slots must be a power of two >= 2, got ${slots}`);
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 2; // even slot of the key's set; its partner is slot + 1
  }

  get(key: string): V | undefined {
    const slot = hashKey(key) & this.mask;
    if (this.keys[slot] === key) return this.values[slot];
    if (this.keys[slot + 1] === key) return this.values[slot + 1];
    return undefined;
  }

  set(key: string, value: V): void {
    const slot = hashKey(key) & this.mask;
    this.keys[slot + 1] = this.keys[slot];
    this.values[slot + 1] = this.values[slot];
    this.keys[slot] = detached(key);
    this.values[slot] = value;
  }
}

/**
 * A compact copy of `s`. Keys are usually slices of a log line, and V8 keeps the whole line alive behind a slice:
 * a memo of 65k such keys would pin 65k lines (and touch them on every comparison). The JSON round trip is exact for
 * every string, lone surrogates included.
 */
function detached(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** FNV-1a over the UTF-16 code units: a few ns per character, well spread for path- and address-like keys. */
function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function isCompiled(p: readonly string[] | PathPrefixes): p is PathPrefixes {
  return !Array.isArray(p);
}
