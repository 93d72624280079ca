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
 * Offsets per query parameter and per query. A ClickHouse server takes query parameters as HTTP form fields, at most
 * 128 KiB each (`http_max_field_value_size`) and 1 MiB of URI in all: a 20,000-line batch's offsets in one field
 * failed with "Field value too long". 8,000 offsets of up to 12 digits stay near 100 KB per field and query.
 */
const OFFSETS_PER_QUERY = 8_000;

/**
 * The event ids (`<source>:<offset>`) among the given lines that are stored already; one key range read per source
 * and group of offsets. Only the lines asked about are returned: a Kafka range's offsets interleave with other
 * partitions' lines of the same file, which are stored and would otherwise all come back (about five times the
 * batch, as strings, per insert).
 */
export async function readStoredLines(store: Store, lines: readonly SourceLines[]): Promise<Set<string>> {
  const stored = new Set<string>();
  let group: SourceLines[] = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (group.length > 0) for (const id of await readGroup(store, group)) stored.add(id);
    group = [];
    size = 0;
  };
  for (const l of lines) {
    for (let at = 0; at < l.offsets.length; ) {
      const take = Math.min(l.offsets.length - at, OFFSETS_PER_QUERY - size);
      const offsets = take === l.offsets.length ? l.offsets : l.offsets.slice(at, at + take);
      group.push({ ...l, offsets });
      size += take;
      at += take;
      if (size >= OFFSETS_PER_QUERY) await flush();
    }
  }
  await flush();
  return stored;
}

async function readGroup(store: Store, lines: readonly SourceLines[]): Promise<string[]> {
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
  return rows.map((r) => r.id);
}
