/** `modcast warmup --node n1 | --region eu`: plan and run a warm-up now, waiting for it; prints each run's outcome. */
import type { Command } from 'commander';
import { clockOf, contextFrom, intOption, withStore } from './context.js';
import { table, formatBytes } from './top.js';
import { parseAt, regionTimeZone, printPlan } from './plan.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { SingleProcessLeadership } from '../scheduler/leader.js';
import { measureEffectiveness, measureWarmupTraffic, type Effectiveness, type WarmupTraffic } from '../warmup/effectiveness.js';
import { ModcastError, ErrorCodes } from '../errors.js';

const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)} ms`);

/** `warmup --effectiveness` for a person: what was warmed, what clients used, cold vs warm cost, waste. */
export function renderEffectiveness(e: Effectiveness): string {
  const pct = (e.useRate * 100).toFixed(0);
  const lines = [
    `run ${e.runId} on node ${e.node}, measured over ${e.window.from} .. ${e.window.to}`,
    `warmed ${e.warmedVersions} versions; clients used ${e.usedVersions} (${pct}%) with ${e.requestsOnWarmed} requests: ${e.hitsOnWarmed} hits, ${e.missesOnWarmed} misses`,
    `latency: requests on warmed versions ${ms(e.warmedRequestMs)}; on this node cold (miss) ${ms(e.coldRequestMs)} vs warm (hit) ${ms(e.warmRequestMs)}`,
    `waste: ${e.wastedVersions} versions nobody requested, ${formatBytes(e.wastedTransferBytes)} transferred by the warm-up, ${formatBytes(e.wastedUpstreamBytes)} pulled from upstream`,
  ];
  if (e.warmedVersions === 0) lines.push('nothing was warmed by this run (it had no items, or every fetch failed)');
  if (e.unused.length > 0) lines.push(`unused: ${e.unused.map((u) => `${u.module}@${u.version}`).join(', ')}${e.wastedVersions > e.unused.length ? ', ...' : ''}`);
  return lines.join('\n');
}

/** `warmup --cost` for a person: per day and node, what warm-ups cost the node and how many warmed versions clients used. */
function renderWarmupTraffic(t: WarmupTraffic): string {
  const { totals: s } = t;
  const lines = [
    `warm-up fetches in the nodes' logs, ${t.window.from} .. ${t.window.to} (use counted within ${t.window.useWithinHours} h after the warm-up)`,
  ];
  if (t.days.length === 0) return [...lines, 'no warm-up fetch in the logs of this window (are the nodes logged through ingest or ship?)'].join('\n');
  lines.push(
    table(
      ['day', 'node', 'requests', 'bytes', 'warmed', 'used', 'demand', 'hits'],
      t.days.map((d) => [d.day.slice(0, 10), d.node, d.requests, formatBytes(d.bytes), d.warmedVersions, d.usedVersions, d.demandRequests, d.demandHits]),
    ),
    `total: ${s.requests} warm-up requests, ${formatBytes(s.bytes)}; ${s.usedVersions} of ${s.warmedVersions} warmed versions used (${(s.useRate * 100).toFixed(0)}%) ` +
      `by ${s.demandRequests} client requests, ${s.demandHits} of them cache hits`,
  );
  return lines.join('\n');
}

interface WarmupFlags {
  node?: string;
  region?: string;
  at?: string;
  maxItems?: number;
  maxBytes?: number;
  dryRun?: boolean;
  json?: boolean;
  effectiveness?: string;
  cost?: boolean;
  days: number;
}

export function registerWarmup(program: Command): void {
  program
    .command('warmup')
    .description('run a warm-up now for a node or every node of a region (on the embedded store, not while `modcast serve` holds it: use POST /v1/warmups there)')
    .option('--node <name>', 'a node of fleet.nodes')
    .option('--region <name>', 'every configured node of this region')
    .option('--at <time>', 'plan for the demand window at/after this time (region-local YYYY-MM-DDTHH:MM or ISO; default now)')
    .option('--max-items <n>', 'tighter item budget than the node config', intOption('max-items'))
    .option('--max-bytes <n>', 'tighter byte budget than the node config', intOption('max-bytes'))
    .option('--dry-run', 'only print the plans')
    .option('--effectiveness <runId>', 'instead of warming: measure how a past run helped (hits, waste, cold vs warm latency)')
    .option('--cost', "instead of warming: what warm-ups cost the nodes per day (requests, bytes in their own logs) and how many warmed versions clients then used")
    .option('--days <n>', 'with --cost: the days before now to account for', intOption('days', 1, 400), 7)
    .option('--json', 'print JSON')
    .action(async (flags: WarmupFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (flags.effectiveness) {
        const eff = await withStore(ctx, (store) => measureEffectiveness(store, flags.effectiveness!));
        console.log(flags.json ? JSON.stringify(eff, null, 2) : renderEffectiveness(eff));
        return;
      }
      if (flags.cost) {
        const to = new Date(clockOf(ctx)());
        const scope = { ...(flags.node ? { node: flags.node } : {}), ...(flags.region ? { region: flags.region } : {}) };
        const traffic = await withStore(ctx, (store) => measureWarmupTraffic(store, { from: new Date(to.getTime() - flags.days * 86_400_000), to, ...scope }));
        console.log(flags.json ? JSON.stringify(traffic, null, 2) : renderWarmupTraffic(traffic));
        return;
      }
      if (!flags.node && !flags.region) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'name --node or --region');
      const region = flags.region ?? ctx.config.fleet.nodes.find((n) => n.name === flags.node)?.region ?? '';
      const at = parseAt(flags.at, regionTimeZone(ctx.config, region), clockOf(ctx));
      const result = await withStore(ctx, async (store) => {
        // An operator's "warm now" fetches in this process whatever the configured leadership (no election) and
        // dispatch (workers' results would need a running results consumer to be stored).
        const config = { ...ctx.config, scheduler: { ...ctx.config.scheduler, dispatch: 'local' as const } };
        const scheduler = createScheduler({ config, store, logger: ctx.logger, leadership: new SingleProcessLeadership(), now: clockOf(ctx) });
        return scheduler.triggerWarmup({
          ...(flags.node ? { node: flags.node } : {}),
          ...(flags.region ? { region: flags.region } : {}),
          ...(flags.maxItems ? { maxItems: flags.maxItems } : {}),
          ...(flags.maxBytes ? { maxBytes: flags.maxBytes } : {}),
          dryRun: Boolean(flags.dryRun),
          trigger: 'manual',
          at,
          wait: true,
        });
      });
      if (flags.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      if (result.plans) {
        for (const plan of result.plans) printPlan({ plan, predictionRunId: result.predictionRunId, window: { from: Date.parse(result.window!.from), to: Date.parse(result.window!.to), source: 'business-hours' } });
        return;
      }
      console.log(
        table(
          ['run', 'node', 'items', 'est. bytes', 'status', 'message'],
          result.runs.map((r) => [r.runId, r.node, r.items, formatBytes(r.estimatedBytes), r.status, r.message ?? '']),
        ),
      );
      if (result.runs.some((r) => r.status === 'failed')) process.exitCode = 1;
    });
}
