/**
 * `npm run bench [-- [--quick] [--profile] [--strict] [--keep] [stage ...]]`
 *
 * Runs each stage (all, or the ones named) in its own child process — chDB allows one data directory per process
 * and a fresh process gives each run its own peak RSS — at two sizes for the streaming stages, prints one table
 * and writes everything to .bench-results/<timestamp>.json.
 *   --quick    small sizes, a few seconds of load per stage (the suite takes a few minutes, mostly setup); never judges
 *              speed (CI keeps the benchmarks working)
 *   --profile  runs the stages under `node --cpu-prof` into .bench-results/profiles/ (see bench/profile-summary.ts)
 *   --strict   exit 1 when a target is missed (the default only reports it)
 *   --keep     keep each run's work directory (chDB data, logs) for inspection
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../src/lib/paths.js';
import { RESULT_PREFIX, RESULTS_DIR, formatMeasurement, round, type StageResult } from './harness.js';

interface StageSpec {
  name: string;
  /** Sizes of a full run; the last one is the target workload. Two sizes show whether memory stays flat. */
  full: number[];
  quick: number[];
  /** Per run, seconds. */
  timeoutFull: number;
  timeoutQuick: number;
}

export const STAGES: StageSpec[] = [
  { name: 'parse', full: [250_000, 1_000_000], quick: [20_000, 50_000], timeoutFull: 300, timeoutQuick: 60 },
  { name: 'store', full: [250_000, 1_000_000], quick: [20_000, 50_000], timeoutFull: 600, timeoutQuick: 60 },
  { name: 'kafka', full: [250_000, 1_000_000], quick: [20_000], timeoutFull: 900, timeoutQuick: 90 },
  { name: 'scoring', full: [250_000, 1_000_000], quick: [2_000], timeoutFull: 2400, timeoutQuick: 60 },
  { name: 'backtest', full: [2_500_000, 10_000_000], quick: [20_000], timeoutFull: 3600, timeoutQuick: 60 },
  { name: 'warmup', full: [20_000], quick: [2_000], timeoutFull: 600, timeoutQuick: 90 },
  { name: 'go-download', full: [3], quick: [1], timeoutFull: 1200, timeoutQuick: 900 },
  { name: 'api', full: [1_000], quick: [200], timeoutFull: 300, timeoutQuick: 60 },
  { name: 'api-top', full: [1_000], quick: [200], timeoutFull: 600, timeoutQuick: 90 },
  { name: 'api-hotness', full: [1_000], quick: [200], timeoutFull: 600, timeoutQuick: 90 },
  { name: 'api-stats', full: [1_000], quick: [200], timeoutFull: 600, timeoutQuick: 90 },
  { name: 'api-warmups', full: [1_000], quick: [200], timeoutFull: 600, timeoutQuick: 90 },
  { name: 'fresh', full: [5_000], quick: [200], timeoutFull: 600, timeoutQuick: 120 },
  { name: 'cluster', full: [1_000_000], quick: [20_000], timeoutFull: 600, timeoutQuick: 90 },
];

interface Options {
  quick: boolean;
  profile: boolean;
  strict: boolean;
  keep: boolean;
  stages: StageSpec[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { quick: false, profile: false, strict: false, keep: false, stages: [] };
  for (const a of argv) {
    if (a === '--quick') opts.quick = true;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--strict') opts.strict = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--profile] [--strict] [--keep] [${STAGES.map((s) => s.name).join(' ')}]`);
      process.exit(0);
    } else {
      const spec = STAGES.find((s) => s.name === a);
      if (!spec) {
        console.error(`unknown stage or option ${JSON.stringify(a)}; stages: ${STAGES.map((s) => s.name).join(', ')}`);
        process.exit(2);
      }
      opts.stages.push(spec);
    }
  }
  if (opts.stages.length === 0) opts.stages = STAGES;
  return opts;
}

interface RunOutcome {
  stage: string;
  size: number;
  result?: StageResult;
  error?: string;
  wallSeconds: number;
}

/** Runs one stage at one size in a child process; its stderr streams through, its result line is collected. */
function runChild(spec: StageSpec, size: number, opts: Options, stamp: string): Promise<RunOutcome> {
  const file = projectPath('bench', 'stages', `${spec.name}.ts`);
  const args = ['--import', 'tsx'];
  const env = { ...process.env };
  if (opts.profile) {
    const dir = join(RESULTS_DIR, 'profiles', `${stamp}-${spec.name}-${size}`);
    mkdirSync(dir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    env.BENCH_CPU_PROF_DIR = dir;
  }
  args.push(file, '--size', String(size));
  if (opts.quick) args.push('--quick');
  if (opts.keep) args.push('--keep');
  const started = Date.now();
  const timeoutSec = opts.quick ? spec.timeoutQuick : spec.timeoutFull;
  return new Promise((resolve) => {
    // Own process group: a timeout kills the stage and whatever it started (broker, proxy, load generator).
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env });
    let out = '';
    let result: StageResult | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length)) as StageResult;
        else if (line.trim() !== '') process.stderr.write(`  | ${line}\n`);
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutSec * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallSeconds = (Date.now() - started) / 1000;
      if (result && code === 0) resolve({ stage: spec.name, size, result, wallSeconds });
      else
        resolve({
          stage: spec.name,
          size,
          wallSeconds,
          error: timedOut ? `timed out after ${timeoutSec} s` : `exited with ${signal ?? `code ${code}`}${result ? '' : ' without a result'}`,
        });
    });
  });
}

function machine() {
  const cpu = cpus();
  let chdb = 'unknown';
  try {
    chdb = (JSON.parse(readFileSync(projectPath('node_modules', 'chdb', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* not installed */
  }
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    os: `${platform()} ${release()}`,
    node: process.version,
    chdb,
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function targetCell(r: StageResult): string {
  if (!r.target.judged) return `${r.target.text} (not judged)`;
  if (r.target.met === undefined) return r.target.text;
  return `${r.target.met ? 'MET' : 'MISSED'}: ${r.target.text}`;
}

function printTable(outcomes: RunOutcome[]): void {
  const rows: string[][] = [['stage', 'size', 'modcast', 'reference', 'ratio', 'peak RSS', 'target']];
  for (const o of outcomes) {
    const r = o.result;
    if (!r) {
      rows.push([o.stage, o.size.toLocaleString(), `FAILED: ${o.error}`, '', '', '', '']);
      continue;
    }
    rows.push([
      r.stage,
      r.size.toLocaleString(),
      `${formatMeasurement(r.figure)} (${r.figure.label})`,
      `${formatMeasurement(r.reference)} (${r.reference.label})`,
      `${r.ratio}`,
      `${r.peakRssMb.toFixed(0)} MB`,
      targetCell(r),
    ]);
    for (const e of r.extra) rows.push(['', '', '', `${formatMeasurement(e)} (${e.label})`, '', '', '']);
  }
  const widths = rows[0]!.map((_, i) => Math.min(60, Math.max(...rows.map((row) => row[i]!.length))));
  console.log('');
  for (const [i, row] of rows.entries()) {
    console.log(row.map((c, j) => pad(c, widths[j]!)).join('  ').trimEnd());
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  // Memory across sizes: streaming stages must stay flat as the workload grows.
  const byStage = new Map<string, StageResult[]>();
  for (const o of outcomes) if (o.result) byStage.set(o.stage, [...(byStage.get(o.stage) ?? []), o.result]);
  const lines = [...byStage].filter(([, rs]) => rs.length > 1);
  if (lines.length > 0) {
    console.log('\npeak RSS by size (streaming stages):');
    for (const [stage, rs] of lines) {
      const first = rs[0]!;
      const last = rs[rs.length - 1]!;
      const growth = (100 * (last.peakRssMb - first.peakRssMb)) / Math.max(1, first.peakRssMb);
      const cells = rs.map((r) => `${r.peakRssMb.toFixed(0)} MB @ ${r.size.toLocaleString()}`).join(', ');
      console.log(`  ${pad(stage, 9)} ${cells}  (${growth >= 0 ? '+' : ''}${growth.toFixed(0)}% for ${(last.size / first.size).toFixed(0)}× the work)`);
    }
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const started = Date.now();
  const outcomes: RunOutcome[] = [];
  const loadAtStart = loadavg().map((x) => round(x, 2));
  console.log(`modcast benchmarks${opts.quick ? ' (quick: small sizes, speed not judged)' : ''}: ${opts.stages.map((s) => s.name).join(', ')}`);
  // Figures are only comparable on an otherwise idle machine; the references absorb some of the noise, not all.
  if (loadAtStart[0]! > 0.5 * cpus().length) console.log(`note: load average ${loadAtStart[0]} on ${cpus().length} cores — other work is running`);
  for (const spec of opts.stages) {
    if (!existsSync(projectPath('bench', 'stages', `${spec.name}.ts`))) {
      outcomes.push({ stage: spec.name, size: 0, wallSeconds: 0, error: 'stage not implemented yet' });
      continue;
    }
    for (const size of opts.quick ? spec.quick : spec.full) {
      console.log(`\n▶ ${spec.name} @ ${size.toLocaleString()}`);
      const o = await runChild(spec, size, opts, stamp);
      if (o.error) console.log(`  ✗ ${o.error}`);
      else console.log(`  ✓ ${formatMeasurement(o.result!.figure)} vs ${formatMeasurement(o.result!.reference)} (ratio ${o.result!.ratio}) in ${o.wallSeconds.toFixed(1)} s`);
      outcomes.push(o);
    }
  }
  printTable(outcomes);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { startedAt: new Date(started).toISOString(), seconds: round((Date.now() - started) / 1000, 1), quick: opts.quick, machine: machine(), loadAverage: { start: loadAtStart, end: loadavg().map((x) => round(x, 2)) }, runs: outcomes },
      null,
      2,
    ),
  );
  console.log(`\n${outcomes.length} runs in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${file}`);
  const failed = outcomes.filter((o) => o.error);
  const missed = outcomes.filter((o) => o.result?.target.met === false);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map((o) => `${o.stage}@${o.size} (${o.error})`).join('; ')}`);
    process.exitCode = 1;
  }
  if (missed.length > 0) {
    console.log(`targets missed: ${missed.map((o) => o.stage).join(', ')}`);
    if (opts.strict) process.exitCode = 1;
  }
}

await main();
