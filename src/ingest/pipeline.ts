/**
 * Log bytes -> lines -> parser -> events/rejects -> store, in deterministic batches.
 *
 * Batches are cut every `batchLines` source lines counted from the start offset, and each batch's dedup token
 * is `<tokenPrefix>:<first byte>-<end byte>`. A resumed ingest that starts again from a checkpoint therefore
 * rebuilds exactly the same batches, and ClickHouse drops any batch it already stored: no loss, no duplicates.
 * Used by `modcast ingest` (files, stdin), `POST /v1/ingest` and anything else that turns a byte stream into events.
 */
import type { WriteBatch } from '../store/event-writer.js';
import { toRejectedRow, type AccessEventRow, type RejectedRow } from '../store/event-rows.js';
import type { LogFormat, JsonFieldMap, LineParser } from '../logs/parser.js';
import { readLines, type LineRecord } from '../logs/lines.js';
import { detectFormat, createParser } from '../logs/detect.js';
import { EventBuilder, type WebPaths } from '../logs/to-event.js';
import { ModcastError, ErrorCodes } from '../errors.js';

/** Where batches go: the store's EventWriter, or a backtest trace (src/backtest/log-trace.ts). */
export interface BatchSink {
  /** Resolves once the batch is kept; returns how many of its events and warm-ups were kept already (left out). */
  write(batch: WriteBatch): Promise<{ alreadyStored: number }>;
}

export interface IngestOptions {
  writer: BatchSink;
  node: string;
  region: string;
  format: LogFormat | 'auto';
  jsonFields?: JsonFieldMap;
  pathPrefixes: readonly string[];
  /** A web log read as a trace: every path is an item (see EventBuilderOptions.webPaths). */
  webPaths?: WebPaths;
  clientSalt: string;
  maxLineBytes: number;
  batchLines: number;
  /** Stable id of the source (goes into event ids). */
  sourceId: string;
  /** Name shown in rejects: file path, `stdin`, `http`. */
  sourceName: string;
  /** Batch tokens are `<tokenPrefix>:<start>-<end>`. */
  tokenPrefix: string;
  /** Byte offset of the stream's first byte in its source (resume point). */
  startOffset?: number;
  /** Lines to sample for format detection. */
  detectLines?: number;
  /** How this source names the format when detection fails: `--format` (CLI, default) or `?format=` (HTTP). */
  formatOption?: string;
  /** Called after each batch is stored, with the offset everything before which is now durable. */
  onCommitted?: (endOffset: number, stats: IngestStats) => void | Promise<void>;
  /** Asked once the source ended: a reason to reject an unterminated last line instead of parsing it (damaged input). */
  partialReason?: () => string | undefined;
}

export interface IngestStats {
  lines: number;
  events: number;
  /** modcast's own warm-up fetches found in the log (stored in warmup_events, not as demand). */
  warmups: number;
  /** Of the events and warm-ups, lines the store had already (shipped, or ingested before under another token). */
  alreadyStored: number;
  rejected: number;
  skipped: number;
  /** Offset after the last line processed. */
  offset: number;
  format: LogFormat | undefined;
}

export async function ingestStream(stream: AsyncIterable<Uint8Array | string>, opts: IngestOptions): Promise<IngestStats> {
  const stats: IngestStats = { lines: 0, events: 0, warmups: 0, alreadyStored: 0, rejected: 0, skipped: 0, offset: opts.startOffset ?? 0, format: undefined };
  const builder = new EventBuilder({
    node: opts.node,
    region: opts.region,
    sourceId: opts.sourceId,
    clientSalt: opts.clientSalt,
    pathPrefixes: opts.pathPrefixes,
    ...(opts.webPaths ? { webPaths: opts.webPaths } : {}),
  });
  let parser: LineParser | undefined = opts.format === 'auto' ? undefined : createParser(opts.format, parserOptions(opts));
  stats.format = parser?.format;
  const pendingDetection: LineRecord[] = [];
  let sampled = 0;

  let events: AccessEventRow[] = [];
  let warmups: AccessEventRow[] = [];
  let rejects: RejectedRow[] = [];
  let batchStart = stats.offset;
  let batchCount = 0;
  let lastEnd = batchStart;

  // One batch is written while the next is parsed; checkpoints still advance strictly in order.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (end: number) => {
    const batch = { token: `${opts.tokenPrefix}:${batchStart}-${end}`, events, rejects, warmups };
    events = [];
    warmups = [];
    rejects = [];
    batchStart = end;
    batchCount = 0;
    await inFlight;
    inFlight = (async () => {
      if (batch.events.length > 0 || batch.rejects.length > 0 || batch.warmups.length > 0) stats.alreadyStored += (await opts.writer.write(batch)).alreadyStored;
      stats.events += batch.events.length;
      stats.warmups += batch.warmups.length;
      stats.rejected += batch.rejects.length;
      stats.offset = end;
      await opts.onCommitted?.(end, stats);
    })();
    // Surface a failed write at the next await without an unhandled rejection in between.
    inFlight.catch(() => undefined);
  };

  const reject = (line: LineRecord, reason: string) =>
    rejects.push(
      toRejectedRow({ source: opts.sourceName, node: opts.node, offset: line.offset, reason, raw: line.raw, receivedAt: Date.now() }),
    );

  /** Processes one line; true when the batch is full (the caller awaits the flush, keeping this path sync). */
  const handle = (line: LineRecord, p: LineParser | undefined): boolean => {
    stats.lines++;
    const cut = line.partial ? opts.partialReason?.() : undefined;
    // Blank lines carry nothing; they still count towards the batch so batch boundaries stay deterministic.
    if (line.raw.length === 0 && !line.tooLong) stats.skipped++;
    else if (cut) reject(line, cut);
    else if (line.tooLong) reject(line, `line longer than ${opts.maxLineBytes} bytes (first bytes kept)`);
    else if (!p) throw new Error('a non-blank line reached the parser before the format was known');
    else {
      // toString() without arguments is Buffer's direct UTF-8 path; with 'utf8' it goes through encoding dispatch.
      const parsed = p.parse(line.raw.toString());
      if (!parsed.ok) {
        if (parsed.skip) stats.skipped++;
        else reject(line, parsed.reason);
      }
      else {
        const built = builder.buildRow(parsed.record, line.offset);
        if (!('type' in built)) (built.warmup ? warmups : events).push(built);
        else if (built.type === 'reject') reject(line, built.reason);
        else stats.skipped++;
      }
    }
    return ++batchCount >= opts.batchLines;
  };

  const detect = async () => {
    const sample = pendingDetection.filter(sampleable).map((l) => l.raw.toString('utf8'));
    const format = detectFormat(sample);
    if (!format)
      throw new ModcastError(
        ErrorCodes.FORMAT_UNKNOWN,
        `cannot detect the log format of ${opts.sourceName} from its first ${sample.length} lines; pass ${opts.formatOption ?? '--format'} (nginx, athens-text, athens-json, artifactory, jsonl)`,
      );
    const detected = createParser(format, parserOptions(opts));
    parser = detected;
    stats.format = format;
    for (const l of pendingDetection.splice(0)) if (handle(l, detected)) await flush(l.end);
  };

  for await (const lines of readLines(stream, { startOffset: opts.startOffset ?? 0, maxLineBytes: opts.maxLineBytes })) {
    for (const line of lines) {
      lastEnd = line.end;
      if (parser) {
        if (handle(line, parser)) await flush(line.end);
      }
      // Leading blank lines need no parser: handled at once, so a log opening with thousands of them is not held.
      else if (pendingDetection.length === 0 && line.raw.length === 0 && !line.tooLong) {
        if (handle(line, undefined)) await flush(line.end);
      } else {
        // Detection samples records, not blank lines; the bound on all held lines keeps memory small either way.
        pendingDetection.push(line);
        if (sampleable(line)) sampled++;
        if (sampled >= (opts.detectLines ?? 50) || pendingDetection.length >= MAX_PENDING_LINES) await detect();
      }
    }
  }
  if (!parser && pendingDetection.length > 0) await detect();
  if (batchCount > 0) await flush(lastEnd);
  await inFlight;
  return stats;
}

/** Most lines held while the format is still unknown (records sparse among blank lines). */
const MAX_PENDING_LINES = 10_000;

/** A line format detection can learn from: not blank, not whitespace only, not cut. */
function sampleable(l: LineRecord): boolean {
  if (l.tooLong || l.raw.length === 0) return false;
  for (const b of l.raw) if (b !== 32 && b !== 9 && b !== 13) return true;
  return false;
}

function parserOptions(opts: IngestOptions): { jsonFields?: JsonFieldMap } {
  return opts.jsonFields ? { jsonFields: opts.jsonFields } : {};
}
