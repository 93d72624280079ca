/**
 * GET /metrics on a real store: the store-backed gauges come from a cache refreshed at most once per interval
 * (bounded staleness), whatever the scrape rate, and the route has its own rate limit.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { buildApi } from '../../src/api/server.js';

let ts: TestStore;
before(async () => {
  ts = await openTestStore({ api: { rateLimitPerMinute: 100_000 } });
});
after(async () => {
  await ts.cleanup();
});

const refreshes = (text: string) => Number(/^modcast_store_gauge_refreshes_total (\d+)/m.exec(text)?.[1] ?? 'NaN');

test('300 scrapes read the store once per refresh interval; the gauges are refreshed after it', async () => {
  let clock = Date.UTC(2026, 5, 1, 12);
  const app = await buildApi({ config: { ...ts.config, api: { ...ts.config.api, metricsRateLimitPerMinute: 10_000 } }, store: ts.store, dashboard: false, now: () => clock });
  try {
    const scrape = async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      return res.body;
    };
    const start = refreshes(await scrape());
    assert.ok(Number.isFinite(start));
    const bodies = await Promise.all(Array.from({ length: 300 }, () => scrape()));
    const afterBurst = Math.max(...bodies.map(refreshes));
    assert.equal(afterBurst, start, 'no store read within the interval');
    clock += 16_000;
    await Promise.all(Array.from({ length: 50 }, () => scrape()));
    // The refresh runs in the background: wait for it, then it is exactly one.
    let now = start;
    for (let i = 0; i < 100 && now === start; i++) {
      now = refreshes(await scrape());
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(now, start + 1, 'one store read for the new interval');
  } finally {
    await app.close();
  }
});

test('/metrics has its own rate limit (429 with the documented error body)', async () => {
  const app = await buildApi({ config: { ...ts.config, api: { ...ts.config.api, metricsRateLimitPerMinute: 5 } }, store: ts.store, dashboard: false });
  try {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await app.inject({ method: 'GET', url: '/metrics' })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429]);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.json().error, 'MODCAST_ERR_RATE_LIMITED');
    // /healthz stays exempt.
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  } finally {
    await app.close();
  }
});
