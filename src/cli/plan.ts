/** `modcast plan --node n1 --at 2026-11-26T07:00`: the warm-up plan of a node, dry run, with the benefit per item. */
import type { Command } from 'commander';
import { clockOf, contextFrom, intOption, withStore } from './context.js';
import type { Clock } from '../lib/clock.js';
import { table, formatBytes } from './top.js';
import { findTarget } from '../warmup/fleet.js';
import { planForNode, type NodePlan } from '../warmup/demand.js';
import { fromZoned } from '../domain/calendar.js';
import { skipReasonCounts } from '../domain/plan.js';
import type { Config } from '../config.js';
import { ModcastError, ErrorCodes } from '../errors.js';

/**
 * An instant from `--at`: ISO with `Z` or an offset is absolute; a zone-less `YYYY-MM-DDTHH:MM[:SS]` is wall time
 * in `timeZone` (the node's region), DST-correct. Default: the clock's now.
 */
export function parseAt(text: string | undefined, timeZone: string, clock: Clock): number {
  if (text === undefined) return clock();
  if (/(Z|[+-]\d\d:?\d\d)$/i.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return t;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!m) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--at ${JSON.stringify(text)}: expected YYYY-MM-DDTHH:MM (local time of the region) or an ISO instant`);
  return fromZoned({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +(m[4] ?? 0), minute: +(m[5] ?? 0), second: +(m[6] ?? 0) }, timeZone);
}

export function regionTimeZone(config: Config, region: string): string {
  return config.regions.find((r) => r.name === region)?.timeZone ?? 'UTC';
}

export function printPlan(np: NodePlan, out: (s: string) => void = console.log): void {
  const { plan, window } = np;
  out(`node ${plan.node}: demand window ${new Date(window.from).toISOString()} .. ${new Date(window.to).toISOString()} (${window.source})`);
  out(`predictions: ${np.predictionRunId || '(none: run scoring first)'}; benefit unit: ${plan.costMode === 'latency' ? 'ms of client wait avoided' : 'bytes clients would have waited for'}`);
  out(
    `plan: ${plan.totals.items} items, ${plan.totals.requests} requests, ~${formatBytes(plan.totals.estimatedBytes)} pulled into storage, ` +
      `expected benefit ${plan.totals.expectedBenefit.toFixed(0)} (budget ${plan.budget.maxItems} items, ${formatBytes(plan.budget.maxBytes)})`,
  );
  if (plan.items.length === 0 && np.note) out(`why 0 items: ${np.note}`);
  if (plan.items.length > 0) {
    out('');
    out(
      table(
        ['module', 'version', 'fetch', 'p_any', 'benefit', 'bytes', 'scope'],
        plan.items.map((i) => [i.module, i.version || '-', i.endpoints.join('+'), i.pAny.toFixed(2), i.expectedBenefit.toFixed(0), formatBytes(i.estimatedBytes), i.scope]),
      ),
    );
  }
  if (plan.skipped.length > 0) {
    out('');
    out(`skipped ${plan.skipped.length}: ${skipReasonCounts(plan.skipped).map(([r, n]) => `${n}× ${r}`).join('; ')}`);
  }
}

interface PlanFlags {
  node: string;
  at?: string;
  maxItems?: number;
  maxBytes?: number;
  json?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('show the warm-up plan of a node (dry run): what would be fetched before the predicted demand, with its expected benefit')
    .requiredOption('--node <name>', 'a node of fleet.nodes')
    .option('--at <time>', 'plan for the demand window at/after this time: YYYY-MM-DDTHH:MM in the node region\'s time zone, or an ISO instant (default now)')
    .option('--max-items <n>', 'tighter item budget than the node config', intOption('max-items'))
    .option('--max-bytes <n>', 'tighter byte budget than the node config', intOption('max-bytes'))
    .option('--json', 'print the plan as JSON')
    .action(async (flags: PlanFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const target = findTarget(ctx.config, flags.node);
      const at = parseAt(flags.at, regionTimeZone(ctx.config, target.region), clockOf(ctx));
      const np = await withStore(ctx, (store) =>
        planForNode(store, ctx.config, target, at, {
          ...(flags.maxItems ? { maxItems: flags.maxItems } : {}),
          ...(flags.maxBytes ? { maxBytes: flags.maxBytes } : {}),
        }),
      );
      if (flags.json) console.log(JSON.stringify(np, null, 2));
      else printPlan(np);
    });
}
