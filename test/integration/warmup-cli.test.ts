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
import { goModDownload, moduleSet, readAccessLog, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
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
      // The Go proxy's log has the real time, whatever the process clock (.ci/run fakes it months away): with the
      // default 90 days, a faked clock past them would expire the log's rows as they are inserted.
      clickhouse: { retentionDays: 3650 },
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
  // made_at is when the rows were written (the real time): the table's TTL counts from it.
  await store.client.insert({
    table: 'predictions',
    format: 'JSONEachRow',
    values: moduleSet().map((m, i) => ({
      run_id: 'cli-pred', made_at: Date.now(), scope: 'node', scope_id: 'n1', module: m.module, version: m.version, kind: 'zip',
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

test('modcast forecasts lists the newest run, most expected first', async () => {
  const res = await cli(['forecasts', '--limit', '3']);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  assert.equal(lines[0], 'run cli-pred, as of 2026-11-26T05:00Z, window 24h (2026-11-26T05:00Z .. 2026-11-27T05:00Z)');
  assert.match(lines[1]!, /^scope\s+module\s+version\s+kind\s+expected\s+p_any/);
  // Every series expects 5 requests: ties in key order, so the first module path alphabetically comes first.
  const first = [...moduleSet()].sort((a, b) => (a.module < b.module ? -1 : 1))[0]!;
  assert.match(lines[3]!, new RegExp(`^node:n1\\s+${first.module.replace(/[.]/g, '\\.')}\\s+\\S+\\s+zip\\s+5\\.0\\s`));
  assert.equal(lines.length, 6, res.stdout);
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
  assert.match(res.stdout, new RegExp(`^scheduler tick at ${at.replace(/[.]/g, '\\.')}\n`));
  assert.match(res.stdout, new RegExp(`region eu: business block ${block.date}: warm-up due\n  sched:eu:n1:${block.date}: done, 10/10 items warmed, 0 failed`));
  assert.match(res.stdout, /new versions spread: none/);
  // The ten most likely versions were warmed by the manual run (the node holds them); the next ten now.
  assert.equal((await proxy.stats()).requests, 20);

  // The same tick again, for machines: the run is recorded, nothing is fetched twice; times are ISO.
  const again = await cli(['scheduler', '--once', '--at', at, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const report = JSON.parse(again.stdout) as { at: string; leader: boolean; regions: { region: string; action: string; runs: string[] }[] };
  assert.equal(report.at, at);
  assert.equal(report.leader, true);
  assert.deepEqual(report.regions, [{ region: 'eu', action: 'run', block: block.date, runs: [`sched:eu:n1:${block.date}`] }]);
  assert.equal((await proxy.stats()).requests, 20);

  // How that run helped, for a person: nobody downloaded through n1 afterwards, so all of it is waste.
  const eff = await cli(['warmup', '--effectiveness', `sched:eu:n1:${block.date}`]);
  assert.equal(eff.code, 0, eff.stderr);
  assert.match(eff.stdout, new RegExp(`^run sched:eu:n1:${block.date} on node n1, measured over \\d{4}-\\d\\d-\\d\\dT`));
  assert.match(eff.stdout, /warmed 10 versions; clients used 0 \(0%\) with 0 requests/);
  assert.match(eff.stdout, /waste: 10 versions nobody requested, \d+ B transferred by the warm-up/);
  const effJson = await cli(['warmup', '--effectiveness', `sched:eu:n1:${block.date}`, '--json']);
  assert.equal((JSON.parse(effJson.stdout) as { warmedVersions: number }).warmedVersions, 10);
});

test('empty plans, empty scoring and a fleet without nodes say why and what to do', async () => {
  // Twelve days on, past the predictions' ten days: the plan names the run's coverage and the fix.
  const later = new Date(NOW + 12 * DAY_MS).toISOString();
  const plan = await cli(['plan', '--node', 'n1', '--at', later]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /plan: 0 items/);
  assert.match(
    plan.stdout,
    /why 0 items: prediction run cli-pred covers 2026-11-26T05:00:00\.000Z \.\. 2026-12-06T05:00:00\.000Z, which ends before the demand window \(the business hours of region eu\) starts at 2026-12-08T08:00:00\.000Z: score with a longer horizon \(`modcast score --horizon-hours \d+`/,
  );
  const warm = await cli(['warmup', '--node', 'n1', '--at', later]);
  assert.equal(warm.code, 0, warm.stderr);
  assert.match(warm.stdout, /nothing to warm: prediction run cli-pred covers/);

  const noFleet = await runCli(['--data-dir', join(dir, 'empty'), 'plan', '--node', 'n1']);
  assert.equal(noFleet.code, 1);
  assert.match(noFleet.stderr, /MODCAST_ERR_NODE_UNKNOWN: no fleet nodes configured: add fleet\.nodes/);

  // This store holds no access events: scoring says so instead of a bare "0 series".
  const score = await cli(['score', '--as-of', new Date(NOW).toISOString()]);
  assert.equal(score.code, 0, score.stderr);
  assert.match(score.stdout, /0 series/);
  assert.match(score.stdout, /0 series: the store holds no events; ingest access logs first/);
});

// Last in this file: the tests before it need a store without events.
test("the node's own log read back: warm-ups kept apart from demand, and modcast warmup --cost accounts for them", async () => {
  // Clients build through the node after the warm-ups (the real go command): demand on the warmed versions.
  const download = await goModDownload(proxy.url);
  assert.equal(download.exitCode, 0, download.stderr);
  const logged = await readAccessLog(proxy.accessLog);
  const warmups = logged.filter((l) => l.user_agent.startsWith('modcast-warmup/'));
  assert.equal(warmups.length, 20, 'the two runs of the tests before fetched 20 items');
  const ingest = await cli(['ingest', proxy.accessLog, '--node', 'n1', '--region', 'eu', '--format', 'jsonl', '--no-resume']);
  assert.equal(ingest.code, 0, ingest.stderr);

  // The log's times are the real ones: the accounting window ends just after them.
  const now = new Date(Date.parse(logged.at(-1)!.ts) + 60_000).toISOString();
  const res = await runCli(['-c', configFile, 'warmup', '--cost', '--node', 'n1', '--days', '2', '--json'], { MODCAST_NOW: now });
  assert.equal(res.code, 0, res.stderr);
  const cost = JSON.parse(res.stdout) as { totals: { requests: number; bytes: number; warmedVersions: number; usedVersions: number; demandRequests: number }; days: { node: string }[] };
  assert.equal(cost.totals.requests, 20, 'every warm-up fetch the node logged, none of the clients’');
  assert.equal(cost.totals.bytes, warmups.reduce((sum, l) => sum + l.bytes, 0));
  assert.equal(cost.totals.warmedVersions, 20);
  assert.ok(cost.totals.usedVersions > 0 && cost.totals.demandRequests >= cost.totals.usedVersions, JSON.stringify(cost.totals));
  assert.ok(cost.days.every((d) => d.node === 'n1'));
  const text = await runCli(['-c', configFile, 'warmup', '--cost', '--days', '2'], { MODCAST_NOW: now });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`total: 20 warm-up requests, .*; ${cost.totals.usedVersions} of 20 warmed versions used`));
});
