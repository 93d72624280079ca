/**
 * Which log lines are stored already (table event_lines, pipelines/033_event_lines.sql): the event writer's check
 * before an insert, so a line that came by another path (`modcast ingest --file` and `modcast ship`) is not stored
 * twice.
 */
import { queryRows, type Store } from '../client.js';

/** Offsets `from`..`to` (inclusive) of one source. */
export interface LineRange {
  source: string;
  from: number;
  to: number;
}

/** The event ids (`<source>:<offset>`) stored within the ranges; one key range read per source. */
export async function readStoredLines(store: Store, ranges: readonly LineRange[]): Promise<Set<string>> {
  if (ranges.length === 0) return new Set();
  const params: Record<string, unknown> = {};
  const where = ranges.map((r, i) => {
    params[`s${i}`] = r.source;
    params[`f${i}`] = r.from;
    params[`t${i}`] = r.to;
    return `(source = {s${i}:String} AND offset BETWEEN {f${i}:UInt64} AND {t${i}:UInt64})`;
  });
  const rows = await queryRows<{ id: string }>(store, `SELECT DISTINCT concat(source, ':', toString(offset)) AS id FROM event_lines WHERE ${where.join(' OR ')}`, params);
  return new Set(rows.map((r) => r.id));
}
