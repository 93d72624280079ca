/**
 * Warm-up results as warmup_items rows (store/queries/warmups.ts writes and reads them), and the background
 * writer of those rows.
 */
import type { Store } from '../store/client.js';
import { insertItems, type ItemRow } from '../store/queries/warmups.js';
import { BatchBuffer, type BatchBufferOptions } from '../lib/batch-buffer.js';
import type { WarmResult, WarmRequest, WarmStatus } from './executor.js';

/** Statuses after which an item is never fetched again within its run. */
export const FINAL_ITEM_STATUSES: readonly WarmStatus[] = ['ok', 'not_found'];

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

/**
 * Item results written in background batches (see BatchBuffer): a fetch worker waits for the store only when
 * writes fall behind. A crash loses at most the rows not yet written (at most `maxDelayMs` worth): those items
 * are fetched again on resume, which is harmless (idempotent GETs). Batches of 16 awaited in the fetch path
 * halved the executor's rate (bench warm-up). Each insert is a part for the store to write and merge: at 2k
 * results/s a row cost 90–130 µs of CPU in batches of 200 ms, 60–70 µs in batches of 500 ms (chDB, loaded
 * machine); 1 s would save ~15 µs more but lose twice as much to a crash. Batches land in order, so an item's
 * newest row is its newest status.
 */
export class ItemRecorder extends BatchBuffer<ItemRow> {
  constructor(store: Store, opts: BatchBufferOptions = {}) {
    super((rows) => insertItems(store, rows), { maxItems: 2000, maxDelayMs: 500, ...opts });
  }
}
