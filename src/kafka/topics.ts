/**
 * modcast's topics and how they are created: partitions, replication and retention come from the config.
 * `modcast.access` is keyed by module (one module's events stay ordered in one partition); `modcast.rejected` by
 * source; `modcast.dlq` keeps what the ingestor could not read, longer, for an operator to look at.
 * `modcast.warmup-tasks` is keyed by node (one worker at a time per node), `modcast.warmup-results` by run.
 */
import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { withRetry } from '../lib/retry.js';
import type { KafkaClient, TopicAdmin, TopicSpec } from './types.js';

const HOUR_MS = 3_600_000;

export function topicSpecs(kafka: Config['kafka']): TopicSpec[] {
  const common = { replicationFactor: kafka.replicationFactor };
  const retention = (hours: number) => ({ 'cleanup.policy': 'delete', 'retention.ms': String(hours * HOUR_MS) });
  // Rejects are rare; a few partitions are plenty and keep them cheap.
  const small = Math.min(kafka.partitions, 3);
  return [
    { topic: kafka.topics.access, partitions: kafka.partitions, ...common, config: retention(kafka.retentionHours) },
    { topic: kafka.topics.rejected, partitions: small, ...common, config: retention(kafka.retentionHours) },
    { topic: kafka.topics.dlq, partitions: small, ...common, config: retention(kafka.dlqRetentionHours) },
    // Tasks expire with their demand window (a day at most); results are stored within seconds.
    { topic: kafka.topics.warmupTasks, partitions: kafka.partitions, ...common, config: retention(24) },
    { topic: kafka.topics.warmupResults, partitions: small, ...common, config: retention(24) },
  ];
}

/** Creates modcast's topics that are missing; returns the names created. */
export async function ensureTopics(client: KafkaClient, kafka: Config['kafka']): Promise<string[]> {
  return withAdmin(client, (admin) => admin.ensureTopics(topicSpecs(kafka)));
}

/** ensureTopics, retried with backoff until the broker answers (a shipper may start before its broker). */
export async function ensureTopicsWhenReachable(client: KafkaClient, kafka: Config['kafka'], logger: Logger, signal: AbortSignal): Promise<void> {
  const created = await withRetry(() => ensureTopics(client, kafka), {
    attempts: Infinity,
    maxMs: 10_000,
    signal,
    onRetry: (err) => logger.warn({ err: (err as Error).message }, 'cannot reach the broker to check topics; retrying'),
  });
  if (created.length > 0) logger.info({ created }, 'topics created');
}

export async function withAdmin<T>(client: KafkaClient, fn: (admin: TopicAdmin) => Promise<T>): Promise<T> {
  const admin = client.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}
