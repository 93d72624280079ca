/**
 * The cache of one proxy node, as the backtest sees it: LRU by byte capacity, plus a TTL for mutable endpoints
 * (`list`, `@latest`: their answer changes when a version is published, so proxies re-fetch them after a while).
 *
 * Items: a module-version (its .info/.mod/.zip fetched together, as Athens-style proxies do on first request) or a
 * module's mutable endpoints (version ''). Sizes are the largest response seen for the item (the zip).
 */
import type { RequestKind } from '../event.js';

/** Kinds the backtest counts; sumdb and other requests are not the proxy's module cache. */
export function isCacheableKind(kind: RequestKind): boolean {
  return kind === 'list' || kind === 'latest' || kind === 'info' || kind === 'mod' || kind === 'zip';
}

export function isMutableKind(kind: RequestKind): boolean {
  return kind === 'list' || kind === 'latest';
}

/** Item key: `module@version`; version '' (list/@latest) makes `module@`. */
export function itemKey(module: string, version: string): string {
  return `${module}@${version}`;
}

interface Entry {
  bytes: number;
  /** Epoch ms after which the entry is stale (Infinity for immutable items). */
  expiresAt: number;
}

export interface CacheOutcome {
  hit: boolean;
  /** Bytes evicted to make room (0 when none). */
  evictedBytes: number;
}

/** The outcomes that evict nothing, shared (read-only): most requests end in one of them. */
const HIT: CacheOutcome = Object.freeze({ hit: true, evictedBytes: 0 });
const MISS: CacheOutcome = Object.freeze({ hit: false, evictedBytes: 0 });

function outcome(hit: boolean, evictedBytes: number): CacheOutcome {
  if (evictedBytes === 0) return hit ? HIT : MISS;
  return { hit, evictedBytes };
}

export class NodeCache {
  /** Map iteration order is insertion order: re-inserting on access makes the first entry the least recent. */
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  /** An unbounded cache never evicts, so it keeps no recency order (re-inserting on every hit is most of its cost). */
  private readonly ordered: boolean;

  constructor(
    readonly capacityBytes: number,
    readonly mutableTtlMs: number,
  ) {
    this.ordered = Number.isFinite(capacityBytes);
  }

  /** A request for `key` at `ts`: hit when present and fresh; a miss fetches and stores it. */
  request(key: string, mutable: boolean, bytes: number, ts: number): CacheOutcome {
    const e = this.entries.get(key);
    if (e && e.expiresAt > ts) {
      if (this.ordered) {
        this.entries.delete(key);
        this.entries.set(key, e);
      }
      if (bytes > e.bytes) {
        this.used += bytes - e.bytes;
        e.bytes = bytes;
        return outcome(true, this.evict(key));
      }
      return HIT;
    }
    const size = Math.max(bytes, e?.bytes ?? 0);
    const expiresAt = mutable ? ts + this.mutableTtlMs : Number.POSITIVE_INFINITY;
    if (e && !this.ordered) {
      this.used += size - e.bytes;
      e.bytes = size;
      e.expiresAt = expiresAt;
      return MISS;
    }
    if (e) {
      this.entries.delete(key);
      this.used -= e.bytes;
    }
    this.entries.set(key, { bytes: size, expiresAt });
    this.used += size;
    return outcome(false, this.evict(key));
  }

  /** Fresh (would hit) at `ts`, without touching recency. */
  isFresh(key: string, ts: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && e.expiresAt > ts;
  }

  get usedBytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Evicts least-recent entries until within capacity, never the entry just stored. */
  private evict(keep: string): number {
    let evicted = 0;
    if (this.used <= this.capacityBytes) return 0;
    for (const [k, e] of this.entries) {
      if (this.used <= this.capacityBytes) break;
      if (k === keep) continue;
      this.entries.delete(k);
      this.used -= e.bytes;
      evicted += e.bytes;
    }
    return evicted;
  }
}
