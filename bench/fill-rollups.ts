/**
 * Fills rollups_1h of an embedded store with synthetic history for the scoring benchmark, in its own process (so the
 * engine's memory for the fill never counts in the scoring run's peak RSS):
 *
 *   node --import tsx bench/fill-rollups.ts <dataDir> <moduleVersions>
 *
 * Shaped like a fleet's long tail, by the engine (INSERT … SELECT FROM numbers()): every module-version is fetched a
 * few times in the 4 weeks, the popular head (Zipf-like) most hours with a business-hours rhythm, spread over 4
 * nodes in 3 regions; plus each module's list/@latest requests.
 */
import { fileURLToPath } from 'node:url';
import type { Store } from '../src/store/client.js';
import { openBenchStore, scalar } from './store-setup.js';

export const HOURS = 4 * 7 * 24;
export const VERSIONS_PER_MODULE = 5;
/** Popular head: module-versions with a rate high enough to be generated hour by hour. */
const HEAD = 20_000;
const TAIL_FETCHES = 3;
/** A Monday, 00:00 UTC: history is the 4 weeks before it. */
export const AS_OF = Date.UTC(2026, 10, 23);
export const NODES = [
  { name: 'eu-1', region: 'eu' },
  { name: 'eu-2', region: 'eu' },
  { name: 'us-1', region: 'us' },
  { name: 'ap-1', region: 'ap' },
];
export const REGIONS = [
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


// The child side: fill, print the row count, exit (releasing the data directory for the stage).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [dir, n] = process.argv.slice(2);
  if (!dir || !Number.isInteger(Number(n)) || Number(n) <= 0) {
    console.error('usage: bench/fill-rollups.ts <dataDir> <moduleVersions>');
    process.exit(2);
  }
  const { store } = await openBenchStore(dir);
  const rows = await fillRollups(store, Number(n));
  await store.close();
  console.log(rows);
  process.exit(0);
}
