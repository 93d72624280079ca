/**
 * store: N access events written by EventWriter in batches (the ingest path's batch size, with dedup tokens, into
 * access_events and its rollup views) against one INSERT of the same rows in JSONEachRow, into the same tables.
 * The reference is the engine reading the rows itself (`INSERT … SELECT FROM file(…, 'JSONEachRow')`): the
 * physical limit of the embedded store. The same single INSERT sent through the client (which the chDB adapter
 * materialises as one SQL string) is printed next to it; it is the slower of the two. Target: >= 50% of the
 * reference's rows/s.
 *
 * Only EventWriter.write is timed on the modcast side: rows are read from the cached JSONEachRow file outside the
 * clock, since where rows come from (parser, Kafka) is measured by the other stages.
 */
import { createReadStream } from 'node:fs';
import type { Store } from '../../src/store/client.js';
import { measurement, ownPeakRssMb, progress, rate, result, runStage, timed } from '../harness.js';
import { openBenchStore, scalar, writeEventsFile } from '../store-setup.js';
import { eventRowsFile } from '../workload.js';

const TARGET_EVENTS = 1_000_000;
const TABLES = ['access_events', 'rollups_5m', 'rollups_1h'];

interface Fingerprint {
  rows: number;
  rollupRequests: number;
  bytes: number;
  ids: number;
}

/** What landed, summarised: equal fingerprints mean both paths stored the same rows (and the same rollups). */
async function fingerprint(store: Store): Promise<Fingerprint> {
  return {
    rows: await scalar(store, 'SELECT count() FROM access_events'),
    rollupRequests: await scalar(store, 'SELECT sum(requests) FROM rollups_1h'),
    bytes: await scalar(store, 'SELECT sum(bytes) FROM access_events'),
    ids: await scalar(store, 'SELECT sum(cityHash64(event_id, toUnixTimestamp64Milli(ts))) % 1000000007 FROM access_events'),
  };
}

async function truncateAll(store: Store): Promise<void> {
  for (const t of TABLES) await store.client.command({ query: `TRUNCATE TABLE ${t}` });
}

runStage(async ({ size, quick, workDir }) => {
  const file = eventRowsFile(size);
  const { store, config } = await openBenchStore(workDir);
  const batchRows = config.ingest.batchRows;
  const openRss = ownPeakRssMb();

  progress(`EventWriter: ${size.toLocaleString()} rows in batches of ${batchRows}`);
  const { seconds: writeSeconds, batches } = await writeEventsFile(store, file, batchRows);
  const modcastRss = ownPeakRssMb();
  const mine = await fingerprint(store);
  if (mine.rows !== size || mine.rollupRequests !== size) throw new Error(`EventWriter stored ${mine.rows} rows (${mine.rollupRequests} in rollups), expected ${size}`);
  progress(`EventWriter: ${writeSeconds.toFixed(2)} s`);

  await truncateAll(store);
  progress('reference: one INSERT … FORMAT JSONEachRow');
  const one = await timed(async () => {
    const res = await store.client.exec({
      query: 'INSERT INTO access_events FORMAT JSONEachRow',
      values: createReadStream(file),
      clickhouse_settings: { insert_deduplicate: 0 },
    });
    res.stream.destroy();
  });
  const ref = await fingerprint(store);
  progress(`reference: ${one.seconds.toFixed(2)} s`);

  await truncateAll(store);
  progress('engine only: INSERT … SELECT FROM file(…, JSONEachRow)');
  const engine = await timed(() =>
    store.client.command({
      query: `INSERT INTO access_events SELECT * FROM file({path:String}, 'JSONEachRow', {structure:String})`,
      query_params: { path: file, structure: STRUCTURE },
      clickhouse_settings: { insert_deduplicate: 0 },
    }),
  );
  const eng = await fingerprint(store);
  progress(`engine only: ${engine.seconds.toFixed(2)} s`);
  await store.close();

  for (const [name, fp] of [['one INSERT', ref], ['file()', eng]] as const) {
    if (JSON.stringify(fp) !== JSON.stringify(mine)) throw new Error(`${name} stored ${JSON.stringify(fp)}, EventWriter ${JSON.stringify(mine)}`);
  }
  return result({
    stage: 'store',
    size,
    workload: `${size.toLocaleString()} access events into chDB (access_events + 5m/1h rollup views)`,
    figure: measurement(`EventWriter, ${batches} batch${batches === 1 ? '' : 'es'} of ${batchRows}`, rate(size, writeSeconds), 'rows/s'),
    reference: measurement('one INSERT … SELECT FROM file(…, JSONEachRow)', rate(size, engine.seconds), 'rows/s'),
    extra: [
      measurement('one INSERT … FORMAT JSONEachRow through the client', rate(size, one.seconds), 'rows/s'),
      measurement('chDB opened + migrated, RSS', openRss, 'MB', 'lower'),
    ],
    peakRssMb: modcastRss,
    seconds: writeSeconds,
    notes: ['same rows, rollups and event ids stored by all three paths (fingerprint compared)'],
    target: '>= 50% of the reference',
    meets: ({ ratio }) => ratio >= 0.5,
    targetSize: TARGET_EVENTS,
    quick,
  });
});

/** access_events' columns as the JSONEachRow file holds them (keeps file() from inferring epoch ms as seconds). */
const STRUCTURE =
  "event_id String, ts DateTime64(3, 'UTC'), node String, region String, module String, version String, kind String, " +
  'status UInt16, bytes UInt64, duration_ms Float32, cache_status String, client_hash String';
