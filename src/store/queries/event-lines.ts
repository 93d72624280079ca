/**
 * Which log lines are stored already (table event_lines, pipelines/033_event_lines.sql): the event writer's check
 * before an insert, so a line that came by another path (`modcast ingest --file` and `modcast ship`) is not stored
 * twice.
 */
import { queryRows, type Store } from '../client.js';

/** Line offsets of one source: `from`..`to` bound them (the key range read), `offsets` are the ones asked about. */
export interface SourceLines {
  source: string;
  from: number;
  to: number;
  offsets: readonly number[];
}

/**
 * The event ids (`<source>:<offset>`) among the given lines that are stored already; one key range read per source.
 * Only the lines asked about are returned: a Kafka range's offsets interleave with other partitions' lines of the
 * same file, which are stored and would otherwise all come back (about five times the batch, as strings, per insert).
 */
export async function readStoredLines(store: Store, lines: readonly SourceLines[]): Promise<Set<string>> {
  if (lines.length === 0) return new Set();
  const params: Record<string, unknown> = {};
  const where = lines.map((l, i) => {
    params[`s${i}`] = l.source;
    params[`f${i}`] = l.from;
    params[`t${i}`] = l.to;
    // One comma-joined string: an Array parameter is serialized element by element in JS (~1 µs per offset).
    params[`o${i}`] = l.offsets.join(',');
    return `(source = {s${i}:String} AND offset BETWEEN {f${i}:UInt64} AND {t${i}:UInt64} AND offset IN (SELECT toUInt64(arrayJoin(splitByChar(',', {o${i}:String})))))`;
  });
  const rows = await queryRows<{ id: string }>(store, `SELECT DISTINCT concat(source, ':', toString(offset)) AS id FROM event_lines WHERE ${where.join(' OR ')}`, params);
  return new Set(rows.map((r) => r.id));
}
