/**
 * `modcast ship`: runs on a proxy node. Tails its access logs, parses each line with the foundation's parsers,
 * and produces events to `modcast.access` and rejected lines, with their original bytes, to `modcast.rejected`
 * (key = source). Events go in batch messages (schema v2): one message holds events of one source bound for one
 * partition, the partition being the one Kafka's default partitioner gives the module as key, so one module's
 * events stay ordered in one partition.
 *
 * Pipelined: up to `inFlightBatches` batches are out at once, each split over the producer's lanes by partition
 * (a lane sends its requests one at a time, in order). Checkpoints move strictly in batch order: a file's
 * checkpoint moves only after the broker acknowledged every line before it, in this batch and all earlier ones.
 * After `kill -9` the shipper resends from there (at least once); the ingestor drops what it already has.
 */
import type { Logger } from '../lib/logger.js';
import type { AccessEvent } from '../domain/event.js';
import type { LineParser, LogFormat } from '../logs/parser.js';
import { createParser, detectFormat, type ParserOptions } from '../logs/detect.js';
import { EventBuilder } from '../logs/to-event.js';
import type { LineRecord } from '../logs/lines.js';
import { AccessBatchBuilder, encodeRejected } from '../kafka/messages.js';
import { KeyPartitioner } from '../kafka/partitioner.js';
import type { OutgoingMessage, TopicMessages } from '../kafka/types.js';
import { counter, gauge } from '../lib/metrics-registry.js';
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
  /** A batch is sent when it holds this many events and rejected lines, or bytes, or after lingerMs. */
  batchMessages?: number;
  batchBytes?: number;
  lingerMs?: number;
  /** Batches sent and not yet acknowledged at most; reading waits while that many are out (bounded memory). */
  inFlightBatches?: number;
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

/** A batch message is closed at this many events or (estimated) bytes, far below the broker's 1 MB limit. */
const MESSAGE_EVENTS = 1000;
const MESSAGE_BYTES = 256 * 1024;

/** One batch of the shipper: batch messages per partition, rejected lines, and the checkpoints it moves. */
export class OutgoingBatch {
  /** Per partition, the closed batch messages, each source's in line order. */
  readonly access = new Map<number, OutgoingMessage[]>();
  /** Per partition and source, the message being filled. */
  private readonly open = new Map<string, { partition: number; builder: AccessBatchBuilder }>();
  readonly rejected: OutgoingMessage[] = [];
  /** Per source, the offset its checkpoint moves to once this batch is acknowledged. */
  readonly ends = new Map<string, { source: TailedSource; end: number }>();
  bytes = 0;
  lines = 0;
  /** Events and rejected lines. */
  records = 0;
  readonly startedAt = Date.now();

  get empty(): boolean {
    return this.lines === 0;
  }

  addEvent(partition: number, src: string, event: AccessEvent, off: number): void {
    const key = `${partition}|${src}`;
    let slot = this.open.get(key);
    if (!slot) {
      slot = { partition, builder: new AccessBatchBuilder(src, event.node, event.region) };
      this.open.set(key, slot);
    }
    const before = slot.builder.bytes;
    slot.builder.add(event, off);
    this.bytes += slot.builder.bytes - before;
    this.records++;
    if (slot.builder.size >= MESSAGE_EVENTS || slot.builder.bytes >= MESSAGE_BYTES) this.close(slot.partition, slot.builder);
  }

  addRejected(message: OutgoingMessage): void {
    this.rejected.push(message);
    this.bytes += message.value.length;
    this.records++;
  }

  /** Closes the messages still being filled; the batch is complete. */
  seal(): void {
    for (const { partition, builder } of this.open.values()) if (builder.size > 0) this.close(partition, builder);
    this.open.clear();
  }

  private close(partition: number, builder: AccessBatchBuilder): void {
    const list = this.access.get(partition) ?? [];
    list.push({ key: builder.src, partition, value: builder.take() });
    this.access.set(partition, list);
  }
}

export class Shipper {
  readonly stats: ShipperStats = { lines: 0, events: 0, rejected: 0, skipped: 0, batches: 0 };
  private readonly parsing = new Map<string, SourceParsing>();
  private readonly batchMessages: number;
  private readonly batchBytes: number;
  private readonly lingerMs: number;
  private readonly inFlightBatches: number;
  private partitioner: KeyPartitioner | undefined;
  /** Per lane, the end of its chain of sends (false once one was not acknowledged: later ones are not sent). */
  private laneTails: Promise<boolean>[] = [];
  /** Per batch out, in order: resolves once it and every earlier batch are acknowledged and checkpointed. */
  private retirements: Promise<boolean>[] = [];
  private lastRetirement: Promise<boolean> = Promise.resolve(true);

  constructor(private readonly options: ShipperOptions) {
    this.batchMessages = options.batchMessages ?? 10_000;
    this.batchBytes = options.batchBytes ?? 1024 * 1024;
    this.lingerMs = options.lingerMs ?? 200;
    this.inFlightBatches = Math.max(1, options.inFlightBatches ?? 3);
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
    // Sends stop drainMs after the shipper was told to stop: the batches out get that long to be acknowledged.
    const sending = new AbortController();
    let drainTimer: NodeJS.Timeout | undefined;
    const startDrain = () => (drainTimer = setTimeout(() => sending.abort(), drainMs));
    if (signal.aborted) startDrain();
    else signal.addEventListener('abort', startDrain, { once: true });
    this.laneTails = new Array<Promise<boolean>>(this.options.sender.lanes).fill(Promise.resolve(true));
    try {
      if (!(await this.refreshPartitions(signal))) return;
      let batch = new OutgoingBatch();
      while (!signal.aborted) {
        const wait = batch.empty ? 1000 : Math.max(0, batch.startedAt + this.lingerMs - Date.now());
        const chunk = await tailer.next(wait, signal);
        if (chunk) this.add(batch, chunk);
        const due = !chunk || Date.now() - batch.startedAt >= this.lingerMs;
        if (!batch.empty && (due || batch.records >= this.batchMessages || batch.bytes >= this.batchBytes)) {
          this.dispatch(batch, sending.signal);
          // Bounded memory: nothing more is read while inFlightBatches batches are not acknowledged.
          if (!(await this.retire(this.inFlightBatches - 1))) break;
          if (!(await this.refreshPartitions(signal))) break;
          batch = new OutgoingBatch();
        }
      }
      if (!batch.empty) this.dispatch(batch, sending.signal);
      await this.retire(0);
    } finally {
      clearTimeout(drainTimer);
      signal.removeEventListener('abort', startDrain);
    }
  }

  /** Reads the access topic's partition count (cached by the producer); false if stopped before it is known. */
  private async refreshPartitions(signal: AbortSignal): Promise<boolean> {
    const count = await this.options.sender.partitionCount(this.options.topics.access, signal);
    if (count === undefined) return false;
    if (this.partitioner) this.partitioner.setPartitions(count);
    else this.partitioner = new KeyPartitioner(count);
    return true;
  }

  /**
   * Sends a batch: each lane gets the messages of its partitions (lane = partition mod lanes; rejected lines on
   * lane 0) after the lane's earlier sends. Its checkpoints are written once it and all earlier batches are acked.
   */
  private dispatch(batch: OutgoingBatch, signal: AbortSignal): void {
    const { sender, topics } = this.options;
    batch.seal();
    const perLane: TopicMessages[][] = this.laneTails.map(() => []);
    for (const [partition, messages] of batch.access) perLane[partition % perLane.length]!.push({ topic: topics.access, messages });
    if (batch.rejected.length > 0) perLane[0]!.push({ topic: topics.rejected, messages: batch.rejected });
    const sends: Promise<boolean>[] = [];
    perLane.forEach((messages, lane) => {
      if (messages.length === 0) return;
      const sent = this.laneTails[lane]!.then((ok) => ok && sender.send(messages, signal, lane));
      this.laneTails[lane] = sent;
      sends.push(sent);
    });
    const acked = Promise.all(sends).then((oks) => oks.every(Boolean));
    const retired = this.lastRetirement.then(async (earlierOk) => {
      if (!earlierOk || !(await acked)) return false;
      await this.checkpoint(batch);
      return true;
    });
    this.lastRetirement = retired;
    this.retirements.push(retired);
  }

  /** Waits until at most `keep` batches are out; false once one was not acknowledged (stopping). */
  private async retire(keep: number): Promise<boolean> {
    while (this.retirements.length > keep) {
      if (!(await this.retirements.shift()!)) return false;
    }
    return true;
  }

  private async checkpoint(batch: OutgoingBatch): Promise<void> {
    await this.options.hooks?.afterAck?.({ messages: batch.records, lines: batch.lines });
    for (const { source, end } of batch.ends.values()) this.options.tailer.acknowledge(source, end);
    this.stats.batches++;
    batchesTotal.inc();
  }

  private add(batch: OutgoingBatch, chunk: TailChunk): void {
    const { source } = chunk;
    const parsing = this.parsingFor(source, chunk.lines);
    const { stats } = this;
    const before = { events: stats.events, rejected: stats.rejected, skipped: stats.skipped };
    for (const line of chunk.lines) {
      const outcome: LineOutcome =
        chunk.damaged && line.partial && line.raw.length > 0 ? { type: 'reject', reason: chunk.damaged } : this.classify(line, parsing);
      if (outcome.type === 'event') {
        batch.addEvent(this.partitioner!.partition(outcome.event.module), source.src, outcome.event, line.offset);
        stats.events++;
      } else if (outcome.type === 'reject') {
        const value = encodeRejected(
          { source: source.path, node: this.options.node, offset: line.offset, reason: outcome.reason, raw: line.raw, receivedAt: Date.now() },
          source.src,
        );
        batch.addRejected({ key: source.src, value });
        stats.rejected++;
      } else {
        stats.skipped++;
      }
    }
    stats.lines += chunk.lines.length;
    batch.lines += chunk.lines.length;
    // Counted per chunk, not per line: the metric costs more than a line's encoding.
    linesTotal.labels('event').inc(stats.events - before.events);
    linesTotal.labels('rejected').inc(stats.rejected - before.rejected);
    linesTotal.labels('skipped').inc(stats.skipped - before.skipped);
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
