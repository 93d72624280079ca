/**
 * JFrog Artifactory `request.log` (pipe-separated; Go repositories serve under `/api/go/<repo>/`).
 *
 * - Artifactory 7.x (`artifactory-request.log`), timestamps in UTC:
 *   `Timestamp|Trace ID|Remote Address|Username|Request method|Request URL|Return Status|Request Content Length|Response Content Length|Request Duration|Request User Agent`
 *   e.g. `2026-11-25T09:00:01.123Z|4b1b8a0b04e31b80|10.1.2.3|anonymous|GET|/api/go/go-remote/github.com/!azure/azure-sdk-for-go/@v/list|200|-1|1532|14|Go-http-client/1.1`
 *   (content lengths are -1 when unknown; duration in ms; the URL is relative, with or without a leading `/`).
 * - Artifactory 6.x and older, timestamps in the server's local time:
 *   `Date|Request time (ms)|REQUEST|IP|User|Method|Path|Protocol|Status|Size`
 *   e.g. `20261125090001|14|REQUEST|10.1.2.3|anonymous|GET|/api/go/go-remote/golang.org/x/net/@v/list|HTTP/1.1|200|1532`.
 * Artifactory logs no cache outcome here, so cacheStatus is `unknown`. modcast's warm-up fetches are told by the 7.x
 * user agent (`modcast-warmup/…`); the 6.x layout has no user agent, so there they count as demand.
 */
import type { LineParser, LineParseResult } from './parser.js';
import { EMPTY_LINE, WARMUP_AGENT_PREFIX, fail, parseByteCount, parseUnsigned, validMethod, validStatus, warmupFlag } from './record.js';
import { digitsAt, parseIsoTime, utcMillis } from './time.js';

export interface ArtifactoryParserOptions {
  /** UTC offset (minutes east) of the server that wrote a 6.x log, whose dates carry no zone. Default 0. */
  legacyUtcOffsetMinutes?: number;
}

function record(ts: number, ip: string, method: string, path: string, statusField: string, bytesField: string, durationField: string, warmup = false): LineParseResult {
  if (!validMethod(method)) return fail(`artifactory: invalid method ${JSON.stringify(method)}`);
  if (path.length === 0) return fail('artifactory: empty request URL');
  const status = parseUnsigned(statusField);
  if (!validStatus(status)) return fail(`artifactory: invalid status ${JSON.stringify(statusField)}`);
  const bytes = parseByteCount(bytesField);
  if (bytes < 0) return fail(`artifactory: invalid response length ${JSON.stringify(bytesField)}`);
  const durationMs = parseUnsigned(durationField);
  if (durationMs < 0) return fail(`artifactory: invalid duration ${JSON.stringify(durationField)}`);
  return { ok: true, record: { ts, method, path, status, bytes, durationMs, cacheStatus: 'unknown', clientIp: ip, ...warmupFlag(warmup) } };
}

export class ArtifactoryParser implements LineParser {
  readonly format = 'artifactory' as const;
  private readonly legacyOffset: number;

  constructor(options: ArtifactoryParserOptions = {}) {
    this.legacyOffset = options.legacyUtcOffsetMinutes ?? 0;
  }

  parse(line: string): LineParseResult {
    if (line.length === 0) return EMPTY_LINE;
    const f = line.split('|');
    if (f.length >= 11 && (f[0] as string).length >= 19 && line.charCodeAt(4) === 45 /* - */) return this.parseV7(f);
    if (f.length === 10 && f[2] === 'REQUEST') return this.parseLegacy(f);
    if (f.length === 10 && (f[0] as string).length >= 19) return fail('artifactory: request-out.log line (outbound request), not a client request');
    return fail(`artifactory: unrecognised layout (${f.length} fields)`);
  }

  private parseV7(f: string[]): LineParseResult {
    const [time, , ip, , method, url, status, , responseLength, duration, agent] = f as [string, string, string, string, string, string, string, string, string, string, string];
    const ts = parseIsoTime(time);
    if (ts === undefined) return fail(`artifactory: invalid timestamp ${JSON.stringify(time)}`);
    // The user agent is the 11th field (a '|' inside it only splits what follows its start).
    return record(ts, ip, method, url, status, responseLength, duration, agent.startsWith(WARMUP_AGENT_PREFIX));
  }

  private parseLegacy(f: string[]): LineParseResult {
    const [date, duration, , ip, , method, path, , status, size] = f as [string, string, string, string, string, string, string, string, string, string];
    if (date.length !== 14) return fail(`artifactory: invalid date ${JSON.stringify(date)}`);
    const base = utcMillis(digitsAt(date, 0, 4), digitsAt(date, 4, 2), digitsAt(date, 6, 2), digitsAt(date, 8, 2), digitsAt(date, 10, 2), digitsAt(date, 12, 2));
    if (base === undefined) return fail(`artifactory: invalid date ${JSON.stringify(date)}`);
    return record(base - this.legacyOffset * 60000, ip, method, path, status, size, duration);
  }
}
