/** A taken API port is named with what to do (MODCAST_ERR_PORT_IN_USE), for `serve` and for `demo --serve --port`. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dirs: string[] = [];
const blockers: Server[] = [];
after(() => {
  for (const b of blockers) b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function takenPort(): Promise<number> {
  const s = createServer();
  blockers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as { port: number }).port;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'modcast-port-'));
  dirs.push(d);
  return d;
}

test('serve and demo --serve on a taken port fail with MODCAST_ERR_PORT_IN_USE and the way out', async () => {
  const port = await takenPort();
  const serve = await runCli(['--data-dir', tempDir(), 'serve', '--port', String(port), '--no-scheduler']);
  assert.equal(serve.code, 1);
  assert.match(serve.stderr, new RegExp(`modcast: MODCAST_ERR_PORT_IN_USE: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use .*pass --port <n> \\(0 = any free port\\)`));
  assert.doesNotMatch(serve.stderr, /EADDRINUSE/);

  // The demo's --port reaches its server: a small demo, then the same clear failure on that port.
  const demo = await runCli(['--data-dir', tempDir(), 'demo', '--days', '2', '--modules', '20', '--rate', '5', '--serve', '--port', String(port)]);
  assert.equal(demo.code, 1, demo.stdout);
  assert.match(demo.stdout, /scored \d+ module-versions/);
  assert.match(demo.stderr, new RegExp(`MODCAST_ERR_PORT_IN_USE: cannot listen on 127\\.0\\.0\\.1:${port}`));
});
