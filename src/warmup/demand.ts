/**
 * The planner's inputs, read from the store for one node and one demand window: the latest finished prediction
 * run's predictions (node, region and fleet scope), what the node already holds (its recent successful
 * info/mod/zip requests and its successful warm-ups), response sizes and cold-vs-warm latency seen in the
 * logs, and the most requested recent version of each module (for module-level predictions).
 * All queries are parameterised and bounded to the candidate modules.
 */
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { queryRows } from '../store/client.js';
import { latestPredictionRun } from '../store/queries/prediction-runs.js';
import { planWarmup, sizeKey, warmKey, type Demand, type PlanInput, type WarmEndpoint, type WarmupPlan } from '../domain/plan.js';
import { currentOrNextBusinessBlock, HOUR_MS, DAY_MS, type RegionCalendar } from '../domain/calendar.js';
import { nodeProfile, type WarmTarget } from './fleet.js';

export interface DemandWindow {
  from: number;
  to: number;
  /** 'business-hours' when taken from the region calendar, else 'fixed'. */
  source: 'business-hours' | 'fixed';
}

/** The business block of the node's region open at or next after `at`; 8 hours from `at` without a calendar. */
export function demandWindow(config: Pick<Config, 'regions'>, region: string, at: number): DemandWindow {
  const cal = config.regions.find((r) => r.name === region) as RegionCalendar | undefined;
  const block = cal ? currentOrNextBusinessBlock(cal, at) : null;
  if (block) return { from: Math.max(at, block.start), to: block.end, source: 'business-hours' };
  return { from: at, to: at + 8 * HOUR_MS, source: 'fixed' };
}

export interface PlanContextOptions {
  /** How far back a node's successful requests count as "in its storage". Default 30 days. */
  warmLookbackDays?: number;
  /** Candidates read from predictions, most likely first. Default 20 × maxItemsPerRun, at most 100k. */
  candidateLimit?: number;
  maxItems?: number;
  maxBytes?: number;
  cost?: PlanInput['cost'];
  minProbability?: number;
  /** Plan against this prediction run instead of the latest finished one. */
  predictionRunId?: string;
}

export interface NodePlan {
  plan: WarmupPlan;
  predictionRunId: string;
  window: DemandWindow;
}

const secs = (ms: number) => Math.floor(ms / 1000);

interface DemandRow {
  module: string;
  version: string;
  kind: string;
  scope: 'node' | 'region' | 'fleet';
  expected: number;
  p_any: number;
}

/**
 * Predictions overlapping the window, combined across the run's hourly steps: P(any) = 1 - Π(1 - p).
 * Only 'step' windows: a run also writes whole-horizon and business-block windows over the same hours.
 */
async function readDemand(store: Store, runId: string, target: WarmTarget, window: DemandWindow, limit: number): Promise<Demand[]> {
  const rows = await queryRows<DemandRow>(
    store,
    `SELECT module, version, kind, toString(scope) AS scope, sum(expected_requests) AS expected,
            1 - exp(sum(log(greatest(1e-12, 1 - least(1, greatest(0, p_any_request)))))) AS p_any
     FROM predictions
     WHERE run_id = {run:String} AND window_kind = 'step'
       AND ((scope = 'node' AND scope_id = {node:String}) OR (scope = 'region' AND scope_id = {region:String}) OR scope = 'fleet')
       AND window_start < toDateTime({to:UInt32}) AND window_end > toDateTime({from:UInt32})
     GROUP BY module, version, kind, scope
     ORDER BY p_any DESC, module, version
     LIMIT {limit:UInt32}`,
    { run: runId, node: target.name, region: target.region, from: secs(window.from), to: secs(window.to), limit },
  );
  return rows.map((r) => ({ module: r.module, version: r.version, kind: r.kind, scope: r.scope, expectedRequests: Number(r.expected), pAny: Number(r.p_any) }));
}

/** What the node holds among the candidate modules: bundle keys and per-file keys. */
async function readWarmKeys(store: Store, node: string, modules: string[], since: number): Promise<Set<string>> {
  const rows = await queryRows<{ module: string; version: string; kind: string }>(
    store,
    `SELECT DISTINCT module, version, toString(kind) AS kind FROM access_events
     WHERE node = {node:String} AND module IN {modules:Array(String)} AND ts >= fromUnixTimestamp64Milli({since:Int64})
       AND kind IN ('info', 'mod', 'zip') AND status >= 200 AND status < 300
     UNION ALL
     SELECT DISTINCT module, version, endpoint AS kind FROM warmup_items
     WHERE node = {node:String} AND module IN {modules:Array(String)} AND status = 'ok' AND updated_at >= fromUnixTimestamp64Milli({since:Int64})`,
    { node, modules, since },
  );
  const keys = new Set<string>();
  for (const r of rows) {
    keys.add(warmKey(r.module, r.version));
    keys.add(warmKey(r.module, r.version, r.kind as WarmEndpoint));
  }
  return keys;
}

interface StatsRow {
  module: string;
  version: string;
  zip: number;
  mod: number;
  info: number;
  miss_ms: number;
  hit_ms: number;
}

/** Response sizes (largest 2xx seen) and the node's cold-minus-warm latency per module@version. */
async function readSizesAndPenalties(store: Store, node: string, modules: string[], since: number) {
  const rows = await queryRows<StatsRow>(
    store,
    `SELECT module, version,
            maxIf(bytes, kind = 'zip' AND status = 200) AS zip, maxIf(bytes, kind = 'mod' AND status = 200) AS mod,
            maxIf(bytes, kind = 'info' AND status = 200) AS info,
            avgIf(duration_ms, cache_status = 'miss' AND node = {node:String}) AS miss_ms,
            avgIf(duration_ms, cache_status = 'hit' AND node = {node:String}) AS hit_ms
     FROM access_events
     WHERE module IN {modules:Array(String)} AND version != '' AND ts >= fromUnixTimestamp64Milli({since:Int64})
     GROUP BY module, version`,
    { node, modules, since },
  );
  const sizes = new Map<string, number>();
  const penalties = new Map<string, number>();
  for (const r of rows) {
    for (const e of ['zip', 'mod', 'info'] as const) if (Number(r[e]) > 0) sizes.set(sizeKey(r.module, r.version, e), Number(r[e]));
    const miss = Number(r.miss_ms);
    const hit = Number(r.hit_ms);
    if (Number.isFinite(miss) && Number.isFinite(hit) && miss > hit) penalties.set(warmKey(r.module, r.version), miss - hit);
  }
  return { sizes, penalties };
}

/** The most requested version of each module over the lookback (for module-level predictions). */
async function readVersionHints(store: Store, modules: string[], since: number): Promise<Map<string, string>> {
  const rows = await queryRows<{ module: string; version: string }>(
    store,
    `SELECT module, argMax(version, n) AS version FROM (
       SELECT module, version, sum(requests) AS n FROM rollups_1h
       WHERE module IN {modules:Array(String)} AND version != '' AND bucket >= toDateTime({since:UInt32})
       GROUP BY module, version)
     GROUP BY module`,
    { modules, since: secs(since) },
  );
  return new Map(rows.map((r) => [r.module, r.version]));
}

/** Builds the plan of one node for the demand window starting at (or after) `at`. */
export async function planForNode(
  store: Store,
  config: Pick<Config, 'regions' | 'fleet'>,
  target: WarmTarget,
  at: number,
  opts: PlanContextOptions = {},
): Promise<NodePlan> {
  const window = demandWindow(config, target.region, at);
  const profile = nodeProfile(target);
  if (opts.maxItems !== undefined) profile.maxItems = Math.min(profile.maxItems, opts.maxItems);
  if (opts.maxBytes !== undefined) profile.maxBytes = Math.min(profile.maxBytes, opts.maxBytes);
  const runId = opts.predictionRunId ?? (await latestPredictionRun(store))?.runId;
  const emptyPlan = planWarmup({ node: profile, demand: [], warm: new Set() });
  if (!runId) return { plan: emptyPlan, predictionRunId: '', window };

  const limit = opts.candidateLimit ?? Math.min(100_000, profile.maxItems * 20);
  const demand = await readDemand(store, runId, target, window, limit);
  const modules = [...new Set(demand.map((d) => d.module))];
  if (modules.length === 0) return { plan: emptyPlan, predictionRunId: runId, window };

  const since = at - (opts.warmLookbackDays ?? 30) * DAY_MS;
  const [warm, stats, versionHints] = await Promise.all([
    readWarmKeys(store, target.name, modules, since),
    readSizesAndPenalties(store, target.name, modules, since),
    readVersionHints(store, modules, at - 7 * DAY_MS),
  ]);
  const nodes = config.fleet.nodes;
  const plan = planWarmup({
    node: profile,
    demand,
    warm,
    sizes: stats.sizes,
    observedPenaltyMs: stats.penalties,
    versionHints,
    scopeSize: { region: Math.max(1, nodes.filter((n) => n.region === target.region).length), fleet: Math.max(1, nodes.length) },
    ...(opts.cost ? { cost: opts.cost } : {}),
    ...(opts.minProbability !== undefined ? { minProbability: opts.minProbability } : {}),
  });
  return { plan, predictionRunId: runId, window };
}
