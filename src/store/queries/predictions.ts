/**
 * Forecast series of one prediction run, summed over a horizon window, in a stable key order for cursor paging.
 * A run writes overlapping window sets (window_kind 'step', 'horizon', 'business'); sums use one set only.
 * The key (scope, scope_id, module, version, kind) is unique per run, so "strictly after the last key" pages
 * never overlap.
 */
import { queryRows, type Store } from '../client.js';

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

export interface ForecastRow {
  key: SeriesKey;
  expected: number;
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
      AND window_start >= toDateTime(intDiv({from:Int64}, 1000)) AND window_start < toDateTime(intDiv({to:Int64}, 1000))
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

export async function listForecasts(store: Store, f: ForecastFilter, after: SeriesKey | undefined, limit: number): Promise<ForecastRow[]> {
  const where = forecastWhere(f);
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `SELECT toString(scope) AS scope_name, scope_id, module, version, kind,
            sum(expected_requests) AS expected, ${P_ANY_SQL} AS p_any, sum(lower) AS lo, sum(upper) AS hi, any(model) AS model,
            toUnixTimestamp(min(window_start)) * 1000 AS ws, toUnixTimestamp(max(window_end)) * 1000 AS we
     FROM predictions
     WHERE ${where.sql}
       AND ({hasAfter:UInt8} = 0 OR (toString(scope), toString(scope_id), module, version, toString(kind)) >
            ({a0:String}, {a1:String}, {a2:String}, {a3:String}, {a4:String}))
     GROUP BY scope_name, scope_id, module, version, kind
     ORDER BY scope_name, scope_id, module, version, kind
     LIMIT {limit:UInt32}`,
    {
      ...where.params,
      hasAfter: after ? 1 : 0,
      a0: after?.[0] ?? '',
      a1: after?.[1] ?? '',
      a2: after?.[2] ?? '',
      a3: after?.[3] ?? '',
      a4: after?.[4] ?? '',
      limit,
    },
  );
  return rows.map((r) => ({
    key: [String(r.scope_name), String(r.scope_id), String(r.module), String(r.version), String(r.kind)],
    expected: Number(r.expected),
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
