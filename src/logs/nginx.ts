/**
 * nginx / Apache access logs: the common and combined formats
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 * plus whatever a GOPROXY operator appends at the end; recognised there, in any order:
 * `$request_time` (seconds, e.g. 0.012), `$upstream_cache_status` (HIT, MISS, EXPIRED, STALE, ...),
 * the same as `rt=...` / `ucs=...` style key=value pairs, and extra quoted fields (X-Forwarded-For), which are skipped.
 * Hand-written scanner: one pass, no regular expressions, time parsed once per distinct second.
 */
import type { CacheStatus } from '../domain/event.js';
import type { LineParser, LineParseResult } from './parser.js';
import { EMPTY_LINE, WARMUP_AGENT_PREFIX, cacheWord, fail, parseByteCount, validMethod, validStatus, warmupFlag } from './record.js';
import { ClfTimeParser, digitsAt } from './time.js';

const SPACE = 32;
const QUOTE = 34;
const BACKSLASH = 92;

/** Index of the quote closing a field that starts at `from` (after its opening quote), or -1. Apache escapes `"` as `\"`. */
function closingQuote(line: string, from: number): number {
  let q = line.indexOf('"', from);
  while (q > 0 && line.charCodeAt(q - 1) === BACKSLASH) {
    let n = 1;
    while (q - n - 1 >= from && line.charCodeAt(q - n - 1) === BACKSLASH) n++;
    if (n % 2 === 0) break; // the backslashes escape each other, not the quote
    q = line.indexOf('"', q + 1);
  }
  return q;
}

/** Seconds as nginx writes $request_time (`0.012`, `3`), converted to whole ms; -1 when not such a number. */
function secondsToMs(s: string): number {
  let whole = 0;
  let i = 0;
  const n = s.length;
  if (n === 0 || n > 16) return -1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    whole = whole * 10 + c;
  }
  if (i === 0) return -1;
  let frac = 0;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return -1;
    let scale = 100;
    const start = ++i;
    for (; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return -1;
      frac += c * scale;
      scale /= 10;
    }
    if (i === start) return -1;
  }
  return whole * 1000 + Math.round(frac);
}

const DURATION_KEYS = new Set(['rt', 'request_time', 'rtime', 'duration']);
const CACHE_KEYS = new Set(['ucs', 'cache', 'cache_status', 'upstream_cache_status', 'cs']);

export class NginxParser implements LineParser {
  readonly format = 'nginx' as const;
  private readonly time = new ClfTimeParser();

  parse(line: string): LineParseResult {
    const len = line.length;
    if (len === 0) return EMPTY_LINE;
    const ipEnd = line.indexOf(' ');
    if (ipEnd <= 0) return fail('nginx: no client address field');
    const bracket = line.indexOf(' [', ipEnd);
    if (bracket < 0) return fail('nginx: no [time] field');
    const timeStart = bracket + 2;
    if (line.charCodeAt(timeStart + 26) !== 93 /* ] */) return fail('nginx: malformed [time] field');
    const ts = this.time.parseAt(line, timeStart);
    if (ts === undefined) return fail(`nginx: invalid time ${JSON.stringify(line.substr(timeStart, 26))}`);

    let i = timeStart + 27;
    if (line.charCodeAt(i) !== SPACE || line.charCodeAt(i + 1) !== QUOTE) return fail('nginx: no "request" field after the time');
    const reqStart = i + 2;
    const reqEnd = closingQuote(line, reqStart);
    if (reqEnd < 0) return fail('nginx: unterminated "request" field (truncated line?)');
    const methodEnd = line.indexOf(' ', reqStart);
    if (methodEnd < 0 || methodEnd >= reqEnd) return fail(`nginx: malformed request line ${JSON.stringify(line.slice(reqStart, reqEnd))}`);
    const method = line.slice(reqStart, methodEnd);
    if (!validMethod(method)) return fail(`nginx: invalid method ${JSON.stringify(method)}`);
    let pathEnd = line.lastIndexOf(' ', reqEnd - 1);
    if (pathEnd <= methodEnd || !line.startsWith('HTTP/', pathEnd + 1)) pathEnd = reqEnd; // HTTP/0.9 style: no protocol
    const path = line.slice(methodEnd + 1, pathEnd);
    if (path.length === 0) return fail('nginx: empty request path');

    i = reqEnd + 1;
    if (line.charCodeAt(i) !== SPACE) return fail('nginx: no status after the request');
    const status = digitsAt(line, i + 1, 3);
    if (!validStatus(status) || line.charCodeAt(i + 4) !== SPACE) return fail(`nginx: invalid status ${JSON.stringify(line.slice(i + 1, i + 4))}`);
    const bytesStart = i + 5;
    let bytesEnd = line.indexOf(' ', bytesStart);
    if (bytesEnd < 0) bytesEnd = len;
    const bytes = parseByteCount(line.slice(bytesStart, bytesEnd));
    if (bytes < 0) return fail(`nginx: invalid byte count ${JSON.stringify(line.slice(bytesStart, bytesEnd))}`);

    // Referer, user agent and operator additions.
    let durationMs = 0;
    let durationSeen = false;
    let cacheStatus: CacheStatus = 'unknown';
    let cacheSeen = false;
    let quoted = 0;
    let warmup = false;
    for (let j = bytesEnd; j < len; ) {
      const c = line.charCodeAt(j);
      if (c === SPACE || c === 9) {
        j++;
        continue;
      }
      if (c === QUOTE) {
        const q = closingQuote(line, j + 1);
        if (q < 0) return fail('nginx: unterminated quoted field (truncated line?)');
        // "$http_referer" "$http_user_agent": the second quoted field says whether modcast's warm-up sent it.
        if (++quoted === 2 && line.startsWith(WARMUP_AGENT_PREFIX, j + 1)) warmup = true;
        j = q + 1;
        continue;
      }
      let k = line.indexOf(' ', j);
      if (k < 0) k = len;
      const token = line.slice(j, k);
      j = k;
      const eq = token.indexOf('=');
      const key = eq > 0 ? token.slice(0, eq) : '';
      const value = eq > 0 ? token.slice(eq + 1) : token;
      if (!durationSeen && (eq < 0 || DURATION_KEYS.has(key))) {
        const ms = secondsToMs(value);
        if (ms >= 0) {
          durationMs = ms;
          durationSeen = true;
          continue;
        }
      }
      if (!cacheSeen && (eq < 0 || CACHE_KEYS.has(key))) {
        const cs = cacheWord(value);
        if (cs !== undefined) {
          cacheStatus = cs;
          cacheSeen = true;
        }
      }
    }

    return {
      ok: true,
      record: { ts, method, path, status, bytes, durationMs, cacheStatus, clientIp: line.slice(0, ipEnd), ...warmupFlag(warmup) },
    };
  }
}
