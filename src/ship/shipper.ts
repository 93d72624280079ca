/**
 * `modcast ship`: runs on a proxy node. Tails its access logs, parses each line with the foundation's parsers,
 * and produces events to `modcast.access` (key = module, so one module's events stay ordered in one partition) and
 * rejected lines, with their original bytes, to `modcast.rejected` (key = source). A file's checkpoint moves only
 * after the broker acknowledged every line before it: after `kill -9` the shipper resends from there (at least
 * once); the ingestor drops what it already has.
 */
import type { Logger } from '../lib/logger.js';
import type { AccessEvent } from '../domain/event.js';
import type { LineParser, LogFormat } from '../logs/parser.js';
import { createParser, detectFormat, type ParserOptions } from '../logs/detect.js';
import { EventBuilder } from '../logs/to-event.js';
import type { LineRecord } from '../logs/lines.js';
import { encodeAccessEvent, encodeRejected } from '../kafka/messages.js';
import type { OutgoingMessage } from '../kafka/types.js';
import { counter, gauge } from '../lib/metrics.js';
import type { TailChunk, TailedSource, Tailer } from './tailer.js';
import type { ReliableProducer } from './producer.js';

const linesTotal = counter('modcast_ship_lines_total', 'Log lines shipped, by outcome', ['outcome'] as const);
const batchesTotal = counter('modcast_ship_batches_total', 'Batches acknowledged by the broker');
const lagBytes = gauge('modcast_ship_lag_bytes', 'Bytes in followed log files not yet acknowledged by the broker', ['node'] as const);

export interface ShipperOptions {
  tailer: Tailer;
  sender: ReliableProducer;
  topics: { access: string; rejected: string };
  node: string;
  region: string;
  format: LogFormat | 'auto';
  parserOptions?: ParserOptions;
  pathPrefixes: readonly string[];
  clientSalt: string;
  maxLineBytes: number;
  /** A batch is sent when it holds this many messages or bytes, or after lingerMs. */
  batchMessages?: number;
  batchBytes?: number;
  lingerMs?: number;
  logger: Logger;
  hooks?: {
    /** After the broker acknowledged a batch, before its checkpoints are written (a crash here means a resend). */
    afterAck?: (batch: { messages: number; lines: number }) => void | Promise<void>;
  };
}

export interface ShipperStats {
  lines: number;
  events: number;
  rejected: number;
  skipped: number;
  batches: number;
}

interface SourceParsing {
  builder: EventBuilder;
  parser?: LineParser;
}

type LineOutcome = { type: 'event'; event: AccessEvent } | { type: 'reject'; reason: string } | { type: 'skip' };

class OutgoingBatch {
  readonly access: OutgoingMessage[] = [];
  readonly rejected: OutgoingMessage[] = [];
  /** Per source, the offset its checkpoint moves to once this batch is acknowledged. */
  readonly ends = new Map<string, { source: TailedSource; end: number }>();
  bytes = 0;
  lines = 0;
  readonly startedAt = Date.now();

  get empty(): boolean {
    return this.lines === 0;
  }

  get messages(): number {
    return this.access.length + this.rejected.length;
  }
}

export class Shipper {
  readonly stats: ShipperStats = { lines: 0, events: 0, rejected: 0, skipped: 0, batches: 0 };
  private readonly parsing = new Map<string, SourceParsing>();
  private readonly batchMessages: number;
  private readonly batchBytes: number;
  private readonly lingerMs: number;

  constructor(private readonly options: ShipperOptions) {
    this.batchMessages = options.batchMessages ?? 10_000;
    this.batchBytes = options.batchBytes ?? 1024 * 1024;
    this.lingerMs = options.lingerMs ?? 200;
  }

  /**
   * Ships until `signal` aborts. On abort the batch in hand gets `drainMs` to be acknowledged (then its
   * checkpoints are written); lines not acknowledged by then are sent again by the next run.
   */
  async run(signal: AbortSignal, drainMs = 10_000): Promise<void> {
    const { tailer, node } = this.options;
    // Measured on a timer, not in the loop: the loop stands still while the broker does not acknowledge.
    const measure = setInterval(() => void this.measureLag(), 1000);
    try {
      await this.loop(signal, drainMs);
    } finally {
      clearInterval(measure);
      await this.measureLag();
    }
  }

  private async measureLag(): Promise<void> {
    lagBytes.labels(this.options.node).set(await this.options.tailer.lagBytes().catch(() => 0));
  }

  private async loop(signal: AbortSignal, drainMs: number): Promise<void> {
    const { tailer } = this.options;
    let batch = new OutgoingBatch();
    while (!signal.aborted) {
      const wait = batch.empty ? 1000 : Math.max(0, batch.startedAt + this.lingerMs - Date.now());
      const chunk = await tailer.next(wait, signal);
      if (chunk) this.add(batch, chunk);
      const due = !chunk || Date.now() - batch.startedAt >= this.lingerMs;
      if (!batch.empty && (due || batch.messages >= this.batchMessages || batch.bytes >= this.batchBytes)) {
        if (!(await this.flush(batch, signal))) break;
        batch = new OutgoingBatch();
      }
    }
    if (!batch.empty) await this.flush(batch, AbortSignal.timeout(drainMs));
  }

  private async flush(batch: OutgoingBatch, signal: AbortSignal): Promise<boolean> {
    const { sender, topics, tailer } = this.options;
    const acked = await sender.send(
      [
        { topic: topics.access, messages: batch.access },
        { topic: topics.rejected, messages: batch.rejected },
      ],
      signal,
    );
    if (!acked) return false;
    await this.options.hooks?.afterAck?.({ messages: batch.messages, lines: batch.lines });
    for (const { source, end } of batch.ends.values()) tailer.acknowledge(source, end);
    this.stats.batches++;
    batchesTotal.inc();
    return true;
  }

  private add(batch: OutgoingBatch, chunk: TailChunk): void {
    const { source } = chunk;
    const parsing = this.parsingFor(source, chunk.lines);
    for (const line of chunk.lines) {
      const outcome = this.classify(line, parsing);
      this.stats.lines++;
      batch.lines++;
      if (outcome.type === 'event') {
        const value = encodeAccessEvent(outcome.event, { src: source.src, off: line.offset });
        batch.access.push({ key: outcome.event.module, value });
        batch.bytes += value.length;
        this.stats.events++;
        linesTotal.labels('event').inc();
      } else if (outcome.type === 'reject') {
        const value = encodeRejected(
          { source: source.path, node: this.options.node, offset: line.offset, reason: outcome.reason, raw: line.raw, receivedAt: Date.now() },
          source.src,
        );
        batch.rejected.push({ key: source.src, value });
        batch.bytes += value.length;
        this.stats.rejected++;
        linesTotal.labels('rejected').inc();
      } else {
        this.stats.skipped++;
        linesTotal.labels('skipped').inc();
      }
    }
    batch.ends.set(source.src, { source, end: chunk.end });
  }

  /** One parser and event builder per source; with `auto`, the format is detected from the source's lines. */
  private parsingFor(source: TailedSource, lines: readonly LineRecord[]): SourceParsing {
    let p = this.parsing.get(source.src);
    if (!p) {
      const { node, region, clientSalt, pathPrefixes, format, parserOptions } = this.options;
      p = { builder: new EventBuilder({ node, region, sourceId: source.src, clientSalt, pathPrefixes }) };
      if (format !== 'auto') p.parser = createParser(format, parserOptions);
      this.parsing.set(source.src, p);
    }
    if (!p.parser) {
      const sample = lines.filter((l) => !l.tooLong && l.raw.length > 0).slice(0, 50).map((l) => l.raw.toString('utf8'));
      const detected = detectFormat(sample, this.options.parserOptions);
      if (detected) {
        p.parser = createParser(detected, this.options.parserOptions);
        this.options.logger.info({ path: source.path, format: detected }, 'log format detected');
      }
    }
    return p;
  }

  private classify(line: LineRecord, parsing: SourceParsing): LineOutcome {
    if (line.tooLong) return { type: 'reject', reason: `line longer than ${this.options.maxLineBytes} bytes (first bytes kept)` };
    if (line.raw.length === 0) return { type: 'skip' };
    if (!parsing.parser) return { type: 'reject', reason: 'log format not recognised (pass --format)' };
    const parsed = parsing.parser.parse(line.raw.toString('utf8'));
    if (!parsed.ok) return parsed.skip ? { type: 'skip' } : { type: 'reject', reason: parsed.reason };
    const built = parsing.builder.build(parsed.record, line.offset);
    return built.type === 'skip' ? { type: 'skip' } : built;
  }
}
