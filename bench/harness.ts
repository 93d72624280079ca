/**
 * Shared benchmark machinery: the result shape every stage reports, timing, peak RSS (own and of child
 * processes), the stage-process protocol (one stage run = one child process printing one JSON result line) and
 * the table printed by bench/index.ts.
 *
 * Every figure is compared with a reference measured in the same run on the same data, so a slow machine shows
 * up as a slow reference, not as a regression.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../src/lib/paths.js';

/** One number with its unit; `better` tells how to read a ratio of two of them. */
export interface Measurement {
  label: string;
  value: number;
  unit: string;
  better: 'higher' | 'lower';
}

export interface Target {
  /** What the issue asks, in words: `>= 500k lines/s`. */
  text: string;
  /** False in --quick runs and below the target workload size: the figure is then not held against the target. */
  judged: boolean;
  /** Whether the target is met, when judged and when there is one (some stages only print their ratio). */
  met?: boolean;
}

export interface StageResult {
  stage: string;
  /** Workload size (lines, events, requests, module-versions, fetches, requests/s). */
  size: number;
  workload: string;
  /** modcast's figure. */
  figure: Measurement;
  /** The physical reference measured in the same run; ratio = figure / reference. */
  reference: Measurement;
  /** More references or modcast details (e.g. `wc -l` next to Node's raw split; parser without event building). */
  extra: Measurement[];
  ratio: number;
  target: Target;
  /** Peak resident set of the modcast side in MB (the stage process, or the sampled modcast child processes). */
  peakRssMb: number;
  /** Peak RSS per process when the stage ran several (shipper, ingestor, proxy, ...). */
  rssDetailMb?: Record<string, number>;
  /** Wall seconds of the modcast run. */
  seconds: number;
  /** Consistency checks that passed (counts equal, etc.) and anything worth knowing. */
  notes: string[];
}

export const RESULT_PREFIX = '@@bench-result ';
export const CACHE_DIR = projectPath('.cache', 'bench');
export const RESULTS_DIR = projectPath('.bench-results');

export function rate(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}

/**
 * Runs `fn` and returns its value with the elapsed wall time and this process's CPU time (user + system, all
 * threads) in seconds. For single-threaded work the CPU time shows the speed the wall time would have on an idle
 * machine.
 */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; cpuSeconds: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6, value };
}

/** Median of the runs' results by `key` (for repeated, cheap measurements). */
export function median<T>(runs: T[], key: (t: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** This process's peak resident set, MB. */
const CLOCK_TICKS_PER_SEC = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU seconds (user + system) the kernel counts in /proc/<path>/stat: a process, one thread (`<pid>/task/<tid>`),
 * or with `children` the processes it has waited for (spawnSync waits for wrk, so wrk's time lands there).
 */
export function cpuSeconds(path: string, children = false): number {
  const stat = readFileSync(`/proc/${path}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is stat field 3 (state)
  const [user, system] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return (Number(user) + Number(system)) / CLOCK_TICKS_PER_SEC;
}

/**
 * CPU seconds of named processes between two moments: `start()` reads every counter (a process or thread path as
 * `cpuSeconds` takes it), `stop()` returns what each advanced since. Counters are read again every 100 ms in
 * between, so a process that exits before `stop()` counts what it had at its last reading.
 */
export class CpuMeter {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly paths: Record<string, string | undefined>) {}

  start(): this {
    this.read(this.first);
    this.timer = setInterval(() => this.read(this.last), 100);
    this.timer.unref();
    return this;
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.read(this.last);
    return Object.fromEntries([...this.first].map(([name, s]) => [name, (this.last.get(name) ?? s) - s]));
  }

  private read(into: Map<string, number>): void {
    for (const [name, path] of Object.entries(this.paths)) {
      if (path === undefined) continue;
      try {
        into.set(name, cpuSeconds(path));
      } catch {
        // exited: its last reading stands
      }
    }
  }
}

/** `name 12.3` per process (plus their sum unless `sum` is false): CPU µs per unit of work. */
export function cpuMicrosPer(cpu: Record<string, number>, units: number, sum = true): string {
  const each = Object.entries(cpu).map(([name, s]) => `${name} ${((s / units) * 1e6).toFixed(1)}`).join(', ');
  if (!sum) return each;
  return `${each}; sum ${((Object.values(cpu).reduce((a, b) => a + b, 0) / units) * 1e6).toFixed(1)}`;
}

export function ownPeakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** VmHWM (peak RSS) of a live process from /proc, MB; undefined once it has exited. */
function procPeakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows the peak RSS of child processes. VmHWM is the kernel's own high-water mark, so sampling only has to
 * catch each process once before it exits (and once more at the end, for the last value).
 */
export class RssSampler {
  private readonly peaks = new Map<string, number>();
  private readonly pids = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  watch(name: string, pid: number | undefined): void {
    if (pid !== undefined) this.pids.set(name, pid);
    this.sample();
  }

  sample(): void {
    for (const [name, pid] of this.pids) {
      const mb = procPeakRssMb(pid);
      if (mb !== undefined) this.peaks.set(name, Math.max(mb, this.peaks.get(name) ?? 0));
    }
  }

  /** Peaks so far, MB per watched name. */
  peaksMb(): Record<string, number> {
    this.sample();
    return Object.fromEntries([...this.peaks].map(([k, v]) => [k, round(v, 1)]));
  }

  stop(): Record<string, number> {
    const peaks = this.peaksMb();
    clearInterval(this.timer);
    return peaks;
  }
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function measurement(label: string, value: number, unit: string, better: 'higher' | 'lower' = 'higher'): Measurement {
  return { label, value, unit, better };
}

export interface StageArgs {
  size: number;
  quick: boolean;
  /** Fresh temp directory for this run (chDB data dir, logs); removed afterwards unless --keep. */
  workDir: string;
}

function parseStageArgs(argv: string[]): StageArgs & { keep: boolean } {
  let size: number | undefined;
  let quick = false;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--size') size = Number(argv[++i]);
    else if (a === '--quick') quick = true;
    else if (a === '--keep') keep = true;
    else throw new Error(`unknown argument ${a} (expected --size N [--quick] [--keep])`);
  }
  if (size === undefined || !Number.isInteger(size) || size <= 0) throw new Error('--size N (a positive integer) is required');
  const workDir = mkdtempSync(join(tmpdir(), 'modcast-bench-'));
  return { size, quick, keep, workDir };
}

/**
 * Entry point of a stage file: parses `--size N [--quick] [--keep]`, runs `main` in a fresh work directory,
 * prints the result line bench/index.ts collects, and exits (chDB and sockets would otherwise keep it alive).
 */
export function runStage(main: (args: StageArgs) => Promise<StageResult>): void {
  const args = parseStageArgs(process.argv.slice(2));
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup failed: ${(e as Error).message}`);
      }
    }
    if (args.keep) progress(`work directory kept: ${args.workDir}`);
    else rmSync(args.workDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  }
  main(args).then(
    (result) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => {
        void cleanup().finally(() => process.exit(0));
      });
    },
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      void cleanup().finally(() => process.exit(1));
    },
  );
}

const cleanups: (() => unknown)[] = [];

/** Registers teardown (stop a broker, a proxy, a server) run when the stage ends, fails or is interrupted. */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/**
 * Node arguments for the modcast processes a stage starts (shipper, server, producers): tsx, plus a CPU profile
 * into $BENCH_CPU_PROF_DIR when set (`npm run bench -- --profile` sets it; NODE_OPTIONS cannot carry --cpu-prof).
 */
export function nodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return ['--import', 'tsx', ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

/** Progress line of a stage on stderr (the orchestrator passes it through). */
export function progress(message: string): void {
  process.stderr.write(`  · ${message}\n`);
}

/** Builds the result; ratio and target status are derived here so every stage computes them alike. */
export function result(r: Omit<StageResult, 'ratio' | 'target' | 'notes' | 'extra'> & {
  extra?: Measurement[];
  notes?: string[];
  target: string;
  /** Whether the target is met; consulted only when the run is at (or above) the target size and not --quick. None: no target. */
  meets?: (r: { figure: Measurement; ratio: number }) => boolean;
  targetSize: number;
  quick: boolean;
}): StageResult {
  const ratio = r.reference.value > 0 ? r.figure.value / r.reference.value : 0;
  const judged = !r.quick && r.size >= r.targetSize;
  const { meets, targetSize: _t, quick: _q, target, ...rest } = r;
  return {
    ...rest,
    extra: r.extra ?? [],
    notes: r.notes ?? [],
    ratio: Number(ratio.toPrecision(4)),
    target: judged && meets ? { text: target, judged, met: meets({ figure: r.figure, ratio }) } : { text: target, judged },
  };
}

/**
 * A file derived deterministically from its key, built once and kept under .cache/bench/ (generated logs and
 * traces are the slow part of a benchmark's setup and identical from run to run).
 */
export async function cachedFile(name: string, build: (tmpPath: string) => Promise<void>): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const path = join(CACHE_DIR, name);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await build(tmp);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return path;
}

/** Human-readable number: 1234567 -> 1.23M. */
export function human(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function formatMeasurement(m: Measurement): string {
  return `${human(m.value)} ${m.unit}`;
}
