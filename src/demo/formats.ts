/**
 * Renders generated requests as real access-log lines, so the demo, tests and benchmarks exercise the same
 * parsers a proxy fleet's logs go through.
 */
import type { LogFormat } from '../logs/parser.js';
import { goproxyPath } from '../domain/goproxy.js';
import type { GeneratedRequest } from './generator.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `25/Nov/2026:09:00:01 +0000` (nginx $time_local, rendered in UTC). */
export function nginxTime(ts: number): string {
  const d = new Date(ts);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export function requestPath(r: GeneratedRequest, prefix = '/'): string {
  return goproxyPath(prefix, r.module, r.version, r.kind);
}

const CACHE_WORD = { hit: 'HIT', miss: 'MISS', unknown: '-' } as const;

export function renderLine(r: GeneratedRequest, format: LogFormat): string {
  switch (format) {
    case 'nginx':
      return (
        `${r.clientIp} - - [${nginxTime(r.ts)}] "GET ${requestPath(r)} HTTP/1.1" ${r.status} ${r.bytes} "-" "Go-http-client/1.1" ` +
        `${(r.durationMs / 1000).toFixed(3)} ${CACHE_WORD[r.cacheStatus]}`
      );
    case 'athens-json':
      return JSON.stringify({
        'http-method': 'GET',
        'http-path': requestPath(r),
        'http-status': r.status,
        level: 'info',
        msg: 'incoming request',
        'request-id': `${r.ts.toString(36)}-${r.node}`,
        time: new Date(r.ts).toISOString(),
      });
    case 'athens-text':
      return (
        `time="${new Date(r.ts).toISOString()}" level=info msg="incoming request" http-method=GET ` +
        `http-path=${requestPath(r)} http-status=${r.status} request-id=${r.ts.toString(36)}-${r.node}`
      );
    case 'artifactory':
      return [
        new Date(r.ts).toISOString(),
        `${r.ts.toString(16)}${r.node}`,
        r.clientIp,
        'anonymous',
        'GET',
        requestPath(r, '/artifactory/api/go/go-remote/'),
        r.status,
        -1,
        r.bytes,
        Math.round(r.durationMs),
        'Go-http-client/1.1',
      ].join('|');
    case 'jsonl':
      return JSON.stringify({
        time: new Date(r.ts).toISOString(),
        request: { method: 'GET', uri: requestPath(r) },
        status: r.status,
        bytes: r.bytes,
        duration_ms: r.durationMs,
        cache: r.cacheStatus,
        remote_ip: r.clientIp,
      });
  }
}
