/**
 * Scoring on a real embedded store: demo traffic in access_events (rollups filled by the materialized views), one
 * scoring run, and the predictions it wrote checked against the calendar, the generator's next day and itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { generateWorkload, defaultWorkload } from '../../src/demo/generator.js';
import { EVENT_COLUMNS } from '../../src/store/event-writer.js';
import { scoreStore, scoringOptionsFrom, type ScoringSummary } from '../../src/scoring/score.js';
import { recordRequirements } from '../../src/store/queries/scoring.js';
import { parseGoModRequires } from '../../src/domain/forecast/dependency.js';
import { currentOrNextBusinessBlock } from '../../src/domain/calendar.js';
import { queryRows } from '../../src/store/client.js';

const HOUR = 3_600_000;
const DAYS = 10;
const REGIONS = [
  { name: 'eu', timeZone: 'Europe/Berlin' },
  { name: 'us', timeZone: 'America/New_York' },
  { name: 'ap', timeZone: 'Asia/Tokyo' },
];
const workload = defaultWorkload({ days: DAYS + 1, modules: 200, fetchesPerBusyHour: 60 });
const asOf = workload.start + DAYS * 24 * HOUR;

let t: TestStore;
let summary: ScoringSummary;
/** Requests of the day after asOf per (module, version-or-'') as the generator made them (kinds scoring counts). */
let actualNextDay = 0;
let popular = '';

let emptySummary: ScoringSummary;

before(async () => {
  t = await openTestStore({ regions: REGIONS });
  // First, on the still empty store (one chDB data directory per process, so the same store).
  emptySummary = await scoreStore(t.store, scoringOptionsFrom(t.config, { asOf, runId: 'run-empty' }));
  let batch: unknown[][] = [];
  let i = 0;
  const counts = new Map<string, number>();
  for (const r of generateWorkload(workload)) {
    if (r.ts >= asOf) {
      if (r.ts < asOf + 24 * HOUR && ['info', 'mod', 'zip', 'list', 'latest'].includes(r.kind)) actualNextDay++;
      continue;
    }
    counts.set(r.module, (counts.get(r.module) ?? 0) + 1);
    batch.push([`ev-${i++}`, r.ts, r.node, r.region, r.module, r.version, r.kind, r.status, r.bytes, r.durationMs, r.cacheStatus, '']);
    if (batch.length >= 50_000) {
      await t.store.client.insert({ table: 'access_events', columns: [...EVENT_COLUMNS], values: batch, format: 'JSONCompactEachRow' });
      batch = [];
    }
  }
  if (batch.length > 0) await t.store.client.insert({ table: 'access_events', columns: [...EVENT_COLUMNS], values: batch, format: 'JSONCompactEachRow' });
  popular = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  // The most popular module's newest version requires a module nobody has fetched yet.
  const [newest] = await queryRows<{ version: string }>(
    t.store,
    `SELECT version FROM access_events WHERE module = {m:String} AND version != '' GROUP BY version ORDER BY count() DESC LIMIT 1`,
    { m: popular },
  );
  await recordRequirements(t.store, popular, newest!.version, parseGoModRequires(`module ${popular}\n\nrequire (\n\texample.com/brand/new v1.2.3\n)\n`));
  summary = await scoreStore(
    t.store,
    scoringOptionsFrom(t.config, {
      asOf,
      runId: 'run-main',
      minProbability: 0,
      announcements: [{ module: popular, version: 'v99.0.0', at: asOf - HOUR }],
    }),
  );
});

after(async () => {
  await t?.cleanup();
});

test('a run writes every scope and window kind, finite and consistent, and is marked done', async () => {
  assert.equal(summary.items > 200, true, `items ${summary.items}`);
  assert.equal(summary.predictions, await count(t.store, `SELECT count() FROM predictions WHERE run_id = 'run-main'`));
  const [run] = await queryRows<{ status: string; predictions: string }>(t.store, `SELECT status, predictions FROM prediction_runs FINAL WHERE run_id = 'run-main'`);
  assert.equal(run!.status, 'done');
  assert.equal(Number(run!.predictions), summary.predictions);
  const groups = await queryRows<{ scope: string; window_kind: string }>(
    t.store,
    `SELECT DISTINCT toString(scope) AS scope, window_kind FROM predictions WHERE run_id = 'run-main' ORDER BY scope, window_kind`,
  );
  assert.deepEqual(
    groups.map((g) => `${g.scope}/${g.window_kind}`),
    ['fleet/horizon', 'fleet/step', 'node/business', 'node/horizon', 'node/step', 'region/business', 'region/horizon', 'region/step'],
  );
  const bad = await count(
    t.store,
    `SELECT count() FROM predictions WHERE run_id = 'run-main' AND NOT (
       isFinite(expected_requests) AND isFinite(p_any_request) AND isFinite(lower) AND isFinite(upper)
       AND p_any_request > 0 AND p_any_request < 1 AND lower <= upper AND expected_requests >= 0 AND window_end > window_start)`,
  );
  assert.equal(bad, 0);
  // Module totals (version '', kind 'any') are the sum of the module's versions and list/@latest (the announced
  // version, scored after the stream, is not in them); the floor probability may lift tiny parts a little.
  const [m] = await queryRows<{ total: number; parts: number }>(
    t.store,
    `SELECT sumIf(expected_requests, version = '' AND kind = 'any') AS total, sumIf(expected_requests, NOT (version = '' AND kind = 'any')) AS parts
     FROM predictions WHERE run_id = 'run-main' AND scope = 'fleet' AND window_kind = 'horizon' AND module = {m:String} AND version != 'v99.0.0'`,
    { m: popular },
  );
  assert.ok(Number(m!.total) > 0 && Math.abs(Number(m!.total) - Number(m!.parts)) < 1e-3 * Number(m!.parts), JSON.stringify(m));
});

test('business windows are each region\'s next business block from its calendar', async () => {
  for (const region of REGIONS) {
    const block = currentOrNextBusinessBlock({ ...region, businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] }, asOf)!;
    const rows = await queryRows<{ s: number; e: number }>(
      t.store,
      `SELECT DISTINCT toUnixTimestamp(window_start) AS s, toUnixTimestamp(window_end) AS e FROM predictions
       WHERE run_id = 'run-main' AND window_kind = 'business' AND scope = 'region' AND scope_id = {r:String}`,
      { r: region.name },
    );
    assert.deepEqual(rows.map((r) => [Number(r.s) * 1000, Number(r.e) * 1000]), [[Math.max(asOf, block.start), block.end]], region.name);
    assert.ok(summary.businessBlocks.some((b) => b.region === region.name && b.end === block.end));
  }
});

test('the fleet forecast of the next 24 hours is close to what the generator then did', async () => {
  const expected = await queryRows<{ e: number }>(
    t.store,
    `SELECT sum(expected_requests) AS e FROM predictions
     WHERE run_id = 'run-main' AND scope = 'fleet' AND window_kind = 'horizon' AND NOT (version = '' AND kind = 'any')
       AND module NOT IN ('example.com/brand/new') AND version != 'v99.0.0'`,
  );
  const e = Number(expected[0]!.e);
  console.log(`fleet requests next 24h: forecast ${e.toFixed(0)}, actual ${actualNextDay}`);
  assert.ok(e > 0.8 * actualNextDay && e < 1.25 * actualNextDay, `forecast ${e} vs actual ${actualNextDay}`);
});

test('cold items: a go.mod requirement of a hot module and an announced version get predictions', async () => {
  const dep = await queryRows<{ p: number; features: string; model: string }>(
    t.store,
    `SELECT max(p_any_request) AS p, any(features) AS features, any(model) AS model FROM predictions
     WHERE run_id = 'run-main' AND module = 'example.com/brand/new' AND version = 'v1.2.3' AND scope = 'region' AND window_kind = 'horizon'`,
  );
  assert.ok(Number(dep[0]!.p) > 0.01, `dependency p ${dep[0]!.p}`);
  assert.match(dep[0]!.features, /dependencyRate/);
  assert.equal(dep[0]!.model, 'dependency');
  const announced = await queryRows<{ model: string; e: number }>(
    t.store,
    `SELECT any(model) AS model, sum(expected_requests) AS e FROM predictions
     WHERE run_id = 'run-main' AND module = {m:String} AND version = 'v99.0.0' AND scope = 'fleet' AND window_kind = 'horizon'`,
    { m: popular },
  );
  assert.equal(announced[0]!.model, 'release');
  assert.ok(Number(announced[0]!.e) > 1, `announced version expected ${announced[0]!.e}`);
});

test('chunking does not change the predictions; the run is deterministic', async () => {
  await scoreStore(t.store, scoringOptionsFrom(t.config, { asOf, runId: 'run-chunked', chunkSeries: 100, minProbability: 0.05 }));
  await scoreStore(t.store, scoringOptionsFrom(t.config, { asOf, runId: 'run-whole', minProbability: 0.05 }));
  const digest = async (run: string): Promise<string> => {
    const [r] = await queryRows<{ n: string; h: string }>(
      t.store,
      `SELECT count() AS n, toString(sum(cityHash64(scope, scope_id, module, version, kind, window_start, window_kind, round(expected_requests, 9), round(p_any_request, 9), model))) AS h
       FROM predictions WHERE run_id = {run:String}`,
      { run },
    );
    return `${r!.n}:${r!.h}`;
  };
  const a = await digest('run-chunked');
  assert.equal(a, await digest('run-whole'));
  assert.ok(Number(a.split(':')[0]) > 0);
});

test('an empty store scores nothing and still finishes the run', async () => {
  assert.equal(emptySummary.items, 0);
  assert.equal(emptySummary.predictions, 0);
  const [run] = await queryRows<{ status: string }>(t.store, `SELECT status FROM prediction_runs FINAL WHERE run_id = 'run-empty'`);
  assert.equal(run!.status, 'done');
});
