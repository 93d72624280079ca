/**
 * "Hot now vs predicted": requests in the last window of data next to the expected requests of the next window
 * in the latest prediction run, per module, module@version, node or region.
 */
import { queryRows, type Store } from '../client.js';
import { topQuery, type TopDimension, type TopRow } from './top.js';
import type { ScopeFilter } from './module-history.js';
import { dateTimeParam } from '../time-params.js';

/**
 * Prediction rows that count each request once (see src/scoring/score.ts): a module's total is its version ''
 * row of kind 'any' (version '' with kind 'list' is only its list/@latest traffic); a version's total is its row
 * of kind 'any'. Only the hourly 'step' windows are summed: the 'horizon' and 'business' windows overlap them.
 */
export const TOTAL_KIND = 'any';

/** Key of a prediction row per dimension, and the scope whose rows answer it. A fixed allow-list. */
const FORECAST_KEY: Record<TopDimension, { key: string; level: string }> = {
  module: { key: 'module', level: "version = ''" },
  version: { key: "concat(module, '@', version)", level: "version != ''" },
  node: { key: 'toString(scope_id)', level: "version = ''" },
  region: { key: 'toString(scope_id)', level: "version = ''" },
};

export interface TopForecastQuery extends ScopeFilter {
  by: TopDimension;
  runId: string;
  from: number;
  to: number;
  modulePrefix?: string;
}

/** Which scope of predictions answers a query: a node's, a region's or the fleet's. */
function forecastScope(q: TopForecastQuery): { scope: string; scopeId: string; regionNodes: string } {
  if (q.by === 'node') return { scope: 'node', scopeId: q.node ?? '', regionNodes: q.region ?? '' };
  if (q.by === 'region') return { scope: 'region', scopeId: q.region ?? '', regionNodes: '' };
  if (q.node) return { scope: 'node', scopeId: q.node, regionNodes: '' };
  if (q.region) return { scope: 'region', scopeId: q.region, regionNodes: '' };
  return { scope: 'fleet', scopeId: '', regionNodes: '' };
}

/** Expected requests per key; `keys` limits to those keys, otherwise the top `limit` by expected. */
export async function forecastByKey(
  store: Store,
  q: TopForecastQuery,
  opts: { keys?: string[]; limit: number },
): Promise<Map<string, number>> {
  const f = FORECAST_KEY[q.by];
  const s = forecastScope(q);
  const rows = await queryRows<{ key: string; expected: number }>(
    store,
    `SELECT ${f.key} AS key, sum(expected_requests) AS expected
     FROM predictions
     WHERE run_id = {run:String} AND window_kind = 'step' AND ${f.level} AND kind = {kind:String}
       AND window_start >= ${dateTimeParam('from')} AND window_start < ${dateTimeParam('to')}
       AND toString(scope) = {scope:String} AND ({scopeId:String} = '' OR scope_id = {scopeId:String})
       AND ({regionNodes:String} = '' OR scope_id IN (SELECT DISTINCT node FROM rollups_1h WHERE region = {regionNodes:String}))
       AND startsWith(module, {prefix:String})
       AND ({useKeys:UInt8} = 0 OR key IN {keys:Array(String)})
     GROUP BY key ORDER BY expected DESC, key LIMIT {limit:UInt32}`,
    {
      run: q.runId,
      kind: TOTAL_KIND,
      from: q.from,
      to: q.to,
      ...s,
      prefix: q.modulePrefix ?? '',
      useKeys: opts.keys ? 1 : 0,
      keys: opts.keys ?? [],
      limit: opts.keys ? opts.keys.length : opts.limit,
    },
  );
  return new Map(rows.map((r) => [String(r.key), Number(r.expected)]));
}

export interface ActualQuery extends ScopeFilter {
  by: TopDimension;
  from: Date;
  to: Date;
  limit: number;
  modulePrefix?: string;
}

/** The hottest keys of a window (delegates to the shared top query). */
export function hottest(store: Store, q: ActualQuery): Promise<TopRow[]> {
  return topQuery(store, q);
}

/** Actual counts of given keys (for a list ranked by forecast). */
export async function actualForKeys(store: Store, q: ActualQuery, keys: string[]): Promise<Map<string, TopRow>> {
  if (keys.length === 0) return new Map();
  const rows = await topQuery(store, { ...q, keys, limit: keys.length });
  return new Map(rows.map((r) => [r.key, r]));
}
