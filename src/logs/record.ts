/**
 * Small pieces every line parser shares: result constructors, cache-status vocabulary, numbers.
 */
import type { CacheStatus } from '../domain/event.js';
import type { LineParseResult } from './parser.js';

export function fail(reason: string): LineParseResult {
  return { ok: false, reason };
}

/** A well-formed line that is no request record: counted, not rejected. */
export function skipLine(reason: string): LineParseResult {
  return { ok: false, reason, skip: true };
}

/**
 * How a proxy's log tells modcast's warm-up fetches from demand; src/warmup/executor.ts sends all three markers:
 * - the user agent `modcast-warmup/<version>` (nginx/Apache combined format, Artifactory 7.x, JSON logs that carry it);
 * - the header `X-Modcast-Warmup: 1`, for proxies that log a chosen header but no user agent;
 * - Athens logs neither, but logs its `request-id`, which it takes from the `Athens-Request-ID` header: the executor
 *   sends `modcast-warmup-<uuid>` there.
 */
export const WARMUP_AGENT_PREFIX = 'modcast-warmup/';
export const WARMUP_HEADER = 'x-modcast-warmup';
export const ATHENS_REQUEST_ID_HEADER = 'athens-request-id';
export const WARMUP_REQUEST_ID_PREFIX = 'modcast-warmup-';

/** `{ warmup: true }` to spread into a record when `marked`, else nothing (records of demand carry no flag). */
export function warmupFlag(marked: boolean): { warmup?: true } {
  return marked ? WARMUP : NO_FLAG;
}
const WARMUP = Object.freeze({ warmup: true as const });
const NO_FLAG = Object.freeze({});

export const EMPTY_LINE: LineParseResult = Object.freeze({ ok: false, reason: 'empty line', skip: true }) as LineParseResult;

/**
 * Cache outcome words as proxies log them (nginx $upstream_cache_status, Varnish, CDN headers).
 * Served from the cache (even stale or revalidated) is a hit; fetched from upstream is a miss.
 */
const CACHE_WORDS: Readonly<Record<string, CacheStatus>> = {
  HIT: 'hit',
  STALE: 'hit',
  UPDATING: 'hit',
  REVALIDATED: 'hit',
  MISS: 'miss',
  EXPIRED: 'miss',
  BYPASS: 'miss',
  PASS: 'miss',
  TCP_HIT: 'hit',
  TCP_MISS: 'miss',
};

/** Maps a logged cache word (any case) to hit/miss; undefined when it is not one. */
export function cacheWord(word: string): CacheStatus | undefined {
  return CACHE_WORDS[word] ?? CACHE_WORDS[word.toUpperCase()];
}

/** Non-negative decimal integer made of digits only; -1 otherwise. */
export function parseUnsigned(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Byte counts: `-`, empty and the `-1` some servers write for "unknown" count as 0; garbage as -1. */
export function parseByteCount(s: string): number {
  if (s === '-' || s === '' || s === '-1') return 0;
  return parseUnsigned(s);
}

/** An HTTP status the request could have ended with. */
export function validStatus(n: number): boolean {
  return Number.isInteger(n) && n >= 100 && n <= 599;
}

/** HTTP method token: uppercase letters only (what servers log for real requests). */
export function validMethod(m: string): boolean {
  if (m.length === 0 || m.length > 16) return false;
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}
