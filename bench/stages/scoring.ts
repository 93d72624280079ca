/**
 * scoring: one scoring run (`scoreStore`, what `modcast score` and the scheduler run) over N module-versions with
 * 4 weeks of hourly rollups, against a single ClickHouse aggregation that turns the same rollups into every
 * series' (hour, fetches) arrays — the part of the job the engine does, without the forecasting in JS and the
 * prediction writes. Target: <= 60 s at 1M module-versions.
 *
 * rollups_1h is filled synthetically by the engine (INSERT … SELECT FROM numbers()), shaped like a fleet's long
 * tail: every module-version is fetched a few times in the 4 weeks, the popular head (Zipf-like) most hours with a
 * business-hours rhythm, spread over 4 nodes in 3 regions; plus each module's list/@latest requests.
 */
import type { Store } from '../../src/store/client.js';
import { scoreStore, scoringOptionsFrom } from '../../src/scoring/score.js';
import { createLogger } from '../../src/lib/logger.js';
import { measurement, ownPeakRssMb, progress, rate, result, runStage, timed } from '../harness.js';
import { openBenchStore, scalar } from '../store-setup.js';

const TARGET_SERIES = 1_000_000;
const TARGET_SECONDS = 60;
const HOURS = 4 * 7 * 24;
const VERSIONS_PER_MODULE = 5;
/** Popular head: module-versions with a rate high enough to be generated hour by hour. */
const HEAD = 20_000;
const TAIL_FETCHES = 3;
/** A Monday, 00:00 UTC: history is the 4 weeks before it. */
const AS_OF = Date.UTC(2026, 10, 23);
const NODES = [
  { name: 'eu-1', region: 'eu' },
  { name: 'eu-2', region: 'eu' },
  { name: 'us-1', region: 'us' },
  { name: 'ap-1', region: 'ap' },
];
const REGIONS = [
  { name: 'eu', timeZone: 'Europe/Berlin' },
  { name: 'us', timeZone: 'America/New_York' },
  { name: 'ap', timeZone: 'Asia/Tokyo' },
];

/** Shared SQL pieces of the fill: series s -> module, version; a row's node and region from a hash. */
const MODULE = `concat('github.com/org', toString(intDiv(s, ${VERSIONS_PER_MODULE}) % 97), '/mod', toString(intDiv(s, ${VERSIONS_PER_MODULE})))`;
const VERSION = `concat('v1.', toString(s % ${VERSIONS_PER_MODULE}), '.0')`;
const NODE_OF = `arrayElement({nodes:Array(String)}, cityHash64(s, h, 'node') % 4 + 1)`;
const REGION_OF = `arrayElement({regions:Array(String)}, cityHash64(s, h, 'node') % 4 + 1)`;
const BUCKET = `toDateTime({origin:UInt32}, 'UTC') + h * 3600`;
const COLUMNS = 'bucket, module, version, node, region, requests, lists, infos, mods, zips, latests, sumdbs, hits, misses, errors, bytes, hit_duration_ms, miss_duration_ms';

async function fillRollups(store: Store, series: number): Promise<number> {
  const params = { nodes: NODES.map((n) => n.name), regions: NODES.map((n) => n.region), origin: Math.floor(AS_OF / 1000) - HOURS * 3600, series, head: Math.min(HEAD, series), hours: HOURS };
  // A row of `f` fetches of one version: .info, .mod and .zip each, the first a miss.
  const versionRow = (f: string) => `${BUCKET}, ${MODULE}, ${VERSION}, ${NODE_OF}, ${REGION_OF}, 3 * ${f}, 0, ${f}, ${f}, ${f}, 0, 0, 3 * ${f} - 1, 1, 0, ${f} * 250000, 5.0 * ${f}, 300.0`;
  const insert = (select: string) => store.client.command({ query: `INSERT INTO rollups_1h (${COLUMNS}) ${select}`, query_params: params });
  // The long tail: a few fetches in the 4 weeks, at hashed hours.
  await insert(`SELECT ${versionRow('1')} FROM (
      SELECT intDiv(number, ${TAIL_FETCHES}) AS s, cityHash64(number, 'hour') % {hours:UInt32} AS h FROM numbers({series:UInt64} * ${TAIL_FETCHES}))`);
  // The head: Zipf-like rates, busier in (UTC) business hours on weekdays.
  await insert(`SELECT ${versionRow('toUInt64(1 + floor(r * 2 * (cityHash64(s, h, \'n\') % 1000) / 1000))')} FROM (
      SELECT s, h, 30 / pow(s + 1, 0.9) * if(toDayOfWeek(${BUCKET}) <= 5 AND toHour(${BUCKET}) BETWEEN 8 AND 17, 1.6, 0.4) AS r
      FROM (SELECT intDiv(number, {hours:UInt32}) AS s, number % {hours:UInt32} AS h FROM numbers({head:UInt64} * {hours:UInt32})))
    WHERE cityHash64(s, h, 'p') % 1000000 < least(1, r) * 1000000`);
  // Each module's list and @latest requests (version '').
  await insert(`SELECT ${BUCKET}, ${MODULE}, '', ${NODE_OF}, ${REGION_OF}, 2, 1, 0, 0, 0, 1, 0, 1, 1, 0, 600, 3.0, 150.0 FROM (
      SELECT number * ${VERSIONS_PER_MODULE} AS s, cityHash64(number, 'list') % {hours:UInt32} AS h
      FROM numbers(intDiv({series:UInt64} + ${VERSIONS_PER_MODULE - 1}, ${VERSIONS_PER_MODULE})))`);
  await store.client.command({ query: 'OPTIMIZE TABLE rollups_1h FINAL' });
  return scalar(store, 'SELECT count() FROM rollups_1h');
}

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
  const { store, config } = await openBenchStore(workDir, {
    regions: REGIONS,
    fleet: { nodes: NODES.map((n) => ({ ...n, baseUrl: `http://127.0.0.1:9/${n.name}` })) },
  });
  progress(`filling rollups_1h: ${size.toLocaleString()} module-versions × ${HOURS} hours (sparse long tail, dense head)`);
  const fill = await timed(() => fillRollups(store, size));
  progress(`${fill.value.toLocaleString()} rollup rows in ${fill.seconds.toFixed(1)} s`);

  const origin = Math.floor(AS_OF / 1000) - HOURS * 3600;
  const ref = await timed(() => store.client.query({ query: REFERENCE_SQL, query_params: { origin, asOf: Math.floor(AS_OF / 1000) }, format: 'JSONEachRow' }).then((r) => r.json<{ series: string; points: string }>()));
  const refSeries = Number(ref.value[0]?.series ?? 0);
  progress(`reference aggregation: ${ref.seconds.toFixed(2)} s (${refSeries.toLocaleString()} region series, ${Number(ref.value[0]?.points ?? 0).toLocaleString()} points)`);

  const rssBefore = ownPeakRssMb();
  progress('scoring run');
  const run = await timed(() => scoreStore(store, scoringOptionsFrom(config, { asOf: AS_OF, logger: createLogger('warn') })));
  const s = run.value;
  progress(`scoring: ${run.seconds.toFixed(1)} s, ${s.items.toLocaleString()} items, ${s.series.toLocaleString()} series, ${s.predictions.toLocaleString()} predictions in ${s.chunks} chunks`);
  const stored = await scalar(store, 'SELECT count() FROM predictions WHERE run_id = {run:String}', { run: s.runId });
  const status = await scalar(store, "SELECT count() FROM prediction_runs FINAL WHERE run_id = {run:String} AND status = 'done'", { run: s.runId });
  if (stored !== s.predictions || status !== 1) throw new Error(`run ${s.runId}: ${stored} predictions stored of ${s.predictions}, done rows ${status}`);
  const versions = size + Math.ceil(size / VERSIONS_PER_MODULE);
  if (s.items < versions) throw new Error(`scored ${s.items} items, expected at least ${versions} (module-versions + modules)`);
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
      measurement('RSS before the run (chDB + filled store)', rssBefore, 'MB', 'lower'),
    ],
    peakRssMb: ownPeakRssMb(),
    seconds: run.seconds,
    notes: [`run ${s.runId} done: ${s.items} items, ${s.predictions} predictions stored`, `models: ${JSON.stringify(s.byModel)}`],
    target: `<= ${TARGET_SECONDS} s at ${TARGET_SERIES / 1e6}M module-versions`,
    meets: ({ figure }) => figure.value <= TARGET_SECONDS,
    targetSize: TARGET_SERIES,
    quick,
  });
});
