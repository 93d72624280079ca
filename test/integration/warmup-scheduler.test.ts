/**
 * The scheduler on real proxies: a region is warmed `leadMinutes` before its business hours (and only then),
 * ticks that see the same window again fetch nothing, a missed window is skipped and recorded, the release
 * webhook warms a hot module's new version on the nodes lacking it, and a version first seen on one node is
 * warmed on the others.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { goModDownload, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
import { fleetOverrides, ingestAccessLog, seedPredictionsFromEvents } from '../helpers/warmup.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { readRun, runItems } from '../../src/store/queries/warmups.js';
import { nextBusinessBlock, DAY_MS, MINUTE_MS, type RegionCalendar } from '../../src/domain/calendar.js';
import { warmDecision } from '../../src/domain/warm-schedule.js';
import { createLogger } from '../../src/lib/logger.js';
import { escapeModulePath } from '../../src/domain/module-path.js';

let upstream: RunningServer;
let n1: ProxyServer;
let n2: ProxyServer;
let n3: ProxyServer;
let ts: TestStore;
let scheduler: Scheduler;
let clock = Date.now();
const berlin: RegionCalendar = { name: 'eu', timeZone: 'Europe/Berlin', businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
const newYork: RegionCalendar = { name: 'us', timeZone: 'America/New_York', businessHours: { start: '08:30', end: '17:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
const LEAD_MINUTES = 45;
const MAX_LATENESS_MINUTES = 30;

/**
 * The first time from `from` on, in 5-minute steps, at which no region's scheduled warm-up would run: a tick there
 * only spreads releases. (At 12:45–13:30 UTC on a winter weekday New York's warm-up runs in the same tick, warms n3
 * with the plan, and leaves the release spread little to do.)
 */
function outsideScheduledWarmups(from: number): number {
  let t = from;
  while ([berlin, newYork].some((cal) => warmDecision(cal, t, LEAD_MINUTES, MAX_LATENESS_MINUTES).action === 'run')) t += 5 * MINUTE_MS;
  return t;
}

before(async () => {
  upstream = await startUpstream({ latencyMs: 5 });
  [n1, n2, n3] = await Promise.all([startProxy(upstream.url), startProxy(upstream.url), startProxy(upstream.url)]);
  const fleet = fleetOverrides([
    { name: 'n1', baseUrl: n1.url },
    { name: 'n2', baseUrl: n2.url },
  ]);
  ts = await openTestStore({
    ...fleet,
    regions: [berlin, newYork],
    fleet: { nodes: [...(fleet.fleet as { nodes: object[] }).nodes, { name: 'n3', region: 'us', baseUrl: n3.url, software: 'goproxy' }] },
    scheduler: { leadMinutes: LEAD_MINUTES, maxLatenessMinutes: MAX_LATENESS_MINUTES, hotModuleMinRequests: 1 },
  });
  // History: the go command downloaded the module set through n1.
  const cold = await goModDownload(n1.url);
  assert.equal(cold.exitCode, 0, cold.stderr);
  await ingestAccessLog(ts.store, ts.config, n1.accessLog, 'n1');
  await seedPredictionsFromEvents(ts.store, 'pred-s', 'n1', { windowHours: 24 * 9 });
  scheduler = createScheduler({ config: ts.config, store: ts.store, logger: createLogger('silent'), now: () => clock });
  await upstream.resetStats();
});

after(async () => {
  await scheduler?.stop();
  await Promise.all([n1, n2, n3, upstream].filter(Boolean).map((s) => s.stop()));
  for (const s of [n1, n2, n3, upstream]) if (s) removeServerDir(s);
  await ts?.cleanup();
});

test('a region is warmed lead minutes before its business hours, once', async () => {
  // The first Berlin business block at least a day away: the ingested events are then "old" (no release detection).
  const block = nextBusinessBlock(berlin, Date.now() + DAY_MS)!;
  const warmAt = block.start - 45 * MINUTE_MS;

  clock = warmAt - 10 * MINUTE_MS;
  const early = await scheduler.tick();
  assert.equal(early.regions.find((r) => r.region === 'eu')!.action, 'wait');
  await scheduler.idle();
  assert.equal((await upstream.stats()).requests, 0, 'nothing fetched before the warm time');

  clock = warmAt + MINUTE_MS;
  const due = await scheduler.tick();
  const eu = due.regions.find((r) => r.region === 'eu')!;
  assert.equal(eu.action, 'run');
  assert.deepEqual(eu.runs.sort(), [`sched:eu:n1:${block.date}`, `sched:eu:n2:${block.date}`]);
  await scheduler.idle();
  const r1 = (await readRun(ts.store, `sched:eu:n1:${block.date}`))!;
  const r2 = (await readRun(ts.store, `sched:eu:n2:${block.date}`))!;
  assert.equal(r1.status, 'done');
  assert.equal(r1.itemsPlanned, 0, 'n1 served every predicted version already');
  assert.equal(r2.status, 'done');
  assert.ok(r2.itemsDone > 30, `${r2.itemsDone} versions warmed on n2`);
  assert.equal(r2.plannedFor, block.start);
  const fetched = (await upstream.stats()).requests;
  assert.equal(fetched, 3 * r2.itemsDone);

  // The same window seen again (next tick, a trigger for the same node): no second fetch.
  clock += MINUTE_MS;
  await scheduler.tick();
  const again = await scheduler.triggerWarmup({ node: 'n2', wait: true, at: block.start });
  assert.equal(again.runs[0]!.items, 0, 'n2 holds everything now');
  await scheduler.idle();
  assert.equal((await upstream.stats()).requests, fetched);
});

test('a missed window is skipped and recorded, not run hours late', async () => {
  const block = nextBusinessBlock(berlin, Date.now() + 3 * DAY_MS)!;
  clock = block.start - 45 * MINUTE_MS + 40 * MINUTE_MS; // 40 min past the warm time, max lateness 30
  const report = await scheduler.tick();
  assert.equal(report.regions.find((r) => r.region === 'eu')!.action, 'skip');
  await scheduler.idle();
  const run = (await readRun(ts.store, `sched:eu:n2:${block.date}`))!;
  assert.equal(run.status, 'skipped');
  assert.match(run.message, /missed by 40 min/);
});

test('the release webhook warms a hot module version on the nodes lacking it; cold modules are refused', async () => {
  clock = Date.now();
  const cold = await scheduler.onReleaseEvent('github.com/nobody/requests-this', 'v1.0.0');
  assert.equal(cold.accepted, false);
  assert.match(cold.reason!, /not hot/);
  await assert.rejects(scheduler.onReleaseEvent('github.com/a/b', 'v2.0.0'), /should be v0 or v1/);

  await upstream.resetStats();
  const res = await scheduler.onReleaseEvent('github.com/BurntSushi/toml', 'v1.3.2');
  assert.equal(res.accepted, true);
  // n1 served it and n2 was warmed by the schedule: only n3 (us) lacks it.
  assert.deepEqual(res.runs.map((r) => r.node), ['n3']);
  await scheduler.idle();
  const items = await runItems(ts.store, res.runs[0]!.runId);
  assert.deepEqual(items.map((i) => [i.status, i.path]), [['ok', '/github.com/!burnt!sushi/toml/@v/v1.3.2.info']]);
  const up = await upstream.stats();
  assert.ok(Object.keys(up.byPath).every((p) => p.startsWith(`/${escapeModulePath('github.com/BurntSushi/toml')}/@v/v1.3.2.`)));
});

test('a version first seen on one node is warmed on the others', async () => {
  // Now, the module set's versions were first seen on n1 within the last hours; n3 lacks all but toml.
  clock = outsideScheduledWarmups(Date.now() + MINUTE_MS);
  const report = await scheduler.tick();
  await scheduler.idle();
  assert.ok(report.releases.length > 10, `${report.releases.length} new versions spread`);
  assert.ok(report.releases.every((r) => r.nodes.length === 1 && r.nodes[0] === 'n3'), JSON.stringify(report.releases.slice(0, 3)));
  const gzip = report.releases.find((r) => r.module === 'github.com/NYTimes/gziphandler');
  assert.ok(gzip, 'an uppercase module path is spread too');
  const n3Log = (await n3.stats()).byPath;
  assert.ok(Object.keys(n3Log).some((p) => p.startsWith('/github.com/!n!y!times/gziphandler/@v/')));
});
