/**
 * backtest: `modcast backtest` over an N-request trace CSV — streaming replay through per-node caches, every
 * default method (no warm-up, last-24h and same-hour-last-week top-K, modcast's ensemble and each model alone),
 * the oracle, metrics per budget, report/chart/table written — against reading and parsing the same trace alone.
 * The ratio says how much of the time is the backtest itself; no target beyond printing it.
 */
import { join } from 'node:path';
import { readTraceCsv } from '../../src/backtest/trace-csv.js';
import { buildMethods, DEFAULT_METHODS, runBacktestJob } from '../../src/backtest/runner.js';
import { measurement, ownPeakRssMb, progress, rate, result, runStage, timed } from '../harness.js';
import { traceFile } from '../workload.js';

const QUICK_METHODS = ['no-warmup', 'last-24h', 'same-hour-last-week', 'modcast'];

runStage(async ({ size, quick, workDir }) => {
  const file = traceFile(size);
  const read = await timed(async () => {
    let n = 0;
    for await (const _r of readTraceCsv(file)) n++;
    return n;
  });
  if (read.value !== size) throw new Error(`the trace reader saw ${read.value} requests, expected ${size}`);
  progress(`reading the trace alone: ${read.seconds.toFixed(1)} s`);
  const readRss = ownPeakRssMb();

  // --quick keeps the stage working, not its figure: fewer methods and decisions (each decision costs the same at any size).
  const methods = quick ? QUICK_METHODS : DEFAULT_METHODS;
  const options = quick ? { cadence: { kind: 'interval' as const, minutes: 6 * 60 }, warmupHours: 48 } : {};
  progress(`backtest: ${methods.length} methods + oracle over ${size.toLocaleString()} requests`);
  const run = await timed(() => runBacktestJob(readTraceCsv(file), { methods: buildMethods(methods), ...options }, join(workDir, 'out')));
  const report = run.value.report;
  progress(`backtest: ${run.seconds.toFixed(1)} s, ${report.decisions} decisions, ${report.windows} windows judged`);
  if (report.requests + report.skipped !== size && report.requests !== size) {
    throw new Error(`the backtest saw ${report.requests} requests (+${report.skipped} skipped), expected ${size}`);
  }
  if (run.value.files.length === 0) throw new Error('the backtest wrote no report');

  return result({
    stage: 'backtest',
    size,
    workload: `${size.toLocaleString()}-request trace CSV (4 nodes, 3 regions), ${methods.length} methods + oracle, ${quick ? '6-hourly' : 'hourly'} decisions`,
    figure: measurement('modcast backtest', rate(size, run.seconds), 'requests/s'),
    reference: measurement('reading the trace alone', rate(size, read.seconds), 'requests/s'),
    extra: [measurement('peak RSS while only reading the trace', readRss, 'MB', 'lower')],
    peakRssMb: ownPeakRssMb(),
    seconds: run.seconds,
    notes: [`${report.requests} requests replayed (${report.skipped} not cacheable), ${report.decisions} decisions, ${report.windows} windows`],
    target: 'ratio printed',
    meets: () => true,
    targetSize: size,
    quick,
  });
});
