/**
 * The Kafka ingestor's write-ahead batch log (table `ingest_batches`, pipelines/010_ingest_batches.sql).
 *
 * Why: ClickHouse drops a retried insert only when it carries the same dedup token, and a token derived from a
 * Kafka offset range repeats only if the retry cuts exactly the same range. Fetch sizes differ between runs, so
 * each range is recorded here before its insert; whoever takes the partition next replays the recorded ranges at
 * or after the committed offset first, exactly as recorded. See docs/kafka.md for the whole argument.
 */
import type { Store } from '../store/client.js';
import {
  insertBatchRange,
  readBatchRanges,
  readSourceOffsets,
  type BatchRange,
  type PartitionRef,
  type RecordedBatch,
} from '../store/queries/ingest-batches.js';

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
    await insertBatchRange(this.store, ref, batch);
  }

  /** Recorded ranges a new owner replays (see replayChain). */
  async pending(ref: PartitionRef, committed: number): Promise<BatchRange[]> {
    return replayChain(await readBatchRanges(this.store, ref, committed), committed);
  }

  /**
   * Per shipper source, the highest line offset seen in the partition before `committed` (within the horizon).
   * A pure function of the log's content before that offset, whoever recorded the ranges and however they were cut.
   */
  sourceOffsets(ref: PartitionRef, committed: number): Promise<Map<string, number>> {
    return readSourceOffsets(this.store, ref, committed, this.horizonHours);
  }
}
