/**
 * One warm-up run on one node: plan -> pending items in the store -> fetch -> results -> run summary.
 *
 * Resumable and idempotent: all items of a run are written as `pending` (with their validated paths) before the
 * first fetch, item ids are deterministic, and a run started again with the same run id — after a crash, or by an
 * overlapping trigger — takes its items from the store and fetches only those not yet `ok`/`not_found`. Within
 * one process, a second call for a run in progress joins it instead of starting a parallel fetch.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/client.js';
import type { WarmupPlan } from '../domain/plan.js';
import type { WarmTarget } from './fleet.js';
import { executeWarmup, itemIdOf, type RetryPolicy, type WarmRequest, type WarmResult } from './executor.js';
import { FINAL_ITEM_STATUSES, ItemRecorder, pendingRow, resultRow } from './records.js';
import { insertItems, readRun, runItems, writeRun, type RunRecord, type RunTrigger } from '../store/queries/warmups.js';

export interface RunWarmupOptions {
  store: Store;
  target: WarmTarget;
  runId: string;
  /** Used when the run is new; a run that already has items resumes those instead. */
  plan: WarmupPlan;
  trigger: RunTrigger;
  /** When the predicted demand starts (epoch ms). */
  plannedFor: number;
  predictionRunId?: string;
  signal?: AbortSignal;
  logger?: Logger;
  retry?: RetryPolicy;
  onResult?: (r: WarmResult) => void;
}

const active = new Map<string, Promise<RunRecord>>();

/** Runs (or resumes, or joins) a warm-up run. Resolves with the final run record. */
export function runWarmup(opts: RunWarmupOptions): Promise<RunRecord> {
  const running = active.get(opts.runId);
  if (running) {
    opts.logger?.info({ runId: opts.runId }, 'warm-up run already in progress here; joining it');
    return running;
  }
  const p = doRun(opts).finally(() => active.delete(opts.runId));
  active.set(opts.runId, p);
  return p;
}

export function requestsOfPlan(runId: string, plan: WarmupPlan): WarmRequest[] {
  return plan.items.flatMap((item) =>
    item.endpoints.map((endpoint, i) => ({
      itemId: itemIdOf(runId, plan.node, item.module, item.version, endpoint),
      module: item.module,
      version: item.version,
      endpoint,
      path: item.paths[i]!,
      expectedBenefit: item.expectedBenefit / item.endpoints.length,
    })),
  );
}

export interface PreparedRun {
  /** The run record as written now (status `running`). */
  base: RunRecord;
  all: WarmRequest[];
  /** Requests not yet `ok`/`not_found`. */
  todo: WarmRequest[];
  resumed: boolean;
}

export type PrepareRunOptions = Pick<RunWarmupOptions, 'store' | 'target' | 'runId' | 'plan' | 'trigger' | 'plannedFor' | 'predictionRunId'>;

/**
 * Opens a run for fetching, here or by workers: a new run gets its record and all its items as `pending` (with
 * their validated paths) before any fetch; an existing unfinished run keeps its stored items and only those not
 * yet final are to do. Returns the stored record instead when the run is settled: it ended, or it is with the
 * warm-up workers (`dispatched`: opening it again would fetch its items twice).
 */
export async function prepareRun(opts: PrepareRunOptions): Promise<PreparedRun | { settled: RunRecord }> {
  const { store, target, runId } = opts;
  const existing = await readRun(store, runId);
  if (existing && (existing.status === 'done' || existing.status === 'skipped' || existing.status === 'dispatched')) return { settled: existing };

  let all: WarmRequest[];
  const stored = existing ? await runItems(store, runId) : [];
  if (stored.length > 0) {
    all = stored.map((r) => ({
      itemId: r.item_id,
      module: r.module,
      version: r.version,
      endpoint: r.endpoint as WarmRequest['endpoint'],
      path: r.path,
      expectedBenefit: Number(r.expected_benefit),
    }));
  } else {
    all = requestsOfPlan(runId, opts.plan);
  }
  const finished = new Set(stored.filter((r) => (FINAL_ITEM_STATUSES as readonly string[]).includes(r.status)).map((r) => r.item_id));
  const todo = all.filter((r) => !finished.has(r.itemId));

  const base: RunRecord = {
    runId,
    node: target.name,
    region: target.region,
    trigger: existing?.trigger ?? opts.trigger,
    plannedFor: existing?.plannedFor ?? opts.plannedFor,
    createdAt: existing?.createdAt ?? Date.now(),
    finishedAt: null,
    status: 'running',
    dryRun: false,
    itemsPlanned: all.length,
    itemsDone: finished.size,
    itemsFailed: 0,
    bytes: existing?.bytes ?? 0,
    expectedBenefit: existing?.expectedBenefit ?? opts.plan.totals.expectedBenefit,
    predictionRunId: existing?.predictionRunId ?? opts.predictionRunId ?? '',
    message: existing ? `resumed: ${finished.size} of ${all.length} items already done` : '',
  };
  await writeRun(store, base);
  if (stored.length === 0) await insertItems(store, all.map((r) => pendingRow(runId, target.name, r)));
  return { base, all, todo, resumed: Boolean(existing) };
}

async function doRun(opts: RunWarmupOptions): Promise<RunRecord> {
  const { store, target, runId, logger } = opts;
  const prepared = await prepareRun(opts);
  if ('settled' in prepared) {
    logger?.info({ runId, status: prepared.settled.status }, 'warm-up run already finished or with the workers; nothing to fetch here');
    return prepared.settled;
  }
  const { base, all, todo, resumed } = prepared;
  logger?.info({ runId, node: target.name, items: all.length, todo: todo.length, resumed }, 'warm-up run started');

  const recorder = new ItemRecorder(store);
  let failure: unknown;
  try {
    await executeWarmup({
      target,
      requests: todo,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(logger ? { logger } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
      onResult: async (r) => {
        opts.onResult?.(r);
        await recorder.add(resultRow(runId, target.name, r));
      },
    });
  } catch (e) {
    failure = e;
  } finally {
    await recorder.flush();
  }

  const final = await finishRun(store, base, { interrupted: opts.signal?.aborted === true, ...(failure ? { failure } : {}) });
  logger?.info({ runId, node: target.name, status: final.status, message: final.message, bytes: final.bytes }, 'warm-up run finished');
  if (failure) throw failure;
  return final;
}

/**
 * Writes a run's outcome from its items' newest states: `done` (or `failed` when nothing succeeded), or left
 * `running` when a shutdown interrupted it before every item finished, so the next start resumes it.
 */
export async function finishRun(store: Store, base: RunRecord, outcome: { interrupted?: boolean; failure?: unknown } = {}): Promise<RunRecord> {
  const items = await runItems(store, base.runId);
  const count = (s: string[]) => items.filter((i) => s.includes(i.status)).length;
  const done = count(['ok', 'not_found']);
  const failed = count(['failed', 'skipped', 'pending']);
  const interrupted = outcome.interrupted === true && done < items.length;
  const { failure } = outcome;
  const final: RunRecord = {
    ...base,
    finishedAt: interrupted ? null : Date.now(),
    status: interrupted ? 'running' : failure || (failed > 0 && done === 0 && items.length > 0) ? 'failed' : 'done',
    itemsPlanned: items.length,
    itemsDone: done,
    itemsFailed: interrupted ? 0 : failed,
    bytes: items.reduce((s, i) => s + Number(i.bytes), 0),
    message: interrupted
      ? `interrupted by shutdown: ${done} of ${items.length} done; resumes when started again`
      : failure
        ? `aborted: ${(failure as Error).message}`
        : `${count(['ok'])} ok, ${count(['not_found'])} not found upstream, ${failed} failed or skipped`,
  };
  await writeRun(store, final);
  return final;
}
