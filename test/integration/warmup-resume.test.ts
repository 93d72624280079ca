/**
 * A warm-up run killed with SIGKILL mid-run resumes without fetching again what it had recorded as done:
 * the child process warms a real proxy through a slow upstream; it is killed after a few requests; the same
 * run id is then run again on the same store, and the proxy's access log shows which paths were fetched when.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectPath } from '../../src/lib/paths.js';
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { testConfig } from '../helpers/store.js';
import { readAccessLog, removeServerDir, startProxy, startUpstream, upstreamVersions, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
import { fleetOverrides } from '../helpers/warmup.js';
import { findTarget, nodeProfile } from '../../src/warmup/fleet.js';
import { planWarmup, type Demand } from '../../src/domain/plan.js';
import { runWarmup } from '../../src/warmup/run.js';
import { runItems } from '../../src/store/queries/warmups.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function warmupLines(proxy: ProxyServer) {
  return (await readAccessLog(proxy.accessLog)).filter((l) => l.user_agent.startsWith('modcast-warmup'));
}

test('a run killed with SIGKILL resumes without refetching what it recorded as done', async () => {
  const upstream: RunningServer = await startUpstream({ latencyMs: 120 });
  const proxy: ProxyServer = await startProxy(upstream.url);
  cleanups.push(async () => {
    await proxy.stop();
    await upstream.stop();
    removeServerDir(proxy);
    removeServerDir(upstream);
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'modcast-resume-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const overrides = fleetOverrides([{ name: 'n1', baseUrl: proxy.url, maxConcurrency: 2, maxRequestsPerSecond: 100 }]);
  const demand: Demand[] = upstreamVersions()
    .slice(0, 24)
    .map((v) => ({ module: v.module, version: v.version, kind: 'zip', scope: 'node', expectedRequests: 1, pAny: 0.9 }));

  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('test', 'helpers', 'warmup-child.ts'), JSON.stringify({ dataDir, overrides, node: 'n1', runId: 'crash-1', demand })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let childErr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (childErr += s));
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, signal) => r(signal ?? code)));
  // Kill once the proxy has answered 10 warm-up requests (of 24): mid-run, some results recorded, some not.
  for (let i = 0; i < 600 && (await warmupLines(proxy)).length < 10; i++) {
    if (child.exitCode !== null) break;
    await sleep(25);
  }
  assert.equal(child.exitCode, null, `the child ended before it was killed: ${childErr}`);
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const before = await warmupLines(proxy);
  const config = testConfig(dataDir, overrides);
  const store = await openStore(config);
  const recorded = await runItems(store, 'crash-1');
  assert.equal(recorded.length, 24, 'every item was written as pending before the first fetch');
  const done = recorded.filter((i) => i.status === 'ok');
  assert.ok(done.length >= 1 && done.length < 24, `${done.length} items recorded done before the kill`);

  const target = findTarget(config, 'n1');
  const plan = planWarmup({ node: nodeProfile(target), demand, warm: new Set() });
  const run = await runWarmup({ store, target, runId: 'crash-1', plan, trigger: 'manual', plannedFor: Date.now() });
  assert.equal(run.status, 'done');
  assert.match(run.message, /ok/);
  const final = await runItems(store, 'crash-1');
  assert.equal(final.filter((i) => i.status === 'ok').length, 24);

  const afterResume = (await warmupLines(proxy)).slice(before.length);
  const donePaths = new Set(done.map((i) => i.path));
  const refetched = afterResume.filter((l) => donePaths.has(l.path));
  assert.deepEqual(refetched.map((l) => l.path), [], 'items recorded done were fetched again');
  assert.ok(afterResume.length <= 24 - done.length, `${afterResume.length} requests after the resume for ${24 - done.length} unfinished items`);
  console.log(`crash test: ${before.length} requests before SIGKILL, ${done.length} recorded done, ${afterResume.length} fetched on resume`);
  await store.close(); // one chDB data directory per process: the next test opens its own
});

test('a run interrupted by a graceful shutdown stays resumable and finishes on the next start', async () => {
  const upstream = await startUpstream({ latencyMs: 80 });
  const proxy = await startProxy(upstream.url);
  const dataDir = mkdtempSync(join(tmpdir(), 'modcast-interrupt-'));
  cleanups.push(async () => {
    await proxy.stop();
    await upstream.stop();
    removeServerDir(proxy);
    removeServerDir(upstream);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const config = testConfig(dataDir, fleetOverrides([{ name: 'n1', baseUrl: proxy.url, maxConcurrency: 2, maxRequestsPerSecond: 100 }]));
  const store = await openStore(config);
  cleanups.push(() => store.close());
  await migrate(store);
  const target = findTarget(config, 'n1');
  const demand: Demand[] = upstreamVersions()
    .slice(30, 46)
    .map((v) => ({ module: v.module, version: v.version, kind: 'zip', scope: 'node', expectedRequests: 1, pAny: 0.9 }));
  const plan = planWarmup({ node: nodeProfile(target), demand, warm: new Set() });
  const shutdown = new AbortController();
  let results = 0;
  const first = await runWarmup({
    store, target, runId: 'stop-1', plan, trigger: 'schedule', plannedFor: Date.now(), signal: shutdown.signal,
    onResult: () => {
      if (++results === 4) shutdown.abort();
    },
  });
  assert.equal(first.status, 'running');
  assert.match(first.message, /interrupted by shutdown/);
  const okBefore = (await runItems(store, 'stop-1')).filter((i) => i.status === 'ok');
  assert.ok(okBefore.length >= 4 && okBefore.length < 16);
  const linesBefore = (await warmupLines(proxy)).length;

  let resumedResults = 0;
  const second = await runWarmup({ store, target, runId: 'stop-1', plan, trigger: 'schedule', plannedFor: Date.now(), onResult: () => void resumedResults++ });
  assert.equal(second.status, 'done');
  assert.equal(resumedResults, 16 - okBefore.length, 'the resumed run only handles the items not done before');
  assert.equal((await runItems(store, 'stop-1')).filter((i) => i.status === 'ok').length, 16);
  const resumed = (await warmupLines(proxy)).slice(linesBefore);
  const okPaths = new Set(okBefore.map((i) => i.path));
  assert.deepEqual(resumed.filter((l) => okPaths.has(l.path)).map((l) => l.path), []);
});
