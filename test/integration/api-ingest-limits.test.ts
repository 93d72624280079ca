/**
 * A gzip bomb on POST /v1/ingest over a real socket, with the default limits: ~100 KB of gzip that inflates to
 * ~100 MiB of newlines must be refused quickly, naming the limit it hit, while /healthz keeps answering.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
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

test('spool files left by a crashed process are swept at start; a fresh one (another live process) is kept', async () => {
  const dir = join(ts.dir, 'spool-sweep');
  mkdirSync(dir, { recursive: true });
  const old = join(dir, `ingest-${randomUUID()}.body`);
  const fresh = join(dir, `ingest-${randomUUID()}.body`);
  const other = join(dir, 'keep-me.txt');
  for (const f of [old, fresh, other]) writeFileSync(f, 'x'.repeat(1000));
  const hourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(old, hourAgo, hourAgo);
  utimesSync(other, hourAgo, hourAgo);
  const app2 = await buildApi({ config: { ...ts.config, api: { ...ts.config.api, spoolDir: dir } }, store: ts.store, dashboard: false });
  try {
    await app2.ready();
    assert.equal(existsSync(old), false, 'the orphan is gone');
    assert.equal(existsSync(fresh), true, 'a file young enough to belong to a live request stays');
    assert.equal(existsSync(other), true, 'only spool files are touched');
  } finally {
    await app2.close();
  }
});

test('spool disk is bounded across concurrent requests: the one that does not fit gets 507 MODCAST_ERR_SPOOL_FULL', { timeout: 30_000 }, async () => {
  const config = { ...ts.config, api: { ...ts.config.api, spoolMaxBytes: 1024 * 1024, spoolDir: join(ts.dir, 'spool-budget') } };
  const app2 = await buildApi({ config, store: ts.store, dashboard: false });
  try {
    await app2.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app2.server.address() as { port: number };
    const line = '10.0.0.1 - - [25/Nov/2026:09:00:01 +0100] "GET /example.com/m/@v/v1.0.0.info HTTP/1.1" 200 10 "-" "Go-http-client/1.1" 0.001 HIT\n';
    const chunk = Buffer.from(line.repeat(Math.ceil((700 * 1024) / line.length)));
    const post = (body: Readable | Buffer) =>
      request(`http://127.0.0.1:${port}/v1/ingest?node=spool-1&region=eu&format=nginx`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
        body,
      });
    // The first upload sends 700 KB and holds its spool file open until released.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield chunk;
      await held;
    }
    const first = post(Readable.from(slow()));
    const spoolDir = config.api.spoolDir;
    for (let i = 0; i < 200; i++) {
      const files = existsSync(spoolDir) ? readdirSync(spoolDir) : [];
      if (files.length > 0 && statSync(join(spoolDir, files[0]!)).size >= chunk.length) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const second = await post(chunk);
    const body = (await second.body.json()) as { error: string; message: string };
    assert.equal(second.statusCode, 507, JSON.stringify(body));
    assert.equal(body.error, 'MODCAST_ERR_SPOOL_FULL');
    assert.match(body.message, /api\.spoolMaxBytes/);
    release();
    const firstRes = await first;
    assert.equal(firstRes.statusCode, 200, await firstRes.body.text());
    // Its bytes were given back: the same body fits again.
    const third = await post(chunk);
    assert.equal(third.statusCode, 200, await third.body.text());
    assert.deepEqual(readdirSync(spoolDir), [], 'no spool file left behind');
  } finally {
    await app2.close();
  }
});
