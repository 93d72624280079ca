/**
 * Node faults do not stall the fleet: a warm-up of four nodes at once — a real proxy, an unreachable port, a
 * node answering 503 and a node that never answers in time — finishes the real proxy's run first and intact,
 * with retries only where they belong (503, network), none on 404. Redirects are followed only on the same origin.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { moduleSet, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
import { fleetOverrides } from '../helpers/warmup.js';
import { findTarget, nodeProfile } from '../../src/warmup/fleet.js';
import { planWarmup, type Demand } from '../../src/domain/plan.js';
import { runWarmup } from '../../src/warmup/run.js';
import { runItems } from '../../src/store/queries/warmups.js';
import { executeWarmup, WARMUP_USER_AGENT, type WarmResult } from '../../src/warmup/executor.js';

let upstream: RunningServer;
let good: ProxyServer;
let ts: TestStore;
const servers: Server[] = [];
let failingRequests = 0;
let downUrl = '';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

before(async () => {
  upstream = await startUpstream({ latencyMs: 5 });
  good = await startProxy(upstream.url);
  const failing = await listen((_req, res) => {
    failingRequests++;
    res.writeHead(503).end('unavailable');
  });
  // Slow: answers after 3 s, far beyond the node's 250 ms request timeout.
  const slow = await listen((_req, res) => void setTimeout(() => res.writeHead(200).end('late'), 3000).unref());
  // Unreachable: a port that was just free and is closed again.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  downUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
  const limits = { maxConcurrency: 2, maxRequestsPerSecond: 500, requestTimeoutMs: 250 };
  ts = await openTestStore(
    fleetOverrides([
      { name: 'good', baseUrl: good.url, ...limits, requestTimeoutMs: 10_000 },
      { name: 'down', baseUrl: downUrl, ...limits },
      { name: 'failing', baseUrl: failing, ...limits },
      { name: 'slow', baseUrl: slow, ...limits },
    ]),
  );
});

after(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all([good, upstream].filter(Boolean).map((s) => s.stop()));
  for (const s of [good, upstream]) if (s) removeServerDir(s);
  await ts?.cleanup();
});

test('a dead, a failing and a slow node do not stall the healthy one', async () => {
  const versions = moduleSet().slice(0, 8);
  const demand: Demand[] = versions.map((m) => ({ ...m, kind: 'zip', scope: 'node', expectedRequests: 2, pAny: 0.9 }));
  // A version that does not exist upstream: 404 from the proxy, never retried.
  demand.push({ module: 'github.com/BurntSushi/toml', version: 'v1.9.99', kind: 'zip', scope: 'node', expectedRequests: 1, pAny: 0.5 });
  const retry = { attempts: 3, baseMs: 20, maxMs: 100 };
  const finishedAt: Record<string, number> = {};
  const runs = await Promise.all(
    ['good', 'down', 'failing', 'slow'].map(async (name) => {
      const target = findTarget(ts.config, name);
      const plan = planWarmup({ node: nodeProfile(target), demand, warm: new Set() });
      assert.equal(plan.items.length, 9);
      const run = await runWarmup({ store: ts.store, target, runId: `fault-${name}`, plan, trigger: 'manual', plannedFor: Date.now(), retry });
      finishedAt[name] = performance.now();
      return run;
    }),
  );
  const [goodRun, downRun, failingRun, slowRun] = runs;

  assert.equal(goodRun!.status, 'done');
  const goodItems = await runItems(ts.store, 'fault-good');
  assert.equal(goodItems.filter((i) => i.status === 'ok').length, 8);
  const missing = goodItems.find((i) => i.version === 'v1.9.99')!;
  assert.equal(missing.status, 'not_found');
  assert.equal(missing.http_status, 404);
  assert.equal(Number(missing.attempts), 1, '404 is not retried');
  assert.ok(finishedAt.good! < finishedAt.slow!, 'the healthy node finished before the slow one');

  const failingItems = await runItems(ts.store, 'fault-failing');
  assert.equal(failingRun!.status, 'failed');
  assert.ok(failingItems.every((i) => i.status === 'failed' && Number(i.attempts) === 3 && i.http_status === 503));
  assert.equal(failingRequests, 9 * 3, 'each item tried exactly `attempts` times');

  const downItems = await runItems(ts.store, 'fault-down');
  assert.equal(downRun!.status, 'failed');
  assert.ok(downItems.every((i) => i.status === 'failed' || i.status === 'skipped'));
  assert.ok(downItems.some((i) => /ECONNREFUSED|connect/i.test(i.reason)), downItems.map((i) => i.reason).join('; '));
  assert.ok(downItems.some((i) => i.status === 'skipped' && /unreachable/.test(i.reason)), 'the circuit opened for the dead node');

  const slowItems = await runItems(ts.store, 'fault-slow');
  assert.equal(slowRun!.status, 'failed');
  assert.ok(slowItems.every((i) => i.status === 'failed' || i.status === 'skipped'));
  assert.ok(slowItems.some((i) => /timeout|abort/i.test(i.reason)), slowItems.map((i) => i.reason).join('; '));
});

test('redirects are followed only to GOPROXY paths under the mount on the same origin', async () => {
  let otherHits = 0;
  const other = await listen((_req, res) => {
    otherHits++;
    res.writeHead(200).end('elsewhere');
  });
  const adminHits: { url: string; auth: string | undefined }[] = [];
  const marks = new Set<string>();
  const athensIds: string[] = [];
  const node = await listen((req, res) => {
    const url = req.url ?? '';
    const athensId = String(req.headers['athens-request-id']);
    athensIds.push(athensId);
    marks.add(`${req.headers['user-agent']} | ${req.headers['x-modcast-warmup']} | ${athensId.replace(/^modcast-warmup-[0-9a-f-]{36}$/, 'modcast-warmup-<uuid>')}`);
    if (url.startsWith('/admin/') || url.startsWith('/other/')) {
      adminHits.push({ url, auth: req.headers.authorization });
      res.writeHead(200).end('done');
    } else if (url === '/go/github.com/a/b/@v/v1.0.0.info') res.writeHead(302, { location: '/go/github.com/a/b/@v/v1.0.1.info' }).end();
    else if (url === '/go/github.com/a/b/@v/v1.0.1.info') res.writeHead(200).end('x'.repeat(100_000));
    else if (url === '/go/github.com/a/b/@v/v1.0.0.mod') res.writeHead(302, { location: '/admin/delete' }).end();
    else if (url === '/go/github.com/a/b/@v/v1.0.0.zip') res.writeHead(307, { location: '../../../../../other/github.com/a/b/@v/list' }).end();
    else if (url === '/go/github.com/a/b/@v/list') res.writeHead(301, { location: `${other}/stolen` }).end();
    else res.writeHead(404).end();
  });
  const target = { ...findTarget(ts.config, 'good'), name: 'redirects', origin: node, mountPrefix: '/go/', hashBodies: true, auth: { header: 'authorization', value: 'Bearer node-secret' } };
  const results: WarmResult[] = [];
  const base = { module: 'github.com/a/b', version: 'v1.0.0', expectedBenefit: 1 };
  await executeWarmup({
    target,
    requests: [
      { ...base, endpoint: 'info', itemId: 'same', path: '/go/github.com/a/b/@v/v1.0.0.info' },
      { ...base, endpoint: 'mod', itemId: 'admin', path: '/go/github.com/a/b/@v/v1.0.0.mod' },
      { ...base, endpoint: 'zip', itemId: 'outside', path: '/go/github.com/a/b/@v/v1.0.0.zip' },
      { ...base, endpoint: 'list', itemId: 'cross', path: '/go/github.com/a/b/@v/list' },
    ],
    onResult: (r) => void results.push(r),
  });
  const by = (id: string) => results.find((r) => r.itemId === id)!;
  assert.equal(by('same').status, 'ok');
  assert.equal(by('same').bytes, 100_000);
  assert.equal(by('same').sha256, createHash('sha256').update('x'.repeat(100_000)).digest('hex'));
  for (const id of ['admin', 'outside']) {
    assert.equal(by(id).status, 'failed', id);
    assert.match(by(id).reason, /outside the node's GOPROXY paths/, id);
  }
  assert.deepEqual(adminHits, [], 'the node’s other routes never got a request (nor its auth header)');
  assert.equal(by('cross').status, 'failed');
  assert.match(by('cross').reason, /another origin/);
  assert.equal(otherHits, 0, 'the other origin was never contacted');
  // Every fetch says it is a warm-up, so the node's access log can keep it apart from demand.
  // Athens logs neither the user agent nor other headers, but logs the request id it takes from Athens-Request-ID.
  assert.deepEqual([...marks], [`${WARMUP_USER_AGENT} | 1 | modcast-warmup-<uuid>`]);
  assert.equal(new Set(athensIds).size, athensIds.length, 'one request id per request');
  assert.match(WARMUP_USER_AGENT, /^modcast-warmup\/\d+\.\d+\.\d+$/);
});
