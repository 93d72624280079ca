/**
 * Parser factory and log format detection (for `--format auto`).
 */
import { ArtifactoryParser } from './artifactory.js';
import { AthensJsonParser, AthensTextParser } from './athens.js';
import { JsonLinesParser } from './jsonl.js';
import { NginxParser } from './nginx.js';
import type { JsonFieldMap, LineParser, LogFormat } from './parser.js';

export interface ParserOptions {
  /** Field map of the `jsonl` format; default DEFAULT_JSON_FIELD_MAP. */
  jsonFields?: JsonFieldMap;
  /** Clock dating Athens dev-format lines (which carry only h:mm); default Date.now. */
  athensClock?: () => number;
  /** Athens' local time zone, minutes east of UTC; default 0. */
  athensUtcOffsetMinutes?: number;
  /** Time zone of an Artifactory 6.x request.log, minutes east of UTC; default 0. */
  artifactoryLegacyUtcOffsetMinutes?: number;
}

export function createParser(format: LogFormat, options: ParserOptions = {}): LineParser {
  switch (format) {
    case 'nginx':
      return new NginxParser();
    case 'athens-text':
      return new AthensTextParser({ clock: options.athensClock, utcOffsetMinutes: options.athensUtcOffsetMinutes });
    case 'athens-json':
      return new AthensJsonParser({ utcOffsetMinutes: options.athensUtcOffsetMinutes });
    case 'artifactory':
      return new ArtifactoryParser({ legacyUtcOffsetMinutes: options.artifactoryLegacyUtcOffsetMinutes });
    case 'jsonl':
      return new JsonLinesParser(options.jsonFields);
  }
}

/** Most specific first: on equal votes the earlier format wins (an Athens JSON line may also fit a JSON field map). */
const DETECTION_ORDER: readonly LogFormat[] = ['nginx', 'athens-json', 'athens-text', 'artifactory', 'jsonl'];

/**
 * Picks the format that parses a strict majority of the non-blank sample lines (a line counts for
 * a format when it parses as a request, or is recognised as that format's non-request line), or exactly half of
 * them when no other format reads any (a log with as many damaged lines as good ones is still that format; its
 * bad lines become rejects). undefined otherwise.
 */
export function detectFormat(sampleLines: readonly string[], options: ParserOptions = {}): LogFormat | undefined {
  const lines = sampleLines.filter((l) => l.trim() !== '');
  if (lines.length === 0) return undefined;
  let best: LogFormat | undefined;
  let bestVotes = 0;
  let otherVotes = 0;
  for (const format of DETECTION_ORDER) {
    const parser = createParser(format, options);
    let votes = 0;
    for (const line of lines) {
      const r = parser.parse(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (r.ok || r.skip === true) votes++;
    }
    if (votes > bestVotes) {
      otherVotes = Math.max(otherVotes, bestVotes);
      best = format;
      bestVotes = votes;
    } else otherVotes = Math.max(otherVotes, votes);
  }
  const majority = bestVotes * 2 > lines.length;
  const unrivalledHalf = bestVotes * 2 === lines.length && otherVotes === 0;
  return majority || unrivalledHalf ? best : undefined;
}
