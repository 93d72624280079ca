/**
 * API: `GET /v1/forecasts` at a constant R requests/s for 30 s against `modcast serve` (its own process, embedded
 * store, default production settings: info request logs to a file, rate limiting on), against `GET /healthz` on
 * the same server at the same rate. Latency counted from when each request was due (bench/load.ts).
 * Target: p99 < 20 ms at 1k req/s.
 *
 * The store holds one finished prediction run: SERIES module-versions × 8 scopes (4 nodes, 3 regions, fleet) ×
 * 24 hourly windows. The requests cycle through what consumers ask: each scope's forecast over 24 h, some by
 * module prefix or over 6 h.
 */
import { progress, runStage } from '../harness.js';
import { fillPredictions, measureRoute, SCOPES } from '../api-server.js';

const SERIES = 10_000;

function forecastPaths(): string[] {
  const paths: string[] = [];
  for (const [scope, id] of SCOPES) {
    paths.push(`/v1/forecasts?scope=${scope}&id=${id}&window=24h&limit=100`);
    paths.push(`/v1/forecasts?scope=${scope}&id=${id}&window=6h&limit=50&module=github.com/org${paths.length % 97}/`);
  }
  return paths;
}

runStage(async ({ size: rate, quick, workDir }) => {
  const series = quick ? 1_000 : SERIES;
  progress(`filling one prediction run: ${series.toLocaleString()} module-versions × ${SCOPES.length} scopes × 24 windows`);
  const rows = await fillPredictions(workDir, series);
  return measureRoute({
    stage: 'api',
    rate,
    quick,
    workDir,
    route: 'GET /v1/forecasts',
    paths: forecastPaths(),
    data: `one prediction run of ${rows.toLocaleString()} rows (${series.toLocaleString()} module-versions × ${SCOPES.length} scopes × 24 h)`,
  });
});
