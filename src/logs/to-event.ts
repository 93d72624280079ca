/**
 * Turns a parsed HTTP request record into an AccessEvent: GOPROXY classification, deterministic
 * event id, salted client hash. Shared by the file ingest, the HTTP ingest and the Kafka shipper.
 */
import { createHash } from 'node:crypto';
import type { AccessEvent } from '../domain/event.js';
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
  /** Not a GOPROXY fetch (health check, UI, upload, other repository): count it, don't keep it. */
  | { type: 'skip'; reason: string }
  /** GOPROXY-shaped but invalid (bad module path or version) or an impossible record. */
  | { type: 'reject'; reason: string };

/** Bounds of the memo tables: a flood of distinct values resets a table instead of growing it. */
const HASH_CACHE_LIMIT = 65536;
const CLASSIFY_CACHE_LIMIT = 16384;

export class EventBuilder {
  private readonly prefixes: PathPrefixes;
  private readonly hashes = new Map<string, string>();
  /** Popular modules dominate GOPROXY traffic, so the same request paths recur constantly. */
  private readonly classified = new Map<string, Classification>();

  constructor(private readonly options: EventBuilderOptions) {
    const p = options.pathPrefixes ?? DEFAULT_PATH_PREFIXES;
    this.prefixes = isCompiled(p) ? p : compilePathPrefixes(p);
  }

  /** `offset`: the record's byte offset in its source (or its Kafka offset). */
  build(record: HttpRequestRecord, offset: number): BuildResult {
    if (record.method !== 'GET' && record.method !== 'HEAD') return { type: 'skip', reason: `method ${record.method}` };
    if (!Number.isFinite(record.ts) || record.ts < 0) return { type: 'reject', reason: `invalid timestamp ${record.ts}` };
    const c = this.classify(record.path);
    if (!c.ok) return { type: 'reject', reason: c.reason };
    if (c.kind === 'other') return { type: 'skip', reason: 'not a GOPROXY request' };
    return {
      type: 'event',
      event: {
        id: `${this.options.sourceId}:${offset}`,
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

  private classify(path: string): Classification {
    let c = this.classified.get(path);
    if (c === undefined) {
      c = classifyRequestPath(path, this.prefixes);
      if (this.classified.size >= CLASSIFY_CACHE_LIMIT) this.classified.clear();
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
      if (this.hashes.size >= HASH_CACHE_LIMIT) this.hashes.clear();
      this.hashes.set(ip, h);
    }
    return h;
  }
}

function isCompiled(p: readonly string[] | PathPrefixes): p is PathPrefixes {
  return !Array.isArray(p);
}
