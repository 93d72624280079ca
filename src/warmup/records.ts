/**
 * warmup_runs / warmup_items in the store (pipelines/030_warmup.sql). Rows are re-inserted on every state
 * change; ReplacingMergeTree(updated_at) keeps the newest, and reads take argMax so they are right before merges.
 */
import type { Store } from '../store/client.js';
import { queryRows } from '../store/client.js';
import { BatchBuffer, type BatchBufferOptions } from '../lib/batch-buffer.js';
import type { WarmResult, WarmRequest, WarmStatus } from './executor.js';

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

/** Statuses after which an item is never fetched again within its run. */
export const FINAL_ITEM_STATUSES: readonly WarmStatus[] = ['ok', 'not_found'];

/** DateTime64(3) columns take epoch ms; DateTime takes epoch seconds. */
const secs = (ms: number) => Math.floor(ms / 1000);

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
}

interface RunRow {
  run_id: string;
  node: string;
  region: string;
  trigger: string;
  planned_for: string;
  created_at: string;
  finished_at: string | null;
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

const RUN_COLUMNS = `run_id, node, region, trigger, toUnixTimestamp(planned_for) * 1000 AS planned_for,
  toUnixTimestamp64Milli(created_at) AS created_at, toUnixTimestamp64Milli(finished_at) AS finished_at, status, dry_run,
  items_planned, items_done, items_failed, bytes, expected_benefit, prediction_run_id, message`;

function runFromRow(r: RunRow): RunRecord {
  return {
    runId: r.run_id,
    node: r.node,
    region: r.region,
    trigger: r.trigger as RunTrigger,
    plannedFor: Number(r.planned_for),
    createdAt: Number(r.created_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
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

export function pendingRow(runId: string, node: string, r: WarmRequest): ItemRow {
  return {
    run_id: runId, item_id: r.itemId, node, module: r.module, version: r.version, endpoint: r.endpoint, path: r.path,
    expected_benefit: r.expectedBenefit, status: 'pending', http_status: 0, bytes: 0, latency_ms: 0, attempts: 0, sha256: '',
    reason: '', finished_at: null, updated_at: Date.now(),
  };
}

export function resultRow(runId: string, node: string, r: WarmResult): ItemRow {
  return {
    ...pendingRow(runId, node, r),
    status: r.status, http_status: r.httpStatus, bytes: r.bytes, latency_ms: Math.round(r.latencyMs * 1000) / 1000,
    attempts: Math.min(255, r.attempts), sha256: r.sha256, reason: r.reason.slice(0, 500), finished_at: r.finishedAt,
  };
}

export async function insertItems(store: Store, rows: readonly ItemRow[]): Promise<void> {
  if (rows.length === 0) return;
  await store.client.insert({ table: 'warmup_items', format: 'JSONEachRow', values: [...rows] });
}

/**
 * Item results written in background batches (see BatchBuffer): a fetch worker waits for the store only when
 * writes fall behind. A crash loses at most the rows not yet written (at most `maxDelayMs` worth): those items
 * are fetched again on resume, which is harmless (idempotent GETs). Batches of 16 awaited in the fetch path
 * halved the executor's rate (bench warm-up). Batches land in order, so an item's newest row is its newest status.
 */
export class ItemRecorder extends BatchBuffer<ItemRow> {
  constructor(store: Store, opts: BatchBufferOptions = {}) {
    super((rows) => insertItems(store, rows), { maxItems: 500, maxDelayMs: 200, ...opts });
  }
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
