import type { CacheStatus } from '../domain/event.js';

/** Log formats modcast reads. `auto` is resolved by detect.ts from the first lines. */
export const LOG_FORMATS = ['nginx', 'athens-text', 'athens-json', 'artifactory', 'jsonl'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** One HTTP request as a log line describes it, before GOPROXY classification. */
export interface HttpRequestRecord {
  /** Epoch ms, UTC. */
  ts: number;
  method: string;
  /** Raw request path as logged (may carry a query string and a mount prefix). */
  path: string;
  status: number;
  bytes: number;
  /** 0 when the format does not log it. */
  durationMs: number;
  cacheStatus: CacheStatus;
  /** '' when the format does not log it. Hashed before it leaves the parser stage. */
  clientIp: string;
  /** modcast's own warm-up fetch (its user agent in the log): traffic, but no demand. */
  warmup?: true;
}

/**
 * `skip`: the line is well-formed but is no request record (an Athens startup or error line, a blank
 * line): callers count it as skipped instead of rejecting it.
 */
export type LineParseResult =
  | { ok: true; record: HttpRequestRecord }
  | { ok: false; reason: string; skip?: true };

/** Parses one line (without its newline). Never throws: a bad line is `{ ok: false, reason }`. */
export interface LineParser {
  readonly format: LogFormat;
  parse(line: string): LineParseResult;
}

/** Field names of a JSON-lines log; every entry is a dotted path into the object. */
export interface JsonFieldMap {
  ts: string;
  method: string;
  path: string;
  status: string;
  bytes: string;
  durationMs?: string;
  /** Unit of the duration field; default 'ms'. */
  durationUnit?: 's' | 'ms' | 'us' | 'ns';
  cacheStatus?: string;
  clientIp?: string;
  /** The request's user agent: `modcast-warmup/…` marks modcast's own warm-up fetch (a header array's first value). */
  userAgent?: string;
  /** The logged `X-Modcast-Warmup` request header: any value but '' or '-' marks a warm-up fetch. */
  warmupHeader?: string;
}
