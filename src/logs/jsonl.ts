/**
 * JSON-lines access logs with configurable field names (dotted paths into each object), for
 * proxies that log JSON: Caddy, nginx `log_format ... escape=json`, Envoy, custom Go proxies.
 */
import type { CacheStatus } from '../domain/event.js';
import type { JsonFieldMap, LineParser, LineParseResult } from './parser.js';
import { EMPTY_LINE, WARMUP_AGENT_PREFIX, cacheWord, fail, validMethod, validStatus, warmupFlag } from './record.js';
import { parseIsoTime } from './time.js';

/** modcast's own flat field names (what `POST /v1/ingest` documents for JSON lines). */
export const DEFAULT_JSON_FIELD_MAP: JsonFieldMap = {
  ts: 'ts',
  method: 'method',
  path: 'path',
  status: 'status',
  bytes: 'bytes',
  durationMs: 'duration_ms',
  durationUnit: 'ms',
  cacheStatus: 'cache_status',
  clientIp: 'client_ip',
  userAgent: 'user_agent',
  warmupHeader: 'x_modcast_warmup',
};

/** Caddy's structured access log (`http.log.access`). */
export const CADDY_JSON_FIELD_MAP: JsonFieldMap = {
  ts: 'ts',
  method: 'request.method',
  path: 'request.uri',
  status: 'status',
  bytes: 'size',
  durationMs: 'duration',
  durationUnit: 's',
  clientIp: 'request.client_ip',
  // Caddy logs request headers as arrays of values.
  userAgent: 'request.headers.User-Agent',
  warmupHeader: 'request.headers.X-Modcast-Warmup',
};

const UNIT_TO_MS = { s: 1000, ms: 1, us: 0.001, ns: 0.000001 } as const;

type Path = readonly string[];

function compilePath(p: string | undefined): Path | undefined {
  if (p === undefined || p === '') return undefined;
  return p.split('.');
}

function get(o: unknown, path: Path): unknown {
  let v = o;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A logged header's value: the value, or the first of the array some servers log (Caddy). */
function firstValue(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** A finite number from a JSON number or numeric string; NaN otherwise. */
function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

/**
 * Epoch ms from an ISO string or an epoch number, whose unit is told by its size:
 * seconds below 1e11 (until year 5138), then ms, µs (> 1e14) and ns (> 1e17).
 */
export function epochMsOf(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const iso = parseIsoTime(v);
    if (iso !== undefined) return iso;
  }
  const n = numberOf(v);
  if (!Number.isFinite(n) || n < 0) return undefined;
  if (n < 1e11) return Math.round(n * 1000);
  if (n < 1e14) return Math.round(n);
  if (n < 1e17) return Math.round(n / 1e3);
  return Math.round(n / 1e6);
}

export class JsonLinesParser implements LineParser {
  readonly format = 'jsonl' as const;
  private readonly ts: Path;
  private readonly method: Path;
  private readonly path: Path;
  private readonly status: Path;
  private readonly bytes: Path;
  private readonly duration: Path | undefined;
  private readonly durationScale: number;
  private readonly cache: Path | undefined;
  private readonly ip: Path | undefined;
  private readonly agent: Path | undefined;
  private readonly warmupHeader: Path | undefined;

  constructor(fields: JsonFieldMap = DEFAULT_JSON_FIELD_MAP) {
    const required = (name: keyof JsonFieldMap): Path => {
      const p = compilePath(fields[name] as string | undefined);
      if (p === undefined) throw new TypeError(`JSON field map: "${name}" is required`);
      return p;
    };
    this.ts = required('ts');
    this.method = required('method');
    this.path = required('path');
    this.status = required('status');
    this.bytes = required('bytes');
    this.duration = compilePath(fields.durationMs);
    this.durationScale = UNIT_TO_MS[fields.durationUnit ?? 'ms'];
    this.cache = compilePath(fields.cacheStatus);
    this.ip = compilePath(fields.clientIp);
    this.agent = compilePath(fields.userAgent);
    this.warmupHeader = compilePath(fields.warmupHeader);
  }

  /** modcast's own warm-up fetch: its user agent, or its header where the log keeps that. */
  private isWarmup(o: unknown): boolean {
    const agent = this.agent && firstValue(get(o, this.agent));
    if (typeof agent === 'string' && agent.startsWith(WARMUP_AGENT_PREFIX)) return true;
    const marker = this.warmupHeader && firstValue(get(o, this.warmupHeader));
    return (typeof marker === 'string' && marker !== '' && marker !== '-') || (typeof marker === 'number' && marker !== 0) || marker === true;
  }

  parse(line: string): LineParseResult {
    if (line.length === 0) return EMPTY_LINE;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return fail('jsonl: invalid JSON (truncated line?)');
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return fail('jsonl: not a JSON object');
    const ts = epochMsOf(get(o, this.ts));
    if (ts === undefined) return fail(`jsonl: invalid or missing time at "${this.ts.join('.')}"`);
    const method = get(o, this.method);
    if (typeof method !== 'string' || !validMethod(method)) return fail(`jsonl: invalid or missing method at "${this.method.join('.')}"`);
    const path = get(o, this.path);
    if (typeof path !== 'string' || path.length === 0) return fail(`jsonl: invalid or missing path at "${this.path.join('.')}"`);
    const status = numberOf(get(o, this.status));
    if (!validStatus(status)) return fail(`jsonl: invalid or missing status at "${this.status.join('.')}"`);
    const rawBytes = get(o, this.bytes);
    const bytes = rawBytes === undefined || rawBytes === null || rawBytes === '-' ? 0 : numberOf(rawBytes);
    if (!Number.isFinite(bytes) || bytes < -1) return fail(`jsonl: invalid byte count at "${this.bytes.join('.')}"`);
    let durationMs = 0;
    if (this.duration !== undefined) {
      const d = get(o, this.duration);
      if (d !== undefined && d !== null && d !== '-') {
        const n = numberOf(d);
        if (!Number.isFinite(n) || n < 0) return fail(`jsonl: invalid duration at "${this.duration.join('.')}"`);
        durationMs = n * this.durationScale;
      }
    }
    let cacheStatus: CacheStatus = 'unknown';
    if (this.cache !== undefined) {
      const c = get(o, this.cache);
      if (typeof c === 'string') cacheStatus = cacheWord(c) ?? 'unknown';
    }
    const ip = this.ip === undefined ? undefined : get(o, this.ip);
    return {
      ok: true,
      record: { ts, method, path, status, bytes: Math.max(0, Math.round(bytes)), durationMs, cacheStatus, clientIp: typeof ip === 'string' ? ip : '', ...warmupFlag(this.isWarmup(o)) },
    };
  }
}
