/**
 * cluster: N access events written by EventWriter (ingest batch size, dedup tokens, foreground Distributed inserts)
 * into a 2-shard ClickHouse cluster (two server nodes from chDB's engine, scripts/clickhouse-local.sh, same machine),
 * against the same rows into one of those servers with the single-server schema. Both over HTTP; the rows are read
 * from the cached JSONEachRow file outside the clock. No target: on one machine the shards share its cores, so the
 * ratio is the cost of the Distributed fan-out, not a scale-out figure. Also prints compressed bytes per stored event
 * and each node's peak RSS (sizing inputs for docs/deploy.md).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { projectPath } from '../../src/lib/paths.js';
import { measurement, onCleanup, progress, rate, result, runStage } from '../harness.js';
import { benchConfig } from '../config.js';
import { scalar, writeEventsFile } from '../store-setup.js';
import { eventRowsFile } from '../workload.js';

const run = promisify(execFile);
const CLUSTER = 'modcast_bench';
const SCRIPT = projectPath('scripts/clickhouse-local.sh');

/** Peak RSS (VmHWM) of a server node, from its pid file. */
function nodePeakRssMb(dir: string, node: number): number {
  const pid = readFileSync(join(dir, `node${node}`, 'pid'), 'utf8').trim();
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

runStage(async ({ size, quick, workDir }) => {
  const file = eventRowsFile(size);
  const dir = join(workDir, 'clickhouse');
  progress('starting 2 ClickHouse server nodes (remote_servers with 2 shards)');
  const { stdout } = await run('bash', [SCRIPT, 'start', '--dir', dir, '--nodes', '2', '--cluster', CLUSTER, '--owner-pid', String(process.pid)]);
  onCleanup(() => run('bash', [SCRIPT, 'stop', '--dir', dir]));
  const urls = stdout.trim().split('\n');

  const single = await openStore(benchConfig(workDir, { clickhouse: { url: urls[0], database: 'single' } }));
  const clustered = await openStore(benchConfig(workDir, { clickhouse: { url: urls[0], database: 'sharded', cluster: CLUSTER, nodes: urls } }));
  onCleanup(() => Promise.all([single.close(), clustered.close()]));
  await migrate(single);
  await migrate(clustered);
  const batchRows = benchConfig(workDir).ingest.batchRows;

  progress(`one server: ${size.toLocaleString()} rows in batches of ${batchRows}`);
  const { seconds: singleSeconds } = await writeEventsFile(single, file, batchRows);
  progress(`one server: ${singleSeconds.toFixed(2)} s; 2-shard cluster`);
  const { seconds: clusterSeconds } = await writeEventsFile(clustered, file, batchRows);
  progress(`2-shard cluster: ${clusterSeconds.toFixed(2)} s`);

  for (const [name, store] of [['one server', single], ['cluster', clustered]] as const) {
    const rows = await scalar(store, 'SELECT count() FROM access_events');
    const rolled = await scalar(store, 'SELECT sum(requests) FROM rollups_1h');
    if (rows !== size || rolled !== size) throw new Error(`${name} stored ${rows} rows (${rolled} in rollups), expected ${size}`);
  }
  await single.client.command({ query: 'OPTIMIZE TABLE access_events FINAL' });
  const bytesPerEvent = await scalar(
    single,
    "SELECT sum(data_compressed_bytes) / sum(rows) FROM system.parts WHERE database = 'single' AND table = 'access_events' AND active",
  );
  const rollupRowsPerEvent = await scalar(single, 'SELECT (SELECT count() FROM rollups_1h) / (SELECT count() FROM access_events)');
  const shardShare = await scalar(clustered, 'SELECT max(c) / sum(c) FROM (SELECT count() AS c FROM access_events GROUP BY _shard_num)');

  return result({
    stage: 'cluster',
    size,
    workload: `${size.toLocaleString()} access events over HTTP: 2-shard cluster (Distributed by module, foreground inserts) vs one server, same machine`,
    figure: measurement('EventWriter into the 2-shard cluster', rate(size, clusterSeconds), 'rows/s'),
    reference: measurement('EventWriter into one server', rate(size, singleSeconds), 'rows/s'),
    extra: [
      measurement('compressed bytes per stored event (access_events, one server, merged)', Math.round(bytesPerEvent * 10) / 10, 'B', 'lower'),
      measurement('hourly rollup rows per event', Math.round(rollupRowsPerEvent * 1000) / 1000, 'rows', 'lower'),
      measurement('largest shard share of events', Math.round(shardShare * 1000) / 1000, '', 'lower'),
      measurement('server node 1 peak RSS', nodePeakRssMb(dir, 1), 'MB', 'lower'),
      measurement('server node 2 peak RSS', nodePeakRssMb(dir, 2), 'MB', 'lower'),
    ],
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    seconds: clusterSeconds,
    notes: ['every row and rollup checked on both; both shards on one 2-core machine'],
    target: 'ratio printed (no target)',
    targetSize: size,
    quick,
  });
});
