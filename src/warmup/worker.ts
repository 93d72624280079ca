/**
 * A warm-up worker (`modcast warmup-worker`): a member of consumer group `<groupId>-warmup-workers` on
 * `modcast.warmup-tasks`. It needs the broker and the fleet configuration, not the store, so workers can run
 * beside the proxies (or many of them) while one process holds the store.
 *
 * Per task: re-validate every request and build its path under the configured node (never from the message),
 * fetch with the node's limits (executor.ts), send the results in batches on `modcast.warmup-results`, and after
 * each acknowledged batch record which requests are done in the partition's committed metadata (the offset
 * stays on the task). The task's offset moves past it only when all its results are acknowledged. A worker
 * taking over the partition after a crash or rebalance reads that metadata and skips the requests already done,
 * so only requests that were in flight at the crash are fetched again. Tasks of a node share a partition, so
 * one worker at a time fetches against a node and its concurrency, rate and byte limits hold fleet-wide.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BatchControl, GroupConsumer, KafkaClient, PartitionBatch, Producer } from '../kafka/types.js';
import { encodeDeadLetter } from '../kafka/dlq.js';
import { goproxyPath } from '../domain/goproxy.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { BatchBuffer } from '../lib/batch-buffer.js';
import { warmupWorkerRequestsTotal, warmupWorkerTasksTotal } from '../lib/metrics-registry.js';
import { defaultHolderId } from '../lib/holder-id.js';
import { executeWarmup, itemIdOf, type RetryPolicy, type WarmRequest, type WarmResult } from './executor.js';
import { findTarget, type WarmTarget } from './fleet.js';
import {
  decodeProgress,
  decodeTask,
  encodeProgress,
  encodeResults,
  resultsMessage,
  type WarmupTask,
} from './task-messages.js';

export interface WarmupWorkerOptions {
  config: Config;
  kafka: KafkaClient;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  workerId?: string;
  /** Nodes (partitions) worked on at once. Default 4. */
  concurrency?: number;
  retry?: RetryPolicy;
  now?: () => number;
}

export interface WarmupWorkerStats {
  tasks: number;
  fetched: number;
  skipped: number;
  deadLettered: number;
}

export interface WarmupWorker {
  readonly workerId: string;
  start(): Promise<void>;
  /** Stops fetching, sends and records the results it has, leaves the group. */
  stop(): Promise<void>;
  stats(): WarmupWorkerStats;
}

export function workerGroupId(config: Config): string {
  return `${config.kafka.groupId}-warmup-workers`;
}

/** A result for a request that was not fetched (invalid, unknown node, window passed). */
function notFetched(req: WarmRequest, reason: string, at: number): WarmResult {
  return { ...req, status: 'skipped', httpStatus: 0, bytes: 0, latencyMs: 0, attempts: 0, sha256: '', reason, finishedAt: at };
}

export function createWarmupWorker(opts: WarmupWorkerOptions): WarmupWorker {
  const { config, kafka, logger } = opts;
  const now = opts.now ?? Date.now;
  const workerId = opts.workerId ?? defaultHolderId();
  const { warmupTasks, warmupResults, dlq } = config.kafka.topics;
  const stopping = new AbortController();
  const stats: WarmupWorkerStats = { tasks: 0, fetched: 0, skipped: 0, deadLettered: 0 };
  /** Bytes fetched per run by this worker: a run's byte budget spans its tasks (bounded map). */
  const runBytes = new Map<string, number>();
  let consumer: GroupConsumer | undefined;
  let producer: Producer | undefined;

  const addRunBytes = (runId: string, bytes: number) => {
    runBytes.delete(runId);
    runBytes.set(runId, (runBytes.get(runId) ?? 0) + bytes);
    if (runBytes.size > 10_000) runBytes.delete(runBytes.keys().next().value as string);
  };

  const targetFor = (node: string): WarmTarget | string => {
    try {
      return findTarget(config, node, opts.env);
    } catch (e) {
      return `node ${JSON.stringify(node)} is not configured on worker ${workerId}: ${(e as Error).message}`;
    }
  };

  /** The task's requests with paths built here; requests that cannot be built become results at once. */
  const requestsOf = (task: WarmupTask, target: WarmTarget | string) => {
    const requests: (WarmRequest | WarmResult)[] = task.requests.map((r) => {
      const req: WarmRequest = { itemId: itemIdOf(task.runId, task.node, r.module, r.version, r.endpoint), ...r, path: '' };
      if (typeof target === 'string') return notFetched(req, target, now());
      try {
        return { ...req, path: goproxyPath(target.mountPrefix, r.module, r.version, r.endpoint) };
      } catch (e) {
        return notFetched(req, `invalid request: ${(e as Error).message}`, now());
      }
    });
    return requests;
  };

  async function runTask(task: WarmupTask, batch: PartitionBatch, offset: number, control: BatchControl): Promise<boolean> {
    const c = consumer!;
    const p = producer!;
    const committed = await c.committed(batch.topic, batch.partition);
    const done = decodeProgress(committed.metadata, offset, task.requests.length) ?? task.requests.map(() => false);
    const target = targetFor(task.node);
    const all = requestsOf(task, target);
    const indexOf = new Map<string, number>();
    all.forEach((r, i) => {
      // A request listed twice is one item: the first copy's result covers the other.
      if (indexOf.has(r.itemId)) done[i] = true;
      else indexOf.set(r.itemId, i);
    });
    const resumed = done.filter(Boolean).length;
    if (resumed > 0) logger.info({ runId: task.runId, node: task.node, part: task.part, done: resumed }, 'resuming a warm-up task another worker started');

    // Results are sent in batches; after each acknowledged batch the progress is committed on the task's offset.
    const sender = new BatchBuffer<WarmResult>(
      async (results) => {
        await p.send([{ topic: warmupResults, messages: [{ key: task.runId, value: encodeResults(resultsMessage(task.runId, task.node, workerId, results)) }] }]);
        for (const r of results) done[indexOf.get(r.itemId)!] = true;
        // Fenced by the group generation: fails once the partition moved to another worker, which stops this task.
        await c.commit(batch.topic, batch.partition, offset, encodeProgress(offset, done));
        // A rebalance waits for this task (up to the rebalance timeout) and commits stay valid until it
        // completes, so a heartbeat refused during one does not stop the fetching; other failures do.
        await control.heartbeat().catch((e: Error) => logger.debug({ err: e.message }, 'heartbeat during a warm-up task failed'));
      },
      { maxItems: 200, maxDelayMs: 250 },
    );
    const todo: WarmRequest[] = [];
    const expired = now() > task.notAfter;
    for (const [i, r] of all.entries()) {
      if (done[i]) continue;
      if ('status' in r) await sender.add(r);
      else if (expired) await sender.add(notFetched(r, `demand window passed (task valid until ${new Date(task.notAfter).toISOString()})`, now()));
      else todo.push(r);
    }
    if (todo.length > 0 && typeof target !== 'string') {
      const used = runBytes.get(task.runId) ?? 0;
      // Aborted by a shutdown, or when results can no longer be sent (e.g. the partition moved to another worker).
      const taskAbort = new AbortController();
      const signal = AbortSignal.any([stopping.signal, taskAbort.signal]);
      await executeWarmup({
        target,
        requests: todo,
        signal,
        logger,
        maxBytes: Math.max(0, task.maxBytes - used),
        ...(opts.retry ? { retry: opts.retry } : {}),
        onResult: async (r) => {
          // Requests an abort kept from running are left to whoever takes the task over.
          if (signal.aborted && r.status === 'skipped') return;
          addRunBytes(task.runId, r.bytes);
          if (r.status === 'skipped') stats.skipped++;
          else stats.fetched++;
          warmupWorkerRequestsTotal.inc({ status: r.status });
          await sender.add(r).catch((e: unknown) => taskAbort.abort(e));
        },
      });
    }
    await sender.flush(); // throws when a batch could not be sent or its progress not committed
    const complete = done.every(Boolean);
    if (complete) {
      stats.tasks++;
      warmupWorkerTasksTotal.inc();
      if (task.part === task.parts - 1) runBytes.delete(task.runId);
    }
    return complete;
  }

  async function deadLetter(batch: PartitionBatch, offset: number, key: Buffer | null, value: Buffer | null, error: string): Promise<void> {
    stats.deadLettered++;
    logger.error({ topic: batch.topic, partition: batch.partition, offset, err: error }, 'unreadable warm-up task; dead-lettered');
    await producer!.send([{ topic: dlq, messages: [encodeDeadLetter({ topic: batch.topic, partition: batch.partition, offset, key, value, error }, workerGroupId(config), now())] }]);
  }

  async function handle(batch: PartitionBatch, control: BatchControl): Promise<void> {
    for (const m of batch.messages) {
      if (!control.isActive() || stopping.signal.aborted) return;
      let task: WarmupTask;
      try {
        task = decodeTask(m.value);
      } catch (e) {
        await deadLetter(batch, m.offset, m.key, m.value, (e as Error).message);
        await consumer!.commit(batch.topic, batch.partition, m.offset + 1);
        control.resolve(m.offset);
        continue;
      }
      const complete = await runTask(task, batch, m.offset, control);
      if (!complete) return; // stopping: the next owner resumes this task from the committed progress
      await consumer!.commit(batch.topic, batch.partition, m.offset + 1);
      control.resolve(m.offset);
    }
  }

  return {
    workerId,
    async start() {
      if (config.fleet.nodes.length === 0) throw new ModcastError(ErrorCodes.CONFIG_INVALID, 'a warm-up worker needs fleet.nodes (the only targets it may fetch from)');
      producer = kafka.producer();
      await producer.connect();
      consumer = kafka.consumer({ groupId: workerGroupId(config), sessionTimeoutMs: config.kafka.sessionTimeoutMs });
      consumer.on({ crashed: (err, restarting) => logger.error({ err: err.message, restarting }, 'warm-up worker consumer crashed') });
      await consumer.connect();
      await consumer.subscribe([warmupTasks], { fromBeginning: true });
      await consumer.run(handle, { partitionsConcurrently: opts.concurrency ?? 4 });
      logger.info({ workerId, group: workerGroupId(config), topic: warmupTasks, nodes: config.fleet.nodes.length }, 'warm-up worker started');
    },
    async stop() {
      stopping.abort();
      await consumer?.disconnect();
      await producer?.disconnect();
      consumer = undefined;
      producer = undefined;
    },
    stats: () => ({ ...stats }),
  };
}
