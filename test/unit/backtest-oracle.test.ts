import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runBacktest, DEFAULT_BACKTEST, TraceOrderError, TraceTooShortError, type BacktestReport, type TraceRequest } from '../../src/domain/backtest/replay.js';
import { lastDayTopK, noWarmup, sameHourLastWeekTopK } from '../../src/domain/backtest/baselines.js';
import { ModcastMethod } from '../../src/domain/backtest/modcast.js';
import { PoolMethod } from '../../src/domain/backtest/ranker-pool.js';
import { heldEverywhereMask, type Budget, type WarmupMethod } from '../../src/domain/backtest/method.js';
import type { MethodMetrics } from '../../src/domain/backtest/metrics.js';
import { defaultCalendar } from '../../src/domain/calendar.js';
import type { RequestKind } from '../../src/domain/event.js';
import { rng } from './forecast-synthetic.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

/** A method that warms random known items (and some that never appear): anything goes, the oracle must still win. */
function randomMethod(seed: number): WarmupMethod {
  return {
    name: `random-${seed}`,
    rank(ctx) {
      const rand = rng(seed ^ Math.floor(ctx.decision.at / HOUR));
      const keys = [...ctx.history.items.keys(), 'never@v0.0.1', 'ghost@'];
      const out = new Map<string, string[]>();
      for (const node of ctx.decision.nodes) {
        const shuffled = [...keys].sort(() => rand() - 0.5).filter((k) => !ctx.isCached(node, k));
        out.set(node, shuffled.slice(0, ctx.rankLimit));
      }
      return out;
    },
  };
}

const requestArb = fc.record({
  minute: fc.integer({ min: 0, max: 36 * 60 }), // up to 36 hours
  module: fc.constantFrom('a.io/x', 'b.io/y', 'c.io/z', 'd.io/w'),
  version: fc.constantFrom('v1.0.0', 'v1.1.0', 'v2.0.0'),
  node: fc.constantFrom('n1', 'n2', 'n3'),
  kind: fc.constantFrom<RequestKind>('info', 'mod', 'zip', 'list', 'latest', 'sumdb'),
  bytes: fc.integer({ min: 0, max: 5000 }),
});

function toTrace(rows: { minute: number; module: string; version: string; node: string; kind: RequestKind; bytes: number }[]): TraceRequest[] {
  return rows
    .map((r) => ({ ts: T0 + r.minute * 60_000, module: r.module, version: r.version, node: r.node, bytes: r.bytes, kind: r.kind, region: r.node === 'n3' ? 'far' : 'near' }))
    .sort((a, b) => a.ts - b.ts);
}

test('the oracle is an upper bound for every method on every budget; no-warm-up avoids nothing (property)', async () => {
  const budgets: Budget[] = [
    { kind: 'items', value: 1 },
    { kind: 'items', value: 4 },
    { kind: 'bytes', value: 3000 },
    { kind: 'bytes', value: 20000 },
  ];
  // The property must bite: count runs where the oracle and some method actually avoided misses.
  let oracleRuns = 0;
  let methodRuns = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(requestArb, { minLength: 1, maxLength: 400 }),
      fc.constantFrom(Number.POSITIVE_INFINITY, 8000, 20000),
      fc.constantFrom(5, 30, 120),
      fc.constantFrom<'interval' | 'business'>('interval', 'business'),
      fc.integer({ min: 1, max: 1000 }),
      async (rows, capacityBytes, ttl, cadence, seed) => {
        const run = runBacktest(toTrace(rows), {
          ...DEFAULT_BACKTEST,
          budgets,
          warmupHours: 6,
          capacityBytes,
          mutableTtlMinutes: ttl,
          calendars: [defaultCalendar('near', 'Europe/Berlin'), defaultCalendar('far', 'Asia/Tokyo')],
          cadence: cadence === 'interval' ? { kind: 'interval', minutes: 90 } : { kind: 'business', leadMinutes: 30 },
          methods: [noWarmup, lastDayTopK, sameHourLastWeekTopK, new ModcastMethod(), new PoolMethod(), randomMethod(seed), randomMethod(seed + 1)],
        });
        // A trace too short for any judged window is refused by name, not reported as an empty table.
        const report: BacktestReport | null = await run.catch((e: unknown) => { if (e instanceof TraceTooShortError) return null; throw e; });
        if (!report) return;
        for (const budget of budgets) {
          const budgetRows: MethodMetrics[] = report.rows.filter((r) => r.budget.kind === budget.kind && r.budget.value === budget.value);
          const oracle = budgetRows.find((r) => r.method === 'oracle');
          if (!oracle) continue; // no window was judged
          const reachable = budgetRows.find((r) => r.method === 'oracle:reachable')!;
          assert.ok(reachable.missesAvoided <= oracle.missesAvoided);
          for (const r of budgetRows) {
            assert.ok(r.missesAvoided <= oracle.missesAvoided, `${r.method} ${r.budgetLabel}: ${r.missesAvoided} > oracle ${oracle.missesAvoided}`);
            assert.ok(r.oracleShare <= 1);
            assert.ok(r.missesAvoided <= r.baselineMisses);
            // Methods learn from the past: no method avoids more than the oracle that skips first-ever requests.
            if (r.method !== 'oracle') assert.ok(r.missesAvoided <= reachable.missesAvoided, `${r.method} ${r.budgetLabel}: ${r.missesAvoided} > reachable ${reachable.missesAvoided}`);
          }
          assert.equal(budgetRows.find((r) => r.method === 'no-warmup')!.missesAvoided, 0);
        }
        if (report.rows.some((r) => r.method === 'oracle' && r.missesAvoided > 0)) oracleRuns++;
        if (report.rows.some((r) => !r.method.startsWith('oracle') && r.missesAvoided > 0)) methodRuns++;
      },
    ),
    { numRuns: 120, seed: 20261125 },
  );
  assert.ok(oracleRuns >= 40 && methodRuns >= 8, `oracle avoided misses in ${oracleRuns} runs, methods in ${methodRuns}`);
});

test('replay: deterministic for the same input; out-of-order traces are refused', async () => {
  const rand = rng(5);
  const rows = Array.from({ length: 3000 }, () => ({
    minute: Math.floor(rand() * 72 * 60),
    module: `m${Math.floor(rand() * 30)}.io/p`,
    version: `v1.${Math.floor(rand() * 3)}.0`,
    node: rand() < 0.5 ? 'n1' : 'n2',
    kind: (['info', 'mod', 'zip', 'list'] as const)[Math.floor(rand() * 4)]!,
    bytes: 1000,
  }));
  const options = { ...DEFAULT_BACKTEST, warmupHours: 24, methods: [lastDayTopK, new ModcastMethod()] };
  const a = await runBacktest(toTrace(rows), options);
  const b = await runBacktest(toTrace(rows), options);
  assert.deepEqual(a, b);
  assert.ok(a.windows > 0 && a.decisions > 0);
  const trace = toTrace(rows);
  [trace[10], trace[2000]] = [trace[2000]!, trace[10]!];
  await assert.rejects(runBacktest(trace, options), TraceOrderError);
});

/**
 * 60 hours of random requests of 30 modules' versions and lists on 3 nodes; a few .zip/.info rows carry no version
 * (the cache keeps those like versions, not for the TTL of the module's list).
 */
function cacheTrace(seed: number): TraceRequest[] {
  const rand = rng(seed);
  const trace: TraceRequest[] = [];
  const kinds: RequestKind[] = ['zip', 'info', 'list', 'latest'];
  for (let t = 0; t < 60 * 3_600_000; t += 1 + Math.floor(rand() * 120_000)) {
    const kind = kinds[Math.floor(rand() * kinds.length)]!;
    const version = rand() < 0.05 ? '' : `v1.0.${Math.floor(rand() * 4)}`;
    trace.push({ ts: t, module: `m${Math.floor(rand() * 30)}.example/x`, version, node: `n${Math.floor(rand() * 3)}`, bytes: 1 + Math.floor(rand() * 5000), kind });
  }
  return trace;
}

test('holds answers as the node caches do, for unbounded, LRU and TTL caches alike; held everywhere means held by every deciding node', async () => {
  const trace = cacheTrace(31);
  for (const capacityBytes of [Number.POSITIVE_INFINITY, 40_000]) {
    let compared = 0;
    let everywhere = 0;
    const checker: WarmupMethod = {
      name: 'holds-check',
      rank(ctx) {
        const mask = heldEverywhereMask(ctx);
        for (const item of ctx.history.items.values()) {
          const heldEverywhere = ctx.history.fetchedByAll(item.id, mask);
          if (heldEverywhere) everywhere++;
          for (const node of ctx.decision.nodes) {
            assert.equal(ctx.holds(node, item), ctx.isCached(node, item.key), `${item.key} on ${node} at ${ctx.decision.at}`);
            if (heldEverywhere) assert.ok(ctx.isCached(node, item.key), `${item.key} held everywhere but not on ${node}`);
            compared++;
          }
        }
        return new Map();
      },
    };
    await runBacktest(trace, { ...DEFAULT_BACKTEST, methods: [checker], warmupHours: 24, capacityBytes, mutableTtlMinutes: 30 });
    assert.ok(compared > 1000, `compared ${compared}`);
    // Only caches that keep every version let a version be known held without asking each node.
    if (Number.isFinite(capacityBytes)) assert.equal(everywhere, 0);
    else assert.ok(everywhere > 100, `held everywhere ${everywhere}`);
  }
});

test('skipping versions held everywhere changes no list: caches that keep versions and caches too large to evict rank alike', async () => {
  const trace = cacheTrace(47);
  const judged = async (capacityBytes: number): Promise<string[]> => {
    const sets: string[] = [];
    await runBacktest(trace, {
      ...DEFAULT_BACKTEST,
      methods: [lastDayTopK, new PoolMethod()],
      warmupHours: 24,
      capacityBytes,
      onJudge: (j) => sets.push(`${j.method} ${j.budget.value} ${j.outcome.node} ${j.outcome.start} ${j.warmSet.join(',')}`),
    });
    return sets;
  };
  const kept = await judged(Number.POSITIVE_INFINITY);
  assert.ok(kept.some((s) => s.startsWith('modcast ') && !s.endsWith(' ')), 'modcast warmed something');
  assert.deepEqual(kept, await judged(Number.MAX_VALUE));
});
