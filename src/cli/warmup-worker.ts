/**
 * `modcast warmup-worker`: fetches warm-up tasks the scheduler sends over Kafka (`scheduler.dispatch: kafka`)
 * from the configured fleet nodes. It does not open the store, so it runs anywhere the broker and the nodes are
 * reachable, as many times as wanted. SIGTERM/SIGINT: stop fetching, send what finished, leave the group.
 */
import type { Command } from 'commander';
import { contextFrom, intOption } from './context.js';
import { createKafkaClient } from '../kafka/kafkajs.js';
import { ensureTopicsWhenReachable } from '../kafka/topics.js';
import { createWarmupWorker, workerGroupId } from '../warmup/worker.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { serveMetrics } from '../lib/metrics-http.js';
import { shutdownSignal } from './serve.js';

interface WorkerFlags {
  concurrency?: number;
  metricsPort?: number;
}

export function registerWarmupWorker(program: Command): void {
  program
    .command('warmup-worker')
    .description('fetch warm-up tasks sent over Kafka by the scheduler (scheduler.dispatch = kafka) from the configured nodes')
    .option('--concurrency <n>', 'nodes worked on at once (default 4)', intOption('concurrency', 1, 256))
    .option('--metrics-port <port>', 'serve GET /metrics on 127.0.0.1:<port>', intOption('metrics-port', 0, 65535))
    .action(async (flags: WorkerFlags, cmd: Command) => {
      const { config, logger } = contextFrom(cmd);
      if (config.kafka.brokers.length === 0) throw new ModcastError(ErrorCodes.CONFIG_INVALID, 'warmup-worker takes its tasks from Kafka: set kafka.brokers ($MODCAST_KAFKA_BROKERS)');
      const kafka = createKafkaClient(config.kafka, logger);
      const starting = new AbortController();
      const signal = shutdownSignal(logger).finally(() => starting.abort());
      await ensureTopicsWhenReachable(kafka, config.kafka, logger, starting.signal);
      const metrics = flags.metricsPort !== undefined ? await serveMetrics(flags.metricsPort) : undefined;
      const worker = createWarmupWorker({ config, kafka, logger, ...(flags.concurrency ? { concurrency: flags.concurrency } : {}) });
      await worker.start();
      console.log(`modcast: warm-up worker ${worker.workerId} running (group ${workerGroupId(config)}, ${config.fleet.nodes.length} nodes)`);
      logger.info({ signal: await signal }, 'stopping the warm-up worker: sending finished results');
      await worker.stop();
      await metrics?.close();
      const s = worker.stats();
      process.stderr.write(`warm-up worker: ${s.tasks} tasks completed, ${s.fetched} requests fetched, ${s.skipped} skipped, ${s.deadLettered} dead letters\n`);
    });
}
