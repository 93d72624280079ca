/**
 * Distributed warm-ups (`scheduler.dispatch: kafka`), the store side:
 * - `WarmupDispatcher.dispatch` opens a run exactly as a local run does (record + pending items, or the stored
 *   items of a run that was interrupted), sends its unfinished requests as tasks on `modcast.warmup-tasks` and
 *   marks the run `dispatched` once the broker acknowledged them all. A run left `running` (the process died
 *   before that acknowledgement) is dispatched again by the next tick; workers skip what a previous copy of a
 *   task already finished only within one task, so a re-dispatch may fetch a few URLs twice — harmless GETs.
 * - `WarmupResultsConsumer` (group `<groupId>-warmup-results`) writes the workers' results into
 *   `warmup_items` and finishes a run (`done`/`failed`, same summary as a local run) when no item is pending.
 *   It commits a batch after its rows are stored; a redelivered batch writes the same states again (the newest
 *   row per item wins), so results are never lost and duplicates change nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import type { BatchControl, GroupConsumer, KafkaClient, PartitionBatch, Producer } from '../kafka/types.js';
import { encodeDeadLetter, type DeadLetter } from '../kafka/dlq.js';
import { ensureTopics } from '../kafka/topics.js';
import { finishRun, prepareRun, type PrepareRunOptions } from './run.js';
import { resultRow } from './records.js';
import { insertItems, readRun, runItems, writeRun, type ItemRow, type RunRecord } from '../store/queries/warmups.js';
import { decodeResults, encodeTask, tasksOfRun } from './task-messages.js';

export interface DispatchOptions extends PrepareRunOptions {
  /** After this instant workers report the requests skipped instead of fetching them. */
  notAfter: number;
}

export class WarmupDispatcher {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(private readonly deps: { store: Store; kafka: KafkaClient; config: Config; logger: Logger }) {}

  private connected(): Promise<Producer> {
    this.connecting ??= (async () => {
      const p = this.deps.kafka.producer();
      await p.connect();
      this.producer = p;
      return p;
    })().catch((e: unknown) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }

  /** Opens the run and hands its unfinished requests to workers; returns the run record as it stands. */
  async dispatch(opts: DispatchOptions): Promise<RunRecord> {
    const { store, config, logger } = this.deps;
    // A run already with the workers (e.g. the same release announced twice) is settled: nothing is sent again.
    const prepared = await prepareRun(opts);
    if ('settled' in prepared) return prepared.settled;
    const { base, todo } = prepared;
    if (todo.length === 0) return finishRun(store, base);
    const tasks = tasksOfRun(
      { runId: base.runId, node: base.node, notAfter: opts.notAfter, maxBytes: opts.target.maxBytesPerRun, issuedAt: Date.now() },
      todo,
    );
    const producer = await this.connected();
    await producer.send([{ topic: config.kafka.topics.warmupTasks, messages: tasks.map((t) => ({ key: t.node, value: encodeTask(t) })) }]);
    const rec: RunRecord = { ...base, status: 'dispatched', message: `${todo.length} requests sent to warm-up workers in ${tasks.length} tasks` };
    await writeRun(store, rec);
    logger.info({ runId: base.runId, node: base.node, requests: todo.length, tasks: tasks.length }, 'warm-up run dispatched to workers');
    // Fast workers may have finished before `dispatched` was written over the run's end: close it again.
    if (!(await hasPendingItems(store, base.runId))) return finishRun(store, rec);
    return rec;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
    this.connecting = undefined;
  }
}

async function hasPendingItems(store: Store, runId: string): Promise<boolean> {
  return (await runItems(store, runId)).some((i) => i.status === 'pending');
}

export function resultsGroupId(config: Config): string {
  return `${config.kafka.groupId}-warmup-results`;
}

export class WarmupResultsConsumer {
  private consumer: GroupConsumer | undefined;
  private producer: Producer | undefined;

  constructor(private readonly deps: { store: Store; kafka: KafkaClient; config: Config; logger: Logger }) {}

  async start(): Promise<void> {
    const { kafka, config, logger } = this.deps;
    await ensureTopics(kafka, config.kafka);
    this.producer = kafka.producer();
    await this.producer.connect();
    const consumer = kafka.consumer({ groupId: resultsGroupId(config), sessionTimeoutMs: config.kafka.sessionTimeoutMs });
    this.consumer = consumer;
    consumer.on({ crashed: (err, restarting) => logger.error({ err: err.message, restarting }, 'warm-up results consumer crashed') });
    await consumer.connect();
    await consumer.subscribe([config.kafka.topics.warmupResults], { fromBeginning: true });
    await consumer.run((batch, control) => this.handle(batch, control));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.consumer = undefined;
    this.producer = undefined;
  }

  private async handle(batch: PartitionBatch, control: BatchControl): Promise<void> {
    const { store, config, logger } = this.deps;
    const byRun = new Map<string, ItemRow[]>();
    const dead: DeadLetter[] = [];
    for (const m of batch.messages) {
      try {
        const msg = decodeResults(m.value);
        const rows = byRun.get(msg.runId) ?? [];
        for (const r of msg.results) rows.push(resultRow(msg.runId, msg.node, r));
        byRun.set(msg.runId, rows);
      } catch (e) {
        dead.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, error: (e as Error).message });
      }
    }
    if (dead.length > 0) {
      logger.error({ topic: batch.topic, partition: batch.partition, count: dead.length, first: dead[0]!.error }, 'unreadable warm-up results; dead-lettered');
      await this.producer!.send([{ topic: config.kafka.topics.dlq, messages: dead.map((d) => encodeDeadLetter(d, resultsGroupId(config), Date.now())) }]);
    }
    const runs = new Map<string, RunRecord>();
    for (const [runId, rows] of byRun) {
      const run = await readRun(store, runId);
      // Every dispatched run is recorded before its tasks are sent: results of an unknown run are not ours.
      if (run) runs.set(runId, run);
      else logger.warn({ runId, results: rows.length }, 'warm-up results for an unknown run; dropped');
    }
    await insertItems(store, [...runs.keys()].flatMap((runId) => byRun.get(runId)!));
    for (const run of runs.values()) await this.finishIfComplete(run);
    if (!control.isActive()) return;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    await this.consumer!.commit(batch.topic, batch.partition, last + 1);
    control.resolve(last);
  }

  private async finishIfComplete(run: RunRecord): Promise<void> {
    const { store, logger } = this.deps;
    const { runId } = run;
    if (run.status !== 'dispatched' && run.status !== 'running') return;
    if (await hasPendingItems(store, runId)) return;
    const final = await finishRun(store, run);
    logger.info({ runId, node: final.node, status: final.status, message: final.message, bytes: final.bytes }, 'warm-up run finished by workers');
  }
}

/** Polls the run until it ended (workers may finish it in another process); resolves with its final record. */
export async function waitForRun(store: Store, runId: string, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
  for (;;) {
    const run = await readRun(store, runId);
    if (run && run.status !== 'running' && run.status !== 'dispatched') return run;
    await sleep(opts.pollMs ?? 500, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}
