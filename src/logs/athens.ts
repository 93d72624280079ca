/**
 * Athens (github.com/gomods/athens) request logs. Athens logs one "incoming request" line per
 * request (pkg/middleware/request.go) carrying the fields its LogEntryMiddleware set:
 * `http-method`, `http-path` (r.URL.Path, already percent-decoded), `request-id`, plus `http-status`
 * (a string, colour-coded when stdout is a terminal). No bytes, duration, client address or user agent: modcast's
 * warm-up fetches are told by their request id, which Athens takes from the `Athens-Request-ID` header and the
 * warm-up executor sets to `modcast-warmup-<uuid>`.
 *
 * Shapes handled:
 * - `athens-json`: LogFormat=json. logrus (<= v0.17) writes
 *   `{"http-method":"GET","http-path":"/...","http-status":"200","level":"info","msg":"incoming request","request-id":"...","time":"2026-11-25T09:00:01Z"}`;
 *   slog (v0.18+) the same keys with `"level":"INFO"`; CloudProvider=GCP uses `timestamp`/`severity`/`message`.
 * - `athens-text`: logrus' TextFormatter (`time="..." level=info msg="incoming request" http-method=GET ...`,
 *   Athens' `plain` format in March 2024 and any logrus text setup) and Athens' own default "plain" dev
 *   format `INFO[9:00AM]: incoming request\thttp-method=GET http-path=/... http-status=200 request-id=...`.
 *   The dev format carries only hour and minute, so its lines are dated at the latest such minute not
 *   after `clock()`: right for tailing a live log; for an old file pass the file's modification time.
 * Other Athens lines (startup, errors inside a request) are well-formed but no request: `skip`.
 */
import type { LineParser, LineParseResult } from './parser.js';
import { EMPTY_LINE, WARMUP_REQUEST_ID_PREFIX, fail, skipLine, validMethod, validStatus, warmupFlag } from './record.js';
import { daysFromCivil, digitsAt, parseIsoTime } from './time.js';

export interface AthensParserOptions {
  /** Reference clock for the dev format's date-less times; default Date.now. */
  clock?: () => number;
  /** Offset of Athens' local time zone east of UTC, minutes (dev format and zone-less times). Default 0. */
  utcOffsetMinutes?: number;
}

const ANSI_RE = /\x1b\[[0-9;]*m/g;

function stripAnsi(s: string): string {
  return s.indexOf('\x1b') >= 0 ? s.replace(ANSI_RE, '') : s;
}

/** http-status as Athens writes it: "200", 200, or colour-wrapped "\x1b[32m200\x1b[0m". */
function statusOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  const s = stripAnsi(v);
  return s.length === 3 ? digitsAt(s, 0, 3) : NaN;
}

function requestRecord(ts: number, method: unknown, path: unknown, statusRaw: unknown, requestId: unknown): LineParseResult {
  if (typeof method !== 'string' || !validMethod(method)) return fail(`athens: invalid http-method ${JSON.stringify(method)}`);
  if (typeof path !== 'string' || path.length === 0) return fail('athens: missing http-path');
  const status = statusOf(statusRaw);
  if (!validStatus(status)) return fail(`athens: invalid http-status ${JSON.stringify(statusRaw)}`);
  const warmup = typeof requestId === 'string' && requestId.startsWith(WARMUP_REQUEST_ID_PREFIX);
  return { ok: true, record: { ts, method, path, status, bytes: 0, durationMs: 0, cacheStatus: 'unknown', clientIp: '', ...warmupFlag(warmup) } };
}

export class AthensJsonParser implements LineParser {
  readonly format = 'athens-json' as const;
  private readonly offset: number;

  constructor(options: AthensParserOptions = {}) {
    this.offset = options.utcOffsetMinutes ?? 0;
  }

  parse(line: string): LineParseResult {
    if (line.length === 0) return EMPTY_LINE;
    if (line.charCodeAt(0) !== 123 /* { */) return fail('athens-json: not a JSON object');
    let o: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(line);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail('athens-json: not a JSON object');
      o = v as Record<string, unknown>;
    } catch {
      return fail('athens-json: invalid JSON (truncated line?)');
    }
    const time = o['time'] ?? o['timestamp'];
    const ts = typeof time === 'string' ? parseIsoTime(time, this.offset) : undefined;
    if (o['http-status'] === undefined) {
      // Athens' other lines: a message, a level and an RFC 3339 time (Caddy and others log epoch numbers).
      const isAthens = typeof (o['msg'] ?? o['message']) === 'string' && (o['level'] ?? o['severity']) !== undefined && ts !== undefined;
      return isAthens ? skipLine('athens-json: not a request line') : fail('athens-json: no http-status field');
    }
    if (ts === undefined) return fail(`athens-json: invalid time ${JSON.stringify(time)}`);
    return requestRecord(ts, o['http-method'], o['http-path'], o['http-status'], o['request-id']);
  }
}

/** Reads logfmt-style `key=value` / `key="quoted value"` pairs from `s` starting at `i`. */
function readPairs(s: string, i: number, into: Map<string, string>): boolean {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const eq = s.indexOf('=', i);
    if (eq <= i) return false;
    const key = s.slice(i, eq);
    if (key.indexOf(' ') >= 0) return false;
    i = eq + 1;
    if (s.charCodeAt(i) === 34) {
      const parsed = readGoQuoted(s, i);
      if (parsed === undefined) return false;
      into.set(key, parsed.value);
      i = parsed.end;
    } else {
      let k = i;
      while (k < n && s.charCodeAt(k) !== 32 && s.charCodeAt(k) !== 9) k++;
      into.set(key, s.slice(i, k));
      i = k;
    }
  }
  return true;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A Go %q string at `start` (the opening quote); its value and the index after the closing quote. */
function readGoQuoted(s: string, start: number): { value: string; end: number } | undefined {
  let out = '';
  let from = start + 1;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '"') return { value: out + s.slice(from, i), end: i + 1 };
    if (c !== '\\') continue;
    out += s.slice(from, i);
    const e = s[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 1;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + width);
      if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 1 + width;
    } else {
      return undefined;
    }
    from = i + 1;
  }
  return undefined;
}

const DEV_PREFIX_RE = /^([A-Z]+)\[(\d{1,2}):(\d{2})(AM|PM)\]: /;

export class AthensTextParser implements LineParser {
  readonly format = 'athens-text' as const;
  private readonly clock: () => number;
  private readonly offset: number;

  constructor(options: AthensParserOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.offset = options.utcOffsetMinutes ?? 0;
  }

  parse(raw: string): LineParseResult {
    if (raw.length === 0) return EMPTY_LINE;
    const line = stripAnsi(raw);
    if (line.startsWith('time=')) return this.parseLogrusText(line);
    const dev = DEV_PREFIX_RE.exec(line);
    if (dev !== null) return this.parseDev(line, dev);
    return fail('athens-text: neither a logrus text line nor an Athens dev-format line');
  }

  private parseLogrusText(line: string): LineParseResult {
    const fields = new Map<string, string>();
    if (!readPairs(line, 0, fields)) return fail('athens-text: malformed key=value pairs (truncated line?)');
    const status = fields.get('http-status');
    if (status === undefined) return fields.has('level') ? skipLine('athens-text: not a request line') : fail('athens-text: no level field');
    const time = fields.get('time') ?? '';
    const ts = parseIsoTime(time, this.offset);
    if (ts === undefined) return fail(`athens-text: invalid time ${JSON.stringify(time)}`);
    return requestRecord(ts, fields.get('http-method'), fields.get('http-path'), status, fields.get('request-id'));
  }

  private parseDev(line: string, m: RegExpExecArray): LineParseResult {
    const tab = line.indexOf('\t', m[0].length);
    if (tab < 0) return fail('athens-text: dev-format line without fields (truncated line?)');
    const fields = new Map<string, string>();
    if (!readPairs(line, tab + 1, fields)) {
      // The dev format does not quote values, so error lines (`kind=Not Found`) need not split cleanly.
      return line.includes(' http-status=') || line.includes('\thttp-status=')
        ? fail('athens-text: malformed key=value pairs')
        : skipLine('athens-text: not a request line');
    }
    const status = fields.get('http-status');
    if (status === undefined) return skipLine('athens-text: not a request line');
    let hour = Number(m[2]);
    const minute = Number(m[3]);
    if (hour < 1 || hour > 12 || minute > 59) return fail(`athens-text: invalid time ${JSON.stringify(m[0])}`);
    if (hour === 12) hour = 0;
    if (m[4] === 'PM') hour += 12;
    return requestRecord(this.latestMinute(hour, minute), fields.get('http-method'), fields.get('http-path'), status, fields.get('request-id'));
  }

  /** The latest instant at local hour:minute that is not after the clock (with a minute of slack). */
  private latestMinute(hour: number, minute: number): number {
    const now = this.clock();
    const localNow = new Date(now + this.offset * 60000);
    const day = daysFromCivil(localNow.getUTCFullYear(), localNow.getUTCMonth() + 1, localNow.getUTCDate());
    let ts = (day * 86400 + hour * 3600 + minute * 60) * 1000 - this.offset * 60000;
    if (ts > now + 60000) ts -= 86400000;
    return ts;
  }
}
