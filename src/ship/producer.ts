/**
 * Sends the shipper's messages until the broker acknowledges them, on several lanes. A lane is one idempotent
 * producer (its own connection and producer id) with one request in flight; the shipper gives each lane its own
 * partitions, so lanes send in parallel while each partition's messages still go out strictly in order (a request
 * is retried until acknowledged before the lane's next one leaves).
 *
 * The kafkajs producer retries on its own for a while; when it gives up (broker down longer), the lane waits with
 * backoff, replaces its producer (a fresh idempotent session) and sends the same messages again, for as long as it
 * takes. Lines of a request that was partly written before a failure are sent twice; the ingestor drops the
 * repeats (same source and line offset).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../lib/logger.js';
import { backoffDelay, withRetry } from '../lib/retry.js';
import { counter } from '../lib/metrics-registry.js';
import { withAdmin } from '../kafka/topics.js';
import type { KafkaClient, Producer, TopicMessages } from '../kafka/types.js';

const sendFailures = counter('modcast_ship_send_failures_total', 'Batches the broker did not acknowledge (sent again after a backoff)');

/** How long a topic's partition count is trusted before it is read from the cluster metadata again. */
const PARTITIONS_REFRESH_MS = 60_000;

export class ReliableProducer {
  private readonly producers: (Producer | undefined)[];
  private readonly partitionCounts = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly client: KafkaClient,
    private readonly logger: Logger,
    private readonly maxBackoffMs = 10_000,
    /** Producers sending in parallel (each on partitions of its own). */
    readonly lanes = 2,
  ) {
    this.producers = new Array<Producer | undefined>(lanes).fill(undefined);
  }

  /** True once acknowledged; false if `signal` aborted first (the messages may or may not be in the log). */
  async send(batches: TopicMessages[], signal: AbortSignal, lane = 0): Promise<boolean> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const producer = await this.connected(lane);
        await producer.send(batches);
        return true;
      } catch (err) {
        sendFailures.inc();
        const delayMs = backoffDelay(attempt, 500, this.maxBackoffMs);
        this.logger.warn({ lane, attempt, delayMs, err: (err as Error).message }, 'broker did not acknowledge the batch; sending it again');
        await this.reset(lane);
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
      }
    }
    return false;
  }

  /**
   * The topic's partition count from the cluster metadata. The first read is retried with backoff until the broker
   * answers (undefined if `signal` aborts first); after that the last count is returned at once and re-read in the
   * background when older than a minute (a failed re-read keeps it).
   */
  async partitionCount(topic: string, signal: AbortSignal): Promise<number | undefined> {
    const read = () => withAdmin(this.client, (admin) => admin.partitionCount(topic));
    const known = this.partitionCounts.get(topic);
    if (known) {
      if (Date.now() - known.at >= PARTITIONS_REFRESH_MS) {
        known.at = Date.now();
        read().then(
          (count) => {
            if (count !== known.count) this.logger.warn({ topic, from: known.count, to: count }, 'partition count changed: modules move to other partitions');
            known.count = count;
          },
          (err: Error) => this.logger.warn({ topic, err: err.message }, 'cannot refresh the partition count; keeping the last one'),
        );
      }
      return known.count;
    }
    try {
      const count = await withRetry(read, {
        attempts: Infinity,
        maxMs: this.maxBackoffMs,
        signal,
        onRetry: (err) => this.logger.warn({ topic, err: (err as Error).message }, 'cannot read the partition count; retrying'),
      });
      this.partitionCounts.set(topic, { count, at: Date.now() });
      return count;
    } catch (err) {
      if (signal.aborted) return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.producers.map((_, lane) => this.reset(lane)));
  }

  private async connected(lane: number): Promise<Producer> {
    let producer = this.producers[lane];
    if (!producer) {
      producer = this.client.producer();
      try {
        await producer.connect();
      } catch (e) {
        await producer.disconnect().catch(() => undefined);
        throw e;
      }
      this.producers[lane] = producer;
    }
    return producer;
  }

  private async reset(lane: number): Promise<void> {
    const old = this.producers[lane];
    this.producers[lane] = undefined;
    await old?.disconnect().catch(() => undefined);
  }
}
