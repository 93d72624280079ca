/**
 * The warm-up commands as a person runs them: `modcast plan` (dry run with benefits), `modcast warmup` (fetches
 * against the real proxy, waits, reports) and `modcast scheduler --once` (the scheduled evaluation), each as a
 * separate process on the same embedded store.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { moduleSet, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { nextBusinessBlock, DAY_MS, MINUTE_MS } from '../../src/domain/calendar.js';

let upstream: RunningServer;
let proxy: ProxyServer;
let dir: string;
let configFile: string;
/**
 * The clock of every CLI process here (MODCAST_NOW): Thursday 2026-11-26, 06:00 in Berlin, two hours before the
 * region's business hours, so the plans are the same whatever day the suite runs on.
 */
const NOW = Date.parse('2026-11-26T05:00:00Z');
const cli = (args: string[]) => runCli(['-c', configFile, ...args], { MODCAST_NOW: new Date(NOW).toISOString() });
const region = { name: 'eu', timeZone: 'Europe/Berlin', businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };

before(async () => {
  upstream = await startUpstream({ latencyMs: 5 });
  proxy = await startProxy(upstream.url);
  dir = mkdtempSync(join(tmpdir(), 'modcast-cli-warm-'));
  configFile = join(dir, 'modcast.yaml');
  writeFileSync(
    configFile,
    stringify({
      dataDir: join(dir, 'data'),
      logLevel: 'warn',
      privacy: { clientSalt: 'test-salt-0123456789' },
      regions: [region],
      scheduler: { leadMinutes: 30, maxLatenessMinutes: 20 },
      fleet: { nodes: [{ name: 'n1', region: 'eu', baseUrl: proxy.url, software: 'goproxy', maxItemsPerRun: 10, maxConcurrency: 3 }] },
    }),
  );
  // Predictions for the module set over the ten days from NOW (what the scoring job would have written).
  const store = await openStore(loadConfig({ file: configFile, env: {} }));
  await migrate(store);
  const now = NOW;
  await store.client.insert({
    table: 'prediction_runs',
    format: 'JSONEachRow',
    values: [{ run_id: 'cli-pred', started_at: now, finished_at: now, status: 'done', as_of: Math.floor(now / 1000), horizon_hours: 240, step_minutes: 60, series: 0, predictions: 0, params: '{}' }],
  });
  await store.client.insert({
    table: 'predictions',
    format: 'JSONEachRow',
    values: moduleSet().map((m, i) => ({
      run_id: 'cli-pred', made_at: now, scope: 'node', scope_id: 'n1', module: m.module, version: m.version, kind: 'zip',
      window_start: Math.floor(now / 1000), window_end: Math.floor((now + 10 * DAY_MS) / 1000),
      expected_requests: 5, p_any_request: 0.95 - i * 0.01, lower: 1, upper: 9, model: 'test-fixture', features: '{}',
    })),
  });
  await store.close();
});

after(async () => {
  await proxy?.stop();
  await upstream?.stop();
  if (proxy) removeServerDir(proxy);
  if (upstream) removeServerDir(upstream);
  rmSync(dir, { recursive: true, force: true });
});

test('modcast plan prints the dry-run plan with benefits, fetching nothing', async () => {
  const res = await cli(['plan', '--node', 'n1', '--at', '2026-11-26T07:00']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /node n1: demand window 2026-11-26T08:00:00.000Z \.\. 2026-11-26T17:00:00.000Z \(business-hours\)/);
  assert.match(res.stdout, /plan: 10 items, 10 requests/);
  assert.match(res.stdout, /github\.com\/Azure\/go-autorest\s+v14\.2\.0\+incompatible\s+info\s+0\.95/);
  assert.match(res.stdout, /skipped 25: 25× over the run budget/);
  assert.equal((await proxy.stats()).requests, 0);

  const json = await cli(['plan', '--node', 'n1', '--json', '--max-items', '3']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { plan: { items: { paths: string[] }[] } };
  assert.equal(parsed.plan.items.length, 3);
  assert.deepEqual(parsed.plan.items[1]!.paths, ['/github.com/!burnt!sushi/toml/@v/v1.3.2.info']);

  const unknown = await cli(['plan', '--node', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /MODCAST_ERR_NODE_UNKNOWN: unknown node "nope"; configured nodes: n1/);
});

test('modcast warmup fetches the plan against the node and reports the run', async () => {
  const res = await cli(['warmup', '--node', 'n1']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /manual:n1:\S+\s+n1\s+10\s+.*done\s+10 ok, 0 not found upstream, 0 failed or skipped/);
  const stats = await proxy.stats();
  assert.equal(stats.requests, 10);
  assert.ok(stats.maxInFlight <= 3);
});

test('modcast scheduler --once warms the region at its warm time and skips what is already held', async () => {
  const block = nextBusinessBlock(region, NOW + DAY_MS)!;
  const at = new Date(block.start - 30 * MINUTE_MS + MINUTE_MS).toISOString();
  const res = await cli(['scheduler', '--once', '--at', at]);
  assert.equal(res.code, 0, res.stderr);
  const report = JSON.parse(res.stdout) as { leader: boolean; regions: { region: string; action: string; runs: string[] }[] };
  assert.equal(report.leader, true);
  assert.deepEqual(report.regions, [{ region: 'eu', action: 'run', block: block.date, runs: [`sched:eu:n1:${block.date}`] }]);
  // The ten most likely versions were warmed by the manual run (the node holds them); the next ten now.
  const stats = await proxy.stats();
  assert.equal(stats.requests, 20);
});
