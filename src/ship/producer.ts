/**
 * Sends the shipper's batches until the broker acknowledges them. The kafkajs producer retries on its own for a
 * while; when it gives up (broker down longer), this waits with backoff, replaces the producer (a fresh idempotent
 * session) and sends the same batch again, for as long as it takes. Nothing new is read meanwhile, so memory stays
 * bounded by the batch in hand. Lines of a batch that was partly written before a failure are sent twice; the
 * ingestor drops the repeats (same source and line offset).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../lib/logger.js';
import { backoffDelay } from '../lib/retry.js';
import { counter } from '../lib/metrics.js';
import type { KafkaClient, Producer, TopicMessages } from '../kafka/types.js';

const sendFailures = counter('modcast_ship_send_failures_total', 'Batches the broker did not acknowledge (sent again after a backoff)');

export class ReliableProducer {
  private producer: Producer | undefined;

  constructor(
    private readonly client: KafkaClient,
    private readonly logger: Logger,
    private readonly maxBackoffMs = 10_000,
  ) {}

  /** True once acknowledged; false if `signal` aborted first (the batch may or may not be in the log). */
  async send(batches: TopicMessages[], signal: AbortSignal): Promise<boolean> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const producer = await this.connected();
        await producer.send(batches);
        return true;
      } catch (err) {
        sendFailures.inc();
        const delayMs = backoffDelay(attempt, 500, this.maxBackoffMs);
        this.logger.warn({ attempt, delayMs, err: (err as Error).message }, 'broker did not acknowledge the batch; sending it again');
        await this.reset();
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
      }
    }
    return false;
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.client.producer();
      try {
        await producer.connect();
      } catch (e) {
        await producer.disconnect().catch(() => undefined);
        throw e;
      }
      this.producer = producer;
    }
    return this.producer;
  }

  private async reset(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => undefined);
  }
}
