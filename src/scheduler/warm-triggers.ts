/**
 * What each trigger warms. Manual (CLI, API): the nodes asked for, planned for the demand window at the given time.
 * Release (webhook, or detected by the tick): a new version of a hot module, on the nodes that do not hold it yet.
 * Schedule (the minute tick): per region, every node before its next business-hours block, late within bounds,
 * else recorded as skipped; then the new versions of hot modules first seen on some nodes, on the others.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { isHotModule, newHotVersions, nodesHolding } from '../store/queries/releases.js';
import { readRun, writeRun, type RunTrigger } from '../store/queries/warmups.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { defaultCalendar, DAY_MS, type RegionCalendar } from '../domain/calendar.js';
import { warmDecision, scheduledRunId, ON_TIME_MS } from '../domain/warm-schedule.js';
import { checkVersionForModule } from '../domain/module-path.js';
import { emptyPlanReason, planWarmup, warmKey, type WarmupPlan } from '../domain/plan.js';
import { noNodesError, nodeProfile, type WarmTarget } from '../warmup/fleet.js';
import { planForNode, type PlanContextOptions } from '../warmup/demand.js';
import { runSummary, type RunStarter, type TriggeredRun } from './run-starter.js';

/** What the triggers work with: the fleet's targets now, the store, the clock and the run starter. */
export interface TriggerContext {
  config: Config;
  store: Store;
  logger: Logger;
  now: () => number;
  targets: () => WarmTarget[];
  runs: RunStarter;
}

export interface TriggerOptions {
  node?: string;
  region?: string;
  dryRun?: boolean;
  maxItems?: number;
  maxBytes?: number;
  trigger?: RunTrigger;
  /** Plan for the demand window at/after this instant (default now). */
  at?: number;
  /** Wait for the runs to finish (CLI); otherwise they run in the background (API). */
  wait?: boolean;
}

export interface TriggerResult {
  dryRun: boolean;
  predictionRunId: string;
  window: { from: string; to: string } | null;
  runs: TriggeredRun[];
  plans?: WarmupPlan[];
}

export interface ReleaseResult {
  accepted: boolean;
  reason?: string;
  runs: TriggeredRun[];
}

export interface RegionTick {
  region: string;
  action: string;
  block?: string;
  runs: string[];
}

export interface ReleaseTick {
  module: string;
  version: string;
  nodes: string[];
}

/** A module is hot when the fleet requested it at least this often over the last 7 days. */
const HOT_LOOKBACK_MS = 7 * DAY_MS;
/** New versions are looked for among events of the last few hours (bounded scan). */
const RELEASE_LOOKBACK_MS = 6 * 3_600_000;

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

/** Each region's calendar; nodes of regions without one follow UTC 09:00-18:00 Monday-Friday. */
function regionCalendars(config: Pick<Config, 'regions' | 'fleet'>): Map<string, RegionCalendar> {
  const m = new Map<string, RegionCalendar>(config.regions.map((r) => [r.name, r as RegionCalendar]));
  for (const n of config.fleet.nodes) if (!m.has(n.region)) m.set(n.region, defaultCalendar(n.region, 'UTC'));
  return m;
}

/** The targets a trigger names (by node and/or region); a clear error when none matches. */
function selectTargets(all: WarmTarget[], opts: { node?: string; region?: string }): WarmTarget[] {
  if (all.length === 0) throw noNodesError();
  const chosen = all.filter((t) => (opts.node === undefined || t.name === opts.node) && (opts.region === undefined || t.region === opts.region));
  if (chosen.length === 0) {
    throw new ModcastError(ErrorCodes.NODE_UNKNOWN, `no configured node matches ${JSON.stringify({ node: opts.node, region: opts.region })}`);
  }
  return chosen;
}

export async function triggerWarmup(ctx: TriggerContext, opts: TriggerOptions): Promise<TriggerResult> {
  const { store, config, now } = ctx;
  const at = opts.at ?? now();
  const trigger = opts.trigger ?? 'manual';
  const planOpts: PlanContextOptions = {
    ...(opts.maxItems !== undefined ? { maxItems: opts.maxItems } : {}),
    ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
  };
  const result: TriggerResult = { dryRun: Boolean(opts.dryRun), predictionRunId: '', window: null, runs: [] };
  const plans: WarmupPlan[] = [];
  await Promise.all(
    selectTargets(ctx.targets(), opts).map(async (target) => {
      const { plan, predictionRunId, window, note } = await planForNode(store, config, target, at, planOpts);
      result.predictionRunId = predictionRunId;
      result.window = { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() };
      if (opts.dryRun) {
        plans.push(plan);
        const why = plan.items.length === 0 ? emptyPlanReason(plan, note) : '';
        result.runs.push({ ...runSummary('', target.name, plan), status: 'dry-run', ...(why ? { message: why } : {}) });
        return;
      }
      const runId = `${trigger}:${target.name}:${new Date(now()).toISOString()}`;
      result.runs.push(await ctx.runs.start({ target, runId, plan, trigger, plannedFor: window.from, predictionRunId, wait: Boolean(opts.wait), ...(note ? { note } : {}) }));
    }),
  );
  if (opts.dryRun) result.plans = plans;
  return result;
}

export async function onReleaseEvent(ctx: TriggerContext, module: string, version: string, opts: { onlyNodes?: string[] } = {}): Promise<ReleaseResult> {
  const { store, config, now } = ctx;
  const reason = checkVersionForModule(module, version);
  if (reason !== undefined) throw new ModcastError(ErrorCodes.INVALID_MODULE_PATH, reason);
  if (!(await isHotModule(store, module, now() - HOT_LOOKBACK_MS, config.scheduler.hotModuleMinRequests))) {
    return { accepted: false, reason: `${module} is not hot in this fleet (fewer than ${config.scheduler.hotModuleMinRequests} requests in 7 days)`, runs: [] };
  }
  const holding = await nodesHolding(store, module, version);
  const chosen = ctx.targets().filter((t) => !holding.has(t.name) && (opts.onlyNodes === undefined || opts.onlyNodes.includes(t.name)));
  const runs = await Promise.all(
    chosen.map((target) => {
      const plan = planWarmup({
        node: nodeProfile(target),
        demand: [{ module, version, kind: 'zip', scope: 'node', expectedRequests: 1, pAny: 1 }],
        warm: new Set(holding.has(target.name) ? [warmKey(module, version)] : []),
        minProbability: 0,
      });
      return ctx.runs.start({ target, runId: `release:${shortHash(`${module}@${version}`)}:${target.name}`, plan, trigger: 'release', plannedFor: now(), predictionRunId: '', wait: false });
    }),
  );
  ctx.logger.info({ module, version, nodes: runs.map((r) => r.node), alreadyHeldBy: [...holding] }, 'release warm-up started');
  return { accepted: true, runs };
}

/**
 * The tick's scheduled runs at `at`: per region, what warmDecision says about its next business block. `handled`
 * holds the region blocks this process already started (the store has the truth; this saves queries).
 */
export async function warmRegionBlocks(ctx: TriggerContext, at: number, handled: Set<string>): Promise<RegionTick[]> {
  const { store, config, logger } = ctx;
  const { leadMinutes, maxLatenessMinutes } = config.scheduler;
  const ticks: RegionTick[] = [];
  for (const [region, cal] of regionCalendars(config)) {
    const decision = warmDecision(cal, at, leadMinutes, maxLatenessMinutes);
    if (decision.action === 'none' || decision.action === 'wait') {
      ticks.push({ region, action: decision.action, runs: [] });
      continue;
    }
    const key = `${region}:${decision.block.date}`;
    const regionTargets = ctx.targets().filter((t) => t.region === region);
    const runIds = regionTargets.map((t) => scheduledRunId(region, t.name, decision.block));
    ticks.push({ region, action: decision.action, block: decision.block.date, runs: runIds });
    if (handled.has(key)) continue;
    handled.add(key);
    for (const target of regionTargets) {
      const runId = scheduledRunId(region, target.name, decision.block);
      const existing = await readRun(store, runId);
      if (existing && existing.status !== 'running') continue;
      if (decision.action === 'skip' && !existing) {
        const minutes = Math.round(decision.latenessMs / 60_000);
        logger.warn({ region, node: target.name, block: decision.block.date, lateMinutes: minutes }, 'warm-up window missed; skipping');
        await writeRun(store, {
          runId, node: target.name, region, trigger: 'schedule', plannedFor: decision.block.start, createdAt: at, finishedAt: at, status: 'skipped',
          dryRun: false, itemsPlanned: 0, itemsDone: 0, itemsFailed: 0, bytes: 0, expectedBenefit: 0, predictionRunId: '',
          message: `window missed by ${minutes} min (max lateness ${maxLatenessMinutes} min)`,
        });
        continue;
      }
      if (decision.action === 'run' && decision.latenessMs > ON_TIME_MS) {
        logger.warn({ region, node: target.name, lateMinutes: Math.round(decision.latenessMs / 60_000) }, 'warm-up running late');
      }
      // A run in progress (crash, restart) resumes with its stored items; a new one is planned now.
      const { plan, predictionRunId, note } = await planForNode(store, config, target, decision.block.start);
      if (note) logger.warn({ region, node: target.name, block: decision.block.date, why: emptyPlanReason(plan, note) }, 'scheduled warm-up has nothing to warm');
      await ctx.runs.start({ target, runId, plan, trigger: 'schedule', plannedFor: decision.block.start, predictionRunId, wait: false, ...(note ? { note } : {}) });
    }
  }
  return ticks;
}

/** The tick's release runs: new versions of hot modules seen lately on some nodes, warmed on the others. */
export async function warmNewReleases(ctx: TriggerContext, at: number): Promise<ReleaseTick[]> {
  const { store, config, now } = ctx;
  const ticks: ReleaseTick[] = [];
  const hot = { since: at - RELEASE_LOOKBACK_MS, hotSince: now() - HOT_LOOKBACK_MS, minRequests: config.scheduler.hotModuleMinRequests };
  for (const nv of await newHotVersions(store, hot)) {
    const others = ctx.targets().filter((t) => !nv.nodes.includes(t.name)).map((t) => t.name);
    if (others.length === 0) continue;
    const res = await onReleaseEvent(ctx, nv.module, nv.version, { onlyNodes: others });
    if (res.accepted && res.runs.length > 0) ticks.push({ module: nv.module, version: nv.version, nodes: res.runs.map((r) => r.node) });
  }
  return ticks;
}
