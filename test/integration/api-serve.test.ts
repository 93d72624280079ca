/**
 * `modcast serve` for real: a child process listening on a port (dashboard, docs, ingest over HTTP, SIGTERM exits
 * cleanly and releases the store), and graceful shutdown in process: a request in flight when close() is called
 * still completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import type { ChildProcess } from 'node:child_process';
import { spawnCli } from '../helpers/cli.js';
import { testConfig } from '../helpers/store.js';
import { TOKEN } from '../helpers/api.js';
import { startServer } from '../../src/cli/serve.js';
import { createLogger } from '../../src/lib/logger.js';
import { renderLine } from '../../src/demo/formats.js';

const RECENT = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
const LINE = (i: number) =>
  renderLine(
    {
      // Recent: this store belongs to a `modcast serve` process, whose TTLs run (an old fixed day would expire).
      ts: RECENT + i * 1000, node: 'n1', region: 'eu', module: 'github.com/acme/served', version: 'v1.0.0',
      kind: 'zip', status: 200, bytes: 10, durationMs: 3, cacheStatus: 'hit', clientIp: '10.1.1.1',
    },
    'nginx',
  );

/** Starts `modcast serve --port 0` and resolves with its URL once it listens. */
async function serveProcess(dir: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawnCli(['--data-dir', dir, 'serve', '--port', '0'], { MODCAST_API_TOKENS: TOKEN });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 90 s: ${err}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/\S+?) /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no exit within 30 s of SIGTERM')), 30_000);
  });
  try {
    const [code] = (await Promise.race([exited, timeout])) as [number | null];
    return code;
  } finally {
    clearTimeout(timer);
  }
}

test('modcast serve: dashboard, docs and HTTP ingest on a real port; SIGTERM exits 0 and frees the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-serve-'));
  try {
    const first = await serveProcess(dir);
    try {
      const health = await fetch(`${first.url}/healthz`);
      assert.equal(health.status, 200);
      const page = await fetch(`${first.url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="app.js"><\/script>/);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
      const js = await fetch(`${first.url}/app.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      assert.ok((await js.arrayBuffer()).byteLength > 100_000, 'ECharts is bundled');
      const docs = await fetch(`${first.url}/docs`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);
      const body = gzipSync(Array.from({ length: 120 }, (_, i) => LINE(i)).join('\n'));
      const ingest = await fetch(`${first.url}/v1/ingest?node=n1&region=eu`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain', 'content-encoding': 'gzip', 'idempotency-key': 'serve-1' },
        body,
      });
      assert.equal(ingest.status, 200, await ingest.clone().text());
      assert.equal(((await ingest.json()) as { accepted: number }).accepted, 120);
      const top = (await (await fetch(`${first.url}/v1/top?window=1d`)).json()) as { items: { key: string; actual: number }[] };
      assert.deepEqual(top.items.map((i) => [i.key, i.actual]), [['github.com/acme/served', 120]]);
    } finally {
      assert.equal(await stop(first.child), 0, first.stderr());
    }
    assert.doesNotMatch(first.stderr(), /"level":(50|60)/, 'no errors logged');
    // The embedded store was closed: a new process can open the same data directory.
    const second = await serveProcess(dir);
    try {
      const ready = await fetch(`${second.url}/readyz`);
      assert.equal(ready.status, 200);
      const top = (await (await fetch(`${second.url}/v1/top?window=1d`)).json()) as { items: { actual: number }[] };
      assert.equal(top.items[0]?.actual, 120, 'what was ingested survived the restart');
    } finally {
      assert.equal(await stop(second.child), 0, second.stderr());
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('graceful shutdown: a request in flight when close() starts still completes; then the port is closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-drain-'));
  const config = testConfig(dir, { api: { port: 0, tokens: [TOKEN] } });
  const server = await startServer({ config, logger: createLogger('silent') }, { scheduler: false, dashboard: false });
  try {
    const url = new URL(server.url);
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/v1/ingest?node=n1&region=eu&format=nginx',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
    });
    const response = once(req, 'response');
    req.write(`${LINE(0)}\n`);
    await new Promise((r) => setTimeout(r, 200)); // the request is now being read by the handler
    const closing = server.close();
    for (let i = 1; i < 50; i++) req.write(`${LINE(i)}\n`);
    req.end();
    const [res] = (await response) as [import('node:http').IncomingMessage];
    let text = '';
    for await (const chunk of res) text += chunk;
    assert.equal(res.statusCode, 200, text);
    assert.equal(JSON.parse(text).accepted, 50);
    await closing;
    await assert.rejects(fetch(`${server.url}/healthz`), 'no longer listening');
    await assert.rejects(server.store.client.query({ query: 'SELECT 1' }), 'the store is closed');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
