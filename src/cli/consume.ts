/**
 * `modcast consume` — one member of the ingest consumer group: Kafka → ClickHouse, exactly once.
 * SIGTERM/SIGINT: finish the batch in progress, commit, leave the group, close the store.
 */
import type { Command } from 'commander';
import { contextFrom, intOption, withStore, type CommandContext } from './context.js';
import { createKafkaClient } from '../kafka/kafkajs.js';
import { ensureTopicsWhenReachable } from '../kafka/topics.js';
import type { Store } from '../store/client.js';
import { Ingestor, type IngestorHooks, type IngestorStats } from '../ingest/consumer.js';
import { serveMetrics } from '../lib/metrics-http.js';

export interface ConsumeFlags {
  batchRows?: number;
  maxWaitMs?: number;
  createTopics: boolean;
  metricsPort?: number;
}

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('ingest from Kafka into the store as a member of the ingest consumer group (exactly once)')
    .option('--batch-rows <n>', 'most messages per insert (default: ingest.batchRows)', intOption('batch-rows', 1, 1_000_000))
    .option('--max-wait-ms <n>', 'longest the broker holds a fetch to fill a batch (default: ingest.flushMs)', intOption('max-wait-ms', 10, 60_000))
    .option('--no-create-topics', 'do not create missing topics at start')
    .option('--metrics-port <port>', 'serve GET /metrics on 127.0.0.1:<port>', intOption('metrics-port', 0, 65535))
    .action(async (flags: ConsumeFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      const stats = await withStore(ctx, (store) => consumeToStore(ctx, store, flags, stop.signal));
      process.stderr.write(
        `stored ${stats.events} events and ${stats.rejects} rejected lines in ${stats.batches} batches ` +
          `(${stats.replayed} replayed); ${stats.duplicates} resent lines dropped, ${stats.deadLetters} dead letters\n`,
      );
    });
}

/** Runs one group member until `signal` aborts, then stops it gracefully. */
export async function consumeToStore(
  ctx: CommandContext,
  store: Store,
  flags: ConsumeFlags,
  signal: AbortSignal,
  hooks?: IngestorHooks,
): Promise<IngestorStats> {
  const { config, logger } = ctx;
  const client = createKafkaClient(config.kafka, logger);
  if (flags.createTopics) await ensureTopicsWhenReachable(client, config.kafka, logger, signal);
  const ingestor = new Ingestor({
    client,
    store,
    kafka: config.kafka,
    batchRows: flags.batchRows ?? config.ingest.batchRows,
    maxWaitMs: flags.maxWaitMs ?? config.ingest.flushMs,
    logger,
    ...(hooks ? { hooks } : {}),
  });
  const metrics = flags.metricsPort !== undefined ? await serveMetrics(flags.metricsPort) : undefined;
  if (metrics) logger.info({ url: metrics.url }, 'metrics endpoint');
  const progress = setInterval(() => logger.info({ ...ingestor.stats }, 'consuming'), 10_000);
  try {
    await ingestor.start();
    logger.info({ group: config.kafka.groupId, topics: [config.kafka.topics.access, config.kafka.topics.rejected] }, 'consuming started');
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    clearInterval(progress);
    await ingestor.stop();
    await metrics?.close();
  }
  return ingestor.stats;
}
