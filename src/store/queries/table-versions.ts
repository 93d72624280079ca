/**
 * A fingerprint of what some tables hold, from their active parts: every insert, merge, mutation or TTL drop makes
 * a part with a new name (block numbers only grow), so an equal fingerprint means the same rows. A merge changes it
 * without changing the rows, which costs a needless recompute, never a stale answer. The API's read cache asks it
 * before making an answer again (src/api/cache.ts): one metadata query instead of the answer's scans.
 */
import { queryRows, type Store } from '../client.js';

/** Undefined where the parts are not all visible from here (a cluster's live on its other nodes): cannot tell. */
export async function tablesVersion(store: Store, tables: readonly string[]): Promise<string | undefined> {
  if (store.cluster) return undefined;
  const [row] = await queryRows<{ v: string }>(
    store,
    `SELECT toString(cityHash64(arrayStringConcat(arraySort(groupArray(concat(table, '/', name))), ','))) AS v
     FROM system.parts WHERE database = currentDatabase() AND table IN {tables:Array(String)} AND active`,
    { tables: [...tables] },
  );
  return row?.v;
}

/** What the rollup reads (history, heatmap, releases) are made from. */
export const ROLLUP_TABLES = ['rollups_5m', 'rollups_1h'] as const;
