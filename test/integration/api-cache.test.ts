/**
 * The API's run cache over a real store: cached answers are byte-identical to uncached ones, a new finished run is
 * served once the latest-run TTL has passed (or at once after invalidate()), identical concurrent misses run one
 * query, and the LRU keeps to its entry and byte bounds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestApi, seedPredictionRun, seedEvents, type TestApi, type SeedPrediction } from '../helpers/api.js';
import type { Store } from '../../src/store/client.js';
import { buildApi, type ApiInstance } from '../../src/api/server.js';
import { PredictionRunCache } from '../../src/api/cache.js';
import { BoundedLru } from '../../src/lib/bounded-lru.js';
import { SingleFlight } from '../../src/lib/single-flight.js';
import { metricsRegistry } from '../../src/lib/metrics-registry.js';
import { writeRun, type RunRecord } from '../../src/store/queries/warmups.js';

/** A finished warm-up run created `minutesAgo` before the wall clock (the list is newest first). */
function warmupRun(runId: string, minutesAgo: number): RunRecord {
  const createdAt = Date.now() - minutesAgo * 60_000;
  return {
    runId, node: 'eu-1', region: 'eu', trigger: 'manual', plannedFor: createdAt, createdAt, finishedAt: createdAt + 1_000, status: 'done', dryRun: false,
    itemsPlanned: 3, itemsDone: 3, itemsFailed: 0, bytes: 300, expectedBenefit: 1, predictionRunId: 'run-a', message: '',
  };
}

const HOUR = 3_600_000;
const AS_OF = Date.UTC(2026, 10, 16);
const MODULES = ['github.com/acme/hot', 'github.com/acme/lib', 'github.com/Azure/azure-sdk-for-go', 'golang.org/x/text'];

function predictions(scale: number): SeedPrediction[] {
  const out: SeedPrediction[] = [];
  for (let hour = 0; hour < 24; hour++) {
    MODULES.forEach((module, i) => {
      out.push({ scope: 'fleet', scopeId: 'fleet', module, version: '', kind: 'any', hour, expected: (i + 1) * scale });
      out.push({ scope: 'region', scopeId: 'eu', module, version: 'v1.0.0', kind: 'zip', hour, expected: (i + 2) * scale * (hour % 3) });
      out.push({ scope: 'node', scopeId: 'eu-1', module, version: '', kind: 'any', hour, expected: scale + hour / 10 });
    });
  }
  return out;
}

let api: TestApi;
/** Same store, nothing kept: what every route answered before the cache. */
let uncached: ApiInstance;
let clock = 0;
let cache: PredictionRunCache;
/** Same store, the cache under test with a clock the tests move. */
let cached: ApiInstance;
const TTL = 5_000;

before(async () => {
  api = await openTestApi();
  await seedPredictionRun(api.t.store, 'run-a', AS_OF, predictions(1), AS_OF + 60_000);
  await seedEvents(
    api.t.store,
    'cache-events',
    Array.from({ length: 400 }, (_, i) => ({ module: MODULES[i % MODULES.length]!, version: `v1.0.${i % 3}`, node: i % 2 ? 'eu-1' : 'us-1', region: i % 2 ? 'eu' : 'us', ts: AS_OF - (i % 48) * HOUR / 2, cache: i % 5 ? 'hit' : 'miss' })),
  );
  uncached = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false, cache: { runTtlMs: 0, maxEntries: 0 } });
  cache = new PredictionRunCache(api.t.store, { runTtlMs: TTL, maxEntries: 100, maxBytes: 1024 ** 2 }, () => clock);
  cached = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false, runCache: cache });
  await Promise.all([uncached.ready(), cached.ready()]);
});

after(async () => {
  await Promise.all([uncached?.close(), cached?.close()]);
  await api?.close();
});

const get = (app: ApiInstance, url: string) => app.inject({ method: 'GET', url });

/** One cache counter for one cache name, from the Prometheus registry. */
async function metricValue(metric: string, cacheName: string): Promise<number> {
  const json = await metricsRegistry.getMetricsAsJSON();
  return Number(json.find((m) => m.name === metric)?.values.find((v) => v.labels.cache === cacheName)?.value ?? 0);
}

/** The cache's hit and miss counters for one cache name. */
async function counts(name: string): Promise<{ hits: number; misses: number }> {
  return { hits: await metricValue('modcast_api_cache_hits_total', name), misses: await metricValue('modcast_api_cache_misses_total', name) };
}

const QUERIES = [
  '/v1/forecasts',
  '/v1/forecasts?scope=fleet&window=2h',
  '/v1/forecasts?scope=region&id=eu&kind=zip&window=6h&limit=3',
  '/v1/forecasts?module=github.com/!azure/&window=24h',
  '/v1/forecasts?scope=node&id=eu-1&windowKind=step&limit=2',
  '/v1/forecasts?scope=fleet&windowKind=horizon',
  '/v1/modules/github.com/acme/hot/hotness?window=1d',
  '/v1/modules/github.com/!azure/azure-sdk-for-go/hotness?window=1d&scope=region&id=eu',
  '/v1/top?window=1d&by=module',
  '/v1/top?window=6h&by=version&sort=forecast&limit=3',
  '/v1/top?window=1d&by=node&region=eu',
];

test('cached answers are byte-identical to uncached ones, from the first request and from memory', async () => {
  for (const url of QUERIES) {
    const reference = await get(uncached, url);
    assert.equal(reference.statusCode, 200, `${url}: ${reference.body}`);
    for (const round of ['miss', 'hit']) {
      const res = await get(cached, url);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], reference.headers['content-type'], `${url} (${round})`);
      assert.equal(res.body, reference.body, `${url} (${round})`);
    }
  }
  const before = await counts('forecasts');
  await get(cached, QUERIES[1]!);
  const afterHit = await counts('forecasts');
  assert.equal(afterHit.hits, before.hits + 1);
  assert.equal(afterHit.misses, before.misses);
});

test('cursor pages through the cache equal the uncached pages and stay on their run', async () => {
  const pages = async (app: ApiInstance) => {
    const bodies: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(app, `/v1/forecasts?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      bodies.push(res.body);
      cursor = (res.json() as { nextCursor: string | null }).nextCursor;
    } while (cursor);
    return bodies;
  };
  const reference = await pages(uncached);
  assert.ok(reference.length > 2, 'several pages');
  assert.deepEqual(await pages(cached), reference);
  assert.deepEqual(await pages(cached), reference);
});

test('identical concurrent misses run one store query; errors are not kept', async () => {
  const url = '/v1/forecasts?scope=node&id=eu-1&window=3h&limit=7';
  const before = await counts('forecasts');
  const answers = await Promise.all(Array.from({ length: 20 }, () => get(cached, url)));
  const after = await counts('forecasts');
  assert.equal(after.misses - before.misses, 1, 'one query for 20 identical requests');
  assert.equal(after.hits - before.hits, 19);
  assert.ok(answers.every((a) => a.statusCode === 200 && a.body === answers[0]!.body));

  const flights = new SingleFlight<number>();
  let calls = 0;
  const fail = () => flights.run('k', async () => {
    calls++;
    throw new Error('store down');
  });
  const [a, b] = [fail(), fail()];
  assert.equal(b.joined, true);
  await assert.rejects(a.promise, /store down/);
  await assert.rejects(b.promise, /store down/);
  await assert.rejects(fail().promise, /store down/);
  assert.equal(calls, 2, 'a failure is shared by its waiters, then forgotten');
});

test('a new finished run is served once the latest-run TTL has passed, or at once after invalidate()', async () => {
  const runOf = async () => (await get(cached, '/v1/forecasts?scope=fleet&window=1h')).json() as { run: { runId: string }; items: { expected: number }[] };
  clock = 1_000_000;
  const old = await runOf();
  assert.equal(old.run.runId, 'run-a');

  await seedPredictionRun(api.t.store, 'run-b', AS_OF + HOUR, predictions(10), AS_OF + HOUR + 60_000);
  clock += TTL - 1;
  assert.equal((await runOf()).run.runId, 'run-a', 'within the TTL the newest run known stays');
  clock += 2;
  const fresh = await runOf();
  assert.equal(fresh.run.runId, 'run-b', 'after the TTL the new run is served');
  const reference = (await get(uncached, '/v1/forecasts?scope=fleet&window=1h')).json();
  assert.deepEqual(fresh, reference);
  assert.deepEqual(fresh.items.map((i) => i.expected), old.items.map((i) => i.expected * 10), 'the new run\'s numbers');

  // A run finished by this process (serve invalidates when its scoring job ends): served without waiting.
  await seedPredictionRun(api.t.store, 'run-c', AS_OF + 2 * HOUR, predictions(100), AS_OF + 2 * HOUR + 60_000);
  assert.equal((await runOf()).run.runId, 'run-b');
  cache.invalidate();
  assert.equal((await runOf()).run.runId, 'run-c');
  const hotness = await get(cached, '/v1/modules/github.com/acme/hot/hotness?window=1d');
  assert.equal(hotness.body, (await get(uncached, '/v1/modules/github.com/acme/hot/hotness?window=1d')).body);
  assert.equal((hotness.json() as { run: { runId: string } }).run.runId, 'run-c');
});

test('past half the TTL the known run is still served while the store is asked again in the background', async () => {
  const runOf = async () => ((await get(cached, '/v1/forecasts?scope=fleet&window=1h')).json() as { run: { runId: string } }).run.runId;
  cache.invalidate();
  clock += 1_000;
  assert.equal(await runOf(), 'run-c');
  await seedPredictionRun(api.t.store, 'run-d', AS_OF + 3 * HOUR, predictions(1000), AS_OF + 3 * HOUR + 60_000);
  clock += TTL / 2 - 1;
  assert.equal(await runOf(), 'run-c', 'fresh: no refresh yet');
  const before = await counts('latest');
  const refreshesBefore = await refreshCount();
  clock += 2;
  assert.equal(await runOf(), 'run-c', 'the known run answers at once');
  let seen = 'run-c';
  for (let i = 0; i < 200 && seen !== 'run-d'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen = await runOf();
  }
  assert.equal(seen, 'run-d', 'the background refresh brought the new run, before the TTL ran out');
  const after = await counts('latest');
  assert.equal(after.misses, before.misses, 'no request waited for the store');
  assert.equal(await refreshCount(), refreshesBefore + 1, 'one refresh however many requests came meanwhile');
});

const refreshCount = () => metricValue('modcast_api_cache_refreshes_total', 'latest');

/** The real store, its query() counted: what reaches chDB, nothing faked. */
function countingStore(store: Store): { store: Store; queries: () => number } {
  let n = 0;
  const client = new Proxy(store.client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return prop === 'query' ? (...args: unknown[]) => (n++, (v as (...a: unknown[]) => unknown).apply(target, args)) : v.bind(target);
    },
  });
  return { store: Object.create(store, { client: { value: client } }) as Store, queries: () => n };
}

test('GET /v1/top: a second identical request does not query the store; after the TTL it does', async () => {
  const counting = countingStore(api.t.store);
  let now = 0;
  const runCache = new PredictionRunCache(counting.store, { runTtlMs: TTL, maxEntries: 100, maxBytes: 1024 ** 2 }, () => now);
  const app = await buildApi({ config: api.t.config, store: counting.store, dashboard: false, runCache });
  try {
    const url = '/v1/top?window=1d&by=module';
    const first = await get(app, url);
    assert.equal(first.statusCode, 200, first.body);
    assert.ok((first.json() as { items: unknown[] }).items.length > 0, 'the seeded modules are hot');
    const afterFirst = counting.queries();
    assert.ok(afterFirst >= 2, `the first request read the store (${afterFirst} queries)`);
    for (let i = 0; i < 20; i++) {
      const again = await get(app, url);
      assert.equal(again.body, first.body);
    }
    assert.equal(counting.queries(), afterFirst, 'identical requests within the TTL: no store query');
    // The same query spelled in another order is the same entry.
    assert.equal((await get(app, '/v1/top?by=module&window=1d')).body, first.body);
    assert.equal(counting.queries(), afterFirst);
    now += TTL + 1;
    assert.equal((await get(app, url)).body, first.body);
    assert.ok(counting.queries() > afterFirst, 'past the TTL the store is asked again');
  } finally {
    await app.close();
  }
});

test('recent(): past half the TTL the known answer is served at once while it is made again in the background', async () => {
  let now = 0;
  const recentCache = new PredictionRunCache(api.t.store, { runTtlMs: TTL, maxEntries: 100, maxBytes: 1024 ** 2 }, () => now);
  let made = 0;
  let release: () => void = () => {};
  const compute = async () => {
    made++;
    // The second computation waits until released: the request past half the TTL must not wait for it.
    if (made === 2) await new Promise<void>((resolve) => (release = resolve));
    return { value: `answer-${made}`, bytes: 8 };
  };
  assert.equal(await recentCache.recent('test', ['q'], compute), 'answer-1');
  now += TTL / 2 - 1;
  assert.equal(await recentCache.recent('test', ['q'], compute), 'answer-1');
  assert.equal(made, 1, 'fresh: no refresh yet');
  now += 2;
  assert.equal(await recentCache.recent('test', ['q'], compute), 'answer-1', 'the known answer, at once');
  assert.equal(await recentCache.recent('test', ['q'], compute), 'answer-1');
  assert.equal(made, 2, 'one refresh however many requests came meanwhile');
  release();
  for (let i = 0; i < 100 && (await recentCache.recent('test', ['q'], compute)) !== 'answer-2'; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(await recentCache.recent('test', ['q'], compute), 'answer-2', 'the refreshed answer replaced the old one');
  now += TTL + 1;
  assert.equal(await recentCache.recent('test', ['q'], compute), 'answer-3', 'past the TTL the request waits for a new answer');
});

test('recent() with the tables\' version: past the TTL an answer is kept while its tables are unchanged, made again once they change', async () => {
  let now = 0;
  const versioned = new PredictionRunCache(api.t.store, { runTtlMs: TTL, maxEntries: 100, maxBytes: 1024 ** 2 }, () => now);
  const sources = versioned.tablesVersion(['warmup_runs']);
  let made = 0;
  const compute = async () => ({ value: `answer-${++made}`, bytes: 8 });
  const ask = () => versioned.recent('versioned', ['q'], compute, sources);
  assert.equal(await ask(), 'answer-1');
  const renewedBefore = await metricValue('modcast_api_cache_renewals_total', 'versioned');
  now += TTL + 1;
  assert.equal(await ask(), 'answer-1', 'past the TTL, tables unchanged: the same answer');
  assert.equal(made, 1, 'not made again');
  assert.equal(await metricValue('modcast_api_cache_renewals_total', 'versioned'), renewedBefore + 1);
  // Still in the first half of the renewed TTL (no background refresh to race the write below).
  now += TTL / 2 - 1;
  assert.equal(await ask(), 'answer-1', 'renewed for a whole TTL');
  assert.equal(made, 1);
  await writeRun(api.t.store, warmupRun('wr-version-check', 0));
  now += TTL;
  assert.equal(await ask(), 'answer-2', 'a row written to its table: made again');
  // Where the version cannot be told (undefined), past the TTL it is made again as without one.
  const unknown = async () => ({ version: undefined, readAt: now });
  assert.equal(await versioned.recent('unversioned', ['q'], compute, unknown), 'answer-3');
  now += TTL + 1;
  assert.equal(await versioned.recent('unversioned', ['q'], compute, unknown), 'answer-4');
});

test('GET /v1/warmups is kept per query, and a run this process writes is listed at once', async () => {
  let now = 0;
  const runCache = new PredictionRunCache(api.t.store, { runTtlMs: TTL, maxEntries: 100, maxBytes: 1024 ** 2 }, () => now);
  const app = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false, runCache });
  try {
    const ids = async (app: ApiInstance, url: string) => {
      const res = await get(app, url);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { items: { runId: string }[] }).items.map((r) => r.runId);
    };
    const before = await ids(app, '/v1/warmups?node=eu-2');
    assert.deepEqual(before, await ids(uncached, '/v1/warmups?node=eu-2'));
    const hits = (await counts('warmups')).hits;
    assert.deepEqual(await ids(app, '/v1/warmups?node=eu-2'), before);
    assert.equal((await counts('warmups')).hits, hits + 1, 'the second identical request from memory');
    await writeRun(api.t.store, { ...warmupRun('wr-cache-new', 1), node: 'eu-2' });
    assert.deepEqual(await ids(app, '/v1/warmups?node=eu-2'), ['wr-cache-new', ...before], 'listed at once, within the TTL');
    const res = await get(app, '/v1/warmups?node=eu-2&limit=1');
    assert.equal(res.body, (await get(uncached, '/v1/warmups?node=eu-2&limit=1')).body, 'byte-identical to the uncached answer');
  } finally {
    await app.close();
  }
});

test('/metrics exposes the cache counters', async () => {
  const res = await get(cached, '/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /modcast_api_cache_hits_total\{cache="forecasts"\} [1-9]/);
  assert.match(res.body, /modcast_api_cache_misses_total\{cache="latest"\} [1-9]/);
  // A module's forecast is asked only when its hotness page is made; the page itself is what repeats hit.
  assert.match(res.body, /modcast_api_cache_misses_total\{cache="module_forecast"\} [1-9]/);
  assert.match(res.body, /modcast_api_cache_hits_total\{cache="module_history"\} [1-9]/);
});

test('the LRU keeps to its entry and byte bounds, least recently used out first', () => {
  let evicted = 0;
  const lru = new BoundedLru<string>(3, 100, () => evicted++);
  lru.set('a', 'A', 10);
  lru.set('b', 'B', 10);
  lru.set('c', 'C', 10);
  assert.equal(lru.get('a'), 'A'); // a is now the most recent
  lru.set('d', 'D', 10);
  assert.equal(lru.get('b'), undefined, 'the least recently used entry went first');
  assert.deepEqual([lru.get('a'), lru.get('c'), lru.get('d')], ['A', 'C', 'D']);
  assert.equal(lru.size, 3);
  lru.set('e', 'E', 85);
  assert.ok(lru.bytes <= 100, `bytes ${lru.bytes}`);
  assert.equal(lru.get('e'), 'E');
  assert.equal(lru.get('a'), undefined);
  lru.set('huge', 'H', 101);
  assert.equal(lru.get('huge'), undefined, 'a value over the byte bound is not kept');
  assert.equal(lru.get('e'), 'E', 'and does not evict the others');
  lru.set('e', 'E2', 5);
  assert.deepEqual([lru.size, lru.bytes], [2, 15], 'replacing a key replaces its size');
  assert.equal(evicted, 3);
});
