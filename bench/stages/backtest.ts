/**
 * backtest: `modcast backtest` over an N-request trace CSV — streaming replay through per-node caches, every
 * baseline (no warm-up, last-24h and same-hour-last-week top-K) and modcast (the whole ranker pool and its choice),
 * the oracle, metrics per budget, report/chart/table written — against reading and parsing the same trace alone.
 * The backtest reads as `modcast backtest --trace` does, parsing on a thread of its own beside the replay; the
 * reference reads on the one thread. The ratio says how much of the time is the backtest itself; the target is issue
 * 11's rate on the 10M trace. A full run that would outlast BENCH_BACKTEST_BUDGET_SECONDS (default 300) is stopped
 * there and its time extrapolated from the measured cost per decision, and says so.
 */
import { join } from 'node:path';
import { readTraceCsvBatches } from '../../src/backtest/trace-csv.js';
import { readTraceCsvFileInThread } from '../../src/backtest/trace-csv-thread.js';
import { buildMethods, runBacktestJob } from '../../src/backtest/runner.js';
import { DEFAULT_BACKTEST } from '../../src/domain/backtest/replay.js';
import { measurement, ownPeakRssMb, progress, rate, result, runStage, timed } from '../harness.js';
import { traceFile } from '../workload.js';

/**
 * The baselines and modcast, which is the whole ranker pool with its online choice (every ranker at every scope and
 * the model ensemble on their shortlist): the "full pool". Single rankers as separate rows would only repeat
 * the pool's one pass per decision.
 */
const METHODS = ['no-warmup', 'last-24h', 'same-hour-last-week', 'modcast'];

/** Thrown from the progress callback to end a replay that would outlast the time budget. */
class OverBudget extends Error {
  constructor(readonly decisions: number, readonly requests: number, readonly firstDecisionSeconds: number, readonly seconds: number) {
    super('backtest time budget exceeded');
  }
}

const TARGET_RATE = 100_000;
const TARGET_REQUESTS = 10_000_000;

/** Full runs stop after this long and extrapolate (a replay's cost is per decision, and decisions are evenly spread). */
const BUDGET_SECONDS = Number(process.env.BENCH_BACKTEST_BUDGET_SECONDS ?? 300);

runStage(async ({ size, quick, workDir }) => {
  const file = traceFile(size);
  const read = await timed(async () => {
    let n = 0;
    let first = Infinity;
    let last = -Infinity;
    // Read as the backtest reads it (in batches), so that the ratio is the backtest's own work.
    for await (const batch of readTraceCsvBatches(file)) {
      for (const r of batch) {
        n++;
        if (r.ts < first) first = r.ts;
        if (r.ts > last) last = r.ts;
      }
    }
    return { n, first, last };
  });
  if (read.value.n !== size) throw new Error(`the trace reader saw ${read.value.n} requests, expected ${size}`);
  progress(`reading the trace alone: ${read.seconds.toFixed(1)} s`);
  const readRss = ownPeakRssMb();

  // --quick keeps the stage working, not its figure: fewer methods and decisions (each decision costs the same at any size).
  const methods = METHODS;
  const cadence = quick ? { kind: 'interval' as const, minutes: 6 * 60 } : DEFAULT_BACKTEST.cadence;
  const warmupHours = quick ? 48 : DEFAULT_BACKTEST.warmupHours;
  const cadenceMs = cadence.kind === 'interval' ? cadence.minutes * 60_000 : 24 * 3_600_000;
  const expectedDecisions = Math.max(1, Math.floor((read.value.last - read.value.first - warmupHours * 3_600_000) / cadenceMs) + 1);
  progress(`backtest: ${methods.length} methods + oracle over ${size.toLocaleString()} requests, ~${expectedDecisions} decisions`);

  const started = performance.now();
  let firstDecisionSeconds = 0;
  const onProgress = (p: { requests: number; decisions: number }) => {
    const elapsed = (performance.now() - started) / 1000;
    if (p.decisions === 1) firstDecisionSeconds = elapsed;
    if (p.decisions % 50 === 0) progress(`  ${p.decisions} decisions, ${p.requests.toLocaleString()} requests, ${elapsed.toFixed(0)} s`);
    if (!quick && elapsed > BUDGET_SECONDS && p.decisions >= 3) throw new OverBudget(p.decisions, p.requests, firstDecisionSeconds, elapsed);
  };
  const outcome = await timed(() =>
    runBacktestJob({ batches: readTraceCsvFileInThread(file) }, { methods: buildMethods(methods), cadence, warmupHours, onProgress }, join(workDir, 'out')).catch((e: unknown) => {
      if (e instanceof OverBudget) return e;
      throw e;
    }),
  );
  let seconds: number;
  const notes: string[] = [];
  let label = 'modcast backtest';
  if (outcome.value instanceof OverBudget) {
    // Time to the first decision, then the measured cost per decision for every decision left.
    const o = outcome.value;
    const perDecision = (o.seconds - o.firstDecisionSeconds) / (o.decisions - 1);
    seconds = o.firstDecisionSeconds + perDecision * (expectedDecisions - 1);
    label = `modcast backtest (estimated: ${o.decisions} of ~${expectedDecisions} decisions in ${BUDGET_SECONDS} s)`;
    notes.push(
      `stopped after the ${BUDGET_SECONDS} s budget: ${o.decisions} decisions at ${perDecision.toFixed(1)} s each after ${o.firstDecisionSeconds.toFixed(0)} s to the first; ` +
        `the whole replay would take ~${(seconds / 60).toFixed(0)} min`,
    );
    progress(notes[0]!);
  } else {
    const report = outcome.value.report;
    seconds = outcome.seconds;
    progress(`backtest: ${seconds.toFixed(1)} s, ${report.decisions} decisions, ${report.windows} windows judged`);
    if (report.requests + report.skipped !== size && report.requests !== size) {
      throw new Error(`the backtest saw ${report.requests} requests (+${report.skipped} skipped), expected ${size}`);
    }
    if (outcome.value.files.length === 0) throw new Error('the backtest wrote no report');
    notes.push(`${report.requests} requests replayed (${report.skipped} not cacheable), ${report.decisions} decisions, ${report.windows} windows`);
  }

  return result({
    stage: 'backtest',
    size,
    workload: `${size.toLocaleString()}-request trace CSV (4 nodes, 3 regions), ${methods.length} methods + oracle, ${quick ? '6-hourly' : 'hourly'} decisions`,
    figure: measurement(label, rate(size, seconds), 'requests/s'),
    reference: measurement('reading the trace alone', rate(size, read.seconds), 'requests/s'),
    extra: [measurement('peak RSS while only reading the trace', readRss, 'MB', 'lower')],
    peakRssMb: ownPeakRssMb(),
    seconds,
    notes,
    // Issue 11's target: the full pool over the 10M-request trace, every decision replayed (an estimate says so).
    target: `>= ${TARGET_RATE / 1000}k requests/s at ${TARGET_REQUESTS / 1e6}M requests`,
    meets: ({ figure }) => figure.value >= TARGET_RATE,
    targetSize: TARGET_REQUESTS,
    quick,
  });
});
