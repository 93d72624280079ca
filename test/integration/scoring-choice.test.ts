/**
 * The ranker pool inside `modcast score` on a real embedded store: every run records what each contender would
 * warm in its first hour; later runs judge those picks against the rollups once their hour has passed and score
 * with the contender that hit most. Traffic whose hot set changes every three hours (a new set of modules each
 * time, as CI pipelines of different teams taking turns) favours the shortest memory: after a few hourly runs the
 * choice must leave the model ensemble for a ranker, and the predictions must say which.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { EVENT_COLUMNS } from '../../src/store/event-writer.js';
import { scoreStore, scoringOptionsFrom, type ScoringSummary } from '../../src/scoring/score.js';
import { queryRows } from '../../src/store/client.js';
import { RANKERS } from '../../src/domain/forecast/rankers.js';

const HOUR = 3_600_000;
/** A fixed Monday, so the test means the same on any date. */
const T0 = Date.UTC(2026, 2, 2);
/** History hours before the runs: mid-day of the fifth day. */
const HOURS = 4 * 24 + 12;

let t: TestStore;
const runs: ScoringSummary[] = [];

before(async () => {
  t = await openTestStore({ regions: [{ name: 'eu', timeZone: 'Europe/Berlin' }] });
  const rows: unknown[][] = [];
  let i = 0;
  for (let h = 0; h < HOURS + 12; h++) {
    const block = Math.floor(h / 3);
    for (let m = 0; m < 60; m += 10) {
      const ts = T0 + h * HOUR + m * 60_000;
      for (const x of ['a', 'b', 'c']) rows.push([`ev-${i++}`, ts + 1000, 'n1', 'eu', `example.com/hot${block % 50}${x}`, 'v1.0.0', 'zip', 200, 50_000, 40, 'miss', '']);
    }
    // Steady background demand the models like: the same module every hour.
    rows.push([`ev-${i++}`, T0 + h * HOUR + 30 * 60_000, 'n1', 'eu', 'example.com/steady', 'v1.0.0', 'zip', 200, 50_000, 40, 'miss', '']);
  }
  await t.store.client.insert({ table: 'access_events', columns: [...EVENT_COLUMNS], values: rows, format: 'JSONCompactEachRow' });
  // Hourly runs over the last 8 hours of history, as the scheduler's cron would make them.
  for (let k = 8; k >= 0; k--) {
    const asOf = T0 + (HOURS - k) * HOUR;
    runs.push(await scoreStore(t.store, scoringOptionsFrom(t.config, { asOf, runId: `run-${k}`, horizonHours: 6 })));
  }
});

after(async () => {
  await t?.cleanup();
});

test('the first run has no evidence: the model ensemble scores, and every contender\'s picks are recorded', async () => {
  const first = runs[0]!;
  assert.deepEqual(first.forecasters.map((f) => [f.region, f.contender, f.evidenceRuns]), [['eu', 'models', 0]]);
  const contenders = await queryRows<{ contender: string; n: number }>(
    t.store,
    `SELECT toString(contender) AS contender, count() AS n FROM ranker_picks WHERE run_id = 'run-8' GROUP BY contender ORDER BY contender`,
  );
  // Less than a week of history: the same window last week is empty, so that ranker picks nothing yet.
  const expected = ['models', ...RANKERS.map((r) => r.name)].filter((n) => n !== 'same-window-last-week');
  assert.deepEqual(contenders.map((c) => c.contender).sort(), expected.sort());
  for (const c of contenders) assert.ok(Number(c.n) >= 3, `${c.contender}: ${c.n} picks`);
});

test('a run judges only picks whose window has ended: a second run in the same hour has no more evidence', async () => {
  const asOf = T0 + (HOURS - 8) * HOUR + 20 * 60_000;
  const again = await scoreStore(t.store, scoringOptionsFrom(t.config, { asOf: asOf, runId: 'run-same-hour', horizonHours: 6 }));
  assert.equal(again.forecasters[0]!.evidenceRuns, 0);
});

test('after hourly runs the choice moves to a short-memory ranker and the predictions are labelled with it', async () => {
  const last = runs[runs.length - 1]!;
  const choice = last.forecasters[0]!;
  assert.ok(choice.evidenceRuns >= 5, `evidence ${choice.evidenceRuns}`);
  assert.notEqual(choice.contender, 'models');
  assert.ok(RANKERS.some((r) => r.name === choice.contender));
  // The last block's modules lead this run's predictions for the next hour, under the ranker's name.
  const block = Math.floor((HOURS - 1) / 3);
  const top = await queryRows<{ module: string; model: string }>(
    t.store,
    `SELECT module, model FROM predictions
     WHERE run_id = {run:String} AND scope = 'region' AND scope_id = 'eu' AND window_kind = 'step' AND version != ''
       AND window_start = toDateTime({start:UInt32})
     ORDER BY expected_requests DESC, module LIMIT 3`,
    { run: last.runId, start: Math.floor(last.asOf / 1000) },
  );
  assert.equal(top.length, 3);
  for (const row of top) {
    assert.equal(row.model, choice.contender);
    assert.match(row.module, new RegExp(`^example\\.com/hot${block % 50}[abc]$`));
  }
});
