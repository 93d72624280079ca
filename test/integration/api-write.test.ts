/**
 * Write routes over a real store and the real scheduler: HTTP ingest (counts, idempotent retries, gzip, limits,
 * malformed input), the HMAC-signed release hook, triggered warm-ups, tokens and rate limiting.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { openTestApi, assertClientError, auth, HOOK_SECRET, type TestApi } from '../helpers/api.js';
import { count } from '../helpers/store.js';
import { buildApi } from '../../src/api/server.js';
import { signBody } from '../../src/api/auth.js';
import { renderLine } from '../../src/demo/formats.js';
import type { GeneratedRequest } from '../../src/demo/generator.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { createLogger } from '../../src/lib/logger.js';

const BODY_LIMIT = 256 * 1024;
const MAX_BYTES = 1024 * 1024;
let api: TestApi;

before(async () => {
  api = await openTestApi({ api: { bodyLimitBytes: BODY_LIMIT, ingestMaxBytes: MAX_BYTES } });
  // The real scheduler, not started (no cron): the API only calls triggerWarmup / onReleaseEvent.
  const scheduler = createScheduler({ config: api.t.config, store: api.t.store, logger: createLogger('silent') });
  await api.app.close();
  api.app = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false, scheduler });
  await api.app.ready();
});
after(async () => {
  await api?.close();
});

function nginxLines(n: number, node: string, seed: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const r: GeneratedRequest = {
      ts: Date.UTC(2026, 10, 20, 9) + seed * 86_400_000 + i * 1000,
      node,
      region: 'eu',
      module: `github.com/acme/m${(i + seed) % 13}`,
      version: `v1.${i % 5}.0`,
      kind: i % 3 === 0 ? 'zip' : 'info',
      status: 200,
      bytes: 100 + i,
      durationMs: 12,
      cacheStatus: i % 4 === 0 ? 'miss' : 'hit',
      clientIp: `10.0.0.${i % 200}`,
    };
    return renderLine(r, 'nginx');
  });
}

const ingest = (opts: { query: string; body: string | Buffer | Readable; headers?: Record<string, string> }) =>
  api.app.inject({
    method: 'POST',
    url: `/v1/ingest?${opts.query}`,
    headers: { ...auth, 'content-type': 'text/plain', ...opts.headers },
    payload: opts.body,
  });

const stored = (node: string) => count(api.t.store, 'SELECT count() FROM access_events WHERE node = {node:String}', { node });
const rolled = (node: string) => count(api.t.store, 'SELECT sum(requests) FROM rollups_1h WHERE node = {node:String}', { node });

test('ingest stores every line once: counts match, rejects kept, a retry with the same Idempotency-Key is not double counted', async () => {
  const body = [...nginxLines(500, 'eu-1', 0), 'garbage line one', 'garbage "two"', '', '{"x":1}'].join('\n') + '\n';
  const headers = { 'idempotency-key': 'batch-0001' };
  const first = await ingest({ query: 'node=eu-1&format=nginx', body, headers });
  assert.equal(first.statusCode, 200, first.body);
  const r = first.json();
  assert.deepEqual([r.accepted, r.rejected, r.skipped, r.lines, r.format], [500, 3, 1, 504, 'nginx']);
  assert.equal(r.bytes, Buffer.byteLength(body));
  assert.equal(await stored('eu-1'), 500);
  assert.equal(await rolled('eu-1'), 500);
  assert.equal(await count(api.t.store, "SELECT count() FROM rejected_events WHERE source = 'http' AND node = 'eu-1'"), 3);

  const httpEvents = async () => Number(/modcast_ingest_events_total\{source="http"\} (\d+)/.exec((await api.app.inject({ url: '/metrics' })).body)?.[1]);
  const countedBefore = await httpEvents();
  const retry = await ingest({ query: 'node=eu-1&format=nginx', body, headers });
  assert.equal(retry.statusCode, 200);
  assert.equal(await httpEvents(), countedBefore, 'the replay is not counted again in modcast_ingest_events_total');
  assert.equal(retry.json().batchToken, r.batchToken);
  assert.equal(await stored('eu-1'), 500, 'the retried body is stored once');
  assert.equal(await rolled('eu-1'), 500, 'and counted once in the rollups');
  assert.equal(await count(api.t.store, "SELECT count() FROM rejected_events WHERE source = 'http' AND node = 'eu-1'"), 3);

  // The same key on other bytes is another body, not a retry.
  const other = await ingest({ query: 'node=eu-1&format=nginx', body: nginxLines(40, 'eu-1', 1).join('\n'), headers });
  assert.equal(other.json().accepted, 40);
  assert.equal(await stored('eu-1'), 540);
});

test('ingest takes gzip bodies and detects the format; the region comes from fleet.nodes', async () => {
  const body = gzipSync(nginxLines(300, 'eu-2', 2).join('\n'));
  const res = await ingest({ query: 'node=eu-2', body, headers: { 'content-encoding': 'gzip', 'content-type': 'application/x-ndjson' } });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual([res.json().accepted, res.json().format], [300, 'nginx']);
  assert.equal(await stored('eu-2'), 300);
  assert.equal(await count(api.t.store, "SELECT count() FROM access_events WHERE node = 'eu-2' AND region = 'eu'"), 300);
});

test('oversized bodies and gzip bombs are refused with 413 before anything is stored', async () => {
  const before = await count(api.t.store, 'SELECT count() FROM access_events');
  const big = nginxLines(3000, 'us-1', 3).join('\n'); // > 256 KiB as sent
  assert.ok(Buffer.byteLength(big) > BODY_LIMIT);
  assertClientError(await ingest({ query: 'node=us-1', body: big }), 413, 'MODCAST_ERR_PAYLOAD_TOO_LARGE');
  // Without a Content-Length (a stream), the limit applies while reading.
  assertClientError(await ingest({ query: 'node=us-1', body: Readable.from([Buffer.from(big)]) }), 413, 'MODCAST_ERR_PAYLOAD_TOO_LARGE');
  // 64 MiB of newlines compress to ~64 KiB: small on the wire, far over the decompressed cap.
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 10), { level: 9 });
  assert.ok(bomb.length < BODY_LIMIT);
  const res = await ingest({ query: 'node=us-1', body: bomb, headers: { 'content-encoding': 'gzip' } });
  assertClientError(res, 413, 'MODCAST_ERR_PAYLOAD_TOO_LARGE');
  assert.match(res.json().message, /decompressed/);
  // A body whose valid lines come after the cap is refused whole, not half stored.
  const lateBomb = gzipSync(Buffer.concat([Buffer.from(nginxLines(50, 'us-1', 4).join('\n') + '\n'), Buffer.alloc(2 * MAX_BYTES, 10)]));
  assertClientError(await ingest({ query: 'node=us-1', body: lateBomb, headers: { 'content-encoding': 'gzip' } }), 413);
  assert.equal(await count(api.t.store, 'SELECT count() FROM access_events'), before);
});

test('malformed input: bad NDJSON is kept as rejects (422), undetectable formats and broken gzip are 400s', async () => {
  const ndjson = ['{"time": "not a time"', 'not json at all', '[1,2,3]', '{"request": {}}'].join('\n');
  const res = await ingest({ query: 'node=us-1&format=jsonl', body: ndjson, headers: { 'content-type': 'application/x-ndjson' } });
  assertClientError(res, 422, 'MODCAST_ERR_INVALID_ARGUMENT');
  assert.equal(await count(api.t.store, "SELECT count() FROM rejected_events WHERE node = 'us-1'"), 4);
  const unknown = await ingest({ query: 'node=us-1', body: 'what\nis\nthis\n' });
  assertClientError(unknown, 400, 'MODCAST_ERR_FORMAT_UNKNOWN');
  assert.match(unknown.json().message, /pass \?format= \(nginx, /);
  assertClientError(await ingest({ query: 'node=us-1', body: Buffer.from('not gzip at all'), headers: { 'content-encoding': 'gzip' } }), 400);
  assertClientError(await ingest({ query: 'node=us-1', body: gzipSync('x'.repeat(1000)).subarray(0, 20), headers: { 'content-encoding': 'gzip' } }), 400);
  assertClientError(await ingest({ query: 'node=us-1', body: '' }), 400);
  assert.equal(await stored('us-1'), 0);
});

test('ingest inputs: tokens, node and region, format, encoding, idempotency key', async () => {
  const body = nginxLines(2, 'eu-1', 5).join('\n');
  for (const headers of [{ authorization: '' }, { authorization: 'Bearer not-the-token' }, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer' }]) {
    assertClientError(await ingest({ query: 'node=eu-1', body, headers }), 401, 'MODCAST_ERR_UNAUTHORIZED');
  }
  assertClientError(await ingest({ query: 'node=nowhere', body }), 404, 'MODCAST_ERR_NODE_UNKNOWN');
  assertClientError(await ingest({ query: '', body }), 400);
  assertClientError(await ingest({ query: 'node=bad%20node&region=eu', body }), 400);
  assertClientError(await ingest({ query: 'node=eu-1&format=csv', body }), 400);
  assertClientError(await ingest({ query: 'node=eu-1', body, headers: { 'content-encoding': 'br' } }), 415, 'MODCAST_ERR_UNSUPPORTED_MEDIA_TYPE');
  assertClientError(await ingest({ query: 'node=eu-1', body, headers: { 'idempotency-key': 'has spaces in it' } }), 400);
  const adhoc = await ingest({ query: 'node=edge-9&region=ap', body });
  assert.equal(adhoc.statusCode, 200, 'a node outside fleet.nodes is fine when its region is given');
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const signedHeaders = (body: string | Buffer, ts: number) => ({
  'content-type': 'application/json',
  'x-modcast-timestamp': String(ts),
  'x-modcast-signature': signBody(HOOK_SECRET, body, ts),
});
const hook = (body: string | Buffer, headers: Record<string, string> = {}, app = api.app, ts = nowSeconds()) =>
  app.inject({ method: 'POST', url: '/v1/hooks/release', headers: { ...signedHeaders(body, ts), ...headers }, payload: body });

test('release hook: a signed notification is accepted and handed to the scheduler', async () => {
  const res = await hook(JSON.stringify({ module: 'github.com/acme/m1', version: 'v1.9.0' }));
  assert.equal(res.statusCode, 202, res.body);
  const body = res.json();
  assert.deepEqual([body.accepted, body.module, body.version], [true, 'github.com/acme/m1', 'v1.9.0']);
  assert.equal(typeof body.result.accepted, 'boolean', 'the scheduler decided');
  const encoded = await hook(JSON.stringify({ module: 'github.com/!azure/go-autorest', version: 'v1.0.0' }));
  assert.equal(encoded.json().module, 'github.com/Azure/go-autorest');
});

test('release hook: wrong, missing or replayed-on-other-bytes signatures are 401; bad bodies 4xx', async () => {
  const body = JSON.stringify({ module: 'github.com/acme/m1', version: 'v1.9.0' });
  assertClientError(await hook(body, { 'x-modcast-signature': signBody('another-secret-0123456789', body, nowSeconds()) }), 401, 'MODCAST_ERR_UNAUTHORIZED');
  assertClientError(await hook(body, { 'x-modcast-signature': '' }), 401);
  assertClientError(await hook(body, { 'x-modcast-signature': 'sha256=zz' }), 401);
  assertClientError(await hook(body, { 'x-modcast-signature': signBody(HOOK_SECRET, `${body} `, nowSeconds()) }), 401);
  assertClientError(await hook('{"module": '), 400);
  assertClientError(await hook(JSON.stringify({ module: 'Bad.Path/x', version: 'v1.0.0' })), 400, 'MODCAST_ERR_INVALID_MODULE_PATH');
  assertClientError(await hook(JSON.stringify({ module: 'github.com/acme/m1', version: 'latest' })), 400);
  assertClientError(await hook(JSON.stringify({ module: 'github.com/acme/m1/v2', version: 'v1.0.0' })), 400);
  assertClientError(await hook(JSON.stringify({ module: 'github.com/acme/m1' })), 400);
  assertClientError(await hook(JSON.stringify({ module: 'github.com/acme/m1', version: 'v1.0.0', pad: 'x'.repeat(70_000) })), 413);
  assertClientError(await hook(body, { 'content-type': 'text/plain' }), 415);
});

test('release hook replays: a stale or future timestamp, a repeated signature or delivery id are refused by name', async () => {
  // An injected clock on a fixed instant: the window check does not depend on when the test runs.
  let clock = Date.UTC(2026, 5, 1, 12, 0, 0);
  const app = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false, now: () => clock, scheduler: { triggerWarmup: async () => ({}), onReleaseEvent: async () => ({ accepted: false }) } });
  try {
    const body = JSON.stringify({ module: 'github.com/acme/replayed', version: 'v1.0.0' });
    const at = clock / 1000;
    assert.equal((await hook(body, {}, app, at)).statusCode, 202);
    // The captured request sent again: same bytes, same signature.
    assertClientError(await hook(body, {}, app, at), 409, 'MODCAST_ERR_HOOK_REPLAYED');
    // Signed with another timestamp inside the window: a new notification, unless its delivery id was seen.
    assert.equal((await hook(body, { 'x-modcast-delivery': 'd-1' }, app, at + 1)).statusCode, 202);
    assertClientError(await hook(body, { 'x-modcast-delivery': 'd-1' }, app, at + 2), 409, 'MODCAST_ERR_HOOK_REPLAYED');
    // Outside ±5 minutes: stale, both ways.
    const stale = assertClientError(await hook(body, {}, app, at - 301), 401, 'MODCAST_ERR_HOOK_STALE');
    assert.match(stale.message, /301 s/);
    assertClientError(await hook(body, {}, app, at + 301), 401, 'MODCAST_ERR_HOOK_STALE');
    assert.equal((await hook(body, {}, app, at - 299)).statusCode, 202);
    // Ten minutes later the first request is stale, not remembered forever.
    clock += 10 * 60_000;
    assertClientError(await hook(body, {}, app, at), 401, 'MODCAST_ERR_HOOK_STALE');
    // A timestamp header that was not signed does not pass, nor does a missing one.
    assertClientError(await hook(body, { 'x-modcast-timestamp': String(clock / 1000) }, app, at), 401, 'MODCAST_ERR_UNAUTHORIZED');
    const { 'x-modcast-timestamp': _omit, ...noTs } = signedHeaders(body, clock / 1000);
    assertClientError(await app.inject({ method: 'POST', url: '/v1/hooks/release', headers: noTs, payload: body }), 401, 'MODCAST_ERR_UNAUTHORIZED');
  } finally {
    await app.close();
  }
});

test('release hook without a configured secret answers 503', async () => {
  const app = await buildApi({ config: { ...api.t.config, api: { ...api.t.config.api, hookSecret: undefined } }, store: api.t.store, dashboard: false });
  try {
    const res = await app.inject({ method: 'POST', url: '/v1/hooks/release', headers: { 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error, 'MODCAST_ERR_NOT_CONFIGURED');
  } finally {
    await app.close();
  }
});

const trigger = (payload: unknown, headers: Record<string, string> = auth) =>
  api.app.inject({ method: 'POST', url: '/v1/warmups', headers, payload: payload as Record<string, unknown> });

test('POST /v1/warmups: a dry run plans through the scheduler; tokens and targets are checked', async () => {
  const res = await trigger({ node: 'eu-1', dryRun: true });
  assert.equal(res.statusCode, 202, res.body);
  const body = res.json();
  assert.equal(body.dryRun, true);
  assert.deepEqual(body.result.runs.map((r: { node: string; status: string }) => [r.node, r.status]), [['eu-1', 'dry-run']]);
  const region = await trigger({ region: 'eu', dryRun: true });
  assert.deepEqual(region.json().result.runs.map((r: { node: string }) => r.node).sort(), ['eu-1', 'eu-2']);
  assertClientError(await trigger({ node: 'eu-1' }, {}), 401);
  assertClientError(await trigger({ node: 'eu-1' }, { authorization: 'Bearer nope-nope-nope' }), 401);
  assertClientError(await trigger({}), 400);
  assertClientError(await trigger({ node: 'mars-1', dryRun: true }), 404, 'MODCAST_ERR_NODE_UNKNOWN');
  assertClientError(await trigger({ region: 'mars', dryRun: true }), 404, 'MODCAST_ERR_NODE_UNKNOWN');
  assertClientError(await trigger({ node: 'eu-1', dryRun: 'maybe' }), 400);
  assertClientError(await trigger({ node: 'eu-1', maxItems: -1 }), 400);
  assertClientError(await api.app.inject({ method: 'POST', url: '/v1/warmups', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"node":' }), 400);
});

test('POST /v1/warmups without a scheduler in the process answers 503', async () => {
  const app = await buildApi({ config: api.t.config, store: api.t.store, dashboard: false });
  try {
    const res = await app.inject({ method: 'POST', url: '/v1/warmups', headers: auth, payload: { node: 'eu-1' } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error, 'MODCAST_ERR_NOT_CONFIGURED');
  } finally {
    await app.close();
  }
});

test('rate limiting answers 429 in the error shape', async () => {
  const app = await buildApi({ config: { ...api.t.config, api: { ...api.t.config.api, rateLimitPerMinute: 3 } }, store: api.t.store, dashboard: false });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/v1/warmups' })).statusCode, 200);
    assertClientError(await app.inject({ url: '/v1/warmups' }), 429, 'MODCAST_ERR_RATE_LIMITED');
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'health checks are not rate limited');
  } finally {
    await app.close();
  }
});

test('GET /metrics exposes HTTP latency histograms and HTTP ingest counters', async () => {
  const res = await api.app.inject({ url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /text\/plain/);
  assert.match(res.body, /modcast_http_request_duration_seconds_bucket\{.*route="\/v1\/ingest".*\}/);
  const m = /modcast_ingest_events_total\{source="http"\} (\d+)/.exec(res.body);
  // Every event stored through HTTP counted once: retries with the same Idempotency-Key are not counted again.
  assert.ok(m, res.body.slice(0, 200));
  assert.equal(Number(m[1]), await count(api.t.store, "SELECT count() FROM access_events WHERE startsWith(event_id, 'http:')"));
  assert.doesNotMatch(res.body, /test-token/);
  assert.match(res.body, /# TYPE modcast_warmup_runs gauge/);
  assert.match(res.body, /modcast_process_cpu_seconds_total/);
});
