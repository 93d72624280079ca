import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NodeCache, itemKey } from '../../src/domain/backtest/cache-sim.js';
import { PointList, TraceHistory, WINDOW_ROW } from '../../src/domain/backtest/history.js';
import { FEATURES, F_ACTIVE_DAY, F_ACTIVE_WEEK, F_LAST24, F_LAST_WEEK, F_YESTERDAY, windowFeatures } from '../../src/domain/forecast/rankers.js';
import { selectWarmSet, formatTable, MetricsAccumulator } from '../../src/domain/backtest/metrics.js';
import { benefitChartSvg } from '../../src/domain/backtest/chart.js';
import type { WindowOutcome } from '../../src/domain/backtest/oracle.js';
import { byScore, uncachedTopOf, type DecisionContext, type Scored } from '../../src/domain/backtest/method.js';
import { rng } from '../../src/domain/random.js';

const MIN = 60_000;

test('cache: LRU evicts the least recently used by bytes, never the item just stored', () => {
  const c = new NodeCache(300, 10 * MIN);
  assert.equal(c.request('a', false, 100, 0).hit, false);
  assert.equal(c.request('b', false, 100, 1).hit, false);
  assert.equal(c.request('a', false, 100, 2).hit, true); // a is now most recent
  assert.equal(c.request('c', false, 150, 3).evictedBytes, 100); // evicts b
  assert.equal(c.isFresh('b', 4), false);
  assert.equal(c.isFresh('a', 4), true);
  assert.equal(c.usedBytes, 250);
  // An item larger than the whole cache is stored alone (and evicts everything else).
  c.request('huge', false, 1000, 5);
  assert.equal(c.size, 1);
  assert.equal(c.isFresh('huge', 6), true);
});

test('cache: mutable endpoints expire after the TTL, immutable ones never', () => {
  const c = new NodeCache(Number.POSITIVE_INFINITY, 10 * MIN);
  const list = itemKey('example.com/m', '');
  assert.equal(list, 'example.com/m@');
  c.request(list, true, 50, 0);
  c.request('example.com/m@v1.0.0', false, 500, 0);
  assert.equal(c.request(list, true, 50, 9 * MIN).hit, true);
  assert.equal(c.request(list, true, 50, 10 * MIN).hit, false, 'TTL counts from the fetch, not the last hit');
  assert.equal(c.request('example.com/m@v1.0.0', false, 500, 1000 * MIN).hit, true);
});

test('point lists: sums, scatter and pruning over sparse hours', () => {
  const p = new PointList();
  for (const h of [1, 1, 2, 5, 5, 5, 9]) p.add(h);
  assert.equal(p.length, 4);
  assert.equal(p.sum(0, 10), 7);
  assert.equal(p.sum(2, 6), 4);
  const out = new Float64Array(5);
  p.scatter(out, 2);
  assert.deepEqual([...out], [1, 0, 0, 3, 0]);
  p.dropBefore(5);
  assert.equal(p.sum(0, 100), 4);
  for (let h = 10; h < 100; h++) p.add(h, 2);
  assert.equal(p.sum(0, 1000), 4 + 180);
});

test('point lists: a range sum equals the plain sum of the points in it, wherever the range ends', () => {
  const rand = rng(11);
  const p = new PointList();
  const plain: [number, number][] = [];
  for (let h = 0; h < 400; h++) {
    if (rand() < 0.6) continue;
    const c = 1 + Math.floor(rand() * 3);
    p.add(h, c);
    plain.push([h, c]);
  }
  for (let k = 0; k < 500; k++) {
    const from = Math.floor(rand() * 450) - 20;
    const to = from + Math.floor(rand() * 200) - 10;
    const want = plain.filter(([h]) => h >= from && h < to).reduce((a, [, c]) => a + c, 0);
    assert.equal(p.sum(from, to), want, `[${from}, ${to})`);
  }
});

test('window features from running totals equal the per-point definition, before and after pruning', () => {
  const rand = rng(17);
  const p = new PointList();
  const plain: [number, number][] = [];
  const check = (h: number, w: number): void => {
    // The definition: every point `ago` hours back (1 = the last whole hour), each hour with a fetch counted once.
    const want = new Float64Array(FEATURES);
    for (const [hour, c] of plain) {
      const ago = h - hour;
      if (ago < 1 || ago > 168) continue;
      want[F_ACTIVE_WEEK]! += 1;
      if (ago > 168 - w) want[F_LAST_WEEK]! += c;
      if (ago > 24) continue;
      want[F_LAST24]! += c;
      want[F_ACTIVE_DAY]! += 1;
      if (ago > 24 - w) want[F_YESTERDAY]! += c;
    }
    const got = new Float64Array(FEATURES);
    windowFeatures(p, h, w, got, 0);
    assert.deepEqual([...got], [...want], `h ${h}, w ${w}`);
  };
  for (let h = 0; h < 600; h++) {
    if (rand() < 0.5) continue;
    const c = 1 + Math.floor(rand() * 4);
    p.add(h, c);
    plain.push([h, c]);
    if (rand() < 0.1) check(h + Math.floor(rand() * 30), 1 + Math.floor(rand() * 24));
  }
  p.dropBefore(300);
  plain.splice(0, plain.findIndex(([hour]) => hour >= 300));
  for (let k = 0; k < 200; k++) check(468 + Math.floor(rand() * 200), 1 + Math.floor(rand() * 24));
});

test('history: the items fetched during a window of hours, each once with its fetches there, after pruning too', () => {
  const h = new TraceHistory(0, 1000);
  const at = (hour: number, minute: number): number => hour * 3_600_000 + minute * 60_000;
  h.add(at(0, 1), 'a.example/m', 'v1.0.0', 'zip', 'n1', 'r1', 10);
  h.add(at(1, 1), 'b.example/m', 'v1.0.0', 'zip', 'n1', 'r1', 10);
  h.add(at(1, 30), 'a.example/m', 'v1.0.0', 'zip', 'n2', 'r1', 10);
  h.add(at(3, 1), 'c.example/m', 'v1.0.0', 'zip', 'n1', 'r1', 10);
  const keys = (from: number, to: number): string[] => {
    const { ids, counts } = h.fetchCountsDuring(from, to);
    return [...ids].map((id, i) => {
      const item = h.byId[id]!;
      assert.equal(counts[i], item.fleet.sum(from, to), item.key);
      return item.key;
    }).sort();
  };
  assert.deepEqual(keys(0, 4), ['a.example/m@v1.0.0', 'b.example/m@v1.0.0', 'c.example/m@v1.0.0']);
  assert.deepEqual(keys(1, 3), ['a.example/m@v1.0.0', 'b.example/m@v1.0.0']);
  assert.deepEqual(keys(2, 3), []);
  h.prune(1);
  assert.deepEqual(keys(0, 4), ['a.example/m@v1.0.0', 'b.example/m@v1.0.0', 'c.example/m@v1.0.0']);
  h.prune(2);
  assert.deepEqual(keys(0, 4), ['c.example/m@v1.0.0']);
});

test('history: the week\'s fleet window counts of every item, from the hour lists, equal the sum of its nodes\' window features (active hours as node-hours)', () => {
  const rand = rng(23);
  const h = new TraceHistory(0, 1000);
  const nodes = ['n1', 'n2', 'n3'];
  for (let t = 0; t < 400 * 3_600_000; t += Math.floor(rand() * 600_000)) {
    h.add(t, `m${Math.floor(rand() * 40)}.example/x`, 'v1.0.0', 'zip', nodes[Math.floor(rand() * 3)]!, 'r1', 10);
    if (rand() < 0.001) h.prune(h.hourOf(t) - 200);
  }
  for (const [hour, w] of [[400, 1], [390, 6], [300, 24]] as const) {
    const windows = new Float64Array(h.byId.length * WINDOW_ROW);
    h.addFleetWindows(hour, w, windows);
    for (const item of h.byId) {
      const want = new Float64Array(FEATURES);
      // What the ranker pool's fleet scope sums; the bound on every scope's score relies on this being exact.
      for (const points of item.nodes.values()) windowFeatures(points, hour, w, want, 0);
      assert.deepEqual([...windows.subarray(item.id * WINDOW_ROW, (item.id + 1) * WINDOW_ROW)], [...want.subarray(F_LAST24)], `${item.key} at ${hour}`);
    }
  }
});

test('cache: an unbounded cache answers every request as a bounded one that never fills', () => {
  const rand = rng(5);
  const unbounded = new NodeCache(Number.POSITIVE_INFINITY, 10 * MIN);
  const roomy = new NodeCache(Number.MAX_SAFE_INTEGER, 10 * MIN);
  for (let i = 0; i < 5000; i++) {
    const key = `m${Math.floor(rand() * 300)}@${rand() < 0.2 ? '' : 'v1'}`;
    const ts = i * 7_000;
    const bytes = 1 + Math.floor(rand() * 1000);
    const mutable = key.endsWith('@');
    assert.deepEqual(unbounded.request(key, mutable, bytes, ts), roomy.request(key, mutable, bytes, ts));
    assert.equal(unbounded.usedBytes, roomy.usedBytes);
  }
  assert.equal(unbounded.size, roomy.size);
});

test('uncached top per node: the sorted ranking walked per node, skipping what each node holds and what is passed over', () => {
  const rand = rng(3);
  const scored: Scored[] = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, score: Math.floor(rand() * 50) }));
  const passedOver = new Set(scored.filter(() => rand() < 0.2).map((s) => s.key));
  const scores = Float64Array.from(scored, (s) => s.score);
  const keyOf = (i: number): string => scored[i]!.key;
  const nodes = ['a', 'b', 'c'];
  const held = new Map(nodes.map((n, j) => [n, new Set(scored.filter(() => rand() < 0.3 * (j + 1)).map((s) => s.key))]));
  for (const rankLimit of [0, 1, 20, 500, 5000]) {
    const ctx = { decision: { at: 0, windowEnd: 1, nodes }, rankLimit, isCached: (node: string, key: string) => held.get(node)!.has(key) } as unknown as DecisionContext;
    const sorted = [...scored].sort(byScore);
    const walk = (skip: (key: string) => boolean) => new Map(nodes.map((n) => [n, sorted.filter((s) => s.score > 0 && !skip(s.key) && !held.get(n)!.has(s.key)).slice(0, rankLimit).map((s) => s.key)]));
    assert.deepEqual(uncachedTopOf(scores, keyOf, ctx), walk(() => false), `limit ${rankLimit}`);
    assert.deepEqual(uncachedTopOf(scores, keyOf, ctx, (i) => passedOver.has(keyOf(i))), walk((key) => passedOver.has(key)), `limit ${rankLimit}, passing over some`);
  }
});

test('budgets: K items take the head of the ranking; B bytes skip what does not fit', () => {
  const sizes: Record<string, number> = { a: 50, b: 200, c: 30, d: 20 };
  const sizeOf = (k: string) => sizes[k]!;
  assert.deepEqual(selectWarmSet(['a', 'b', 'c', 'd'], { kind: 'items', value: 2 }, sizeOf), ['a', 'b']);
  assert.deepEqual(selectWarmSet(['a', 'b', 'c', 'd'], { kind: 'bytes', value: 100 }, sizeOf), ['a', 'c', 'd']);
  assert.deepEqual(selectWarmSet([], { kind: 'bytes', value: 100 }, sizeOf), []);
});

test('metrics: avoided, precision and waste per method; table and chart render', () => {
  const outcome: WindowOutcome = {
    node: 'n1',
    region: 'r',
    start: 0,
    end: 60 * MIN,
    first: new Map([
      ['m@v1', { ts: 5 * MIN, bytes: 100, miss: true, mutable: false, known: true }],
      ['m@', { ts: 30 * MIN, bytes: 10, miss: true, mutable: true, known: true }], // after the TTL: warming would not help
      ['k@v2', { ts: 1 * MIN, bytes: 100, miss: false, mutable: false, known: true }],
    ]),
    requests: 10,
    misses: 3,
    missBytes: 300,
    bytes: 1000,
  };
  const acc = new MetricsAccumulator([{ kind: 'items', value: 3 }], 10 * MIN);
  const sizeOf = () => 100;
  acc.add('m', { kind: 'items', value: 3 }, outcome, ['m@v1', 'm@', 'x@v9'], sizeOf);
  acc.add('oracle', { kind: 'items', value: 3 }, outcome, ['m@v1'], sizeOf);
  const [m, oracle] = acc.finish();
  assert.equal(m!.missesAvoided, 1);
  assert.equal(m!.used, 2);
  assert.equal(m!.wastedBytes, 100);
  assert.ok(Math.abs(m!.precision - 2 / 3) < 1e-12);
  assert.equal(m!.oracleShare, 1);
  assert.equal(oracle!.missesAvoided, 1);
  assert.ok(Math.abs(m!.hitRatio - 8 / 10) < 1e-12);
  assert.match(formatTable([m!, oracle!]), /misses avoided[\s\S]*1\/3/);
  const svg = benefitChartSvg([m!, oracle!], 'a <title> & more');
  assert.match(svg, /^<svg[\s\S]*<\/svg>\n$/);
  assert.match(svg, /a &lt;title&gt; &amp; more/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
});

test('the history keeps its own copies of names: items cut out of big input chunks do not keep the chunks alive', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const h = new TraceHistory(0, 1000);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 64; i++) {
    // A 1 MiB "chunk" per item, as a CSV reader's; the fields are substrings of it.
    const chunk = `${i}`.padEnd(1 << 20, '#') + `\nexample.com/org/module-number-${i},v1.0.${i}-long-prerelease,proxy-node-a,region-a`;
    const [module, version, node, region] = chunk.slice(chunk.lastIndexOf('\n') + 1).split(',') as [string, string, string, string];
    h.add(i * 1000, module, version, 'zip', node, region, 10);
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(h.items.size, 64);
  assert.ok(grown < 8 * 2 ** 20, `the heap grew by ${(grown / 2 ** 20).toFixed(1)} MiB for 64 items`);
});
