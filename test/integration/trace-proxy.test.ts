/**
 * `modcast trace` on the logs of real Go module proxies: the real go command downloads a module set through two
 * goproxy nodes (one behind a `/go/` mount), and their own access logs become one trace in time order, every
 * module version the go command fetched present on both nodes, nothing rejected.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { goModDownload, moduleSet, readAccessLog, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
import { readLogTrace, type LogTraceFileStats } from '../../src/backtest/log-trace.js';
import { DEFAULT_PATH_PREFIXES } from '../../src/domain/goproxy.js';
import type { TraceRequest } from '../../src/domain/backtest/replay.js';

let upstream: RunningServer;
let nodeA: ProxyServer;
let nodeB: ProxyServer;

before(async () => {
  upstream = await startUpstream();
  [nodeA, nodeB] = await Promise.all([startProxy(upstream.url), startProxy(upstream.url, { pathPrefix: '/go/' })]);
});

after(async () => {
  await Promise.all([nodeA, nodeB, upstream].filter(Boolean).map((s) => s.stop()));
  for (const s of [nodeA, nodeB, upstream]) if (s) removeServerDir(s);
});

test('go mod download through two real proxies: their access logs make one trace in time order, every fetched version on both nodes', async () => {
  for (const url of [nodeA.url, `${nodeB.url}/go`]) {
    const run = await goModDownload(url);
    assert.equal(run.exitCode, 0, run.stderr);
  }
  const stats: LogTraceFileStats[] = [];
  const requests: TraceRequest[] = [];
  const sources = [
    { path: nodeA.accessLog, node: 'a', region: 'eu' },
    { path: nodeB.accessLog, node: 'b', region: 'us' },
  ];
  for await (const batch of readLogTrace(sources, { format: 'auto', pathPrefixes: DEFAULT_PATH_PREFIXES, maxLineBytes: 64 * 1024 }, stats)) requests.push(...batch);

  for (const [k, s] of stats.entries()) {
    const lines = await readAccessLog(sources[k]!.path);
    const served = lines.filter((l) => (l.status >= 200 && l.status < 300) || l.status === 304);
    assert.equal(s.format, 'jsonl', `${s.node}: the proxy's JSON log`);
    assert.equal(s.rejected, 0, `${s.node}: ${JSON.stringify(s.rejects)}`);
    assert.equal(s.late, 0);
    assert.equal(s.lines, lines.length);
    assert.equal(s.requests, served.length, `${s.node}: every request served is in the trace`);
    assert.equal(s.notServed, lines.length - served.length);
  }
  assert.ok(requests.every((r, i) => i === 0 || requests[i - 1]!.ts <= r.ts), 'in time order');
  for (const node of ['a', 'b']) {
    const zips = new Set(requests.filter((r) => r.node === node && r.kind === 'zip').map((r) => `${r.module}@${r.version}`));
    for (const m of moduleSet()) assert.ok(zips.has(`${m.module}@${m.version}`), `${node}: ${m.module}@${m.version}.zip`);
    assert.equal(requests.find((r) => r.node === node)!.region, node === 'a' ? 'eu' : 'us');
  }
  // Module paths come back unescaped (the proxies saw `!burnt!sushi`).
  assert.ok(requests.some((r) => r.module === 'github.com/BurntSushi/toml'));
});
