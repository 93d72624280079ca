/** Read routes over a real store: forecasts (paging), module hotness, top, warm-ups, stats; and their bad inputs. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestApi, assertClientError, seedEvents, seedPredictionRun, auth, TOKEN, type TestApi, type SeedEvent, type SeedPrediction } from '../helpers/api.js';
import { buildApi } from '../../src/api/server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 2); // Monday 2026-11-02 00:00 UTC
const DAYS = 14;
const END = T0 + DAYS * DAY; // data ends here (exclusive)
const HOT = 'github.com/acme/hot';
const AZURE = 'github.com/Azure/azure-sdk-for-go';

let api: TestApi;

function workload(): SeedEvent[] {
  const out: SeedEvent[] = [];
  for (let h = 0; h < DAYS * 24; h++) {
    const ts = T0 + h * HOUR;
    const hourOfDay = h % 24;
    const weekday = Math.floor(h / 24) % 7 < 5;
    if (weekday && hourOfDay >= 8 && hourOfDay < 17) {
      const version = h < 10 * 24 ? 'v1.1.0' : 'v1.2.0';
      for (let i = 0; i < 6; i++) out.push({ module: HOT, version, node: i % 2 ? 'eu-1' : 'eu-2', region: 'eu', ts: ts + i * 60_000 });
      out.push({ module: HOT, version: 'v1.0.0', node: 'eu-1', region: 'eu', ts: ts + 30 * 60_000, cache: 'miss' });
    }
    // The new release reaches the US five hours after Europe.
    if (h >= 10 * 24 + 13 && hourOfDay % 3 === 0) out.push({ module: HOT, version: 'v1.2.0', node: 'us-1', region: 'us', ts: ts + 5 * 60_000 });
    if (hourOfDay % 2 === 0) out.push({ module: AZURE, version: 'v1.0.0', node: 'us-1', region: 'us', ts: ts + 10 * 60_000 });
  }
  out.push({ module: 'github.com/acme/cold', version: 'v0.1.0', node: 'eu-2', region: 'eu', ts: END - 60_000 });
  return out;
}

function predictions(scale: number): SeedPrediction[] {
  const out: SeedPrediction[] = [];
  for (let hour = 0; hour < 24; hour++) {
    out.push({ scope: 'fleet', scopeId: 'fleet', module: HOT, version: '', kind: 'any', hour, expected: 5 * scale });
    out.push({ scope: 'fleet', scopeId: 'fleet', module: AZURE, version: '', kind: 'any', hour, expected: 2 * scale });
    out.push({ scope: 'fleet', scopeId: 'fleet', module: HOT, version: 'v1.2.0', kind: 'any', hour, expected: 4 * scale });
    out.push({ scope: 'region', scopeId: 'eu', module: HOT, version: '', kind: 'any', hour, expected: 4 * scale });
    out.push({ scope: 'region', scopeId: 'us', module: AZURE, version: '', kind: 'any', hour, expected: 2 * scale });
    out.push({ scope: 'node', scopeId: 'eu-1', module: HOT, version: '', kind: 'any', hour, expected: 2 * scale });
    out.push({ scope: 'node', scopeId: 'eu-1', module: HOT, version: '', kind: 'zip', hour, expected: 1 * scale });
    out.push({ scope: 'node', scopeId: 'us-1', module: AZURE, version: '', kind: 'any', hour, expected: 2 * scale });
  }
  // The same run's whole-horizon windows overlap the steps: sums must not add them in.
  out.push({ scope: 'fleet', scopeId: 'fleet', module: HOT, version: '', kind: 'any', hour: 0, hours: 24, expected: 120 * scale, windowKind: 'horizon' });
  out.push({ scope: 'fleet', scopeId: 'fleet', module: AZURE, version: '', kind: 'any', hour: 0, hours: 24, expected: 48 * scale, windowKind: 'horizon' });
  return out;
}

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

before(async () => {
  // Runs land between requests here and must answer at once: no latest-run TTL (api-cache.test.ts covers the TTL).
  // Windows "before now" end at this clock (the data's end plus three hours), whatever day the suite runs on.
  api = await openTestApi({}, { cache: { runTtlMs: 0 }, now: () => END + 3 * HOUR });
  await seedEvents(api.t.store, 'seed:read', workload());
  await seedPredictionRun(api.t.store, 'run-0', END - DAY, predictions(100), END - DAY + 60_000);
  await seedPredictionRun(api.t.store, 'run-1', END, predictions(1));
  const runs = [0, 1, 2].map((i) => ({
    run_id: `wr-${i}`,
    node: i === 2 ? 'us-1' : 'eu-1',
    region: i === 2 ? 'us' : 'eu',
    trigger: 'schedule',
    planned_for: chTime(END + i * HOUR),
    created_at: chTime(END + i * HOUR - 45 * 60_000),
    finished_at: chTime(END + i * HOUR - 40 * 60_000),
    status: 'done',
    dry_run: false,
    items_planned: 3,
    items_done: 2,
    items_failed: 1,
    bytes: 3000,
    expected_benefit: 1.5,
    prediction_run_id: 'run-1',
    message: '',
  }));
  await api.t.store.client.insert({ table: 'warmup_runs', format: 'JSONEachRow', values: runs });
  // us-1's log holds one warm-up fetch of AZURE's zip at the start of the last day; its clients ask every even hour.
  await api.t.store.client.insert({
    table: 'warmup_events',
    format: 'JSONEachRow',
    values: [{ event_id: 'seed:warm:0', ts: END - DAY, node: 'us-1', region: 'us', module: AZURE, version: 'v1.0.0', kind: 'zip', status: 200, bytes: 5000, duration_ms: 90, cache_status: 'miss', client_hash: '' }],
  });
  await api.t.store.client.insert({
    table: 'warmup_items',
    format: 'JSONEachRow',
    values: ['ok', 'ok', 'failed'].map((status, i) => ({
      run_id: 'wr-1',
      item_id: `it-${i}`,
      node: 'eu-1',
      module: HOT,
      version: 'v1.2.0',
      endpoint: ['info', 'mod', 'zip'][i],
      path: `/github.com/acme/hot/@v/v1.2.0.${['info', 'mod', 'zip'][i]}`,
      expected_benefit: 3 - i,
      status,
      http_status: status === 'ok' ? 200 : 502,
      bytes: status === 'ok' ? 1500 : 0,
      latency_ms: 12.5,
      attempts: status === 'ok' ? 1 : 3,
      sha256: '',
      reason: status === 'ok' ? '' : 'upstream 502',
      finished_at: chTime(END),
    })),
  });
});

after(async () => {
  await api?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => api.app.inject({ method: 'GET', url, headers });

test('GET /v1/forecasts returns the newest finished run, summed over the window', async () => {
  const res = await get(`/v1/forecasts?scope=fleet&module=${encodeURIComponent('github.com/acme/')}&window=2h`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.run.runId, 'run-1');
  assert.equal(body.run.asOf, new Date(END).toISOString());
  assert.deepEqual(
    body.items.map((i: { module: string; version: string; expected: number }) => [i.module, i.version, i.expected]),
    [
      [HOT, '', 10],
      [HOT, 'v1.2.0', 8],
    ],
  );
  const first = body.items[0];
  assert.equal(first.windowStart, new Date(END).toISOString());
  assert.equal(first.windowEnd, new Date(END + 2 * HOUR).toISOString());
  assert.equal(first.lower, 5);
  assert.equal(first.upper, 15);
  // Two independent hours with P = 0.5 each: P(any) = 0.75.
  assert.ok(Math.abs(first.pAny - 0.75) < 1e-9, String(first.pAny));
  assert.equal(body.nextCursor, null);
  const horizon = (await get('/v1/forecasts?scope=fleet&windowKind=horizon&window=1h')).json();
  assert.deepEqual(horizon.items.map((i: { module: string; expected: number }) => [i.module, i.expected]), [[HOT, 120], [AZURE, 48]]);
  assert.equal(horizon.items[1].windowEnd, new Date(END + 24 * HOUR).toISOString());
  assertClientError(await get('/v1/forecasts?windowKind=weekly'), 400);
});

test('GET /v1/forecasts filters by scope id and kind', async () => {
  const res = await get('/v1/forecasts?scope=node&id=eu-1&kind=zip');
  assert.equal(res.statusCode, 200);
  const items = res.json().items;
  assert.equal(items.length, 1);
  assert.deepEqual([items[0].scope, items[0].scopeId, items[0].kind, items[0].expected], ['node', 'eu-1', 'zip', 24]);
});

test('forecast pages cover every series once, most expected first, in both orders', async () => {
  type Item = { scope: string; scopeId: string; module: string; version: string; kind: string; expected: number };
  const all = (await get('/v1/forecasts?limit=1000')).json().items as Item[];
  assert.ok(all.length >= 6);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.expected >= all[i]!.expected, `item ${i} is not after a larger expected sum`);
  for (const sort of ['expected', 'key']) {
    const first = (await get(`/v1/forecasts?limit=1000&sort=${sort}`)).json().items as Item[];
    const paged: Item[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/forecasts?limit=2&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      paged.push(...(res.json().items as Item[]));
      cursor = res.json().nextCursor;
    } while (cursor);
    assert.deepEqual(paged, first, `pages of sort=${sort}`);
  }
  const byExpected = (await get('/v1/forecasts?limit=1')).json().nextCursor as string;
  // A cursor is a position in either order: after that series' key when sorted by key.
  const keyed = await get(`/v1/forecasts?limit=1000&sort=key&cursor=${byExpected}`);
  assert.equal(keyed.statusCode, 200, keyed.body);
});

test('forecast pages in key order cover every series once and stay on their run when a newer one lands', async () => {
  const all = (await get('/v1/forecasts?limit=1000&sort=key')).json().items as { scope: string; scopeId: string; module: string; version: string; kind: string }[];
  assert.equal(all.length, 8);
  const tuples = all.map((i) => [i.scope, i.scopeId, i.module, i.version, i.kind]);
  const byTuple = (a: string[], b: string[]) => {
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
    return 0;
  };
  assert.deepEqual([...tuples].sort(byTuple), tuples, 'ordered by key');
  const keys = tuples.map((t) => t.join('|'));
  const paged: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`/v1/forecasts?limit=3&sort=key${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.run.runId, 'run-1');
    paged.push(...body.items.map((i: typeof all[number]) => [i.scope, i.scopeId, i.module, i.version, i.kind].join('|')));
    cursor = body.nextCursor;
    if (pages++ === 0) await seedPredictionRun(api.t.store, 'run-2', END + HOUR, predictions(7), END + 2 * HOUR);
  } while (cursor);
  assert.equal(pages, 3);
  assert.deepEqual(paged, keys);
  const latest = (await get('/v1/forecasts?limit=1')).json();
  assert.equal(latest.run.runId, 'run-2', 'without a cursor the newest run answers');
});

test('bad forecast inputs are 400s with the error shape', async () => {
  for (const q of ['limit=0', 'limit=5000', 'limit=abc', 'window=abc', 'window=0h', 'window=30d', 'window=7m', 'scope=planet', 'cursor=***', 'cursor=bm9wZQ', 'cursor=a.b.c', 'module=a!Bc', `module=${'a'.repeat(600)}`]) {
    assertClientError(await get(`/v1/forecasts?${q}`), 400);
  }
  // A well-formed cursor of a run that is gone: the page it names does not exist.
  const foreign = ['gone', '7.5', 'a', 'b', 'c', 'd', 'e'].map((p) => Buffer.from(p).toString('base64url')).join('.');
  assertClientError(await get(`/v1/forecasts?cursor=${foreign}`), 404, 'MODCAST_ERR_NOT_FOUND');
});

test('GET /v1/modules/{module}/hotness: plain path, history per version, forecast', async () => {
  const res = await get(`/v1/modules/${HOT}/hotness?window=14d&versions=2`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.module, HOT);
  assert.equal(body.to, new Date(END).toISOString());
  assert.equal(body.bucket, '1h');
  assert.deepEqual(body.history.map((h: { version: string }) => h.version), ['v1.1.0', 'v1.2.0', '(other)']);
  const total = body.history.reduce((s: number, h: { requests: number }) => s + h.requests, 0);
  const expected = workload().filter((e) => e.module === HOT).length;
  assert.equal(total, expected);
  const points = body.history[0].points.reduce((s: number, p: [number, number]) => s + p[1], 0);
  assert.equal(points, body.history[0].requests);
  assert.ok(body.forecast.length >= 3);
  assert.ok(body.forecast.every((f: { points: unknown[] }) => f.points.length === 24));
});

test('hotness accepts case-encoded and percent-encoded paths and scopes', async () => {
  const encoded = await get('/v1/modules/github.com/!azure/azure-sdk-for-go/hotness?scope=node&id=us-1');
  assert.equal(encoded.statusCode, 200, encoded.body);
  assert.equal(encoded.json().module, AZURE);
  assert.equal(encoded.json().history[0].requests, 7 * 12, 'one request every two hours for the 7-day default window');
  assert.ok(encoded.json().forecast.every((f: { scopeId: string }) => f.scopeId === 'us-1'));
  const percent = await get(`/v1/modules/${encodeURIComponent(HOT)}/hotness?window=1d`);
  assert.equal(percent.statusCode, 200, percent.body);
  assert.equal(percent.json().module, HOT);
  assert.equal(percent.json().bucket, '5m');
  const other = await get(`/v1/modules/${HOT}/hotness?scope=region&id=us`);
  assert.equal(other.json().history.length, 1);
});

test('hotness rejects invalid module paths, missing suffix, bad windows and scopes', async () => {
  for (const path of ['Github.com/x', 'github.com/!!x', 'github.com/acme/.hidden', 'github.com//x', '-x.com/y', 'github.com/acme/hot/v1', 'github.com/a%00b']) {
    assertClientError(await get(`/v1/modules/${path}/hotness`), 400, 'MODCAST_ERR_INVALID_MODULE_PATH');
  }
  assertClientError(await get(`/v1/modules/${HOT}`), 404, 'MODCAST_ERR_NOT_FOUND');
  assertClientError(await get(`/v1/modules/${HOT}/hotness?window=40d`), 400);
  assertClientError(await get(`/v1/modules/${HOT}/hotness?window=30m`), 400);
  // Scope without an id: every node of the scope, not an error.
  assert.equal((await get(`/v1/modules/${HOT}/hotness?scope=node`)).statusCode, 200);
  // A valid path nothing is known about.
  assertClientError(await get('/v1/modules/github.com/nobody/never-requested/hotness'), 404, 'MODCAST_ERR_NOT_FOUND');
  assertClientError(await get(`/v1/modules/${HOT}/hotness?versions=1000`), 400);
});

test('GET /v1/top: actual in the last window next to the forecast for the next', async () => {
  const res = await get('/v1/top?window=1d&by=module&limit=5');
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.actualTo, new Date(END).toISOString());
  // The last day (a Sunday) has only the Azure requests, the US v1.2.0 fetches and one cold request.
  assert.deepEqual(body.items.map((i: { key: string }) => i.key), [AZURE, HOT, 'github.com/acme/cold']);
  assert.equal(body.items[0].actual, 12);
  assert.equal(body.items[1].actual, 8);
  assert.equal(body.run.runId, 'run-2');
  assert.deepEqual([body.forecastFrom, body.forecastTo], [new Date(END + HOUR).toISOString(), new Date(END + HOUR + DAY).toISOString()]);
  assert.equal(body.items[0].forecast, 2 * 7 * 24);
  assert.equal(body.items[2].forecast, null);
  const byForecast = (await get('/v1/top?window=1h&sort=forecast')).json();
  assert.deepEqual(byForecast.items.map((i: { key: string; forecast: number }) => [i.key, i.forecast]), [[HOT, 35], [AZURE, 14]]);
  const regions = (await get('/v1/top?window=7d&by=region')).json();
  assert.equal(regions.forecastTo, new Date(END + HOUR + DAY).toISOString(), 'a 7 d window forecasts up to the run\'s 24 h horizon');
  assert.deepEqual(regions.items.map((i: { key: string }) => i.key), ['eu', 'us']);
  assert.equal(regions.items[0].forecast, 4 * 7 * 24);
  const eu = (await get('/v1/top?window=7d&region=eu')).json();
  assert.deepEqual(eu.items.map((i: { key: string }) => i.key), [HOT, 'github.com/acme/cold']);
  assert.equal(eu.items[0].forecast, 4 * 7 * 24, 'a region filter reads that region\'s forecasts');
  for (const q of ['by=planet', 'sort=random', 'window=1y', 'limit=100000', 'node=bad%20name']) assertClientError(await get(`/v1/top?${q}`), 400);
});

test('GET /v1/warmups lists runs newest first, pages and filters', async () => {
  const all = (await get('/v1/warmups')).json();
  assert.deepEqual(all.items.map((r: { runId: string }) => r.runId), ['wr-2', 'wr-1', 'wr-0']);
  assert.equal(all.items[0].plannedFor, new Date(END + 2 * HOUR).toISOString());
  const page1 = (await get('/v1/warmups?limit=2')).json();
  assert.equal(page1.items.length, 2);
  const page2 = (await get(`/v1/warmups?limit=2&cursor=${page1.nextCursor}`)).json();
  assert.deepEqual(page2.items.map((r: { runId: string }) => r.runId), ['wr-0']);
  assert.equal(page2.nextCursor, null);
  const eu = (await get('/v1/warmups?region=eu&status=done')).json();
  assert.deepEqual(eu.items.map((r: { runId: string }) => r.runId), ['wr-1', 'wr-0']);
  assertClientError(await get('/v1/warmups?limit=1001'), 400);
  assertClientError(await get('/v1/warmups?cursor=WzEsMiwzXQ'), 400);
  assertClientError(await get('/v1/warmups?cursor=12.a.b'), 400);
  // Any cursor of the documented shape is a position: an empty page after it, not an error.
  assert.deepEqual((await get('/v1/warmups?cursor=1.AAAA')).json().items, []);
});

test('GET /v1/warmups/:id returns items and counts; unknown ids are 404, malformed ones 400', async () => {
  const res = await get('/v1/warmups/wr-1');
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.run.runId, 'wr-1');
  assert.deepEqual(body.itemCounts, { failed: 1, ok: 2 });
  assert.deepEqual(body.items.map((i: { endpoint: string }) => i.endpoint), ['info', 'mod', 'zip']);
  assert.equal(body.effectiveness.runId, 'wr-1');
  assert.equal(body.effectiveness.warmedVersions, 1);
  assertClientError(await get('/v1/warmups/wr-404'), 404, 'MODCAST_ERR_NOT_FOUND');
  assertClientError(await get(`/v1/warmups/${'x'.repeat(200)}`), 414);
  assertClientError(await get(`/v1/warmups/${'x'.repeat(99)}!`), 400);
  assertClientError(await get('/v1/warmups/a%20b'), 400);
});

test('stats: scopes, hour-of-week heatmap in a time zone, release spread, ingest health', async () => {
  const scopes = (await get('/v1/stats/scopes')).json();
  assert.deepEqual(scopes.regions, [
    { name: 'eu', timeZone: 'Europe/Berlin', nodes: ['eu-1', 'eu-2'] },
    { name: 'us', timeZone: 'America/New_York', nodes: ['us-1'] },
  ]);
  const utc = (await get('/v1/stats/heatmap?window=14d&limit=2')).json();
  assert.deepEqual(utc.modules, [HOT, AZURE]);
  assert.equal(utc.weeks, 2);
  const cell = (cells: [number, number, number][], how: number) => cells.find((c) => c[0] === how && c[1] === 0)?.[2];
  // Monday 08:00 UTC: 7 requests per week; that is 09:00 in Berlin (CET).
  assert.equal(cell(utc.cells, 8), 7);
  assert.equal(cell(utc.cells, 7), undefined);
  const berlin = (await get('/v1/stats/heatmap?window=14d&limit=2&region=eu')).json();
  assert.equal(berlin.timeZone, 'Europe/Berlin');
  assert.equal(cell(berlin.cells, 9), 7);
  assert.deepEqual(berlin.modules, [HOT, 'github.com/acme/cold'], 'the region filter keeps its modules only');
  assertClientError(await get('/v1/stats/heatmap?tz=Mars/Olympus'), 400);

  const rel = (await get('/v1/stats/releases?window=7d')).json();
  const v12 = rel.releases.find((r: { version: string }) => r.version === 'v1.2.0');
  assert.ok(v12, JSON.stringify(rel));
  assert.equal(v12.firstSeen, new Date(T0 + 10 * DAY + 8 * HOUR).toISOString());
  assert.deepEqual(v12.regions.map((r: { region: string; lagHours: number }) => [r.region, r.lagHours]), [['eu', 0], ['us', 7]]);

  const ingest = (await get('/v1/stats/ingest?window=24h')).json();
  assert.equal(ingest.bucketMinutes, 5);
  assert.deepEqual([ingest.from, ingest.to], [new Date(END - DAY).toISOString(), new Date(END).toISOString()], 'events: by event time, to the newest data');
  assert.equal(Date.parse(ingest.rejectsTo) - Date.parse(ingest.rejectsFrom), DAY, 'rejects: by time received, the same window to now');
  const events = ingest.events.reduce((s: number, [, v]: [number, number]) => s + v * 5, 0);
  assert.equal(Math.round(events), 21);
  assert.equal(ingest.latency.hitMs, 10);

  const warm = (await get('/v1/stats/warmups?window=35d')).json();
  assert.equal(warm.totals.runs, 3);
  assert.equal(warm.totals.itemsDone, 6);
  assert.equal(warm.effectiveness.runs, 3);
  assert.equal(warm.effectiveness.warmedVersions, 1, 'only wr-1 has items');
  // What warm-ups cost as the nodes logged them, and the client requests on the warmed version within 24 hours.
  assert.deepEqual(warm.traffic.days, [
    { day: new Date(END - DAY).toISOString(), node: 'us-1', requests: 1, bytes: 5000, warmedVersions: 1, usedVersions: 1, demandRequests: 12, demandHits: 12 },
  ]);
  assert.equal(warm.traffic.totals.useRate, 1);
  assert.equal(warm.traffic.window.to, new Date(END + 3 * HOUR).toISOString());
  const none = (await get('/v1/stats/warmups?window=1h')).json();
  assert.equal(none.effectiveness, null);
  assert.deepEqual(none.traffic.days, []);
});

test('GET /metrics reports scoring and warm-up outcomes read from the store', async () => {
  const body = (await get('/metrics')).body;
  assert.match(body, /modcast_scoring_last_predictions 194/);
  assert.match(body, /modcast_scoring_last_duration_seconds 3600\n/, "run-2: started at its as-of, finished an hour later");
});

test('unknown routes answer the 404 error shape; the OpenAPI document is served', async () => {
  assertClientError(await get('/v2/nothing'), 404, 'MODCAST_ERR_NOT_FOUND');
  assertClientError(await api.app.inject({ method: 'DELETE', url: '/v1/warmups/wr-1' }), 405, 'MODCAST_ERR_METHOD_NOT_ALLOWED');
  const doc = await get('/docs/json');
  assert.equal(doc.statusCode, 200);
  assert.equal(doc.json().openapi, '3.0.3');
});

test('with api.readAuth, reads need a token (health stays public)', async () => {
  const app = await buildApi({ config: { ...api.t.config, api: { ...api.t.config.api, readAuth: true } }, store: api.t.store, dashboard: false });
  try {
    assertClientError(await app.inject({ url: '/v1/top' }), 401, 'MODCAST_ERR_UNAUTHORIZED');
    assertClientError(await app.inject({ url: '/v1/top', headers: { authorization: 'Bearer wrong-token-000' } }), 401);
    assertClientError(await app.inject({ url: '/metrics' }), 401);
    assert.equal((await app.inject({ url: '/v1/top', headers: auth })).statusCode, 200);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
    assert.ok(TOKEN.length > 8);
  } finally {
    await app.close();
  }
});

test('runs finished at the same instant: /metrics and the API name the same newest run (run_id breaks the tie)', async () => {
  const at = END + 10 * HOUR;
  const a = predictions(2).slice(0, 3);
  const b = predictions(2).slice(0, 5);
  await seedPredictionRun(api.t.store, 'tie-a', at - HOUR, a, at);
  await seedPredictionRun(api.t.store, 'tie-b', at - HOUR, b, at);
  // A fresh app: the shared one may still trust its cached newest run.
  const app = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false });
  try {
    assert.equal((await app.inject({ url: '/v1/forecasts?limit=1' })).json().run.runId, 'tie-b');
    assert.match((await app.inject({ url: '/metrics' })).body, new RegExp(`modcast_scoring_last_predictions ${b.length}\\n`));
  } finally {
    await app.close();
  }
});

test('checksum-database requests without a module (supported, tile) are not a blank row of the top modules', async () => {
  const sumdb = [0, 1, 2, 3, 4].map((i) => ({ module: '', version: '', node: 'eu-2', region: 'eu', ts: END - 50_000 + i * 1000 }));
  await seedEvents(api.t.store, 'seed:sumdb', sumdb);
  const app = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false });
  try {
    const keys = (await app.inject({ url: '/v1/top?window=1d&by=module&limit=20' })).json().items.map((i: { key: string }) => i.key);
    assert.deepEqual(keys, [AZURE, HOT, 'github.com/acme/cold']);
    // They still count for their node.
    const nodes = (await app.inject({ url: '/v1/top?window=1d&by=node' })).json().items as { key: string; actual: number }[];
    assert.ok(nodes.some((n) => n.key === 'eu-2' && n.actual >= 6), JSON.stringify(nodes));
  } finally {
    await app.close();
  }
});
