/**
 * Turns a parsed HTTP request record into an AccessEvent: GOPROXY classification, deterministic
 * event id, salted client hash. Shared by the file ingest, the HTTP ingest and the Kafka shipper.
 */
import { createHash } from 'node:crypto';
import type { AccessEvent } from '../domain/event.js';
import type { AccessEventRow } from '../store/event-rows.js';
import { classifyRequestPath, compilePathPrefixes, DEFAULT_PATH_PREFIXES, type Classification, type PathPrefixes } from '../domain/goproxy.js';
import { webPathItem } from '../domain/web-path.js';
import type { HttpRequestRecord } from './parser.js';
import { RecentMemo } from '../lib/recent-memo.js';
import { detached } from '../domain/detached.js';

export interface EventBuilderOptions {
  node: string;
  region: string;
  /** Stable identity of the source; event ids are `${sourceId}:${offset}`. */
  sourceId: string;
  /** Salt of client address hashes (kept secret: without it hashes cannot be reversed by enumeration). */
  clientSalt: string;
  /** GOPROXY mount prefixes (`/`, `/go/`, `/api/go/<repo>/`); default DEFAULT_PATH_PREFIXES. */
  pathPrefixes?: readonly string[] | PathPrefixes;
  /**
   * Read a web log instead of a GOPROXY log: every path is an item `<host><path>` of this version (`''`: a list
   * request, fresh for the TTL; a version: kept like a module version). For backtests on public web logs only.
   */
  webPaths?: WebPaths;
}

export interface WebPaths {
  host: string;
  version: string;
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
        ...(record.warmup ? { warmup: true as const } : {}),
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
      ...(record.warmup ? { warmup: true as const } : {}),
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
      const web = this.options.webPaths;
      const found: Classification = web
        ? { ok: true, kind: web.version === '' ? 'list' : 'zip', module: webPathItem(path, web.host), version: web.version }
        : classifyRequestPath(path, this.prefixes);
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

function isCompiled(p: readonly string[] | PathPrefixes): p is PathPrefixes {
  return !Array.isArray(p);
}
