/**
 * The executor's request contract against real HTTP servers with chosen behaviour: the per-request timeout bounds
 * the whole request (a body that keeps trickling in does not escape it), aborting a run ends its requests in
 * flight at once, error bodies are not hashed (and a large one does not hold the connection), bodies of many
 * chunks hash to their sha256 on a node that asks for hashes (`hashBodies`) and are only counted on one that does
 * not, and overlapping runs fetch one URL once.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { executeWarmup, type WarmRequest, type WarmResult } from '../../src/warmup/executor.js';
import { targetOf, type WarmTarget } from '../../src/warmup/fleet.js';
import { FleetNodeSchema } from '../../src/config.js';

const servers: Server[] = [];

after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const s = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    handler(req, res);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits };
}

function targetAt(url: string, over: Partial<{ requestTimeoutMs: number; maxConcurrency: number; hashBodies: boolean }> = {}): WarmTarget {
  return targetOf(FleetNodeSchema.parse({ name: 'n', region: 'r', baseUrl: url, maxRequestsPerSecond: 1000, ...over }), {});
}

function requestFor(path: string, itemId = path): WarmRequest {
  return { itemId, module: 'github.com/a/b', version: 'v1.0.0', endpoint: 'zip', path, expectedBenefit: 1 };
}

async function run(target: WarmTarget, paths: string[], extra: { signal?: AbortSignal; retry?: { attempts: number; baseMs: number; maxMs: number } } = {}): Promise<WarmResult[]> {
  const results: WarmResult[] = [];
  await executeWarmup({ target, requests: paths.map((p) => requestFor(p)), onResult: (r) => void results.push(r), random: () => 0, ...extra });
  return results;
}

test('the timeout bounds the whole request: a body still trickling in after it fails the attempt, which is retried', async () => {
  // Headers at once, then 1 byte every 50 ms: no gap reaches an idle timeout, but the whole body takes 5 s.
  const node = await listen((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    let sent = 0;
    const t = setInterval(() => {
      res.write('x');
      if (++sent === 100) {
        clearInterval(t);
        res.end();
      }
    }, 50);
    res.on('close', () => clearInterval(t));
  });
  const [r] = await run(targetAt(node.url, { requestTimeoutMs: 300 }), ['/drip'], { retry: { attempts: 2, baseMs: 10, maxMs: 10 } });
  assert.equal(r!.status, 'failed');
  assert.match(r!.reason, /timeout/);
  assert.equal(r!.attempts, 2);
  assert.equal(node.hits.get('/drip'), 2, 'the timed-out attempt was retried');
});

test("aborting the run ends its requests in flight at once, not at their timeout", async () => {
  const node = await listen(() => undefined); // never answers
  const ac = new AbortController();
  const started = performance.now();
  setTimeout(() => ac.abort(), 100);
  const results = await run(targetAt(node.url, { requestTimeoutMs: 60_000 }), ['/a', '/b', '/c'], { signal: ac.signal });
  const elapsed = performance.now() - started;
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => r.status === 'skipped'), results.map((r) => `${r.status}: ${r.reason}`).join('; '));
  assert.ok(results.every((r) => /abort/.test(r.reason)));
  assert.ok(elapsed < 30_000, `the run ended ${elapsed.toFixed(0)} ms after it started, not at the 60 s timeout`);
});

test('error bodies are not hashed; a large one is cut off and the status still decides (503 retried, 404 not)', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'e');
  const node = await listen((req, res) => {
    if (req.url === '/gone') res.writeHead(404).end('not found: '.repeat(20_000));
    else if (req.url === '/busy') res.writeHead(503).end(big);
    else res.writeHead(200).end('fine');
  });
  const results = await run(targetAt(node.url, { maxConcurrency: 1, hashBodies: true }), ['/gone', '/busy', '/ok'], { retry: { attempts: 3, baseMs: 5, maxMs: 5 } });
  const by = new Map(results.map((r) => [r.path, r]));
  assert.deepEqual([by.get('/gone')!.status, by.get('/gone')!.httpStatus, by.get('/gone')!.attempts, by.get('/gone')!.sha256], ['not_found', 404, 1, '']);
  assert.deepEqual([by.get('/busy')!.status, by.get('/busy')!.httpStatus, by.get('/busy')!.attempts, by.get('/busy')!.bytes], ['failed', 503, 3, 0]);
  assert.equal(node.hits.get('/gone'), 1);
  assert.equal(node.hits.get('/busy'), 3);
  assert.equal(by.get('/ok')!.sha256, createHash('sha256').update('fine').digest('hex'), 'the connection after the cut-off still serves');
});

test('a body of many chunks is counted and hashed whole when the node asks for hashes, only counted when not', async () => {
  const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(10_000 + i, i));
  const node = await listen((_req, res) => {
    res.writeHead(200);
    let i = 0;
    const more = () => {
      if (i === parts.length) return void res.end();
      res.write(parts[i++]);
      setImmediate(more);
    };
    more();
  });
  const [r] = await run(targetAt(node.url, { hashBodies: true }), ['/chunks']);
  const whole = Buffer.concat(parts);
  assert.equal(r!.status, 'ok');
  assert.equal(r!.bytes, whole.length);
  assert.equal(r!.sha256, createHash('sha256').update(whole).digest('hex'));
  // The default: the same body counted, nothing hashed.
  const [plain] = await run(targetAt(node.url), ['/chunks?again']);
  assert.deepEqual([plain!.status, plain!.bytes, plain!.sha256], ['ok', whole.length, '']);
  assert.equal(node.hits.get('/chunks?again'), 1);
});

test('overlapping runs fetch a URL once: the second waits for the first, a later one reuses the recent success', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const node = await listen((_req, res) => void gate.then(() => res.writeHead(200).end('shared body')));
  const target = targetAt(node.url, { hashBodies: true });
  const first = run(target, ['/shared']);
  await new Promise((r) => setTimeout(r, 50));
  const second = run(target, ['/shared']);
  await new Promise((r) => setTimeout(r, 50));
  release();
  const [a, b] = [(await first)[0]!, (await second)[0]!];
  const later = (await run(target, ['/shared']))[0]!;
  const sha = createHash('sha256').update('shared body').digest('hex');
  assert.deepEqual([a.status, a.sha256, a.attempts], ['ok', sha, 1]);
  for (const other of [b, later]) {
    assert.deepEqual([other.status, other.sha256, other.attempts], ['ok', sha, 0]);
    assert.match(other.reason, /overlapping run/);
  }
  assert.equal(node.hits.get('/shared'), 1);
});

test('a failed fetch is not remembered: the next run fetches the URL again', async () => {
  let fail = true;
  const node = await listen((_req, res) => void (fail ? res.writeHead(500).end() : res.writeHead(200).end('now')));
  const target = targetAt(node.url);
  const [a] = await run(target, ['/flaky'], { retry: { attempts: 1, baseMs: 1, maxMs: 1 } });
  fail = false;
  const [b] = await run(target, ['/flaky'], { retry: { attempts: 1, baseMs: 1, maxMs: 1 } });
  assert.equal(a!.status, 'failed');
  assert.deepEqual([b!.status, b!.attempts], ['ok', 1]);
  assert.equal(node.hits.get('/flaky'), 2);
});
