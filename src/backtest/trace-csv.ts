/**
 * Reads a request trace CSV as a stream: `ts,module[,version][,node][,bytes]`, optionally with a header row naming
 * the columns (then also `kind` and `region` may appear, in any order). Times are ISO 8601 or epoch seconds /
 * milliseconds (told apart by magnitude). Never holds the file: one line at a time, gzip when the name ends in .gz.
 *
 * Without a header the optional columns are positional: a third column is the version when it looks like one
 * (`v…` or empty), else the node; a numeric last column is bytes.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { REQUEST_KINDS, type RequestKind } from '../domain/event.js';
import type { TraceRequest } from '../domain/backtest/replay.js';
import { ModcastError, ErrorCodes } from '../errors.js';

type Column = 'ts' | 'module' | 'version' | 'node' | 'bytes' | 'kind' | 'region';
const KNOWN: readonly Column[] = ['ts', 'module', 'version', 'node', 'bytes', 'kind', 'region'];
const HEADER_ALIASES: Record<string, Column> = { time: 'ts', timestamp: 'ts', path: 'module', size: 'bytes', host: 'node' };

export interface TraceCsvOptions {
  /** Node of rows that name none. */
  defaultNode?: string;
  /** Stop after this many bad lines (each is reported through onBadLine); default 1000. */
  maxBadLines?: number;
  onBadLine?: (line: number, reason: string) => void;
}

/** Splits one CSV line (RFC 4180 quotes). */
export function splitCsvLine(line: string): string[] {
  // Most lines quote nothing: split them natively instead of character by character.
  if (!line.includes('"')) {
    const cells = line.split(',');
    for (let i = 0; i < cells.length; i++) cells[i] = cells[i]!.trim();
    return cells;
  }
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Epoch ms of an ISO 8601 or epoch (s or ms) time, or NaN. */
export function parseTraceTime(s: string): number {
  if (isDigits(s)) return epochMs(Number(s));
  if (/^\d+(\.\d+)?$/.test(s)) {
    return epochMs(Number(s));
  }
  return /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s.includes('T') || s.length <= 10 ? s : s.replace(' ', 'T')) : NaN;
}

function epochMs(n: number): number {
  return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
}

/** Only ASCII digits (and at least one): the common epoch time, told without a regular expression. */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function headerColumns(cells: string[]): Column[] | null {
  const names = cells.map((c) => c.toLowerCase());
  if (!names.includes('ts') && !names.some((n) => HEADER_ALIASES[n] === 'ts')) return null;
  return names.map((n) => {
    const col = (KNOWN as readonly string[]).includes(n) ? (n as Column) : HEADER_ALIASES[n];
    if (!col) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `trace header: unknown column ${JSON.stringify(n)} (known: ${KNOWN.join(', ')})`);
    return col;
  });
}

/** Positional columns of a header-less row. */
function positional(cells: string[]): Column[] {
  const cols: Column[] = ['ts', 'module'];
  const rest = cells.slice(2);
  let i = 0;
  if (i < rest.length && (rest[i] === '' || /^v\d/.test(rest[i]!))) {
    cols.push('version');
    i++;
  }
  if (i < rest.length && !/^\d+$/.test(rest[i]!)) {
    cols.push('node');
    i++;
  }
  if (i < rest.length) cols.push('bytes');
  return cols;
}

/** Cell index of each column in a row (-1: absent), worked out once per header rather than looked up per cell. */
interface Layout {
  ts: number;
  module: number;
  version: number;
  node: number;
  bytes: number;
  kind: number;
  region: number;
}

function layoutOf(cols: Column[]): Layout {
  return {
    ts: cols.indexOf('ts'),
    module: cols.indexOf('module'),
    version: cols.indexOf('version'),
    node: cols.indexOf('node'),
    bytes: cols.indexOf('bytes'),
    kind: cols.indexOf('kind'),
    region: cols.indexOf('region'),
  };
}

/** Consecutive rows often share their time text (a log's resolution is a second): parsed once for the run. */
class TimeParser {
  private text = '';
  private value = NaN;

  parse(s: string): number {
    if (s !== this.text) {
      this.text = s;
      this.value = parseTraceTime(s);
    }
    return this.value;
  }
}

function cell(cells: string[], i: number): string | undefined {
  return i >= 0 ? cells[i] : undefined;
}

function toRequest(cells: string[], at: Layout, defaultNode: string, times: TimeParser): TraceRequest | string {
  const tsText = cell(cells, at.ts);
  const ts = times.parse(tsText ?? '');
  if (!Number.isFinite(ts)) return `bad time ${JSON.stringify(tsText)}`;
  const module = cell(cells, at.module) ?? '';
  if (module === '') return 'no module';
  const version = cell(cells, at.version) ?? '';
  const bytesText = cell(cells, at.bytes);
  const bytes = bytesText === undefined || bytesText === '' ? 0 : Number(bytesText);
  if (!Number.isFinite(bytes) || bytes < 0) return `bad bytes ${JSON.stringify(bytesText)}`;
  const kindText = cell(cells, at.kind);
  let kind: RequestKind;
  if (kindText) {
    if (!(REQUEST_KINDS as readonly string[]).includes(kindText)) return `unknown kind ${JSON.stringify(kindText)}`;
    kind = kindText as RequestKind;
  } else kind = version === '' ? 'list' : 'zip';
  const node = cell(cells, at.node) || defaultNode;
  const region = cell(cells, at.region);
  return region ? { ts, module, version, node, bytes, kind, region } : { ts, module, version, node, bytes, kind };
}

/**
 * The lines of a text stream, a chunk's worth at a time (LF or CRLF; the caller trims): one await per chunk rather
 * than readline's event and promise per line.
 */
async function* lineChunks(input: Readable): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines = text.split('\n');
    rest = lines.pop()!;
    if (lines.length > 0) yield lines;
  }
  rest += decoder.end();
  if (rest !== '') yield [rest];
}

/** Streams requests of a trace file (or stream); throws after too many bad lines. */
export async function* readTraceCsv(source: string | Readable, options: TraceCsvOptions = {}): AsyncGenerator<TraceRequest> {
  for await (const batch of readTraceCsvBatches(source, options)) yield* batch;
}

/**
 * The requests of a trace file (or stream) a chunk of input at a time, for a backtest (`{ batches }`, see
 * TraceBatches): one await per chunk rather than per request, which was most of the reader's cost.
 */
export async function* readTraceCsvBatches(source: string | Readable, options: TraceCsvOptions = {}): AsyncGenerator<TraceRequest[]> {
  let input: Readable;
  if (typeof source === 'string') {
    const file = createReadStream(source);
    const opened = new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (e) => reject(new ModcastError(ErrorCodes.INPUT_NOT_FOUND, `cannot read trace ${source}: ${e.message}`, { cause: e })));
    });
    await opened;
    input = source.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  } else input = source;
  const maxBad = options.maxBadLines ?? 1000;
  const defaultNode = options.defaultNode ?? 'node';
  const times = new TimeParser();
  let layout: Layout | null = null;
  let lineNo = 0;
  let bad = 0;
  for await (const chunk of lineChunks(input)) {
    const batch: TraceRequest[] = [];
    for (const raw of chunk) {
      lineNo++;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const cells = splitCsvLine(line);
      if (layout === null && lineNo === 1) {
        const header = headerColumns(cells);
        if (header) {
          layout = layoutOf(header);
          continue;
        }
      }
      const r = toRequest(cells, layout ?? layoutOf(positional(cells)), defaultNode, times);
      if (typeof r === 'string') {
        bad++;
        options.onBadLine?.(lineNo, r);
        if (bad > maxBad) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `trace: more than ${maxBad} bad lines (last at line ${lineNo}: ${r})`);
        continue;
      }
      batch.push(r);
    }
    if (batch.length > 0) yield batch;
  }
}
