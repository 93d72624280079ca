/**
 * The read-route API stages (api-top, api-hotness, api-stats, api-warmups): one store shaped like a fleet's — four
 * weeks of hourly rollups (bench/fill-rollups.ts), one finished prediction run, a few thousand warm-up runs — served
 * by `modcast serve`, one route measured per stage against `/healthz` (bench/api-server.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectPath } from '../src/lib/paths.js';
import { nodeArgs, progress, runStage } from './harness.js';
import { fillPredictions, measureRoute } from './api-server.js';
import { NODES, VERSIONS_PER_MODULE } from './fill-rollups.js';
import { openBenchStore } from './store-setup.js';

const run = promisify(execFile);

/** A module the rollups hold (fill-rollups.ts names series s `github.com/org<k % 97>/mod<k>`, k = s / 5). */
export function rollupModule(k: number): string {
  return `github.com/org${k % 97}/mod${k}`;
}

/**
 * The last day of the hourly rollups copied into rollups_5m (at the hour's first bucket): the API takes the data's
 * "now" and `/v1/top`'s recent windows from there. Both tables are fed from raw events, so nothing counts twice.
 */
async function fillRecentAndWarmups(workDir: string, runs: number): Promise<void> {
  const { store } = await openBenchStore(workDir);
  await store.client.command({ query: 'INSERT INTO rollups_5m SELECT * FROM rollups_1h WHERE bucket >= (SELECT max(bucket) FROM rollups_1h) - INTERVAL 1 DAY' });
  // Recent runs (the stats route looks back from the wall clock), one every 10 minutes per node.
  await store.client.command({
    query: `INSERT INTO warmup_runs (run_id, node, region, trigger, planned_for, created_at, finished_at, status, dry_run,
        items_planned, items_done, items_failed, bytes, expected_benefit, prediction_run_id, message)
      SELECT concat('wr-', toString(number)), arrayElement({nodes:Array(String)}, number % 4 + 1), arrayElement({regions:Array(String)}, number % 4 + 1),
             if(number % 5 = 0, 'release', 'schedule'), toDateTime(now() - intDiv(number, 4) * 600 + 1800),
             now64(3) - intDiv(number, 4) * 600, now64(3) - intDiv(number, 4) * 600 + 90,
             arrayElement(['done', 'done', 'done', 'failed', 'skipped'], number % 5 + 1), false,
             200, 190, 10, 190 * 250000, 42.5, 'bench-run', ''
      FROM numbers({runs:UInt64})`,
    query_params: { nodes: NODES.map((n) => n.name), regions: NODES.map((n) => n.region), runs },
  });
  await store.close();
}

export function readRouteStage(stage: string, route: string, paths: string[]): void {
  runStage(async ({ size: rate, quick, workDir }) => {
    const moduleVersions = quick ? 2_000 : 50_000;
    const series = quick ? 1_000 : 10_000;
    const warmups = quick ? 500 : 5_000;
    progress(`filling 4 weeks of hourly rollups of ${moduleVersions.toLocaleString()} module-versions`);
    const { stdout } = await run(process.execPath, [...nodeArgs(), projectPath('bench', 'fill-rollups.ts'), workDir, String(moduleVersions)], { maxBuffer: 1 << 20 });
    const rollups = Number(stdout.trim());
    progress(`${rollups.toLocaleString()} rollup rows; one prediction run of ${series.toLocaleString()} module-versions; ${warmups} warm-up runs`);
    await fillPredictions(workDir, series);
    await fillRecentAndWarmups(workDir, warmups);
    return measureRoute({
      stage,
      rate,
      quick,
      workDir,
      route,
      paths,
      data: `${rollups.toLocaleString()} hourly rollup rows (4 weeks, ${moduleVersions.toLocaleString()} module-versions, ${moduleVersions / VERSIONS_PER_MODULE} modules), one prediction run of ${series.toLocaleString()} module-versions, ${warmups} warm-up runs`,
    });
  });
}
