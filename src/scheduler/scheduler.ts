/**
 * The warm-up scheduler, hosted by `modcast scheduler` or in-process by `modcast serve` (on the embedded store it
 * must share the process that holds chDB). node-cron jobs:
 * - scoring on `scoring.cron` (when a scoring job is given);
 * - a one-minute tick that, per region, warms every node of the region `scheduler.leadMinutes` before its next
 *   business-hours block (DST-correct, see domain/warm-schedule.ts), runs late within
 *   `scheduler.maxLatenessMinutes` with a warning, else records the run as skipped;
 * - the same tick looks for new versions of hot modules first seen on one node and warms them on the others.
 * Scheduled and detected runs happen only on the leader (see leader.ts); explicit triggers (CLI, API, release
 * webhook) act in the process that received them. With `scheduler.dispatch = kafka` a run is not fetched here
 * but handed to `modcast warmup-worker`s as tasks, and their results come back to this store (warmup/dispatch.ts).
 * Run ids are deterministic per trigger and window, runs resume,
 * and the executor single-flights URLs, so overlapping triggers never fetch twice.
 */
import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { isHotModule, newHotVersions, nodesHolding } from '../store/queries/releases.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { defaultCalendar, DAY_MS, type RegionCalendar } from '../domain/calendar.js';
import { warmDecision, scheduledRunId, ON_TIME_MS } from '../domain/warm-schedule.js';
import { checkVersionForModule } from '../domain/module-path.js';
import { planWarmup, skipReasonCounts, warmKey, type WarmupPlan } from '../domain/plan.js';
import { fleetTargets, noNodesError, nodeProfile, type WarmTarget } from '../warmup/fleet.js';
import { planForNode, type PlanContextOptions } from '../warmup/demand.js';
import { runWarmup } from '../warmup/run.js';
import { readRun, writeRun, type RunRecord, type RunTrigger } from '../store/queries/warmups.js';
import { WarmupDispatcher, WarmupResultsConsumer, waitForRun } from '../warmup/dispatch.js';
import { withRetry } from '../lib/retry.js';
import { ClickHouseLease, KafkaLeadership, SingleProcessLeadership, type Leadership } from './leader.js';
import type { KafkaClient } from '../kafka/types.js';

export type ScoringJob = (opts: { signal?: AbortSignal }) => Promise<unknown>;

export interface SchedulerDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** The scoring job (src/scoring); without it the scheduler only warms. */
  score?: ScoringJob;
  /** Default: from `scheduler.mode` (single | lease | kafka). */
  leadership?: Leadership;
  /** Needed for `scheduler.mode = kafka` and `scheduler.dispatch = kafka`. */
  kafka?: KafkaClient;
  now?: () => number;
  /** Environment for node tokens (default process.env). */
  env?: NodeJS.ProcessEnv;
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

export interface TriggeredRun {
  runId: string;
  node: string;
  items: number;
  estimatedBytes: number;
  expectedBenefit: number;
  status: string;
  message?: string;
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

export interface TickReport {
  at: number;
  leader: boolean;
  regions: { region: string; action: string; block?: string; runs: string[] }[];
  releases: { module: string; version: string; nodes: string[] }[];
}

export interface Scheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  triggerWarmup(opts: TriggerOptions): Promise<TriggerResult>;
  onReleaseEvent(module: string, version: string, opts?: { onlyNodes?: string[] }): Promise<ReleaseResult>;
  /** One evaluation of the scheduled jobs at `now` (what the minute cron calls); exposed for tests and ops. */
  tick(now?: number): Promise<TickReport>;
  isLeader(): boolean;
  /** Resolves when every background run started so far has finished. */
  idle(): Promise<void>;
}

/** A module is hot when the fleet requested it at least this often over the last 7 days. */
const HOT_LOOKBACK_MS = 7 * DAY_MS;
/** New versions are looked for among events of the last few hours (bounded scan). */
const RELEASE_LOOKBACK_MS = 6 * 3_600_000;

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

function summary(runId: string, node: string, plan: WarmupPlan, rec?: RunRecord): TriggeredRun {
  return {
    runId,
    node,
    items: plan.items.length,
    estimatedBytes: plan.totals.estimatedBytes,
    expectedBenefit: plan.totals.expectedBenefit,
    status: rec?.status ?? 'running',
    ...(rec?.message ? { message: rec.message } : {}),
  };
}

/** ": <why>" for an empty plan: the planner's note (no predictions for the window), else what was skipped most. */
function emptyReason(plan: WarmupPlan, note?: string): string {
  if (note) return `: ${note}`;
  const [top] = skipReasonCounts(plan.skipped);
  return top ? `: ${plan.skipped.length} predicted items skipped (${top[1]}× ${top[0]})` : '';
}

function leadershipFor(deps: SchedulerDeps): Leadership {
  const mode = deps.config.scheduler.mode;
  if (mode === 'lease') {
    if (deps.store.embedded) deps.logger.warn('scheduler.mode=lease on the embedded store: only this process can use it, so it leads alone');
    return new ClickHouseLease(deps.store, { logger: deps.logger });
  }
  if (mode === 'kafka') {
    if (!deps.kafka) throw new ModcastError(ErrorCodes.CONFIG_INVALID, 'scheduler.mode=kafka needs kafka.brokers');
    return new KafkaLeadership({ client: deps.kafka, topic: deps.config.kafka.topics.control, groupId: `${deps.config.kafka.groupId}-scheduler`, logger: deps.logger });
  }
  return new SingleProcessLeadership();
}

/** With `scheduler.dispatch = kafka`: runs go to workers as tasks, their results come back to this store. */
function distributionFor(deps: SchedulerDeps): { dispatcher: WarmupDispatcher; results: WarmupResultsConsumer } | undefined {
  if (deps.config.scheduler.dispatch !== 'kafka') return undefined;
  if (!deps.kafka) throw new ModcastError(ErrorCodes.CONFIG_INVALID, 'scheduler.dispatch=kafka needs kafka.brokers');
  const d = { store: deps.store, kafka: deps.kafka, config: deps.config, logger: deps.logger };
  return { dispatcher: new WarmupDispatcher(d), results: new WarmupResultsConsumer(d) };
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const leadership = deps.leadership ?? leadershipFor(deps);
  const distribution = distributionFor(deps);
  const background = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  const abort = new AbortController();
  /** Region blocks already handled by this process (the store has the truth; this saves queries). */
  const handled = new Set<string>();
  const targets = (): WarmTarget[] => fleetTargets(config, deps.env);
  const calendars = (): Map<string, RegionCalendar> => {
    const m = new Map<string, RegionCalendar>(config.regions.map((r) => [r.name, r as RegionCalendar]));
    // Nodes of regions without a calendar follow UTC 09:00-18:00 Monday-Friday.
    for (const n of config.fleet.nodes) if (!m.has(n.region)) m.set(n.region, defaultCalendar(n.region, 'UTC'));
    return m;
  };

  const track = <T>(p: Promise<T>): Promise<T> => {
    const q = p.catch((e) => logger.error({ err: (e as Error).message }, 'background warm-up failed')) as Promise<unknown>;
    background.add(q);
    void q.finally(() => background.delete(q));
    return p;
  };

  const startRun = async (
    target: WarmTarget, runId: string, plan: WarmupPlan, trigger: RunTrigger, plannedFor: number, predictionRunId: string, wait: boolean, note?: string,
  ): Promise<TriggeredRun> => {
    if (plan.items.length === 0) {
      const rec: RunRecord = {
        runId, node: target.name, region: target.region, trigger, plannedFor, createdAt: now(), finishedAt: now(), status: 'done', dryRun: false,
        itemsPlanned: 0, itemsDone: 0, itemsFailed: 0, bytes: 0, expectedBenefit: 0, predictionRunId, message: `nothing to warm${emptyReason(plan, note)}`,
      };
      if (!(await readRun(store, runId))) await writeRun(store, rec);
      return summary(runId, target.name, plan, rec);
    }
    if (distribution) {
      const notAfter = Math.max(plannedFor, now()) + config.scheduler.maxLatenessMinutes * 60_000;
      const rec = await distribution.dispatcher.dispatch({ store, target, runId, plan, trigger, plannedFor, predictionRunId, notAfter });
      return summary(runId, target.name, plan, wait && rec.status === 'dispatched' ? await waitForRun(store, runId, { signal: abort.signal }) : rec);
    }
    const p = runWarmup({ store, target, runId, plan, trigger, plannedFor, predictionRunId, logger, signal: abort.signal });
    if (wait) return summary(runId, target.name, plan, await p);
    void track(p);
    return summary(runId, target.name, plan);
  };

  const selectTargets = (opts: { node?: string; region?: string }): WarmTarget[] => {
    const all = targets();
    if (all.length === 0) throw noNodesError();
    const chosen = all.filter((t) => (opts.node === undefined || t.name === opts.node) && (opts.region === undefined || t.region === opts.region));
    if (chosen.length === 0) {
      throw new ModcastError(ErrorCodes.NODE_UNKNOWN, `no configured node matches ${JSON.stringify({ node: opts.node, region: opts.region })}`);
    }
    return chosen;
  };

  async function triggerWarmup(opts: TriggerOptions): Promise<TriggerResult> {
    const at = opts.at ?? now();
    const trigger = opts.trigger ?? 'manual';
    const planOpts: PlanContextOptions = {
      ...(opts.maxItems !== undefined ? { maxItems: opts.maxItems } : {}),
      ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
    };
    const result: TriggerResult = { dryRun: Boolean(opts.dryRun), predictionRunId: '', window: null, runs: [] };
    const plans: WarmupPlan[] = [];
    await Promise.all(
      selectTargets(opts).map(async (target) => {
        const { plan, predictionRunId, window, note } = await planForNode(store, config, target, at, planOpts);
        result.predictionRunId = predictionRunId;
        result.window = { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() };
        if (opts.dryRun) {
          plans.push(plan);
          const why = plan.items.length === 0 ? emptyReason(plan, note).replace(/^: /, '') : '';
          result.runs.push({ ...summary('', target.name, plan), status: 'dry-run', ...(why ? { message: why } : {}) });
          return;
        }
        const runId = `${trigger}:${target.name}:${new Date(now()).toISOString()}`;
        result.runs.push(await startRun(target, runId, plan, trigger, window.from, predictionRunId, Boolean(opts.wait), note));
      }),
    );
    if (opts.dryRun) result.plans = plans;
    return result;
  }

  async function onReleaseEvent(module: string, version: string, opts: { onlyNodes?: string[] } = {}): Promise<ReleaseResult> {
    const reason = checkVersionForModule(module, version);
    if (reason !== undefined) throw new ModcastError(ErrorCodes.INVALID_MODULE_PATH, reason);
    if (!(await isHotModule(store, module, now() - HOT_LOOKBACK_MS, config.scheduler.hotModuleMinRequests))) {
      return { accepted: false, reason: `${module} is not hot in this fleet (fewer than ${config.scheduler.hotModuleMinRequests} requests in 7 days)`, runs: [] };
    }
    const holding = await nodesHolding(store, module, version);
    const chosen = targets().filter((t) => !holding.has(t.name) && (opts.onlyNodes === undefined || opts.onlyNodes.includes(t.name)));
    const runs = await Promise.all(
      chosen.map((target) => {
        const plan = planWarmup({
          node: nodeProfile(target),
          demand: [{ module, version, kind: 'zip', scope: 'node', expectedRequests: 1, pAny: 1 }],
          warm: new Set(holding.has(target.name) ? [warmKey(module, version)] : []),
          minProbability: 0,
        });
        return startRun(target, `release:${shortHash(`${module}@${version}`)}:${target.name}`, plan, 'release', now(), '', false);
      }),
    );
    logger.info({ module, version, nodes: runs.map((r) => r.node), alreadyHeldBy: [...holding] }, 'release warm-up started');
    return { accepted: true, runs };
  }

  async function tick(at = now()): Promise<TickReport> {
    const report: TickReport = { at, leader: leadership.isLeader(), regions: [], releases: [] };
    if (!report.leader) return report;
    const { leadMinutes, maxLatenessMinutes } = config.scheduler;
    for (const [region, cal] of calendars()) {
      const decision = warmDecision(cal, at, leadMinutes, maxLatenessMinutes);
      if (decision.action === 'none' || decision.action === 'wait') {
        report.regions.push({ region, action: decision.action, runs: [] });
        continue;
      }
      const key = `${region}:${decision.block.date}`;
      const regionTargets = targets().filter((t) => t.region === region);
      const runIds = regionTargets.map((t) => scheduledRunId(region, t.name, decision.block));
      report.regions.push({ region, action: decision.action, block: decision.block.date, runs: runIds });
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
        if (note) logger.warn({ region, node: target.name, block: decision.block.date, why: emptyReason(plan, note).replace(/^: /, '') }, 'scheduled warm-up has nothing to warm');
        await startRun(target, runId, plan, 'schedule', decision.block.start, predictionRunId, false, note);
      }
    }
    const hot = { since: at - RELEASE_LOOKBACK_MS, hotSince: now() - HOT_LOOKBACK_MS, minRequests: config.scheduler.hotModuleMinRequests };
    for (const nv of await newHotVersions(store, hot)) {
      const others = targets().filter((t) => !nv.nodes.includes(t.name)).map((t) => t.name);
      if (others.length === 0) continue;
      const res = await onReleaseEvent(nv.module, nv.version, { onlyNodes: others });
      if (res.accepted && res.runs.length > 0) report.releases.push({ module: nv.module, version: nv.version, nodes: res.runs.map((r) => r.node) });
    }
    return report;
  }

  let tickRunning = false;
  const guardedTick = async () => {
    if (tickRunning) return; // a slow store: never two ticks at once
    tickRunning = true;
    try {
      await tick();
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'scheduler tick failed');
    } finally {
      tickRunning = false;
    }
  };

  return {
    async start() {
      await leadership.start();
      if (distribution) {
        // Results may wait in Kafka while the broker is away; they are stored once it answers.
        void track(
          withRetry(() => distribution.results.start(), {
            attempts: Infinity,
            maxMs: 30_000,
            signal: abort.signal,
            onRetry: (err) => logger.warn({ err: (err as Error).message }, 'cannot start the warm-up results consumer; retrying'),
          }),
        );
      }
      tasks.push(cron.schedule('* * * * *', guardedTick, { name: 'modcast-warmup-tick', noOverlap: true }));
      if (deps.score) {
        const score = deps.score;
        tasks.push(
          cron.schedule(
            config.scoring.cron,
            async () => {
              if (!leadership.isLeader()) return;
              try {
                await score({ signal: abort.signal });
              } catch (e) {
                logger.error({ err: (e as Error).message }, 'scoring job failed');
              }
            },
            { name: 'modcast-scoring', noOverlap: true },
          ),
        );
      } else {
        logger.warn('no scoring job in this process: warm-ups plan from the latest finished prediction run');
      }
      logger.info({ mode: leadership.mode, holder: leadership.holderId, leader: leadership.isLeader() }, 'scheduler started');
      // Catch up at once (a restart inside a warm window must not wait for the next minute).
      void guardedTick();
    },
    async stop() {
      for (const t of tasks.splice(0)) await t.destroy();
      abort.abort();
      await Promise.allSettled([...background]);
      if (distribution) await Promise.all([distribution.results.stop(), distribution.dispatcher.close()]);
      await leadership.stop();
    },
    triggerWarmup,
    onReleaseEvent,
    tick,
    isLeader: () => leadership.isLeader(),
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}
