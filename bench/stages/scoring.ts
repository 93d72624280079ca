/**
 * scoring: one scoring run (`scoreStore`, what `modcast score` and the scheduler run) over N module-versions with
 * 4 weeks of hourly rollups, against a single ClickHouse aggregation that turns the same rollups into every
 * series' (hour, fetches) arrays — the part of the job the engine does, without the forecasting in JS and the
 * prediction writes. Target: <= 60 s at 1M module-versions.
 *
 * rollups_1h is filled synthetically by bench/fill-rollups.ts in a child process first; the reference runs after
 * the scoring run, so the peak RSS printed is the scoring run's (chDB included).
 */
import { spawnSync } from 'node:child_process';
import { projectPath } from '../../src/lib/paths.js';
import { scoreStore, scoringOptionsFrom } from '../../src/scoring/score.js';
import { createLogger } from '../../src/lib/logger.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { measurement, median, ownPeakRssMb, progress, rate, result, runStage, timed } from '../harness.js';
import { openBenchStore, scalar } from '../store-setup.js';
import { AS_OF, HOURS, NODES, REGIONS, VERSIONS_PER_MODULE } from '../fill-rollups.js';

const TARGET_SERIES = 1_000_000;
const TARGET_SECONDS = 60;

/** The reference: every series' (hour, fetches) arrays in one aggregation, as the scoring job reads them. */
const REFERENCE_SQL = `
  SELECT count() AS series, sum(length(hours)) AS points FROM (
    SELECT module, version, region, groupArray(h) AS hours, groupArray(c) AS counts FROM (
      SELECT module, version, toString(region) AS region, toUInt32(intDiv(toUInt32(bucket) - {origin:UInt32}, 3600)) AS h,
             if(version = '', sum(lists) + sum(latests), greatest(sum(infos), sum(mods), sum(zips))) AS c
      FROM rollups_1h WHERE bucket >= toDateTime({origin:UInt32}) AND bucket < toDateTime({asOf:UInt32})
      GROUP BY module, version, region, h)
    GROUP BY module, version, region)`;

runStage(async ({ size, quick, workDir }) => {
  progress(`filling rollups_1h: ${size.toLocaleString()} module-versions × ${HOURS} hours (sparse long tail, dense head)`);
  const fill = await timed(() => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', projectPath('bench', 'fill-rollups.ts'), workDir, String(size)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (res.status !== 0) throw new Error(`bench/fill-rollups.ts failed (exit ${res.status})`);
    return Number(res.stdout.trim());
  });
  progress(`${fill.value.toLocaleString()} rollup rows in ${fill.seconds.toFixed(1)} s`);

  const { store, config } = await openBenchStore(workDir, {
    regions: REGIONS,
    fleet: { nodes: NODES.map((n) => ({ ...n, baseUrl: `http://127.0.0.1:9/${n.name}` })) },
  });
  const rssBefore = ownPeakRssMb();
  progress('scoring run');
  const run = await timed(() => scoreStore(store, scoringOptionsFrom(config, { asOf: AS_OF, logger: createLogger('warn') })));
  const scoringRss = ownPeakRssMb();
  const s = run.value;
  progress(`scoring: ${run.seconds.toFixed(1)} s, ${s.items.toLocaleString()} items, ${s.series.toLocaleString()} series, ${s.predictions.toLocaleString()} predictions in ${s.chunks} chunks`);
  const stored = await scalar(store, 'SELECT count() FROM predictions WHERE run_id = {run:String}', { run: s.runId });
  const status = await scalar(store, "SELECT count() FROM prediction_runs FINAL WHERE run_id = {run:String} AND status = 'done'", { run: s.runId });
  if (stored !== s.predictions || status !== 1) throw new Error(`run ${s.runId}: ${stored} predictions stored of ${s.predictions}, done rows ${status}`);
  const versions = size + Math.ceil(size / VERSIONS_PER_MODULE);
  if (s.items < versions) throw new Error(`scored ${s.items} items, expected at least ${versions} (module-versions + modules)`);

  // The run's prediction writes leave merges behind; the reference waits for them, then takes the best of two.
  for (let i = 0; i < 120 && (await scalar(store, 'SELECT count() FROM system.merges')) > 0; i++) await sleep(500);
  const origin = Math.floor(AS_OF / 1000) - HOURS * 3600;
  const aggregate = () =>
    timed(() => store.client.query({ query: REFERENCE_SQL, query_params: { origin, asOf: Math.floor(AS_OF / 1000) }, format: 'JSONEachRow' }).then((r) => r.json<{ series: string; points: string }>()));
  const ref = median([await aggregate(), await aggregate()], (r) => r.seconds);
  progress(`reference aggregation: ${ref.seconds.toFixed(2)} s (${Number(ref.value[0]?.series ?? 0).toLocaleString()} region series, ${Number(ref.value[0]?.points ?? 0).toLocaleString()} points)`);
  await store.close();

  return result({
    stage: 'scoring',
    size,
    workload: `${size.toLocaleString()} module-versions × 4 weeks hourly (${fill.value.toLocaleString()} rollup rows, 4 nodes, 3 regions)`,
    figure: measurement('scoring run, seconds', run.seconds, 's', 'lower'),
    reference: measurement('one aggregation into per-series arrays, seconds', ref.seconds, 's', 'lower'),
    extra: [
      measurement('module-versions scored per second', rate(size, run.seconds), 'series/s'),
      measurement('predictions written', s.predictions, 'rows'),
      measurement('RSS before the run (chDB opened on the filled store)', rssBefore, 'MB', 'lower'),
    ],
    peakRssMb: scoringRss,
    seconds: run.seconds,
    notes: [`run ${s.runId} done: ${s.items} items, ${s.predictions} predictions stored`, `models: ${JSON.stringify(s.byModel)}`],
    target: `<= ${TARGET_SECONDS} s at ${TARGET_SERIES / 1e6}M module-versions`,
    meets: ({ figure }) => figure.value <= TARGET_SECONDS,
    targetSize: TARGET_SERIES,
    quick,
  });
});
