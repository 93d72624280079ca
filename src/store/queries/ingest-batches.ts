/**
 * SQL of `ingest_batches` (pipelines/010_ingest_batches.sql): the Kafka ingestor's write-ahead batch log. What the
 * rows mean, and how a new owner replays them, is src/ingest/batch-log.ts's.
 */
import { queryRows, type Store } from '../client.js';

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

export async function insertBatchRange(store: Store, ref: PartitionRef, batch: RecordedBatch): Promise<void> {
  await store.insert({
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

/** Every range recorded for the partition that ends at or after `committed`, by start offset then epoch. */
export async function readBatchRanges(store: Store, ref: PartitionRef, committed: number): Promise<BatchRange[]> {
  const rows = await queryRows<{ from_offset: string; to_offset: string; epoch: string }>(
    store,
    `SELECT from_offset, to_offset, epoch FROM ingest_batches
     WHERE consumer_group = {group:String} AND topic = {topic:String} AND partition = {partition:UInt32}
       AND to_offset >= {committed:UInt64}
     ORDER BY from_offset, epoch`,
    { ...ref, committed },
  );
  return rows.map((r) => ({ from: Number(r.from_offset), to: Number(r.to_offset), epoch: Number(r.epoch) }));
}

/** Per shipper source, the highest line offset recorded in the partition before `committed`, over the last `hours`. */
export async function readSourceOffsets(store: Store, ref: PartitionRef, committed: number, hours: number): Promise<Map<string, number>> {
  const rows = await queryRows<{ src: string; off: string }>(
    store,
    `SELECT src, max(off) AS off
     FROM ingest_batches
     ARRAY JOIN mapKeys(source_offsets) AS src, mapValues(source_offsets) AS off
     WHERE consumer_group = {group:String} AND topic = {topic:String} AND partition = {partition:UInt32}
       AND to_offset < {committed:UInt64} AND created_at >= now64(3) - toIntervalHour({hours:UInt32})
     GROUP BY src`,
    { ...ref, committed, hours },
  );
  return new Map(rows.map((r) => [r.src, Number(r.off)]));
}
