/** Warm-up runs and items as the API lists them (ReplacingMergeTree tables read with FINAL: newest state wins). */
import { queryRows, type Store } from '../../store/client.js';
import type { RunRecord } from '../../warmup/records.js';

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const isoOrNull = (ms: unknown) => (ms === null || ms === undefined ? null : iso(ms));

const RUN_SELECT = `SELECT run_id, node, region, trigger, status, dry_run, toUnixTimestamp(planned_for) * 1000 AS planned_ms,
  toUnixTimestamp64Milli(created_at) AS created_ms,
  if(isNull(finished_at), NULL, toUnixTimestamp64Milli(assumeNotNull(finished_at))) AS finished_ms,
  items_planned, items_done, items_failed, bytes, expected_benefit, prediction_run_id, message
  FROM warmup_runs FINAL`;

function toRun(r: Record<string, unknown>): RunRecord {
  return {
    runId: String(r.run_id),
    node: String(r.node),
    region: String(r.region),
    trigger: String(r.trigger) as RunRecord['trigger'],
    status: String(r.status) as RunRecord['status'],
    dryRun: r.dry_run === true || r.dry_run === 1 || r.dry_run === 'true',
    plannedFor: Number(r.planned_ms),
    createdAt: Number(r.created_ms),
    finishedAt: r.finished_ms === null || r.finished_ms === undefined ? null : Number(r.finished_ms),
    itemsPlanned: Number(r.items_planned),
    itemsDone: Number(r.items_done),
    itemsFailed: Number(r.items_failed),
    bytes: Number(r.bytes),
    expectedBenefit: Number(r.expected_benefit),
    predictionRunId: String(r.prediction_run_id),
    message: String(r.message),
  };
}

/** A run as the API shows it: times as ISO strings. */
export function runView(r: RunRecord) {
  return { ...r, plannedFor: iso(r.plannedFor), createdAt: iso(r.createdAt), finishedAt: isoOrNull(r.finishedAt) };
}

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
  const rows = await queryRows<Record<string, unknown>>(
    store,
    `${RUN_SELECT}
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
  return rows.map(toRun);
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
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
