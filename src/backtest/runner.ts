/**
 * Wires a backtest: a trace source (CSV file, the store, or the demo generator), the methods to compare, and the
 * outputs — a readable table, the full report as JSON and the benefit-vs-budget chart as SVG.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noWarmup, lastDayTopK, sameHourLastWeekTopK } from '../domain/backtest/baselines.js';
import { benefitChartSvg } from '../domain/backtest/chart.js';
import { formatTable } from '../domain/backtest/metrics.js';
import type { Budget, WarmupMethod } from '../domain/backtest/method.js';
import { ModcastMethod } from '../domain/backtest/modcast.js';
import { CONTENDERS, PoolMethod, SingleRankerMethod } from '../domain/backtest/ranker-pool.js';
import { DEFAULT_BACKTEST, runBacktest, TraceTooShortError, type BacktestOptions, type BacktestReport, type TraceRequest, type TraceSource } from '../domain/backtest/replay.js';
import { MODEL_NAMES, type ModelName } from '../domain/forecast/series.js';
import { generateWorkload, type WorkloadOptions } from '../demo/generator.js';
import { ModcastError, ErrorCodes } from '../errors.js';

/** Models that make sense alone over every series (release needs a curve, floor is nothing). */
const SINGLE_MODELS: ModelName[] = MODEL_NAMES.filter((m) => m !== 'floor');

/** Single rankers of the pool, each alone (`rank:<ranker>@<scope>`). */
export const RANKER_METHOD_NAMES = CONTENDERS.map((c) => `rank:${c.name}`);

/**
 * Every method: the baselines, modcast (online choice among the ranker pool), each ranker alone, and the
 * per-series model ensemble (`modcast:models`) with each of its models alone (slow: fitted per series).
 */
export const METHOD_NAMES = ['no-warmup', 'last-24h', 'same-hour-last-week', 'modcast', ...RANKER_METHOD_NAMES, 'modcast:models', ...SINGLE_MODELS.map((m) => `modcast:${m}`)];

/** The default comparison: the baselines, modcast and every ranker of its pool alone at the fleet and node scopes. */
export const DEFAULT_METHODS = ['no-warmup', 'last-24h', 'same-hour-last-week', 'modcast', ...RANKER_METHOD_NAMES.filter((m) => !m.endsWith('@region'))];

export function buildMethods(names: readonly string[]): WarmupMethod[] {
  return names.map((name) => {
    switch (name) {
      case 'no-warmup':
        return noWarmup;
      case 'last-24h':
        return lastDayTopK;
      case 'same-hour-last-week':
        return sameHourLastWeekTopK;
      case 'modcast':
        return new PoolMethod();
      case 'modcast:models':
        return new ModcastMethod();
      default: {
        if (name.startsWith('rank:') && RANKER_METHOD_NAMES.includes(name)) return new SingleRankerMethod(name.slice('rank:'.length));
        const model = name.startsWith('modcast:') ? (name.slice('modcast:'.length) as ModelName) : null;
        if (model && SINGLE_MODELS.includes(model)) return new ModcastMethod({ only: model });
        throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `unknown backtest method ${JSON.stringify(name)}; known: ${METHOD_NAMES.join(', ')}`);
      }
    }
  });
}

const UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1e6, mib: 1024 ** 2, g: 1024 ** 3, gb: 1e9, gib: 1024 ** 3 };

/** "512", "10MiB", "1.5GB" → bytes. */
export function parseBytes(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (!m || unit === undefined) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `not a byte size: ${JSON.stringify(s)} (e.g. 512, 10MiB, 1GB)`);
  return Math.round(Number(m[1]) * unit);
}

/** Budgets from comma lists: items "5,20,100" and bytes "10MiB,100MiB". */
export function parseBudgets(items: string | undefined, bytes: string | undefined): Budget[] {
  const out: Budget[] = [];
  for (const s of (items ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `item budget must be a positive integer, got ${JSON.stringify(s)}`);
    out.push({ kind: 'items', value: n });
  }
  for (const s of (bytes ?? '').split(',').map((x) => x.trim()).filter(Boolean)) out.push({ kind: 'bytes', value: parseBytes(s) });
  return out;
}

/** The demo generator's requests as a trace. */
export function* demoTrace(workload: WorkloadOptions): Generator<TraceRequest> {
  for (const r of generateWorkload(workload)) {
    yield { ts: r.ts, module: r.module, version: r.version, node: r.node, region: r.region, bytes: r.bytes, kind: r.kind };
  }
}

export interface BacktestOutputs {
  report: BacktestReport;
  table: string;
  files: string[];
}

/** Runs the backtest and, when `outDir` is given, writes report.json, benefit.svg and table.txt there. */
export async function runBacktestJob(
  source: TraceSource,
  options: Partial<Omit<BacktestOptions, 'methods'>> & { methods: WarmupMethod[] },
  outDir?: string,
  title = 'modcast backtest',
): Promise<BacktestOutputs> {
  let report: BacktestReport;
  try {
    report = await runBacktest(source, { ...DEFAULT_BACKTEST, ...options });
  } catch (e) {
    if (e instanceof TraceTooShortError) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, e.message, { cause: e });
    throw e;
  }
  const table = formatTable(report.rows);
  const files: string[] = [];
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    const json = join(outDir, 'report.json');
    writeFileSync(json, `${JSON.stringify(report, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v), 2)}\n`);
    const svg = join(outDir, 'benefit.svg');
    writeFileSync(svg, benefitChartSvg(report.rows, title));
    const txt = join(outDir, 'table.txt');
    writeFileSync(txt, `${table}\n`);
    files.push(json, svg, txt);
  }
  return { report, table, files };
}
