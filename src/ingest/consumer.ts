/**
 * The Kafka ingestor (`modcast consume`): one member of the ingest consumer group. It reads `modcast.access`
 * (events) and `modcast.rejected` (rejected log lines) and stores them in ClickHouse exactly once.
 *
 * A `modcast.access` message carries one event (schema v1, older shippers) or many (v2); ranges are cut so that an
 * insert holds about `batchRows` events. Per partition, batch by batch:
 *   1. record the offset range in the batch log (ingest_batches), then commit the range's start offset: a fenced
 *      commit that fails if the group moved on, proving the next owner will see the record;
 *   2. drop lines a restarted shipper sent again (per source, a line offset not above the highest already seen);
 *   3. send unreadable messages (a batch message with one bad event included, whole) to the dead-letter topic;
 *   4. insert events and rejects with the token `kafka:<topic>:<partition>:<from>-<to>`;
 *   5. commit `to + 1`.
 * A member that takes a partition first replays the recorded ranges at or after the committed offset, cut exactly
 * as recorded, so a range inserted but never committed repeats its token and ClickHouse drops it. A range only ever
 * holds messages fetched in a row from its start, and a member commits only for partition states of its current
 * assignment (docs/kafka.md, "Exactly once").
 * ClickHouse unavailable: the partition is paused and the step retried with backoff, nothing committed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../store/client.js';
import { EventWriter } from '../store/event-writer.js';
import type { AccessEventRow, RejectedRow } from '../store/event-rows.js';
import type { BatchControl, ConsumedMessage, GroupConsumer, KafkaClient, PartitionBatch, Producer } from '../kafka/types.js';
import { decodeAccessMessage, decodeRejected, type DecodedMessage } from '../kafka/messages.js';
import { backoffDelay, withRetry } from '../lib/retry.js';
import { counter, gauge, ingestEventsTotal, ingestRejectedTotal } from '../lib/metrics-registry.js';
import { BatchLog, epochMetadata, nextEpoch } from './batch-log.js';
import type { BatchRange, PartitionRef } from '../store/queries/ingest-batches.js';
import { DeadLetterQueue, deadLetterRow, type DeadLetter } from '../kafka/dlq.js';

const batchesTotal = counter('modcast_kafka_ingest_batches_total', 'Kafka ranges stored, new or replayed after a takeover', ['mode'] as const);
const duplicatesTotal = counter('modcast_kafka_ingest_duplicates_total', 'Lines a restarted shipper sent again, dropped by the ingestor');
const deadLettersTotal = counter('modcast_kafka_ingest_dead_letters_total', 'Unreadable Kafka messages sent to the dead-letter topic');
const retriesTotal = counter('modcast_kafka_ingest_retries_total', 'Failed store or broker steps retried (partition paused meanwhile)', ['step'] as const);
const stallsTotal = counter('modcast_kafka_ingest_stalls_total', 'Consumer restarts after no batch came for the stall time while the group had messages waiting');
const lagGauge = gauge('modcast_kafka_consumer_lag_messages', 'Messages in the partition after the last committed batch', ['topic', 'partition'] as const);

export interface BatchInfo {
  topic: string;
  partition: number;
  from: number;
  to: number;
  epoch: number;
  replay: boolean;
  events: number;
  rejects: number;
  duplicates: number;
  deadLetters: number;
}

export interface IngestorHooks {
  /** After the range is stored, before its offsets are committed (a crash here makes a redelivery). */
  afterInsert?: (b: BatchInfo) => void | Promise<void>;
  afterCommit?: (b: BatchInfo) => void | Promise<void>;
}

export interface IngestorOptions {
  client: KafkaClient;
  store: Store;
  kafka: Pick<Config['kafka'], 'groupId' | 'topics' | 'sessionTimeoutMs' | 'dedupHorizonHours'>;
  /** Events per insert: a range ends with the message that reaches this many (at least one message). */
  batchRows: number;
  /** How long the broker may hold a fetch to fill a batch. */
  maxWaitMs: number;
  logger: Logger;
  partitionsConcurrently?: number;
  hooks?: IngestorHooks;
  /** No batch for this long, with partitions held and messages waiting: restart the consumer (default: max(30 s, 2 × session timeout)). */
  stallMs?: number;
}

export interface IngestorStats {
  batches: number;
  replayed: number;
  events: number;
  rejects: number;
  deadLetters: number;
  duplicates: number;
  /** Lines the store had already, from another path (`modcast ingest --file` of a shipped log) or an earlier insert. */
  alreadyStored: number;
  retries: number;
}

type TopicRole = 'access' | 'rejected';

interface PartitionState {
  /** `topic|partition`: where this state sits in the ingestor's map while its owner holds the partition. */
  key: string;
  ref: PartitionRef;
  role: TopicRole;
  epoch: number;
  /** Next offset to store; everything before it is committed. */
  position: number;
  /** Recorded ranges still to replay, in order, the first starting at `position`. */
  pending: BatchRange[];
  /** Per shipper source, the highest line offset already seen in this partition. */
  sources: Map<string, number>;
  /** Messages taken from Kafka (decoded once) while a range is not complete yet (recorded, or short of batchRows). */
  buffer: Taken[];
  /** When the oldest message in `buffer` was taken. */
  bufferedSince: number;
}

interface Taken {
  message: ConsumedMessage;
  decoded: DecodedMessage<AccessEventRow | RejectedRow>;
}

/** The batch was left uncommitted on purpose (stopping, or the partition went to a new assignment): it comes again. */
class Abandoned extends Error {}

/** Seeks back to one offset before the messages skipped there are taken as absent from the log (see seekBack). */
const SEEKS_BEFORE_GAP = 3;

/** Tries of a whole start (connect, join) before it fails: about 20 s of backoff (1, 2, 4, 8, 15 s caps, jittered). */
const START_ATTEMPTS = 6;

export class Ingestor {
  readonly stats: IngestorStats = { batches: 0, replayed: 0, events: 0, rejects: 0, deadLetters: 0, duplicates: 0, alreadyStored: 0, retries: 0 };
  private consumer: GroupConsumer | undefined;
  private producer: Producer | undefined;
  private readonly writer: EventWriter;
  private readonly log: BatchLog;
  private readonly states = new Map<string, PartitionState>();
  /** Per partition, the offset this member last sought back to and how often in a row (see seekBack). */
  private readonly seeks = new Map<string, { offset: number; times: number }>();
  /** Replaced (a new map) on every assignment and restart: a takeover begun under an older one is dropped. */
  private assignmentNow = new Map<string, number[]>();
  private readonly stopping = new AbortController();
  /** A restart after a fatal consumer crash, while one is under way. */
  private restarting: Promise<void> | undefined;
  /** When a batch last came or finished, and how many are being handled: what the stall watchdog reads. */
  private lastBatchAt = Date.now();
  private batchesInFlight = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly options: IngestorOptions) {
    this.writer = new EventWriter(options.store, { attempts: 1 });
    this.log = new BatchLog(options.store, options.kafka.dedupHorizonHours);
  }

  /** Topic → partitions this member owns now. */
  get assignment(): ReadonlyMap<string, number[]> {
    return this.assignmentNow;
  }

  /**
   * Connects and joins the group. A broker of the cluster may be down while an ingestor starts (metadata or the
   * group's coordinator still naming it) and kafkajs' own retries end within seconds: the whole start is tried again
   * with backoff, as after a crash, and fails only after START_ATTEMPTS.
   */
  async start(): Promise<void> {
    await withRetry(
      async () => {
        try {
          if (!this.producer) {
            const producer = this.options.client.producer();
            await producer.connect().catch(async (e: unknown) => {
              await producer.disconnect().catch(() => undefined);
              throw e;
            });
            this.producer = producer;
          }
          await this.runConsumer();
        } catch (e) {
          await this.consumer?.disconnect().catch(() => undefined);
          throw e;
        }
      },
      {
        attempts: START_ATTEMPTS,
        baseMs: 1000,
        maxMs: 15_000,
        signal: this.stopping.signal,
        onRetry: (err, attempt, delayMs) => this.options.logger.warn({ attempt, delayMs, err: (err as Error).message }, 'Kafka consumer start failed; retrying'),
      },
    );
    this.watchStalls();
  }

  /**
   * A consumer that still has partitions but gets no batch while the group has messages waiting is restarted, as
   * after a crash. kafkajs can stop fetching for good without crashing after a partition leader is killed (seen in
   * kafka-cluster: one member idle for 85 s with 347 messages waiting, while a second member stored them).
   */
  private watchStalls(): void {
    const { kafka, logger, client } = this.options;
    const stallMs = this.options.stallMs ?? Math.max(30_000, 2 * kafka.sessionTimeoutMs);
    let checking = false;
    this.watchdog = setInterval(() => {
      if (checking || this.restarting || this.stopping.signal.aborted || this.batchesInFlight > 0) return;
      if (this.assignmentNow.size === 0 || Date.now() - this.lastBatchAt < stallMs) return;
      checking = true;
      const admin = client.admin();
      void (async () => {
        try {
          await admin.connect();
          const waiting = await admin.groupLag(kafka.groupId, [kafka.topics.access, kafka.topics.rejected]);
          if (waiting <= 0 || this.batchesInFlight > 0 || Date.now() - this.lastBatchAt < stallMs || this.restarting || this.stopping.signal.aborted) {
            if (waiting <= 0) this.lastBatchAt = Date.now();
            return;
          }
          stallsTotal.inc();
          logger.warn({ waiting, idleMs: Date.now() - this.lastBatchAt }, 'Kafka consumer stalled with messages waiting; restarting it');
          this.lastBatchAt = Date.now();
          this.restartOnce(this.consumer!);
        } catch (e) {
          logger.warn({ err: (e as Error).message }, 'stall check failed');
        } finally {
          await admin.disconnect().catch(() => undefined);
          checking = false;
        }
      })();
    }, Math.min(10_000, stallMs / 3));
    this.watchdog.unref();
  }

  /** Finishes the batches in progress (stored and committed, or left for redelivery), leaves the group, disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.watchdog);
    this.stopping.abort();
    await this.restarting;
    try {
      await this.consumer?.disconnect();
    } finally {
      await this.producer?.disconnect();
    }
  }

  private async runConsumer(): Promise<void> {
    const { client, kafka, logger } = this.options;
    const consumer = client.consumer({
      groupId: kafka.groupId,
      sessionTimeoutMs: kafka.sessionTimeoutMs,
      // The broker holds a fetch until ~1 MiB is there or maxWaitMs passed: fewer, bigger inserts.
      minBytes: 1024 * 1024,
      maxWaitMs: this.options.maxWaitMs,
    });
    this.consumer = consumer;
    consumer.on({
      assigned: (assignment) => {
        // kafkajs restarts every partition from its committed offset after a join: so do we.
        this.states.clear();
        this.seeks.clear();
        this.assignmentNow = new Map(assignment);
        logger.info({ assignment: Object.fromEntries(assignment) }, 'partitions assigned');
      },
      crashed: (error, restarting) => {
        logger.error({ err: error.message, restarting }, 'Kafka consumer crashed');
        // kafkajs gives up for good on errors it deems fatal (e.g. a member the coordinator forgot): start over.
        if (!restarting && !this.stopping.signal.aborted) this.restartOnce(consumer);
      },
    });
    await consumer.connect();
    await consumer.subscribe([kafka.topics.access, kafka.topics.rejected], { fromBeginning: true });
    await consumer.run((batch, control) => this.onBatch(batch, control), { partitionsConcurrently: this.options.partitionsConcurrently ?? 2 });
  }

  /** Starts restartAfterCrash unless a restart is already under way (a crash and a stall may both ask). */
  private restartOnce(consumer: GroupConsumer): void {
    this.restarting ??= this.restartAfterCrash(consumer).finally(() => (this.restarting = undefined));
  }

  private async restartAfterCrash(crashed: GroupConsumer): Promise<void> {
    this.states.clear();
    this.assignmentNow = new Map();
    await crashed.disconnect().catch(() => undefined);
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      await sleep(backoffDelay(attempt, 1000, 15_000), undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (this.stopping.signal.aborted) return;
      try {
        await this.runConsumer();
        this.options.logger.info({ attempt }, 'Kafka consumer restarted');
        return;
      } catch (e) {
        this.options.logger.warn({ attempt, err: (e as Error).message }, 'Kafka consumer restart failed; retrying');
        await this.consumer?.disconnect().catch(() => undefined);
      }
    }
  }

  private roleOf(topic: string): TopicRole {
    return topic === this.options.kafka.topics.rejected ? 'rejected' : 'access';
  }

  private async onBatch(batch: PartitionBatch, control: BatchControl): Promise<void> {
    this.batchesInFlight++;
    this.lastBatchAt = Date.now();
    try {
      await this.handleBatch(batch, control);
    } finally {
      this.batchesInFlight--;
      this.lastBatchAt = Date.now();
    }
  }

  private async handleBatch(batch: PartitionBatch, control: BatchControl): Promise<void> {
    const key = `${batch.topic}|${batch.partition}`;
    // Fetched before a seek or a rebalance: the next fetch brings these messages again, from the right place.
    if (!control.isActive()) return;
    let state = this.states.get(key);
    try {
      if (!state) {
        const assignment = this.assignmentNow;
        state = await this.takeOver(key, batch, control);
        // A new assignment came while taking over: the partition is taken over again under it.
        if (!state || assignment !== this.assignmentNow) return;
        this.states.set(key, state);
      }
      if (state.buffer.length === 0) state.bufferedSince = Date.now();
      // From the next offset on, never a message already buffered (a fetch that repeats offsets after a retry).
      const next = (state.buffer.at(-1)?.message.offset ?? state.position - 1) + 1;
      const first = batch.messages.find((m) => m.offset >= next);
      // Messages skipped between what is buffered and this batch: fetch from `next` rather than store over the gap.
      if (first && first.offset > next && this.seekBack(key, batch, next)) return;
      if (first) this.seeks.delete(key);
      for (const message of batch.messages) {
        if (message.offset < next) continue;
        state.buffer.push({ message, decoded: this.decode(state.role, message) });
      }
      await this.drain(state, batch, control);
    } catch (e) {
      // Whatever happened, the next batch of this partition starts again from the committed offset: messages
      // taken (resolved) but not committed, a short range waiting for the next fetch included, are fetched again.
      // (Only this batch's own state: a newer owner's, after a rebalance, is left alone.)
      if (state && this.states.get(key) === state) this.states.delete(key);
      if (e instanceof Abandoned) return;
      throw e;
    }
  }

  /**
   * Seeks the partition back to `offset` and says so (true); the batch in hand is dropped, its messages come again.
   * After SEEKS_BEFORE_GAP seeks in a row to the same offset that still bring a later first message, the offsets in
   * between are taken as absent from the log (false): deleted by retention, or not data (transaction markers).
   */
  private seekBack(key: string, batch: PartitionBatch, offset: number): boolean {
    const last = this.seeks.get(key);
    const times = last?.offset === offset ? last.times + 1 : 1;
    if (times > SEEKS_BEFORE_GAP) {
      this.seeks.delete(key);
      this.options.logger.warn({ topic: batch.topic, partition: batch.partition, from: offset, first: batch.messages[0]!.offset }, 'offsets missing from the log after seeking back to them; going on from the first one there');
      return false;
    }
    this.seeks.set(key, { offset, times });
    this.consumer!.seek(batch.topic, batch.partition, offset);
    return true;
  }

  /** Whether `state` is still this member's state of its partition (not left behind by a rebalance or restart). */
  private owns(state: PartitionState): boolean {
    return this.states.get(state.key) === state;
  }

  private decode(role: TopicRole, m: ConsumedMessage): DecodedMessage<AccessEventRow | RejectedRow> {
    if (role === 'access') return decodeAccessMessage(m.value);
    const d = decodeRejected(m.value);
    return d.ok ? { ok: true, events: [{ src: d.src, off: d.off, value: d.value }] } : d;
  }

  /** First batch of a partition since this member got it: claim it, load what to replay and the seen sources. */
  private async takeOver(key: string, batch: PartitionBatch, control: BatchControl): Promise<PartitionState | undefined> {
    const consumer = this.consumer!;
    const { topic, partition } = batch;
    const ref: PartitionRef = { group: this.options.kafka.groupId, topic, partition };
    const committed = await consumer.committed(topic, partition);
    const first = batch.messages[0]!.offset;
    let start = committed.offset ?? first;
    if (first > start) {
      // Fetching is ahead of the committed offset (a batch fetched before a rebalance, or a range left half done):
      // go back to it. Only messages that retention deleted are skipped.
      const low = await this.untilDone('first-offset', ref, control, () => consumer.firstOffset(topic, partition));
      if (low > start) this.options.logger.warn({ topic, partition, committed: start, first: low }, 'messages before the first available offset were deleted by retention');
      start = Math.max(start, low);
      if (first > start) {
        if (this.seekBack(key, batch, start)) return undefined;
        start = first;
      }
    }
    this.seeks.delete(key);
    const epoch = nextEpoch(committed.metadata);
    // Fenced by the group generation: from here on, records made under an older epoch lose to ours.
    await consumer.commit(topic, partition, start, epochMetadata(epoch));
    const pending = await this.untilDone('batch-log', ref, control, () => this.log.pending(ref, start));
    const sources = await this.untilDone('batch-log', ref, control, () => this.log.sourceOffsets(ref, start));
    if (pending.length > 0) this.options.logger.info({ topic, partition, from: start, ranges: pending.length, epoch }, 'replaying recorded batches');
    return { key, ref, role: this.roleOf(topic), epoch, position: start, pending, sources, buffer: [], bufferedSince: Date.now() };
  }

  private async drain(state: PartitionState, batch: PartitionBatch, control: BatchControl): Promise<void> {
    while (state.buffer.length > 0) {
      if (this.stopping.signal.aborted || !control.isActive() || !this.owns(state)) return;
      const replay = state.pending[0];
      let range: { from: number; to: number };
      if (replay) {
        const last = state.buffer[state.buffer.length - 1]!.message.offset;
        if (last < replay.to) {
          // The recorded range is longer than what this fetch returned: take more before cutting it.
          control.resolve(last);
          return;
        }
        range = replay;
      } else {
        let take = 0;
        let events = 0;
        for (; take < state.buffer.length && events < this.options.batchRows; take++) {
          const { decoded } = state.buffer[take]!;
          events += decoded.ok ? decoded.events.length : 1;
        }
        const last = state.buffer[take - 1]!.message.offset;
        if (events < this.options.batchRows && last + 1 < batch.highWatermark && Date.now() - state.bufferedSince < this.options.maxWaitMs) {
          // Short of a full insert while the partition has more to give: take the next fetch first (fewer, bigger
          // inserts). A partition that is caught up, or waited maxWaitMs, is stored at once.
          control.resolve(last);
          return;
        }
        range = { from: state.position, to: last };
      }
      let n = 0;
      while (n < state.buffer.length && state.buffer[n]!.message.offset <= range.to) n++;
      const messages = state.buffer.slice(0, n);
      await this.store(state, range, messages, replay !== undefined, control);
      state.buffer.splice(0, n);
      state.bufferedSince = Date.now();
      if (replay) state.pending.shift();
      lagGauge.labels(batch.topic, String(batch.partition)).set(Math.max(0, batch.highWatermark - state.position));
    }
  }

  private async store(
    state: PartitionState,
    range: { from: number; to: number },
    messages: Taken[],
    replay: boolean,
    control: BatchControl,
  ): Promise<void> {
    const consumer = this.consumer!;
    const { ref } = state;
    const sources = new Map(state.sources);
    const rangeSources = new Map<string, number>();
    const events: AccessEventRow[] = [];
    const rejects: RejectedRow[] = [];
    const letters: DeadLetter[] = [];
    let duplicates = 0;
    const rows: (AccessEventRow | RejectedRow)[] = state.role === 'access' ? events : rejects;
    for (const { message: m, decoded } of messages) {
      if (!decoded.ok) {
        letters.push({ topic: ref.topic, partition: ref.partition, offset: m.offset, key: m.key, value: m.value, error: decoded.error });
        continue;
      }
      for (const { src, off, value } of decoded.events) {
        if ((rangeSources.get(src) ?? -1) < off) rangeSources.set(src, off);
        const seen = sources.get(src);
        if (seen !== undefined && off <= seen) {
          duplicates++;
          continue;
        }
        sources.set(src, off);
        rows.push(value);
      }
    }

    // kafkajs heartbeats only when asked: between steps, so a slow batch does not get this member dropped.
    await control.heartbeat();
    if (!replay) {
      await this.untilDone('batch-log', ref, control, () =>
        this.log.record(ref, { ...range, epoch: state.epoch, messages: messages.length, sourceOffsets: rangeSources }),
      );
      // Still the owner after the record is durable? (Fenced commit of the range start: nothing new committed.)
      this.assertOwns(state);
      await consumer.commit(ref.topic, ref.partition, range.from, epochMetadata(state.epoch));
    }
    await this.untilDone('dead-letters', ref, control, () => this.deadLetters().send(letters));
    const at = Date.now();
    const allRejects = letters.length > 0 ? [...rejects, ...letters.map((d) => deadLetterRow(d, at))] : rejects;
    const { alreadyStored } = await this.untilDone('insert', ref, control, () =>
      this.writer.write({
        token: `kafka:${ref.topic}:${ref.partition}:${range.from}-${range.to}`,
        // modcast's own warm-up fetches are kept apart, never demand.
        events: events.some((e) => e.warmup) ? events.filter((e) => !e.warmup) : events,
        rejects: allRejects,
        warmups: events.filter((e) => e.warmup),
      }),
    );
    const info: BatchInfo = {
      ...range,
      topic: ref.topic,
      partition: ref.partition,
      epoch: state.epoch,
      replay,
      events: events.length,
      rejects: rejects.length,
      duplicates,
      deadLetters: letters.length,
    };
    await this.options.hooks?.afterInsert?.(info);
    await control.heartbeat();
    // kafkajs retries a commit across a rejoin, under the new generation: a member whose partition went to another
    // must not commit for it (the next owner replays this range by its token instead).
    this.assertOwns(state);
    await consumer.commit(ref.topic, ref.partition, range.to + 1, epochMetadata(state.epoch));
    control.resolve(range.to);
    state.position = range.to + 1;
    state.sources = sources;

    this.stats.batches++;
    if (replay) this.stats.replayed++;
    this.stats.events += events.length;
    this.stats.rejects += rejects.length;
    this.stats.deadLetters += letters.length;
    this.stats.duplicates += duplicates;
    this.stats.alreadyStored += alreadyStored;
    batchesTotal.labels(replay ? 'replay' : 'new').inc();
    ingestEventsTotal.labels('kafka').inc(events.length);
    ingestRejectedTotal.labels('kafka').inc(rejects.length + letters.length);
    duplicatesTotal.inc(duplicates);
    deadLettersTotal.inc(letters.length);
    await this.options.hooks?.afterCommit?.(info);
  }

  private assertOwns(state: PartitionState): void {
    if (!this.owns(state)) throw new Abandoned(`${state.key} was reassigned`);
  }

  private deadLetters(): DeadLetterQueue {
    return new DeadLetterQueue(this.producer!, this.options.kafka.topics.dlq, this.options.kafka.groupId);
  }

  /**
   * Retries a store or broker step with backoff while the partition is paused, heartbeating so the group keeps
   * this member. Stops (Abandoned) when the ingestor is stopping; a rebalance surfaces through the heartbeat.
   */
  private async untilDone<T>(step: string, ref: PartitionRef, control: BatchControl, fn: () => Promise<T>): Promise<T> {
    let paused = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          if (this.stopping.signal.aborted || !control.isActive()) throw new Abandoned(`stopping during ${step}`);
          if (!paused) {
            this.consumer!.pause(ref.topic, ref.partition);
            paused = true;
          }
          // Capped well below the session timeout: the heartbeat after the sleep keeps this member in the group.
          const delayMs = backoffDelay(attempt, 250, Math.min(10_000, this.options.kafka.sessionTimeoutMs / 3));
          this.stats.retries++;
          retriesTotal.labels(step).inc();
          this.options.logger.warn({ step, topic: ref.topic, partition: ref.partition, attempt, delayMs, err: (err as Error).message }, 'ingest step failed; partition paused, retrying');
          await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
          await control.heartbeat();
        }
      }
    } finally {
      if (paused) this.consumer!.resume(ref.topic, ref.partition);
    }
  }
}
