/** `modcast ship` — on a proxy node: tail its access logs and produce them to Kafka. SIGTERM/SIGINT: drain and stop. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { contextFrom, intOption, type CommandContext } from './context.js';
import { parseFormat } from './ingest.js';
import { createKafkaClient } from '../kafka/kafkajs.js';
import { ensureTopicsWhenReachable } from '../kafka/topics.js';
import type { KafkaClient } from '../kafka/types.js';
import { CheckpointStore } from '../lib/checkpoint.js';
import { clientSalt } from '../lib/salt.js';
import { Tailer } from '../ship/tailer.js';
import { ReliableProducer } from '../ship/producer.js';
import { Shipper, type ShipperOptions, type ShipperStats } from '../ship/shipper.js';
import { serveMetrics } from '../lib/metrics-http.js';
import { LOG_FORMATS, type JsonFieldMap } from '../logs/parser.js';

interface ShipFlags {
  node: string;
  region: string;
  format: string;
  jsonFields?: string;
  batchMessages?: number;
  lingerMs?: number;
  pollMs?: number;
  idleCloseMs?: number;
  createTopics: boolean;
  metricsPort?: number;
}

export interface ShipRun {
  patterns: string[];
  flags: ShipFlags;
  hooks?: ShipperOptions['hooks'];
}

export function registerShip(program: Command): void {
  program
    .command('ship')
    .description('tail access logs on a proxy node and produce them to Kafka (topics modcast.access and modcast.rejected)')
    .argument('<patterns...>', 'log files or glob patterns; include rotated names (e.g. "access.log*") to follow rotations')
    .requiredOption('-n, --node <name>', 'this proxy node')
    .requiredOption('-r, --region <name>', 'its region')
    .option('-f, --format <format>', `auto | ${LOG_FORMATS.join(' | ')}`, 'auto')
    .option('--json-fields <file>', 'JSON file with the field map of a jsonl log')
    .option('--batch-messages <n>', 'messages per produce batch (default 10000)', intOption('batch-messages', 1, 1_000_000))
    .option('--linger-ms <n>', 'longest wait to fill a batch (default 200)', intOption('linger-ms', 0, 60_000))
    .option('--poll-ms <n>', 'how often files are checked for new data and rotation (default 250)', intOption('poll-ms', 10, 60_000))
    .option('--idle-close-ms <n>', 'close a file idle this long; one rotated away is finished then (default 30000)', intOption('idle-close-ms', 100, 3_600_000))
    .option('--no-create-topics', 'do not create missing topics at start')
    .option('--metrics-port <port>', 'serve GET /metrics on 127.0.0.1:<port> (lag in modcast_ship_lag_bytes)', intOption('metrics-port', 0, 65535))
    .action(async (patterns: string[], flags: ShipFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      const stats = await shipLogs(ctx, { patterns, flags }, stop.signal);
      process.stderr.write(
        `shipped ${stats.events} events, ${stats.rejected} rejected lines, ${stats.skipped} skipped, in ${stats.batches} batches\n`,
      );
    });
}

/** Wires tailer, producer and shipper from the config and runs them until `signal` aborts. */
export async function shipLogs(ctx: CommandContext, run: ShipRun, signal: AbortSignal): Promise<ShipperStats> {
  const { config, logger } = ctx;
  const { flags } = run;
  if (!config.privacy.clientSalt) logger.warn('no MODCAST_CLIENT_SALT configured: client hashes will not match those of other nodes');
  const client: KafkaClient = createKafkaClient(config.kafka, logger);
  if (flags.createTopics) await ensureTopicsWhenReachable(client, config.kafka, logger, signal);
  const format = parseFormat(flags.format);
  const jsonFields = flags.jsonFields ? (JSON.parse(readFileSync(flags.jsonFields, 'utf8')) as JsonFieldMap) : undefined;
  const tailer = new Tailer({
    patterns: run.patterns,
    node: flags.node,
    checkpoints: new CheckpointStore(join(config.dataDir, 'ship-checkpoints')),
    maxLineBytes: config.ingest.maxLineBytes,
    logger,
    ...(flags.pollMs !== undefined ? { pollMs: flags.pollMs } : {}),
    ...(flags.idleCloseMs !== undefined ? { idleCloseMs: flags.idleCloseMs } : {}),
  });
  const sender = new ReliableProducer(client, logger);
  const shipper = new Shipper({
    tailer,
    sender,
    topics: config.kafka.topics,
    node: flags.node,
    region: flags.region,
    format,
    ...(jsonFields ? { parserOptions: { jsonFields } } : {}),
    pathPrefixes: config.ingest.pathPrefixes,
    clientSalt: clientSalt(config),
    maxLineBytes: config.ingest.maxLineBytes,
    logger,
    ...(flags.batchMessages !== undefined ? { batchMessages: flags.batchMessages } : {}),
    ...(flags.lingerMs !== undefined ? { lingerMs: flags.lingerMs } : {}),
    ...(run.hooks ? { hooks: run.hooks } : {}),
  });
  const metrics = flags.metricsPort !== undefined ? await serveMetrics(flags.metricsPort) : undefined;
  if (metrics) logger.info({ url: metrics.url }, 'metrics endpoint');
  const progress = setInterval(() => void tailer.lagBytes().then((lag) => logger.info({ ...shipper.stats, lagBytes: lag }, 'shipping')), 10_000);
  logger.info({ patterns: run.patterns, node: flags.node, topics: config.kafka.topics }, 'shipping started');
  try {
    await shipper.run(signal);
  } finally {
    clearInterval(progress);
    await tailer.close();
    await sender.close();
    await metrics?.close();
  }
  return shipper.stats;
}
