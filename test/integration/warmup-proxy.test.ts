/**
 * The whole warm-up loop on a real Go module proxy with the real go command:
 * cold `go mod download` through node a -> its access log ingested -> predictions -> plan for node b ->
 * warm-up run on b -> `go mod download` through b is served from b's storage (no upstream fetch for any warmed
 * version). Cold and warm download times are printed. Then limits: items/bytes budgets, concurrency and
 * request rate measured at the proxy (its own counters and access log).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, type TestStore } from '../helpers/store.js';
import {
  goModDownload, moduleSet, readAccessLog, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer,
} from '../helpers/goproxy.js';
import { fleetOverrides, ingestAccessLog, seedPredictionsFromEvents, WEDNESDAY_BERLIN_1030 } from '../helpers/warmup.js';
import { findTarget } from '../../src/warmup/fleet.js';
import { planForNode } from '../../src/warmup/demand.js';
import { runWarmup } from '../../src/warmup/run.js';
import { runItems } from '../../src/store/queries/warmups.js';
import { escapeModulePath } from '../../src/domain/module-path.js';
import { measureEffectiveness } from '../../src/warmup/effectiveness.js';

const UPSTREAM_LATENCY_MS = 40;
const AT = WEDNESDAY_BERLIN_1030;
let upstream: RunningServer;
let nodeA: ProxyServer;
let nodeB: ProxyServer;
let nodeC: ProxyServer;
let ts: TestStore;

before(async () => {
  upstream = await startUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  [nodeA, nodeB, nodeC] = await Promise.all([startProxy(upstream.url), startProxy(upstream.url), startProxy(upstream.url)]);
  ts = await openTestStore(
    fleetOverrides([
      { name: 'a', baseUrl: nodeA.url },
      // b records the sha256 of what it serves (hashBodies); a and c do not (the default)
      { name: 'b', baseUrl: nodeB.url, maxConcurrency: 4, maxRequestsPerSecond: 200, hashBodies: true },
      // c: tight limits, to measure them at the proxy
      { name: 'c', baseUrl: nodeC.url, maxConcurrency: 2, maxRequestsPerSecond: 8, maxItemsPerRun: 12 },
    ]),
  );
});

after(async () => {
  await Promise.all([nodeA, nodeB, nodeC, upstream].filter(Boolean).map((s) => s.stop()));
  for (const s of [nodeA, nodeB, nodeC, upstream]) if (s) removeServerDir(s);
  await ts?.cleanup();
});

/** Upstream paths of a module version (what the proxy fetches on a miss): `<escaped module>/@v/<version>.`. */
function upstreamPrefix(module: string, version: string): string {
  return `/${escapeModulePath(module)}/@v/${version}.`;
}

test('warmed versions are served from the proxy storage: no upstream fetch during go mod download', async () => {
  const cold = await goModDownload(nodeA.url);
  assert.equal(cold.exitCode, 0, cold.stderr);
  const events = await ingestAccessLog(ts.store, ts.config, nodeA.accessLog, 'a');
  assert.ok(events > 50, `ingested ${events} events from node a`);
  const predictions = await seedPredictionsFromEvents(ts.store, 'pred-1', 'a', { at: AT });
  assert.ok(predictions >= moduleSet().length);

  const target = findTarget(ts.config, 'b');
  const { plan, predictionRunId, window } = await planForNode(ts.store, ts.config, target, AT);
  assert.equal(predictionRunId, 'pred-1');
  assert.ok(window.to > window.from);
  // Every version the go command used on a is planned for b (b's storage is empty), capitals escaped.
  const planned = new Set(plan.items.map((i) => `${i.module}@${i.version}`));
  for (const m of moduleSet()) assert.ok(planned.has(`${m.module}@${m.version}`), `${m.module}@${m.version} planned`);
  const toml = plan.items.find((i) => i.module === 'github.com/BurntSushi/toml')!;
  assert.deepEqual(toml.paths, ['/github.com/!burnt!sushi/toml/@v/v1.3.2.info']);
  assert.ok(plan.items.some((i) => i.version.endsWith('+incompatible')));

  await upstream.resetStats();
  const run = await runWarmup({ store: ts.store, target, runId: 'warm-b-1', plan, trigger: 'manual', plannedFor: window.from, predictionRunId });
  assert.equal(run.status, 'done', run.message);
  assert.equal(run.itemsDone, plan.items.length);
  const items = await runItems(ts.store, 'warm-b-1');
  assert.ok(items.every((i) => i.status === 'ok' && i.sha256.length === 64 && Number(i.bytes) > 0), JSON.stringify(items.find((i) => i.status !== 'ok')));
  const warmStats = await upstream.stats();
  // goproxy fetches info+mod+zip upstream for each .info miss: 3 upstream requests per warmed version.
  assert.equal(warmStats.requests, 3 * plan.items.length);
  const bStats = await nodeB.stats();
  assert.ok(bStats.maxInFlight <= target.maxConcurrency, `peak ${bStats.maxInFlight} concurrent at b, limit ${target.maxConcurrency}`);

  await upstream.resetStats();
  const warm = await goModDownload(nodeB.url);
  assert.equal(warm.exitCode, 0, warm.stderr);
  const after = await upstream.stats();
  for (const item of plan.items) {
    const prefix = upstreamPrefix(item.module, item.version);
    const fetched = Object.keys(after.byPath).filter((p) => p.startsWith(prefix));
    assert.deepEqual(fetched, [], `${item.module}@${item.version} was fetched upstream after the warm-up`);
  }
  assert.equal(after.requests, 0, `upstream requests during the warm download: ${JSON.stringify(after.byPath)}`);
  const bLog = await readAccessLog(nodeB.accessLog);
  const clientLines = bLog.filter((l) => l.user_agent.startsWith('Go-http-client'));
  assert.ok(clientLines.length > 0 && clientLines.every((l) => l.cache_status === 'hit' && l.status === 200));

  // Effectiveness from b's access log: every warmed version was used, every client request a hit, no waste.
  await ingestAccessLog(ts.store, ts.config, nodeB.accessLog, 'b');
  const eff = await measureEffectiveness(ts.store, 'warm-b-1');
  assert.equal(eff.warmedVersions, plan.items.length);
  assert.equal(eff.usedVersions, plan.items.length);
  assert.equal(eff.requestsOnWarmed, clientLines.length);
  assert.equal(eff.hitsOnWarmed, clientLines.length);
  assert.equal(eff.missesOnWarmed, 0);
  assert.equal(eff.wastedVersions, 0);
  assert.equal(eff.wastedTransferBytes, 0);
  assert.ok(eff.warmedRequestMs !== null && eff.warmRequestMs !== null);

  console.log(
    `go mod download of ${moduleSet().length} modules (${plan.items.length} versions in the graph), upstream latency ${UPSTREAM_LATENCY_MS} ms: ` +
      `cold ${cold.elapsedMs.toFixed(0)} ms, after warm-up ${warm.elapsedMs.toFixed(0)} ms`,
  );
});

test('item budget, concurrency and request rate hold at the proxy', async () => {
  const target = findTarget(ts.config, 'c');
  const { plan } = await planForNode(ts.store, ts.config, target, AT);
  assert.equal(plan.items.length, target.maxItemsPerRun, 'the plan fills the item budget (more versions are predicted)');
  await upstream.resetStats();
  const run = await runWarmup({ store: ts.store, target, runId: 'warm-c-1', plan, trigger: 'manual', plannedFor: AT });
  assert.equal(run.status, 'done');
  const log = (await readAccessLog(nodeC.accessLog)).filter((l) => l.user_agent.startsWith('modcast-warmup'));
  assert.equal(log.length, target.maxItemsPerRun, 'one request per planned item, none beyond the budget');
  const stats = await nodeC.stats();
  assert.ok(stats.maxInFlight <= 2, `peak concurrency at c: ${stats.maxInFlight}`);
  // Rate: request start times at the proxy; any 1 s window holds at most burst (2) + rate (8) requests.
  const starts = log.map((l) => Date.parse(l.ts)).sort((x, y) => x - y);
  for (const t0 of starts) {
    const inWindow = starts.filter((t) => t >= t0 && t < t0 + 1000).length;
    assert.ok(inWindow <= 10, `${inWindow} requests within 1 s from ${new Date(t0).toISOString()}`);
  }
  const span = (starts[starts.length - 1]! - starts[0]!) / 1000;
  assert.ok(span >= (log.length - 2) / 8 - 0.05, `${log.length} requests at 8/s (burst 2) cannot span only ${span}s`);
  // Nobody downloads through c: all of its warm-up is waste, and measured as such.
  const eff = await measureEffectiveness(ts.store, 'warm-c-1');
  assert.equal(eff.warmedVersions, target.maxItemsPerRun);
  assert.equal(eff.usedVersions, 0);
  assert.equal(eff.wastedVersions, target.maxItemsPerRun);
  const items = await runItems(ts.store, 'warm-c-1');
  assert.ok(items.every((i) => i.sha256 === '') && items.some((i) => i.status === 'ok' && Number(i.bytes) > 0), 'c does not hash bodies, it counts them');
  assert.equal(eff.wastedTransferBytes, items.reduce((sum, i) => sum + Number(i.bytes), 0));
  assert.ok(eff.wastedUpstreamBytes > eff.wastedTransferBytes, 'the node pulled whole zips for the .info requests');
});

test('the byte budget bounds what the node pulls from upstream', async () => {
  // Predictions of the versions whose zips clients downloaded, so node a's log knows every file size (sizes of
  // versions only ever resolved through go.mod are estimates). A fresh node; budget = 40% of a full warm-up.
  await seedPredictionsFromEvents(ts.store, 'pred-zip', 'a', { kind: 'zip', at: AT });
  const nodeD = await startProxy(upstream.url);
  try {
    const cfg = { ...ts.config, fleet: { nodes: [...ts.config.fleet.nodes, { ...ts.config.fleet.nodes[0]!, name: 'd', baseUrl: nodeD.url }] } };
    const full = await planForNode(ts.store, cfg, findTarget(cfg, 'd'), AT, { predictionRunId: 'pred-zip' });
    const maxBytes = Math.floor(full.plan.totals.estimatedBytes * 0.4);
    const { plan } = await planForNode(ts.store, cfg, findTarget(cfg, 'd'), AT, { maxBytes, predictionRunId: 'pred-zip' });
    assert.ok(plan.items.length > 0 && plan.items.length < full.plan.items.length);
    await upstream.resetStats();
    const run = await runWarmup({ store: ts.store, target: findTarget(cfg, 'd'), runId: 'warm-d-1', plan, trigger: 'manual', plannedFor: AT });
    assert.equal(run.status, 'done');
    const pulled = await upstream.stats();
    assert.ok(pulled.bytes <= maxBytes, `upstream bytes ${pulled.bytes} within the budget ${maxBytes}`);
    assert.equal(pulled.requests, 3 * plan.items.length);
  } finally {
    await nodeD.stop();
    removeServerDir(nodeD);
  }
});
