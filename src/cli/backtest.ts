/**
 * `modcast backtest` — replays a trace (CSV, the store over a time range, or the demo workload) and compares warm-up
 * methods under the same budgets: no warm-up, naive last-24h and same-hour-last-week top-K, modcast's models alone
 * and its selected ensemble, and the oracle. Prints the table; writes report.json, benefit.svg and table.txt.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { contextFrom, intOption, parseNodeRegions, withStore } from './context.js';
import { DEMO_REGIONS } from './demo.js';
import { buildMethods, demoTrace, parseBudgets, parseBytes, runBacktestJob, DEFAULT_METHODS, type BacktestOutputs } from '../backtest/runner.js';
import { parseTraceTime } from '../backtest/trace-csv.js';
import { readTraceCsvFileInThread } from '../backtest/trace-csv-thread.js';
import { readStoreTrace, storeTimeRange } from '../store/queries/access-events.js';
import type { Cadence, TraceSource } from '../domain/backtest/replay.js';
import { defaultCalendar, type RegionCalendar } from '../domain/calendar.js';
import { defaultWorkload } from '../demo/generator.js';
import { ModcastError, ErrorCodes } from '../errors.js';

interface BacktestFlags {
  trace?: string;
  from?: string;
  to?: string;
  demo?: boolean;
  seed: number;
  days: number;
  cadence: string;
  leadMinutes?: number;
  budgetItems?: string;
  budgetBytes?: string;
  capacity?: string;
  ttlMinutes: number;
  warmupHours: number;
  judgeFrom?: string;
  methods?: string;
  nodeRegion?: string;
  out?: string;
  json?: boolean;
}

function parseCadence(s: string, leadMinutes: number): Cadence {
  if (s === 'hourly') return { kind: 'interval', minutes: 60 };
  if (s === 'business') return { kind: 'business', leadMinutes };
  const m = /^(\d+)(m|h)$/.exec(s);
  if (!m || Number(m[1]) < 1) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--cadence expects hourly, business, <N>m or <N>h; got ${JSON.stringify(s)}`);
  return { kind: 'interval', minutes: Number(m[1]) * (m[2] === 'h' ? 60 : 1) };
}

function time(s: string, what: string): number {
  const t = parseTraceTime(s);
  if (!Number.isFinite(t)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `${what}: not a time: ${JSON.stringify(s)}`);
  return t;
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description('replay a trace and compare warm-up methods (baselines, modcast models, oracle) per budget')
    .option('--trace <file>', 'trace CSV: ts,module[,version][,node][,bytes] (header optional; ISO or epoch; .gz ok)')
    .option('--from <time>', 'replay the store from this time (default: its first event)')
    .option('--to <time>', 'replay the store until this time (default: its last event)')
    .option('--demo', 'replay the demo workload generator instead (see --seed, --days)')
    .option('--seed <n>', 'demo seed', intOption('seed', 0), 42)
    .option('--days <n>', 'demo days', intOption('days', 2, 120), 14)
    .option('--cadence <c>', 'decisions: hourly, <N>m, <N>h, or business (before each region\'s business hours)', 'hourly')
    .option('--lead-minutes <n>', 'business cadence: decide this long before the block (default scheduler.leadMinutes)', intOption('lead-minutes', 0, 24 * 60))
    .option('--budget-items <list>', 'item budgets per node per decision, e.g. 5,20,100')
    .option('--budget-bytes <list>', 'byte budgets per node per decision, e.g. 10MiB,100MiB')
    .option('--capacity <bytes>', 'cache capacity per node, e.g. 2GiB (default unlimited)')
    .option('--ttl-minutes <n>', 'how long list/@latest stay fresh in a proxy cache', intOption('ttl-minutes', 1, 24 * 60), 10)
    .option('--warmup-hours <n>', 'trace time before the first decision', intOption('warmup-hours', 1, 24 * 365), 168)
    .option('--judge-from <time>', 'judge only decision windows starting at or after this time (compare --warmup-hours on the same decisions)')
    .option('--methods <list>', `methods to compare (default all: ${DEFAULT_METHODS.join(',')})`)
    .option('--node-region <pairs>', 'regions of trace nodes: node=region,…')
    .option('--out <dir>', 'output directory (default ./backtest-<time>)')
    .option('--json', 'print the report as JSON instead of the table')
    .action(async (flags: BacktestFlags, cmd: Command) => {
      const ctx = contextFrom(cmd, flags.demo && !cmd.optsWithGlobals<{ config?: string }>().config ? { regions: DEMO_REGIONS } : {});
      const sources = [flags.trace !== undefined, flags.demo === true, flags.from !== undefined || flags.to !== undefined].filter(Boolean).length;
      if (sources > 1) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'give one input: --trace, --demo, or --from/--to (the store)');
      const nodeRegions = parseNodeRegions(flags.nodeRegion);
      for (const n of ctx.config.fleet.nodes) if (!nodeRegions.has(n.name)) nodeRegions.set(n.name, n.region);
      const calendars: RegionCalendar[] = [...ctx.config.regions];
      for (const region of new Set(nodeRegions.values())) if (!calendars.some((c) => c.name === region)) calendars.push(defaultCalendar(region));
      let budgets = parseBudgets(flags.budgetItems, flags.budgetBytes);
      if (budgets.length === 0) budgets = parseBudgets('5,20,100', undefined);
      const options = {
        methods: buildMethods(flags.methods ? flags.methods.split(',').map((m) => m.trim()).filter(Boolean) : DEFAULT_METHODS),
        budgets,
        cadence: parseCadence(flags.cadence, flags.leadMinutes ?? ctx.config.scheduler.leadMinutes),
        calendars,
        regionOf: (node: string) => nodeRegions.get(node),
        capacityBytes: flags.capacity ? parseBytes(flags.capacity) : Number.POSITIVE_INFINITY,
        mutableTtlMinutes: flags.ttlMinutes,
        warmupHours: flags.warmupHours,
        ...(flags.judgeFrom !== undefined ? { judgeFrom: time(flags.judgeFrom, '--judge-from') } : {}),
        onProgress: ({ decisions, requests, at }: { decisions: number; requests: number; at: number }) => {
          if (decisions % 24 === 0) ctx.logger.info({ decisions, requests, at: new Date(at).toISOString() }, 'backtest progress');
        },
      };
      const out = resolve(flags.out ?? join('.', `backtest-${new Date().toISOString().replace(/[:.]/g, '-')}`));
      const run = (source: TraceSource, title: string): Promise<BacktestOutputs> => runBacktestJob(source, options, out, title);
      let result: BacktestOutputs;
      if (flags.trace !== undefined) {
        result = await run(
          { batches: readTraceCsvFileInThread(flags.trace, { onBadLine: (line, reason) => ctx.logger.warn({ line, reason }, 'trace line skipped') }) },
          `modcast backtest — ${flags.trace}`,
        );
      } else if (flags.demo) {
        result = await run(demoTrace(defaultWorkload({ seed: flags.seed, days: flags.days })), `modcast backtest — demo workload (seed ${flags.seed}, ${flags.days} days)`);
      } else {
        result = await withStore(ctx, async (store) => {
          const span = await storeTimeRange(store);
          if (!span) throw new ModcastError(ErrorCodes.NOT_FOUND, 'the store holds no access events to replay (ingest some, or use --trace / --demo)');
          const from = flags.from ? time(flags.from, '--from') : span.from;
          const to = flags.to ? time(flags.to, '--to') : span.to;
          return run(readStoreTrace(store, from, to), `modcast backtest — store ${new Date(from).toISOString()} … ${new Date(to).toISOString()}`);
        });
      }
      if (flags.json) console.log(JSON.stringify(result.report, null, 2));
      else {
        const r = result.report;
        console.log(`${r.requests.toLocaleString()} requests (${r.judgedRequests.toLocaleString()} judged), ${r.decisions} decisions${r.learningDecisions > 0 ? ` (and ${r.learningDecisions} learning during the warm-up)` : ''}, ${r.nodes.length} nodes in ${r.regions.length} regions`);
        if (flags.trace !== undefined && r.mutableRequests > 0) {
          console.log(`${r.mutableRequests.toLocaleString()} versionless rows are list requests: mutable, fresh for ${flags.ttlMinutes} min after a fetch (--ttl-minutes), so warming one helps only requests within that time of the decision`);
        }
        console.log(result.table);
        console.log(`\nwritten: ${result.files.join(', ')}`);
      }
    });
}
