/**
 * The Kafka ingestor's write-ahead batch log (table `ingest_batches`, pipelines/010_ingest_batches.sql).
 *
 * Why: ClickHouse drops a retried insert only when it carries the same dedup token, and a token derived from a
 * Kafka offset range repeats only if the retry cuts exactly the same range. Fetch sizes differ between runs, so
 * each range is recorded here before its insert; whoever takes the partition next replays the recorded ranges at
 * or after the committed offset first, exactly as recorded. See docs/kafka.md for the whole argument.
 */
import type { Store } from '../store/client.js';
import { queryRows } from '../store/client.js';

export interface PartitionRef {
  group: string;
  topic: string;
  partition: number;
}

export interface BatchRange {
  /** First offset of the range (inclusive): the position the range starts at. */
  from: number;
  /** Last offset of the range (inclusive): an offset of a message that exists. */
  to: number;
  /** Owner epoch that recorded it; for one `from`, the highest epoch is the one that may have been inserted. */
  epoch: number;
}

export interface RecordedBatch extends BatchRange {
  messages: number;
  /** Per shipper source: the highest line offset among the range's messages. */
  sourceOffsets: Map<string, number>;
}

/** Offset-commit metadata carrying the owner epoch; see `nextEpoch`. */
const EPOCH_PREFIX = 'modcast-epoch:';

export function epochMetadata(epoch: number): string {
  return `${EPOCH_PREFIX}${epoch}`;
}

/** The epoch a new owner takes: one above what the last owner committed (0 when there is none). */
export function nextEpoch(metadata: string | null): number {
  if (metadata?.startsWith(EPOCH_PREFIX)) {
    const n = Number(metadata.slice(EPOCH_PREFIX.length));
    if (Number.isSafeInteger(n) && n >= 0) return n + 1;
  }
  return 1;
}

/**
 * The ranges a new owner must replay, in order, starting at the committed offset: follow from `start` the range
 * recorded there (highest epoch wins), then the one starting after it, and so on. Ranges off that chain were
 * recorded by an owner that lost the partition before inserting them; they are ignored.
 */
export function replayChain(ranges: readonly BatchRange[], start: number): BatchRange[] {
  const byFrom = new Map<number, BatchRange>();
  for (const r of ranges) {
    const cur = byFrom.get(r.from);
    if (!cur || r.epoch > cur.epoch) byFrom.set(r.from, r);
  }
  const chain: BatchRange[] = [];
  for (let at = start, r = byFrom.get(at); r && r.to >= r.from; at = r.to + 1, r = byFrom.get(at)) chain.push(r);
  return chain;
}

export class BatchLog {
  constructor(
    private readonly store: Store,
    /** How far back source offsets are read (see kafka.dedupHorizonHours). */
    private readonly horizonHours: number,
  ) {}

  async record(ref: PartitionRef, batch: RecordedBatch): Promise<void> {
    await this.store.insert({
      table: 'ingest_batches',
      rows: [
        {
          consumer_group: ref.group,
          topic: ref.topic,
          partition: ref.partition,
          from_offset: batch.from,
          to_offset: batch.to,
          epoch: batch.epoch,
          messages: batch.messages,
          source_offsets: Object.fromEntries(batch.sourceOffsets),
        },
      ],
      format: 'JSONEachRow',
      // The record must be durable and visible before the insert it announces: never an async insert.
      settings: { async_insert: 0 },
    });
  }

  /** Recorded ranges a new owner replays (see replayChain). */
  async pending(ref: PartitionRef, committed: number): Promise<BatchRange[]> {
    const rows = await queryRows<{ from_offset: string; to_offset: string; epoch: string }>(
      this.store,
      `SELECT from_offset, to_offset, epoch FROM ingest_batches
       WHERE consumer_group = {group:String} AND topic = {topic:String} AND partition = {partition:UInt32}
         AND to_offset >= {committed:UInt64}
       ORDER BY from_offset, epoch`,
      { ...ref, committed },
    );
    return replayChain(
      rows.map((r) => ({ from: Number(r.from_offset), to: Number(r.to_offset), epoch: Number(r.epoch) })),
      committed,
    );
  }

  /**
   * Per shipper source, the highest line offset seen in the partition before `committed` (within the horizon).
   * A pure function of the log's content before that offset, whoever recorded the ranges and however they were cut.
   */
  async sourceOffsets(ref: PartitionRef, committed: number): Promise<Map<string, number>> {
    const rows = await queryRows<{ src: string; off: string }>(
      this.store,
      `SELECT src, max(off) AS off
       FROM ingest_batches
       ARRAY JOIN mapKeys(source_offsets) AS src, mapValues(source_offsets) AS off
       WHERE consumer_group = {group:String} AND topic = {topic:String} AND partition = {partition:UInt32}
         AND to_offset < {committed:UInt64} AND created_at >= now64(3) - toIntervalHour({hours:UInt32})
       GROUP BY src`,
      { ...ref, committed, hours: this.horizonHours },
    );
    return new Map(rows.map((r) => [r.src, Number(r.off)]));
  }
}
