/**
 * Athens (github.com/gomods/athens v0.18.1, built from its module source by scripts/athens-local.sh) as a fleet
 * node, with the real go command as the client and the offline upstream behind it:
 * cold `go mod download` through Athens node a -> Athens' own JSON log ingested by modcast's athens parser ->
 * predictions -> plan for Athens node b -> warm-up run (executor -> Athens) -> `go mod download` through b fetches
 * nothing upstream (every file it serves comes from b's disk storage) -> b's log ingested -> effectiveness.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { goModDownload, moduleSet, removeServerDir, startAthens, startUpstream, type AthensServer, type RunningServer } from '../helpers/goproxy.js';
import { fleetOverrides, ingestAccessLog, seedPredictionsFromEvents, WEDNESDAY_BERLIN_1030 } from '../helpers/warmup.js';
import { findTarget } from '../../src/warmup/fleet.js';
import { planForNode } from '../../src/warmup/demand.js';
import { runWarmup } from '../../src/warmup/run.js';
import { runItems } from '../../src/store/queries/warmups.js';
import { measureEffectiveness } from '../../src/warmup/effectiveness.js';

const UPSTREAM_LATENCY_MS = 40;
const AT = WEDNESDAY_BERLIN_1030;
let upstream: RunningServer;
let athensA: AthensServer;
let athensB: AthensServer;
let ts: TestStore;

before(async () => {
  upstream = await startUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  [athensA, athensB] = await Promise.all([startAthens(upstream.url), startAthens(upstream.url)]);
  ts = await openTestStore(
    fleetOverrides([
      { name: 'a', baseUrl: athensA.url, software: 'athens' },
      { name: 'b', baseUrl: athensB.url, software: 'athens', maxConcurrency: 4, maxRequestsPerSecond: 200 },
    ]),
  );
});

after(async () => {
  await Promise.all([athensA, athensB, upstream].filter(Boolean).map((s) => s.stop()));
  for (const s of [athensA, athensB, upstream]) if (s) removeServerDir(s);
  await ts?.cleanup();
});

/** Athens' GOPROXY request lines in its log (its other lines: startup and fetch messages, the launcher's /healthz probes). */
function requestLines(file: string): { 'http-path': string; 'http-status': string | number }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"incoming request"'))
    .map((l) => JSON.parse(l) as { 'http-path': string; 'http-status': string | number })
    .filter((l) => l['http-path'] !== '/healthz');
}

test('Athens: its log is ingested, a warm-up fills it, and go mod download then fetches nothing upstream', async () => {
  const cold = await goModDownload(athensA.url);
  assert.equal(cold.exitCode, 0, cold.stderr);
  const coldUpstream = await upstream.stats();
  assert.ok(coldUpstream.requests > 0, 'the cold download went upstream');

  // Athens' real log, format detected, every request line an event, nothing rejected (ingestAccessLog throws).
  const aLines = requestLines(athensA.accessLog);
  const events = await ingestAccessLog(ts.store, ts.config, athensA.accessLog, 'a', 'eu', 'auto');
  assert.ok(aLines.length > 50, `${aLines.length} request lines in Athens' log`);
  assert.equal(events, aLines.length);
  const predictions = await seedPredictionsFromEvents(ts.store, 'pred-athens', 'a', { at: AT });
  assert.ok(predictions >= moduleSet().length, `${predictions} predicted versions`);

  const target = findTarget(ts.config, 'b');
  const { plan, predictionRunId, window } = await planForNode(ts.store, ts.config, target, AT);
  const planned = new Set(plan.items.map((i) => `${i.module}@${i.version}`));
  for (const m of moduleSet()) assert.ok(planned.has(`${m.module}@${m.version}`), `${m.module}@${m.version} planned for b`);

  await upstream.resetStats();
  const run = await runWarmup({ store: ts.store, target, runId: 'warm-athens-b', plan, trigger: 'manual', plannedFor: window.from, predictionRunId });
  assert.equal(run.status, 'done', run.message);
  assert.equal(run.itemsDone, plan.items.length);
  const items = await runItems(ts.store, 'warm-athens-b');
  assert.ok(items.every((i) => i.status === 'ok' && Number(i.bytes) > 0), JSON.stringify(items.find((i) => i.status !== 'ok')));
  const warmed = await upstream.stats();
  assert.ok(warmed.requests >= plan.items.length, `Athens fetched the warmed versions upstream (${warmed.requests} requests)`);
  const warmupLines = requestLines(athensB.accessLog);
  assert.equal(warmupLines.length, plan.items.length, 'one request per planned item reached Athens');

  // Athens logs whole seconds and effectiveness counts use from the run's end on: start in the next second.
  await sleep(1000 - (Date.now() % 1000) + 50);
  await upstream.resetStats();
  const warm = await goModDownload(athensB.url);
  assert.equal(warm.exitCode, 0, warm.stderr);
  const after = await upstream.stats();
  // Athens answers every file of a stored version from its disk: the warm download costs the upstream nothing.
  assert.equal(after.requests, 0, `upstream requests during the warm download: ${JSON.stringify(after.byPath)}`);
  const clientLines = requestLines(athensB.accessLog).slice(warmupLines.length);
  assert.ok(clientLines.length > 0 && clientLines.every((l) => Number(l['http-status']) === 200), JSON.stringify(clientLines.find((l) => Number(l['http-status']) !== 200)));

  // Effectiveness from b's own log: every warmed version was requested by the client, nothing wasted. Athens
  // logs no cache status, so its hits are counted as requests on warmed versions, not as hits.
  await ingestAccessLog(ts.store, ts.config, athensB.accessLog, 'b', 'eu', 'athens-json');
  const eff = await measureEffectiveness(ts.store, 'warm-athens-b');
  assert.equal(eff.warmedVersions, plan.items.length);
  assert.equal(eff.usedVersions, plan.items.length);
  assert.equal(eff.requestsOnWarmed, clientLines.length);
  assert.equal(eff.wastedVersions, 0);

  console.log(
    `go mod download of ${moduleSet().length} modules (${plan.items.length} versions) through Athens, upstream latency ${UPSTREAM_LATENCY_MS} ms: ` +
      `cold ${cold.elapsedMs.toFixed(0)} ms (${coldUpstream.requests} upstream requests), after warm-up ${warm.elapsedMs.toFixed(0)} ms (0 upstream requests)`,
  );
});
