/**
 * The backtest on the demo generator's workload (fixed seed): modcast's selected ensemble must avoid more misses
 * than both naive baselines at every equal budget, hourly and before business hours. The tables are printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultWorkload, DEMO_NODES } from '../../src/demo/generator.js';
import { demoTrace, runBacktestJob } from '../../src/backtest/runner.js';
import { lastDayTopK, noWarmup, sameHourLastWeekTopK } from '../../src/domain/backtest/baselines.js';
import { ModcastMethod } from '../../src/domain/backtest/modcast.js';
import type { Budget } from '../../src/domain/backtest/method.js';
import type { Cadence } from '../../src/domain/backtest/replay.js';
import { defaultCalendar } from '../../src/domain/calendar.js';

const calendars = [...new Map(DEMO_NODES.map((n) => [n.region, defaultCalendar(n.region, n.timeZone)])).values()];
const budgets: Budget[] = [
  { kind: 'items', value: 5 },
  { kind: 'items', value: 20 },
  { kind: 'items', value: 100 },
  { kind: 'bytes', value: 20 * 1024 ** 2 },
];

async function compare(cadence: Cadence, label: string): Promise<void> {
  const { report, table } = await runBacktestJob(demoTrace(defaultWorkload({ seed: 42, days: 14 })), {
    methods: [noWarmup, lastDayTopK, sameHourLastWeekTopK, new ModcastMethod()],
    budgets,
    cadence,
    calendars,
  });
  console.log(`demo workload (seed 42, 14 days, 7 days of warm-up history), ${label}:\n${table}`);
  assert.ok(report.windows > 0);
  for (const b of budgets) {
    const at = (m: string) => report.rows.find((r) => r.method === m && r.budget.kind === b.kind && r.budget.value === b.value)!;
    const modcast = at('modcast').missesAvoided;
    for (const baseline of ['last-24h', 'same-hour-last-week']) {
      assert.ok(modcast > at(baseline).missesAvoided, `${label} ${at('modcast').budgetLabel}: modcast ${modcast} vs ${baseline} ${at(baseline).missesAvoided}`);
    }
    assert.ok(at('oracle').missesAvoided >= modcast);
  }
}

test('demo workload, hourly decisions: modcast beats last-24h and same-hour-last-week at every budget', async () => {
  await compare({ kind: 'interval', minutes: 60 }, 'hourly decisions');
});

test('demo workload, 60 minutes before business hours: modcast beats both baselines at every budget', async () => {
  await compare({ kind: 'business', leadMinutes: 60 }, 'decisions 60 min before each region\'s business hours');
});
