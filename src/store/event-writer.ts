/**
 * Writes batches of access events and rejected records, exactly once per batch token.
 *
 * Every batch carries a deterministic token (e.g. `file:<id>:<start>-<end>`, `kafka:<topic>:<partition>:<from>-<to>`):
 * ClickHouse drops a block whose token it has seen within `non_replicated_deduplication_window`, and with
 * `deduplicate_blocks_in_dependent_materialized_views` the rollups drop it too. So a batch retried after a crash
 * or a timeout (insert done, acknowledgement lost) is stored once.
 *
 * Tokens differ between paths, so a line read by two of them (a log both shipped and ingested with `--file`) is
 * dropped by its event id instead: lines already in event_lines (every stored line's `<source>:<offset>`) are left
 * out of the insert. Checked on each attempt, so a retry after a half-done attempt leaves out what that stored.
 */
import type { Logger } from 'pino';
import type { Store } from './client.js';
import type { AccessEventRow, RejectedRow } from './event-rows.js';
import { withRetry } from '../lib/retry.js';
import { readStoredLines, type SourceLines } from './queries/event-lines.js';

export const EVENT_COLUMNS = [
  'event_id', 'ts', 'node', 'region', 'module', 'version', 'kind', 'status', 'bytes', 'duration_ms', 'cache_status', 'client_hash',
] as const;

export interface WriteBatch {
  token: string;
  events: AccessEventRow[];
  rejects: RejectedRow[];
  /** modcast's own warm-up fetches read back from a proxy log: kept apart (warmup_events), never demand. */
  warmups?: AccessEventRow[];
}

export interface EventWriterOptions {
  /** Attempts per batch before the error is thrown to the caller (Infinity = until aborted). */
  attempts?: number;
  signal?: AbortSignal;
  logger?: Logger;
  onInsert?: (events: number, rejects: number) => void;
}

export class EventWriter {
  constructor(private readonly store: Store, private readonly options: EventWriterOptions = {}) {}

  /** Stores the batch; returns how many of its events and warm-ups were stored already (left out). */
  async write(batch: WriteBatch): Promise<{ alreadyStored: number }> {
    const { attempts = 5, signal, logger } = this.options;
    let alreadyStored = 0;
    await withRetry(
      async () => {
        const warmups = batch.warmups ?? [];
        const stored = await readStoredLines(this.store, linesBySource(batch.events, warmups));
        const events = stored.size > 0 ? batch.events.filter((e) => !stored.has(e.event_id)) : batch.events;
        const newWarmups = stored.size > 0 ? warmups.filter((e) => !stored.has(e.event_id)) : warmups;
        alreadyStored = batch.events.length - events.length + warmups.length - newWarmups.length;
        if (events.length > 0) await this.insertEvents(batch.token, events);
        if (batch.rejects.length > 0) await this.insertRejects(`${batch.token}:rejected`, batch.rejects);
        if (newWarmups.length > 0) await this.insertEvents(`${batch.token}:warmup`, newWarmups, 'warmup_events');
      },
      {
        attempts,
        baseMs: 250,
        maxMs: 15_000,
        ...(signal ? { signal } : {}),
        onRetry: (err, attempt, delayMs) =>
          logger?.warn({ err: (err as Error).message, attempt, delayMs, token: batch.token }, 'store insert failed; retrying'),
      },
    );
    this.options.onInsert?.(batch.events.length, batch.rejects.length);
    return { alreadyStored };
  }

  private async insertEvents(token: string, rows: AccessEventRow[], table = 'access_events'): Promise<void> {
    // JSONCompactEachRow (no key repeated per row): ~1.5x the client throughput of JSONEachRow as measured on chDB;
    // `npm run bench -- store` prints a client JSONEachRow insert of the same rows beside this path.
    const values = rows.map((r) => [
      r.event_id, r.ts, r.node, r.region, r.module, r.version, r.kind, r.status, r.bytes, r.duration_ms, r.cache_status, r.client_hash,
    ]);
    await this.store.insert({
      table,
      columns: EVENT_COLUMNS,
      rows: values,
      format: 'JSONCompactEachRow',
      settings: dedupSettings(token),
    });
  }

  private async insertRejects(token: string, rows: RejectedRow[]): Promise<void> {
    await this.store.insert({ table: 'rejected_events', rows, format: 'JSONEachRow', settings: dedupSettings(token) });
  }
}

/** Per source, the line offsets of the rows and their span (ids `<source>:<offset>`; a source may contain ':'). */
function linesBySource(...lists: AccessEventRow[][]): SourceLines[] {
  const bySource = new Map<string, { source: string; from: number; to: number; offsets: number[] }>();
  for (const rows of lists) {
    for (const { event_id: id } of rows) {
      const colon = id.lastIndexOf(':');
      const source = id.slice(0, colon);
      const offset = Number(id.slice(colon + 1));
      if (colon < 0 || !Number.isSafeInteger(offset)) continue;
      const lines = bySource.get(source);
      if (!lines) bySource.set(source, { source, from: offset, to: offset, offsets: [offset] });
      else {
        lines.offsets.push(offset);
        if (offset < lines.from) lines.from = offset;
        else if (offset > lines.to) lines.to = offset;
      }
    }
  }
  return [...bySource.values()];
}

export function dedupSettings(token: string) {
  return {
    insert_deduplicate: 1,
    insert_deduplication_token: token,
    deduplicate_blocks_in_dependent_materialized_views: 1,
  } as const;
}
