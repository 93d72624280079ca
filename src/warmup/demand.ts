/**
 * A node's warm-up plan for one demand window, from the planner's inputs (store/queries/plan-inputs.ts): the
 * latest finished prediction run's predictions (node, region and fleet scope), what the node already holds (its
 * recent successful info/mod/zip requests and its successful warm-ups), response sizes and cold-vs-warm latency
 * seen in the logs, and the most requested recent version of each module (for module-level predictions).
 */
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { latestPredictionRun } from '../store/queries/prediction-runs.js';
import { planWarmup, type PlanInput, type WarmupPlan } from '../domain/plan.js';
import { predictionCoverage, readDemand, readSizesAndPenalties, readVersionHints, readWarmKeys } from '../store/queries/plan-inputs.js';
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
  /** Why the plan is empty when no prediction reaches it (no run, a run that does not cover the window, ...). */
  note?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why a run has no demand for the node's window: what the run's step windows for its scopes cover, if anything. */
async function noDemandNote(store: Store, runId: string, target: WarmTarget, window: DemandWindow): Promise<string> {
  const r = await predictionCoverage(store, runId, target.name, target.region);
  const what = window.source === 'business-hours' ? `the demand window (the business hours of region ${target.region})` : 'the demand window';
  if (r.count === 0) {
    return `prediction run ${runId} has no predictions for node ${target.name}, region ${target.region} or the fleet: ` +
      `the node may have no traffic in the scored history; run \`modcast score\` after ingesting its logs`;
  }
  const { first, last } = r;
  if (last <= window.from) {
    const hours = Math.ceil((window.to - first) / HOUR_MS);
    return `prediction run ${runId} covers ${iso(first)} .. ${iso(last)}, which ends before ${what} starts at ${iso(window.from)}: ` +
      `score with a longer horizon (\`modcast score --horizon-hours ${hours}\`; scheduled scoring reaches the next business block of every region), ` +
      `or plan for an earlier time (--at)`;
  }
  if (first >= window.to) return `prediction run ${runId} covers ${iso(first)} .. ${iso(last)}, after ${what} (${iso(window.from)} .. ${iso(window.to)}): plan for a later time (--at) or score again`;
  return `no prediction of run ${runId} overlapping ${iso(window.from)} .. ${iso(window.to)} reaches the write threshold (scoring.minProbability)`;
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
  if (!runId) return { plan: emptyPlan, predictionRunId: '', window, note: 'no finished prediction run: run `modcast score` (or let the scheduler score on its cron)' };

  const limit = opts.candidateLimit ?? Math.min(100_000, profile.maxItems * 20);
  const demand = await readDemand(store, runId, target, window, limit);
  const modules = [...new Set(demand.map((d) => d.module))];
  if (modules.length === 0) return { plan: emptyPlan, predictionRunId: runId, window, note: await noDemandNote(store, runId, target, window) };

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
