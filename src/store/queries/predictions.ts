/**
 * Forecast series of one prediction run, summed over a horizon window, most expected demand first (or in key
 * order), in a stable order for cursor paging.
 * A run writes overlapping window sets (window_kind 'step', 'horizon', 'business'); sums use one set only.
 * The key (scope, scope_id, module, version, kind) is unique per run, so "strictly after the last (expected, key)"
 * pages never overlap. Expected sums are compared rounded to 1e-6: a float sum may differ in its last bits
 * between two queries (summation order), which must not move a series across a page boundary.
 */
import { queryRows, type Store } from '../client.js';
import { dateTimeParam } from '../time-params.js';

export type SeriesKey = [scope: string, scopeId: string, module: string, version: string, kind: string];

export interface ForecastFilter {
  runId: string;
  /** Windows starting in [from, to), epoch ms. */
  from: number;
  to: number;
  scope?: string;
  scopeId?: string;
  modulePrefix?: string;
  kind?: string;
  /** Only a module (or module@version) exactly, for the hotness view. */
  module?: string;
  /** Which of a run's overlapping window sets: 'step' (hourly, tiling the horizon; default), 'horizon', 'business'. */
  windowKind?: string;
}

export type ForecastOrder = 'expected' | 'key';

/** Where the previous page ended: its last key, and its rounded expected sum when ordered by it. */
export interface ForecastAfter {
  key: SeriesKey;
  expected?: number;
}

export interface ForecastRow {
  key: SeriesKey;
  expected: number;
  /** The expected sum as paging compares it (rounded). */
  sortExpected: number;
  pAny: number;
  lower: number;
  upper: number;
  model: string;
  windowStart: number;
  windowEnd: number;
}

/** WHERE conditions shared by the listing and the per-module view; all values are query parameters. */
export function forecastWhere(f: ForecastFilter): { sql: string; params: Record<string, unknown> } {
  return {
    sql: `run_id = {run:String} AND window_kind = {windowKind:String}
      AND window_start >= ${dateTimeParam('from')} AND window_start < ${dateTimeParam('to')}
      AND ({scope:String} = '' OR toString(scope) = {scope:String})
      AND ({scopeId:String} = '' OR scope_id = {scopeId:String})
      AND startsWith(module, {prefix:String})
      AND ({module:String} = '' OR module = {module:String})
      AND ({kind:String} = '' OR kind = {kind:String})`,
    params: {
      run: f.runId,
      from: f.from,
      to: f.to,
      scope: f.scope ?? '',
      scopeId: f.scopeId ?? '',
      prefix: f.modulePrefix ?? '',
      module: f.module ?? '',
      kind: f.kind ?? '',
      windowKind: f.windowKind ?? 'step',
    },
  };
}

// P(at least one request over the window) from per-step probabilities, assuming independent steps.
const P_ANY_SQL = `if(max(p_any_request) >= 1, 1, 1 - exp(sum(log(1 - least(greatest(p_any_request, 0), 1)))))`;

const KEY_AFTER = `(scope_name, toString(scope_id), module, version, toString(kind)) > ({a0:String}, {a1:String}, {a2:String}, {a3:String}, {a4:String})`;

/** Paging condition and order per sort: fixed SQL, chosen from an allow-list, never from request text. */
const ORDER_SQL: Record<ForecastOrder, { having: string; orderBy: string }> = {
  expected: {
    having: `({hasAfter:UInt8} = 0 OR e < {ae:Float64} OR (e = {ae:Float64} AND ${KEY_AFTER}))`,
    orderBy: 'e DESC, scope_name, scope_id, module, version, kind',
  },
  key: { having: `({hasAfter:UInt8} = 0 OR ${KEY_AFTER})`, orderBy: 'scope_name, scope_id, module, version, kind' },
};

export async function listForecasts(
  store: Store,
  f: ForecastFilter,
  after: ForecastAfter | undefined,
  limit: number,
  order: ForecastOrder = 'expected',
): Promise<ForecastRow[]> {
  const where = forecastWhere(f);
  const o = ORDER_SQL[order];
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `SELECT toString(scope) AS scope_name, scope_id, module, version, kind,
            sum(expected_requests) AS expected, round(expected, 6) AS e, ${P_ANY_SQL} AS p_any, sum(lower) AS lo, sum(upper) AS hi,
            any(model) AS model, toUnixTimestamp(min(window_start)) * 1000 AS ws, toUnixTimestamp(max(window_end)) * 1000 AS we
     FROM predictions
     WHERE ${where.sql}
     GROUP BY scope_name, scope_id, module, version, kind
     HAVING ${o.having}
     ORDER BY ${o.orderBy}
     LIMIT {limit:UInt32}`,
    {
      ...where.params,
      hasAfter: after ? 1 : 0,
      ae: after?.expected ?? 0,
      a0: after?.key[0] ?? '',
      a1: after?.key[1] ?? '',
      a2: after?.key[2] ?? '',
      a3: after?.key[3] ?? '',
      a4: after?.key[4] ?? '',
      limit,
    },
  );
  return rows.map((r) => ({
    key: [String(r.scope_name), String(r.scope_id), String(r.module), String(r.version), String(r.kind)],
    expected: Number(r.expected),
    sortExpected: Number(r.e),
    pAny: Number(r.p_any),
    lower: Number(r.lo),
    upper: Number(r.hi),
    model: String(r.model),
    windowStart: Number(r.ws),
    windowEnd: Number(r.we),
  }));
}

export interface ForecastSeries {
  scope: string;
  scopeId: string;
  version: string;
  kind: string;
  expected: number;
  points: [number, number, number, number][];
}

/** Per-step forecast of one module, series with the most expected requests first (at most `maxSeries`). */
export async function moduleForecast(store: Store, f: ForecastFilter, maxSeries: number): Promise<ForecastSeries[]> {
  const where = forecastWhere(f);
  const rows = await queryRows<Record<string, string | number | unknown[]>>(
    store,
    `SELECT toString(scope) AS scope_name, scope_id, version, kind, sum(expected_requests) AS expected,
            arraySort(x -> x.1, groupArray((toUnixTimestamp(window_start) * 1000, expected_requests, lower, upper))) AS points
     FROM predictions
     WHERE ${where.sql}
     GROUP BY scope_name, scope_id, version, kind
     ORDER BY expected DESC, scope_name, scope_id, version, kind
     LIMIT {maxSeries:UInt32}`,
    { ...where.params, maxSeries },
  );
  return rows.map((r) => ({
    scope: String(r.scope_name),
    scopeId: String(r.scope_id),
    version: String(r.version),
    kind: String(r.kind),
    expected: Number(r.expected),
    points: (r.points as unknown[][]).map((p) => [Number(p[0]), Number(p[1]), Number(p[2]), Number(p[3])] as [number, number, number, number]),
  }));
}
