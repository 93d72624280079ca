/**
 * The ranker pool skips most items by a bound from their fleet-wide counts without reading their series. Skipping must
 * change no list: every contender's list equals the one from scoring every item in full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, RANKERS, windowFeatures } from '../../src/domain/forecast/rankers.js';
import { CONTENDERS, SingleRankerMethod } from '../../src/domain/backtest/ranker-pool.js';
import { TraceHistory, type ItemHistory } from '../../src/domain/backtest/history.js';
import { byScore, type BudgetKind, type DecisionContext } from '../../src/domain/backtest/method.js';
import { rng } from '../../src/domain/random.js';

const HOUR = 3_600_000;
const NODES = [['n1', 'eu'], ['n2', 'eu'], ['n3', 'us'], ['n4', 'us'], ['n5', 'ap']] as const;
const regionOf = (node: string): string => NODES.find(([n]) => n === node)![1];

/** Ten days of skewed demand: a few hot items, a long tail, items that move between regions or stay on one node, list requests. */
function history(): TraceHistory {
  const rand = rng(41);
  const h = new TraceHistory(0, 1000);
  for (let t = 0; t < 240 * HOUR; t += Math.floor(rand() * 10_000)) {
    const nodes = t < 100 * HOUR ? 4 : 5;
    // Popularity unrelated to the order items are first seen (ids), so bounds meet lists that are already full.
    const m = (Math.floor(rand() ** 3 * 200) * 7919) % 200;
    // A third of the modules are asked for on one node only: held there, wanted by the others.
    const [node, region] = NODES[m % 3 === 0 ? m % nodes : Math.floor(rand() * nodes)]!;
    const module = `m${m}.example/x`;
    const list = rand() < 0.1;
    h.add(t, module, list ? '' : `v1.${Math.floor(rand() * 3)}.0`, list ? 'list' : 'zip', node, region, 1 + Math.floor(rand() * 5000));
  }
  return h;
}

/** Features of an item at a scope, summed over its nodes in the item's order as the pool sums them. */
function features(item: ItemHistory, nodes: (node: string) => boolean, at: number, h: number, w: number): Float64Array {
  const sum = new Float64Array(FEATURES);
  for (const [node, points] of item.nodes) {
    if (!nodes(node)) continue;
    const f = new Float64Array(FEATURES);
    points.decay.addValuesAt(at, f, 0);
    windowFeatures(points, h, w, f, 0);
    for (let k = 0; k < FEATURES; k++) sum[k] = sum[k]! + f[k]!;
  }
  return sum;
}

for (const [budgetKind, keepsVersions] of [['items', false], ['bytes', false], ['items', true]] as [BudgetKind, boolean][]) {
  test(`ranker pool (${budgetKind}${keepsVersions ? ', caches keep versions' : ''}): every contender's list equals scoring every item in full`, () => {
    const h = history();
    const at = 240 * HOUR;
    const deciding = ['n1', 'n3', 'n5', 'n2'];
    // Caches that keep versions hold every version a node fetched (what the pool reads from the rows' node bits).
    const held = (node: string, item: ItemHistory): boolean => item.nodes.has(node) && ((keepsVersions && item.version !== '') || (item.id * 7 + node.charCodeAt(1)) % 3 === 0);
    const ctx = {
      keepsVersions,
      decision: { at, windowEnd: at + HOUR, nodes: deciding },
      history: h,
      regionOf,
      calendars: new Map(),
      isCached: (node: string, key: string) => held(node, h.items.get(key)!),
      holds: held,
      mutableTtlMs: 10 * 60_000,
      rankLimit: 20,
      budgetKind,
    } as DecisionContext;
    const hour = h.hourOf(at);
    let compared = 0;
    for (const [c, contender] of CONTENDERS.entries()) {
      const got = new SingleRankerMethod(contender.name).rank(ctx);
      const r = c % RANKERS.length;
      for (const node of deciding) {
        const inScope = contender.scope === 'fleet' ? () => true : contender.scope === 'region' ? (n: string) => regionOf(n) === regionOf(node) : (n: string) => n === node;
        const want = h.byId
          .filter((item) => !held(node, item))
          .map((item) => ({ key: item.key, score: RANKERS[r]!.score(features(item, inScope, at, hour, 1), 0, 1) / (budgetKind === 'bytes' ? h.sizeOf(item) : 1) }))
          .filter((s) => s.score > 0)
          .sort(byScore)
          .slice(0, ctx.rankLimit)
          .map((s) => s.key);
        assert.deepEqual(got.get(node), want, `${contender.name} on ${node}`);
        compared += want.length;
      }
    }
    assert.ok(compared > CONTENDERS.length * deciding.length * 10, `lists too short to say anything: ${compared} items`);
  });
}
