/**
 * The demo's whole loop on its local fleet of real proxies (modcast-goproxy in eu, Athens in us), as `modcast demo`
 * runs it: history generated and ingested, scored, then per node the scheduler's tick at the warm time before the
 * region's next business block warms it, the block's demand is replayed against it, its own log is ingested and the
 * run is measured. The demo's clock is fixed (a Monday night before a business day in both regions).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openTestStore, sameStore, testConfig, type TestStore } from '../helpers/store.js';
import { prepareAthens, prepareGoProxy } from '../helpers/goproxy.js';
import { createLogger } from '../../src/lib/logger.js';
import { loadDemoData, DEMO_REGIONS } from '../../src/cli/demo.js';
import { runDemoLoop, startDemoFleet, type DemoFleet } from '../../src/cli/demo-fleet.js';
import { runScoring } from '../../src/scoring/score.js';
import { listWarmupRuns, runItems } from '../../src/store/queries/warmups.js';
import { measureEffectiveness } from '../../src/warmup/effectiveness.js';

/** Tuesday 2026-11-24 03:00 UTC: 04:00 in Berlin, 22:00 (Monday) in New York: both regions' next block is Tuesday's. */
const NOW = Date.parse('2026-11-24T03:00:00Z');
let ts: TestStore;
let demo: DemoFleet | undefined;

before(async () => {
  prepareGoProxy();
  prepareAthens();
  ts = await openTestStore({ regions: DEMO_REGIONS });
});

after(async () => {
  await demo?.fleet.stop();
  if (ts) spawnSync('chmod', ['-R', 'u+w', ts.dir]); // the go command run by Athens leaves read-only directories
  await ts?.cleanup();
});

test('the demo warms its goproxy and Athens nodes before their block, and the replayed demand hits what was warmed', async () => {
  const logger = createLogger('silent');
  const base = { config: ts.config, logger, clock: () => NOW };
  const workload = await loadDemoData(base, ts.store, { days: 4, seed: 3, modules: 60, rate: 40 });
  assert.ok(workload, 'the demo returns the workload it generated');

  demo = await startDemoFleet(ts.config, workload, NOW);
  assert.deepEqual(demo.fleet.nodes.map((n) => [n.spec.name, n.spec.software]), [['eu-goproxy', 'goproxy'], ['us-athens', 'athens']]);
  for (const n of demo.fleet.nodes) assert.ok((demo.demand.get(n.spec.name) ?? []).length > 50, `${n.spec.name} has demand to replay`);
  // As `modcast demo` does: the live nodes become the configured fleet.
  const ctx = { ...base, config: testConfig(ts.dir, { ...sameStore(ts.config), regions: DEMO_REGIONS, fleet: { nodes: demo.nodes } }) };
  await runScoring({ store: ts.store, config: ctx.config, logger, clock: () => NOW });

  await runDemoLoop(ctx, ts.store, demo);

  const runs = (await listWarmupRuns(ts.store, { trigger: 'schedule', limit: 10 }));
  assert.deepEqual(runs.map((r) => r.runId).sort(), ['sched:eu:eu-goproxy:2026-11-24', 'sched:us:us-athens:2026-11-24']);
  for (const run of runs) {
    assert.equal(run.status, 'done', run.message);
    assert.ok(run.itemsDone > 0 && run.itemsDone === run.itemsPlanned, `${run.runId}: ${run.itemsDone} of ${run.itemsPlanned}`);
    assert.ok((await runItems(ts.store, run.runId)).every((i) => i.status === 'ok'), `${run.runId}: every item fetched from the real node`);
    const eff = await measureEffectiveness(ts.store, run.runId);
    assert.ok(eff.usedVersions > 0 && eff.requestsOnWarmed > 0, `${run.runId}: replayed demand used warmed versions (${JSON.stringify(eff)})`);
    if (run.node === 'eu-goproxy') {
      // goproxy logs its cache status: every request on a warmed version was a hit, and misses cost the upstream trip.
      assert.equal(eff.hitsOnWarmed, eff.requestsOnWarmed);
      assert.ok(eff.coldRequestMs !== null && eff.warmRequestMs !== null && eff.coldRequestMs > eff.warmRequestMs, JSON.stringify(eff));
    }
  }
});
