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
 *
 * This file is the wiring: leadership, cron jobs, the results consumer, start and stop. What each trigger warms is
 * warm-triggers.ts; how a run starts (here, or on the workers) is run-starter.ts.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { fleetTargets } from '../warmup/fleet.js';
import { WarmupDispatcher, WarmupResultsConsumer } from '../warmup/dispatch.js';
import { withRetry } from '../lib/retry.js';
import { ClickHouseLease, KafkaLeadership, SingleProcessLeadership, type Leadership } from './leader.js';
import type { KafkaClient } from '../kafka/types.js';
import { RunStarter } from './run-starter.js';
import {
  onReleaseEvent,
  triggerWarmup,
  warmNewReleases,
  warmRegionBlocks,
  type RegionTick,
  type ReleaseResult,
  type ReleaseTick,
  type TriggerContext,
  type TriggerOptions,
  type TriggerResult,
} from './warm-triggers.js';

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

export interface TickReport {
  at: number;
  leader: boolean;
  regions: RegionTick[];
  releases: ReleaseTick[];
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
  const runs = new RunStarter({ store, config, logger, now, ...(distribution ? { dispatcher: distribution.dispatcher } : {}) });
  const ctx: TriggerContext = { config, store, logger, now, targets: () => fleetTargets(config, deps.env), runs };
  const tasks: ScheduledTask[] = [];
  /** Region blocks already handled by this process (the store has the truth; this saves queries). */
  const handled = new Set<string>();

  async function tick(at = now()): Promise<TickReport> {
    const report: TickReport = { at, leader: leadership.isLeader(), regions: [], releases: [] };
    if (!report.leader) return report;
    report.regions = await warmRegionBlocks(ctx, at, handled);
    report.releases = await warmNewReleases(ctx, at);
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

  const scoringTask = (score: ScoringJob): ScheduledTask =>
    cron.schedule(
      config.scoring.cron,
      async () => {
        if (!leadership.isLeader()) return;
        try {
          await score({ signal: runs.abort.signal });
        } catch (e) {
          logger.error({ err: (e as Error).message }, 'scoring job failed');
        }
      },
      { name: 'modcast-scoring', noOverlap: true },
    );

  return {
    async start() {
      await leadership.start();
      if (distribution) {
        // Results may wait in Kafka while the broker is away; they are stored once it answers.
        void runs.track(
          withRetry(() => distribution.results.start(), {
            attempts: Infinity,
            maxMs: 30_000,
            signal: runs.abort.signal,
            onRetry: (err) => logger.warn({ err: (err as Error).message }, 'cannot start the warm-up results consumer; retrying'),
          }),
        );
      }
      tasks.push(cron.schedule('* * * * *', guardedTick, { name: 'modcast-warmup-tick', noOverlap: true }));
      if (deps.score) tasks.push(scoringTask(deps.score));
      else logger.warn('no scoring job in this process: warm-ups plan from the latest finished prediction run');
      logger.info({ mode: leadership.mode, holder: leadership.holderId, leader: leadership.isLeader() }, 'scheduler started');
      // Catch up at once (a restart inside a warm window must not wait for the next minute).
      void guardedTick();
    },
    async stop() {
      for (const t of tasks.splice(0)) await t.destroy();
      await runs.stop();
      if (distribution) await Promise.all([distribution.results.stop(), distribution.dispatcher.close()]);
      await leadership.stop();
    },
    triggerWarmup: (opts) => triggerWarmup(ctx, opts),
    onReleaseEvent: (module, version, opts) => onReleaseEvent(ctx, module, version, opts),
    tick,
    isLeader: () => leadership.isLeader(),
    idle: () => runs.idle(),
  };
}
