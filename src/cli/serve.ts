/**
 * `modcast serve`: the API, and on the embedded store everything else that must share its process (chDB locks its
 * data directory to one process): HTTP ingest, scoring, the warm-up scheduler and, with Kafka brokers configured,
 * the Kafka consumer. SIGTERM/SIGINT stop accepting
 * connections, let requests in flight finish, stop the scheduler, then close the store.
 */
import type { Command } from 'commander';
import { clockOf, contextFrom, intOption, type CommandContext } from './context.js';
import { openStore, type Store } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { buildApi, type ApiInstance, type KafkaHealthCheck, type WarmupScheduler } from '../api/server.js';
import { PredictionRunCache } from '../api/cache.js';
import { createKafkaClient } from '../kafka/kafkajs.js';
import { withAdmin } from '../kafka/topics.js';
import { createLogger, type Logger } from '../lib/logger.js';
import type { KafkaClient } from '../kafka/types.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { scoringJob } from '../scheduler/scoring-job.js';
import { consumeToStore } from './consume.js';
import { ModcastError, ErrorCodes } from '../errors.js';

interface ServeFlags {
  host?: string;
  port?: number;
  scheduler: boolean;
  dashboard: boolean;
  consume: boolean;
}

export interface ServeOptions {
  /** A store this process already opened (e.g. `modcast demo --serve`); closed with the server. Default: open one. */
  store?: Store;
  /** Host the warm-up scheduler in this process (default true). */
  scheduler?: boolean;
  /** With Kafka brokers on the embedded store, consume modcast.access in this process (default true). */
  consume?: boolean;
  dashboard?: boolean;
}

export interface RunningServer {
  app: ApiInstance;
  store: Store;
  /** http://host:port actually listened on. */
  url: string;
  /** Graceful stop: no new connections, requests in flight finish, scheduler stops, store closes. Idempotent. */
  close(): Promise<void>;
}

/** A scheduler hosted by this process, with what it needs to stop. */
interface HostedScheduler extends WarmupScheduler {
  stop(): Promise<void> | void;
}

/** The warm-up scheduler of src/scheduler, started in-process (it also runs the scoring job when one is given). */
async function startScheduler(ctx: CommandContext, store: Store, kafka: KafkaClient | undefined, runCache: PredictionRunCache): Promise<HostedScheduler> {
  const job = scoringJob(store, ctx.config, ctx.logger, clockOf(ctx));
  // A run this process just finished is served at once, not after the API's latest-run TTL.
  const score: typeof job = (o) => job(o).finally(() => runCache.invalidate());
  const scheduler = createScheduler({ config: ctx.config, store, logger: ctx.logger, score, now: clockOf(ctx), ...(kafka ? { kafka } : {}) });
  await scheduler.start();
  return scheduler;
}

function kafkaHealthCheck(client: KafkaClient | undefined): KafkaHealthCheck | undefined {
  if (!client) return undefined;
  return async () => {
    await withAdmin(client, (admin) => admin.listTopics());
  };
}

/** Listens, naming a taken or forbidden port and what to do instead of the bare EADDRINUSE/EACCES. */
async function listen(app: ApiInstance, host: string, port: number): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const why = code === 'EADDRINUSE' ? 'is already in use (another `modcast serve` or `modcast demo --serve`?)' : 'needs privileges this process lacks';
      throw new ModcastError(ErrorCodes.PORT_IN_USE, `cannot listen on ${host}:${port}: the port ${why}; stop that server, or pass --port <n> (0 = any free port) or set MODCAST_API_PORT`, { cause: e });
    }
    throw e;
  }
}

/** Opens and migrates the store, builds the API and listens. Used by `modcast serve` and `modcast demo`. */
export async function startServer(ctx: CommandContext, opts: ServeOptions = {}): Promise<RunningServer> {
  const store = opts.store ?? (await openStore(ctx.config));
  let app: ApiInstance | undefined;
  let scheduler: HostedScheduler | undefined;
  let consumer: Promise<unknown> | undefined;
  const stopConsumer = new AbortController();
  try {
    const { applied } = await migrate(store);
    if (applied.length > 0) ctx.logger.info({ applied }, 'migrations applied');
    const kafka = ctx.config.kafka.brokers.length > 0 ? createKafkaClient(ctx.config.kafka, ctx.logger) : undefined;
    const runCache = new PredictionRunCache(store);
    scheduler = opts.scheduler === false ? undefined : await startScheduler(ctx, store, kafka, runCache);
    const kafkaHealth = kafkaHealthCheck(kafka);
    // The embedded store admits one process: with a broker configured, that process must also be the consumer.
    if (kafka && store.embedded && opts.consume !== false) {
      consumer = consumeToStore(ctx, store, { createTopics: true }, stopConsumer.signal).catch((err: Error) => {
        ctx.logger.error({ err: err.message }, 'Kafka consumer stopped');
      });
    }
    app = await buildApi({
      config: ctx.config,
      store,
      logger: ctx.logger,
      runCache,
      ...(scheduler ? { scheduler } : {}),
      ...(kafkaHealth ? { kafkaHealth } : {}),
      ...(opts.dashboard === false ? { dashboard: false as const } : {}),
    });
    const url = await listen(app, ctx.config.api.host, ctx.config.api.port);
    let closing: Promise<void> | undefined;
    const running = app;
    const hosted = scheduler;
    return {
      app,
      store,
      url,
      close: () =>
        (closing ??= (async () => {
          await running.close(); // stops accepting, waits for requests in flight
          stopConsumer.abort();
          await consumer; // finishes and commits its batch in progress
          await hosted?.stop();
          await store.close();
        })()),
    };
  } catch (e) {
    await app?.close().catch(() => {});
    stopConsumer.abort();
    await consumer;
    await scheduler?.stop();
    await store.close().catch(() => {});
    throw e;
  }
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
export function shutdownSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (sig: string) => {
      if (received) {
        logger.warn({ signal: sig }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      received = true;
      resolve(sig);
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
}

/** Under sonic-boom's largest single write (16 KiB). */
const SERVE_LOG_BUFFER_BYTES = 8 * 1024;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the API and dashboard; on the embedded store also HTTP ingest, scoring and the warm-up scheduler')
    .option('--host <host>', 'listen address (default 127.0.0.1, $MODCAST_API_HOST)')
    .option('-p, --port <port>', 'listen port (default 8080, $MODCAST_API_PORT; 0 = any free port)', intOption('port', 0, 65535))
    .option('--no-scheduler', 'do not host the warm-up scheduler in this process')
    .option('--no-dashboard', 'do not serve the dashboard at /')
    .option('--no-consume', 'with Kafka brokers on the embedded store, do not consume modcast.access here')
    .action(async (flags: ServeFlags, cmd: Command) => {
      const api: Record<string, unknown> = {};
      if (flags.host !== undefined) api.host = flags.host;
      if (flags.port !== undefined) api.port = flags.port;
      const base = contextFrom(cmd, Object.keys(api).length > 0 ? { api } : {});
      // A line per request: written in blocks, not one write call each.
      const ctx = { ...base, logger: createLogger(base.config.logLevel, {}, { bufferBytes: SERVE_LOG_BUFFER_BYTES }) };
      const server = await startServer(ctx, { scheduler: flags.scheduler, dashboard: flags.dashboard, consume: flags.consume });
      ctx.logger.info({ url: server.url, store: server.store.location }, 'modcast serving');
      console.log(`modcast: serving ${server.url} (dashboard ${server.url}/, API docs ${server.url}/docs)`);
      const signal = await shutdownSignal(ctx.logger);
      ctx.logger.info({ signal }, 'shutting down: draining requests');
      await server.close();
      ctx.logger.info('stopped');
    });
}
