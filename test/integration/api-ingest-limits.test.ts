/**
 * A gzip bomb on POST /v1/ingest over a real socket, with the default limits: ~100 KB of gzip that inflates to
 * ~100 MiB of newlines must be refused quickly, naming the limit it hit, while /healthz keeps answering.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { TOKEN } from '../helpers/api.js';
import { buildApi, type ApiInstance } from '../../src/api/server.js';

let ts: TestStore;
let app: ApiInstance | undefined;
before(async () => {
  ts = await openTestStore({ api: { tokens: [TOKEN], rateLimitPerMinute: 100_000 } });
});
after(async () => {
  await app?.close();
  await ts.cleanup();
});

test('a ~100 KB gzip body of ~100 MiB of newlines is refused fast (the line cap, blank lines counted); /healthz stays fast', { timeout: 30_000 }, async () => {
  app = await buildApi({ config: ts.config, store: ts.store, dashboard: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  const base = `http://127.0.0.1:${addr.port}`;

  const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024, 10), { level: 9 });
  assert.ok(bomb.length < 150 * 1024, `bomb is ${bomb.length} bytes`);
  let healthWorst = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const t0 = performance.now();
      const h = await request(`${base}/healthz`);
      await h.body.dump();
      healthWorst = Math.max(healthWorst, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t0 = performance.now();
  const res = await request(`${base}/v1/ingest?node=eu-1&region=eu&format=nginx`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-encoding': 'gzip', 'content-type': 'text/plain' },
    body: bomb,
  });
  const took = performance.now() - t0;
  const body = (await res.body.json()) as { error: string; message: string };
  polling = false;
  await poll;
  assert.equal(res.statusCode, 413, JSON.stringify(body));
  assert.equal(body.error, 'MODCAST_ERR_PAYLOAD_TOO_LARGE');
  assert.match(body.message, /api\.ingestMaxLines/);
  assert.ok(took < 5000, `refused after ${took.toFixed(0)} ms`);
  assert.ok(healthWorst < 1000, `/healthz took up to ${healthWorst.toFixed(0)} ms`);
  assert.equal(await count(ts.store, 'SELECT count() FROM access_events'), 0);
  console.log(`# gzip bomb: ${bomb.length} B gzip → 100 MiB newlines refused in ${took.toFixed(0)} ms; /healthz worst ${healthWorst.toFixed(0)} ms`);
});

test('a body trickled slower than api.ingestMaxSeconds is cut off with 408 naming the limit, and nothing is stored', { timeout: 30_000 }, async () => {
  const config = { ...ts.config, api: { ...ts.config.api, ingestMaxSeconds: 1 } };
  const app2 = await buildApi({ config, store: ts.store, dashboard: false });
  try {
    await app2.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app2.server.address() as { port: number };
    // One valid line every 300 ms for 6 s: the request would hold its spool file far past the limit.
    const line = '10.0.0.1 - - [25/Nov/2026:09:00:01 +0100] "GET /example.com/m/@v/v1.0.0.info HTTP/1.1" 200 10 "-" "Go-http-client/1.1" 0.001 HIT\n';
    async function* trickle() {
      for (let i = 0; i < 20; i++) {
        yield Buffer.from(line);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const t0 = performance.now();
    const res = await request(`http://127.0.0.1:${port}/v1/ingest?node=eu-1&region=eu&format=nginx`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
      body: Readable.from(trickle()),
    }).catch((e: Error) => e);
    const took = performance.now() - t0;
    // The answer may race the rest of the upload; either way the server stopped well before the body ended.
    if (!(res instanceof Error)) {
      const body = (await res.body.json()) as { error: string; message: string };
      assert.equal(res.statusCode, 408, JSON.stringify(body));
      assert.equal(body.error, 'MODCAST_ERR_REQUEST_TIMEOUT');
      assert.match(body.message, /api\.ingestMaxSeconds/);
    }
    assert.ok(took < 4000, `answered after ${took.toFixed(0)} ms`);
    assert.equal(await count(ts.store, 'SELECT count() FROM access_events'), 0);
  } finally {
    await app2.close();
  }
});
