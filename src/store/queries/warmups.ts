/**
 * warmup_runs / warmup_items (pipelines/030_warmup.sql): every read and write of the two tables. Rows are
 * re-inserted on every state change; ReplacingMergeTree(updated_at) keeps the newest, and reads take FINAL or the
 * newest row per item so they are right before merges.
 */
import type { Store } from '../client.js';
import { queryRows } from '../client.js';

/** `dispatched`: every request of the run was handed to workers over Kafka (see warmup/dispatch.ts). */
export type RunStatus = 'planned' | 'running' | 'dispatched' | 'done' | 'failed' | 'skipped';
export type RunTrigger = 'schedule' | 'release' | 'manual' | 'api';

export interface RunRecord {
  runId: string;
  node: string;
  region: string;
  trigger: RunTrigger;
  plannedFor: number;
  createdAt: number;
  finishedAt: number | null;
  status: RunStatus;
  dryRun: boolean;
  itemsPlanned: number;
  itemsDone: number;
  itemsFailed: number;
  bytes: number;
  expectedBenefit: number;
  predictionRunId: string;
  message: string;
}

/** DateTime64(3) columns take epoch ms; DateTime takes epoch seconds. */
const secs = (ms: number) => Math.floor(ms / 1000);

/** Runs written by this process per store: a reader that keeps answers (the API's cache) sees them at once. */
const runWrites = new WeakMap<Store, number>();

/** Goes up with every run this process writes to `store`; other processes' writes are not counted. */
export function runWritesOf(store: Store): number {
  return runWrites.get(store) ?? 0;
}

export async function writeRun(store: Store, r: RunRecord): Promise<void> {
  await store.client.insert({
    table: 'warmup_runs',
    format: 'JSONEachRow',
    values: [
      {
        run_id: r.runId,
        node: r.node,
        region: r.region,
        trigger: r.trigger,
        planned_for: secs(r.plannedFor),
        created_at: r.createdAt,
        finished_at: r.finishedAt,
        status: r.status,
        dry_run: r.dryRun,
        items_planned: r.itemsPlanned,
        items_done: r.itemsDone,
        items_failed: r.itemsFailed,
        bytes: r.bytes,
        expected_benefit: r.expectedBenefit,
        prediction_run_id: r.predictionRunId,
        message: r.message,
        updated_at: Date.now(),
      },
    ],
  });
  runWrites.set(store, runWritesOf(store) + 1);
}

interface RunRow {
  run_id: string;
  node: string;
  region: string;
  trigger: string;
  planned_ms: string;
  created_ms: string;
  finished_ms: string | null;
  status: string;
  dry_run: boolean;
  items_planned: number;
  items_done: number;
  items_failed: number;
  bytes: string;
  expected_benefit: number;
  prediction_run_id: string;
  message: string;
}

// Times under their own names (`*_ms`): an alias equal to a column name would shadow the column in WHERE/ORDER BY.
const RUN_COLUMNS = `run_id, node, region, trigger, toUnixTimestamp(planned_for) * 1000 AS planned_ms,
  toUnixTimestamp64Milli(created_at) AS created_ms, toUnixTimestamp64Milli(finished_at) AS finished_ms, status, dry_run,
  items_planned, items_done, items_failed, bytes, expected_benefit, prediction_run_id, message`;

function runFromRow(r: RunRow): RunRecord {
  return {
    runId: r.run_id,
    node: r.node,
    region: r.region,
    trigger: r.trigger as RunTrigger,
    plannedFor: Number(r.planned_ms),
    createdAt: Number(r.created_ms),
    finishedAt: r.finished_ms === null ? null : Number(r.finished_ms),
    status: r.status as RunStatus,
    dryRun: Boolean(r.dry_run),
    itemsPlanned: Number(r.items_planned),
    itemsDone: Number(r.items_done),
    itemsFailed: Number(r.items_failed),
    bytes: Number(r.bytes),
    expectedBenefit: Number(r.expected_benefit),
    predictionRunId: r.prediction_run_id,
    message: r.message,
  };
}

export async function readRun(store: Store, runId: string): Promise<RunRecord | undefined> {
  const rows = await queryRows<RunRow>(
    store,
    `SELECT ${RUN_COLUMNS} FROM warmup_runs FINAL WHERE run_id = {runId:String} LIMIT 1`,
    { runId },
  );
  return rows[0] ? runFromRow(rows[0]) : undefined;
}

export interface ItemRow {
  run_id: string;
  item_id: string;
  node: string;
  module: string;
  version: string;
  endpoint: string;
  path: string;
  expected_benefit: number;
  status: string;
  http_status: number;
  bytes: number;
  latency_ms: number;
  attempts: number;
  sha256: string;
  reason: string;
  finished_at: number | null;
  updated_at: number;
}

export async function insertItems(store: Store, rows: readonly ItemRow[]): Promise<void> {
  if (rows.length === 0) return;
  await store.client.insert({ table: 'warmup_items', format: 'JSONEachRow', values: [...rows] });
}

/** Items of a run with their newest state (for the API and tests); a run has at most maxItemsPerRun × endpoints. */
export async function runItems(store: Store, runId: string): Promise<ItemRow[]> {
  const rows = await queryRows<Omit<ItemRow, 'finished_at' | 'updated_at'> & { finished_ms: string | null; updated_ms: string }>(
    store,
    `SELECT run_id, item_id, node, module, version, endpoint, path, expected_benefit, status, http_status, bytes, latency_ms,
            attempts, sha256, reason, toUnixTimestamp64Milli(finished_at) AS finished_ms, toUnixTimestamp64Milli(updated_at) AS updated_ms
     FROM warmup_items WHERE run_id = {runId:String}
     ORDER BY item_id, updated_at DESC LIMIT 1 BY item_id`,
    { runId },
  );
  return rows
    .map(({ finished_ms, updated_ms, ...r }) => ({
      ...r,
      bytes: Number(r.bytes),
      finished_at: finished_ms === null ? null : Number(finished_ms),
      updated_at: Number(updated_ms),
    }))
    .sort((a, b) => a.module.localeCompare(b.module) || a.version.localeCompare(b.version) || a.endpoint.localeCompare(b.endpoint));
}

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const isoOrNull = (ms: unknown) => (ms === null || ms === undefined ? null : iso(ms));

export interface WarmupListQuery {
  node?: string;
  region?: string;
  status?: string;
  trigger?: string;
  /** Strictly after this (created_at ms, run_id) in descending order. */
  after?: [number, string];
  limit: number;
}

export async function listWarmupRuns(store: Store, q: WarmupListQuery): Promise<RunRecord[]> {
  const rows = await queryRows<RunRow>(
    store,
    `SELECT ${RUN_COLUMNS} FROM warmup_runs FINAL
     WHERE ({node:String} = '' OR node = {node:String}) AND ({region:String} = '' OR region = {region:String})
       AND ({status:String} = '' OR status = {status:String}) AND ({trigger:String} = '' OR trigger = {trigger:String})
       AND ({hasAfter:UInt8} = 0 OR (toUnixTimestamp64Milli(created_at), run_id) < ({afterMs:Int64}, {afterId:String}))
     ORDER BY created_at DESC, run_id DESC
     LIMIT {limit:UInt32}`,
    {
      node: q.node ?? '',
      region: q.region ?? '',
      status: q.status ?? '',
      trigger: q.trigger ?? '',
      hasAfter: q.after ? 1 : 0,
      afterMs: q.after?.[0] ?? 0,
      afterId: q.after?.[1] ?? '',
      limit: q.limit,
    },
  );
  return rows.map(runFromRow);
}

export async function warmupItems(store: Store, runId: string, limit: number) {
  const rows = await queryRows<Record<string, unknown>>(
    store,
    `SELECT item_id, node, module, version, endpoint, path, expected_benefit, status, http_status, bytes, latency_ms, attempts, reason,
            if(isNull(finished_at), NULL, toUnixTimestamp64Milli(assumeNotNull(finished_at))) AS finished_ms
     FROM warmup_items FINAL WHERE run_id = {run:String}
     ORDER BY expected_benefit DESC, item_id LIMIT {limit:UInt32}`,
    { run: runId, limit },
  );
  return rows.map((r) => ({
    itemId: String(r.item_id),
    node: String(r.node),
    module: String(r.module),
    version: String(r.version),
    endpoint: String(r.endpoint),
    path: String(r.path),
    expectedBenefit: Number(r.expected_benefit),
    status: String(r.status),
    httpStatus: Number(r.http_status),
    bytes: Number(r.bytes),
    latencyMs: Number(r.latency_ms),
    attempts: Number(r.attempts),
    reason: String(r.reason),
    finishedAt: isoOrNull(r.finished_ms),
  }));
}

export async function warmupItemCounts(store: Store, runId: string): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: string }>(
    store,
    'SELECT status, count() AS n FROM warmup_items FINAL WHERE run_id = {run:String} GROUP BY status ORDER BY status',
    { run: runId },
  );
  return byStatus(rows);
}

const byStatus = (rows: { status: string; n: string }[]): Record<string, number> => Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));

/** Items and runs of the runs created in the last 24 h, counted by status (the /metrics gauges). */
export async function recentWarmupStatusCounts(store: Store): Promise<{ items: Record<string, number>; runs: Record<string, number> }> {
  const [items, runs] = await Promise.all([
    queryRows<{ status: string; n: string }>(
      store,
      `SELECT toString(status) AS status, count() AS n FROM warmup_items FINAL
       WHERE run_id IN (SELECT run_id FROM warmup_runs FINAL WHERE created_at >= now() - INTERVAL 1 DAY) GROUP BY status`,
    ),
    queryRows<{ status: string; n: string }>(
      store,
      'SELECT toString(status) AS status, count() AS n FROM warmup_runs FINAL WHERE created_at >= now() - INTERVAL 1 DAY GROUP BY status',
    ),
  ]);
  return { items: byStatus(items), runs: byStatus(runs) };
}
