import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBacktest, DEFAULT_BACKTEST, type TraceRequest } from '../../src/domain/backtest/replay.js';
import { ModcastMethod } from '../../src/domain/backtest/modcast.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const DECISION_HOUR = 102;

/**
 * One region, two nodes. pop.io/a is busy and its release v1.1.0 (hour 30) was adopted widely; calm.io/b is quiet
 * and its v1.1.0 was fetched every ten hours. At hour 100 five versions appear on n1, once each: v1.2.0 of both modules and three new
 * modules. n2 holds none of them, nor calm.io/b@v1.1.0: young releases n2 could be warmed with.
 */
function trace(): TraceRequest[] {
  const rows: TraceRequest[] = [];
  const at = (hour: number, minute: number, module: string, version: string, node: string) =>
    rows.push({ ts: T0 + hour * HOUR + minute * 60_000, module, version, node, bytes: 1000, kind: 'zip', region: 'eu' });
  for (let h = 0; h < DECISION_HOUR + 3; h++) {
    for (let m = 0; m < 60; m += 3) at(h, m, 'pop.io/a', 'v1.0.0', m % 2 === 0 ? 'n1' : 'n2');
    if (h % 4 === 0) at(h, 1, 'calm.io/b', 'v1.0.0', 'n1');
    if (h >= 30) for (let m = 0; m < 60; m += 6) at(h, m + 2, 'pop.io/a', 'v1.1.0', m % 12 === 0 ? 'n1' : 'n2');
  }
  for (let h = 30; h < DECISION_HOUR; h += 10) at(h, 4, 'calm.io/b', 'v1.1.0', 'n1');
  for (const [module, version] of [['pop.io/a', 'v1.2.0'], ['calm.io/b', 'v1.2.0'], ['x1.io/m', 'v1.0.0'], ['x2.io/m', 'v1.0.0'], ['x3.io/m', 'v1.0.0']] as const) at(100, 5, module, version, 'n1');
  return rows.sort((a, b) => a.ts - b.ts);
}

/**
 * Young releases n2 does not hold with some demand expected in the next hour. (calm.io/b@v1.2.0 has none: its
 * module's last release drew nothing in its first hours after the sighting, and it is two hours old.)
 */
const EXPECTED_YOUNG = ['calm.io/b@v1.1.0', 'pop.io/a@v1.2.0', 'x1.io/m@v1.0.0', 'x2.io/m@v1.0.0', 'x3.io/m@v1.0.0'];

/** The young releases the ensemble scored for n2 at the first decision, off an empty shortlist. */
async function youngScored(youngFitsPerList: number, warmupHours = DECISION_HOUR): Promise<string[]> {
  const scored = new Set<string>();
  const method = new ModcastMethod({
    shortlist: () => new Set(),
    youngFitsPerList,
    onScore: (s) => {
      if (s.node === 'n2' && s.at === T0 + DECISION_HOUR * HOUR) scored.add(s.key);
    },
  });
  await runBacktest(trace(), { ...DEFAULT_BACKTEST, budgets: [{ kind: 'items', value: 1 }], warmupHours, methods: [method] });
  return [...scored].sort();
}

test('young releases off the shortlist: only the ones their adoption curves expect most are fitted', async () => {
  const all = await youngScored(Infinity);
  assert.deepEqual(all, EXPECTED_YOUNG, 'without a limit every young release is forecast');
  // Rank limit 1, two fits per list: the busy module's release (its earlier release spread widely) is among them.
  const picked = await youngScored(2);
  assert.equal(picked.length, 2, picked.join());
  assert.ok(picked.includes('pop.io/a@v1.2.0'), picked.join());
  assert.ok(picked.every((k) => all.includes(k)));
});

test('releases first seen between decisions are found: the index of young releases follows the history', async () => {
  // Hourly decisions from hour 96 on: the releases of hour 100 arrive after the index was built.
  assert.deepEqual(await youngScored(Infinity, 96), EXPECTED_YOUNG);
  const picked = await youngScored(2, 96);
  assert.deepEqual(picked, await youngScored(2), 'the same picks as an index built after the releases');
  assert.equal(picked.length, 2, picked.join());
});
