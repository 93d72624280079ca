/**
 * Starting one node's warm-up run, the same for every trigger (schedule, release, manual): an empty plan is
 * recorded as done at once; otherwise the run is executed here (undici) or, with `scheduler.dispatch = kafka`,
 * handed to the warm-up workers. Runs not waited for go on in the background, tracked until they settle.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { emptyPlanReason, type WarmupPlan } from '../domain/plan.js';
import type { WarmTarget } from '../warmup/fleet.js';
import { runWarmup } from '../warmup/run.js';
import { readRun, writeRun, type RunRecord, type RunTrigger } from '../store/queries/warmups.js';
import { waitForRun, type WarmupDispatcher } from '../warmup/dispatch.js';

export interface TriggeredRun {
  runId: string;
  node: string;
  items: number;
  estimatedBytes: number;
  expectedBenefit: number;
  status: string;
  message?: string;
}

/** What a trigger answers about one run: the plan's size and the run's status (running when not waited for). */
export function runSummary(runId: string, node: string, plan: WarmupPlan, rec?: RunRecord): TriggeredRun {
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

/** One run to start: its node, id, plan and provenance. */
export interface RunRequest {
  target: WarmTarget;
  runId: string;
  plan: WarmupPlan;
  trigger: RunTrigger;
  plannedFor: number;
  predictionRunId: string;
  /** Wait for the run to finish (CLI); otherwise it runs in the background (API, scheduler). */
  wait: boolean;
  /** The planner's note when it found nothing to warm (no predictions for the window). */
  note?: string;
}

export class RunStarter {
  private readonly background = new Set<Promise<unknown>>();
  /** Aborted at stop: runs in progress end at their next item and resume at the next start. */
  readonly abort = new AbortController();

  constructor(
    private readonly deps: {
      store: Store;
      config: Config;
      logger: Logger;
      now: () => number;
      /** With `scheduler.dispatch = kafka`: runs go to the workers. */
      dispatcher?: WarmupDispatcher;
    },
  ) {}

  async start(r: RunRequest): Promise<TriggeredRun> {
    const { store, config, logger, now, dispatcher } = this.deps;
    const { target, runId, plan, trigger, plannedFor, predictionRunId } = r;
    if (plan.items.length === 0) {
      const why = emptyPlanReason(plan, r.note);
      const rec: RunRecord = {
        runId, node: target.name, region: target.region, trigger, plannedFor, createdAt: now(), finishedAt: now(), status: 'done', dryRun: false,
        itemsPlanned: 0, itemsDone: 0, itemsFailed: 0, bytes: 0, expectedBenefit: 0, predictionRunId, message: `nothing to warm${why ? `: ${why}` : ''}`,
      };
      if (!(await readRun(store, runId))) await writeRun(store, rec);
      return runSummary(runId, target.name, plan, rec);
    }
    if (dispatcher) {
      const notAfter = Math.max(plannedFor, now()) + config.scheduler.maxLatenessMinutes * 60_000;
      const rec = await dispatcher.dispatch({ store, target, runId, plan, trigger, plannedFor, predictionRunId, notAfter });
      return runSummary(runId, target.name, plan, r.wait && rec.status === 'dispatched' ? await waitForRun(store, runId, { signal: this.abort.signal }) : rec);
    }
    const p = runWarmup({ store, target, runId, plan, trigger, plannedFor, predictionRunId, logger, signal: this.abort.signal });
    if (r.wait) return runSummary(runId, target.name, plan, await p);
    void this.track(p);
    return runSummary(runId, target.name, plan);
  }

  /** Keeps a background task until it settles; its failure is logged, never unhandled. */
  track<T>(p: Promise<T>): Promise<T> {
    const q = p.catch((e) => this.deps.logger.error({ err: (e as Error).message }, 'background warm-up failed')) as Promise<unknown>;
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
    return p;
  }

  /** Resolves when every background task started so far has settled. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** Aborts the runs in progress and waits for the background tasks to settle. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.background]);
  }
}
