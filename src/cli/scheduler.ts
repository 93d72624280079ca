/**
 * `modcast scheduler`: runs the warm-up scheduler loop (and scoring on its cron when available) until SIGTERM.
 * On the embedded store it must be the only process using the data dir; `modcast serve` hosts the same
 * scheduler in-process, so run one or the other. `--once` evaluates the jobs a single time and exits.
 */
import type { Command } from 'commander';
import { clockOf, contextFrom } from './context.js';
import { openStore } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { createScheduler, type TickReport } from '../scheduler/scheduler.js';
import { readRun, type RunRecord } from '../store/queries/warmups.js';
import { scoringJob } from '../scheduler/scoring-job.js';
import { SingleProcessLeadership } from '../scheduler/leader.js';
import { createKafkaClient } from '../kafka/kafkajs.js';
import { parseAt } from './plan.js';
import { shutdownSignal } from './serve.js';

interface SchedulerFlags {
  once?: boolean;
  at?: string;
  json?: boolean;
}

const ACTIONS: Record<string, string> = {
  none: 'no business hours ahead in its calendar',
  wait: 'nothing due yet (warm-ups start scheduler.leadMinutes before the next business block)',
  run: 'warm-up due',
  skip: 'warm-up window missed by more than scheduler.maxLatenessMinutes: recorded as skipped',
};

/** `scheduler --once` for a person: per region what the tick decided, then each run's outcome. */
export function renderTick(report: TickReport, runs: ReadonlyMap<string, RunRecord | undefined>): string {
  const lines = [`scheduler tick at ${new Date(report.at).toISOString()}${report.leader ? '' : ' (not the leader: nothing done)'}`];
  for (const r of report.regions) {
    lines.push(`region ${r.region}: ${r.block ? `business block ${r.block}: ` : ''}${ACTIONS[r.action] ?? r.action}`);
    for (const id of r.runs) {
      const rec = runs.get(id);
      lines.push(
        rec
          ? `  ${id}: ${rec.status}, ${rec.itemsDone}/${rec.itemsPlanned} items warmed, ${rec.itemsFailed} failed${rec.message ? ` (${rec.message})` : ''}`
          : `  ${id}: not recorded`,
      );
    }
  }
  if (report.regions.length === 0) lines.push('no regions: configure regions and fleet.nodes');
  lines.push(
    report.releases.length === 0
      ? 'new versions spread: none'
      : `new versions spread: ${report.releases.map((r) => `${r.module}@${r.version} -> ${r.nodes.join(', ')}`).join('; ')}`,
  );
  return lines.join('\n');
}

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the warm-up scheduler: per-region warm-ups before business hours, release spreading, scoring on its cron')
    .option('--once', 'evaluate the scheduled jobs once (at --at or now), wait for the runs, print the report and exit')
    .option('--at <time>', 'with --once: evaluate as of this ISO instant')
    .option('--json', 'with --once: print the report as JSON')
    .action(async (flags: SchedulerFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const clock = clockOf(ctx);
      const store = await openStore(ctx.config);
      try {
        await migrate(store);
        const score = scoringJob(store, ctx.config, ctx.logger, clock);
        const kafka = ctx.config.kafka.brokers.length > 0 ? createKafkaClient(ctx.config.kafka, ctx.logger) : undefined;
        const scheduler = createScheduler({
          config: ctx.config,
          store,
          logger: ctx.logger,
          score,
          now: clock,
          ...(kafka ? { kafka } : {}),
          // An operator's one-off evaluation acts without an election.
          ...(flags.once ? { leadership: new SingleProcessLeadership() } : {}),
        });
        if (flags.once) {
          const report = await scheduler.tick(parseAt(flags.at, 'UTC', clock));
          await scheduler.idle();
          if (flags.json) {
            console.log(JSON.stringify({ ...report, at: new Date(report.at).toISOString() }, null, 2));
            return;
          }
          const ids = report.regions.flatMap((r) => r.runs);
          const runs = new Map(await Promise.all(ids.map(async (id) => [id, await readRun(store, id)] as const)));
          console.log(renderTick(report, runs));
          return;
        }
        await scheduler.start();
        console.log(`modcast: scheduler running (mode ${ctx.config.scheduler.mode}, ${ctx.config.fleet.nodes.length} nodes, ${ctx.config.regions.length} regions)`);
        const signal = await shutdownSignal(ctx.logger);
        ctx.logger.info({ signal }, 'stopping the scheduler: waiting for runs in progress');
        await scheduler.stop();
      } finally {
        await store.close();
      }
    });
}
