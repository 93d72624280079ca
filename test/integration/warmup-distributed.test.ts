/**
 * Warm-up tasks distributed over Kafka (`scheduler.dispatch: kafka`) on real components: a Kafka broker, real Go
 * proxies, chDB in this process (the scheduler and the results consumer) and `modcast warmup-worker` child
 * processes. A dispatched run is fetched once per URL by the workers and finished in the store; a worker killed
 * mid-task is replaced by another that skips what the first already finished; forged or unreadable tasks fetch
 * nothing outside the configured GOPROXY paths and are dead-lettered with their bytes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { goModDownload, removeServerDir, startProxy, startUpstream, type ProxyServer, type RunningServer } from '../helpers/goproxy.js';
import { ingestAccessLog, seedPredictionsFromEvents } from '../helpers/warmup.js';
import { kafkaOverrides, startTestBroker, testKafkaClient, uniqueName, type TestBroker } from '../helpers/kafka.js';
import { waitFor } from '../helpers/kafka-logs.js';
import { spawnCli } from '../helpers/cli.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { readRun, runItems } from '../../src/store/queries/warmups.js';
import { WarmupDispatcher, WarmupResultsConsumer, resultsGroupId, waitForRun } from '../../src/warmup/dispatch.js';
import { findTarget } from '../../src/warmup/fleet.js';
import { planForNode } from '../../src/warmup/demand.js';
import { withAdmin } from '../../src/kafka/topics.js';
import { createLogger } from '../../src/lib/logger.js';
import type { KafkaClient, ConsumedMessage } from '../../src/kafka/types.js';

let broker: TestBroker;
let upstream: RunningServer;
let slowUpstream: RunningServer;
let n0: ProxyServer;
let n1: ProxyServer;
let n2: ProxyServer;
let n3: ProxyServer;
let n4: ProxyServer;
let ts: TestStore;
let kafka: KafkaClient;
let scheduler: Scheduler;
let resultsConsumer: WarmupResultsConsumer;
let configFile: string;
const workers = new Set<ChildProcess>();

function startWorker(): ChildProcess {
  const child = spawnCli(['--config', configFile, 'warmup-worker', '--concurrency', '4']);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.on('exit', (code, signal) => {
    workers.delete(child);
    if (code !== 0 && signal === null) console.error(`warmup-worker exited with ${code}: ${err}`);
  });
  workers.add(child);
  return child;
}

async function stopWorker(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** Request counts per path at a proxy, GOPROXY paths only. */
async function fetchedPaths(proxy: RunningServer): Promise<Map<string, number>> {
  const { byPath } = await proxy.stats();
  return new Map(Object.entries(byPath).filter(([p]) => p.includes('/@v/') || p.endsWith('/@latest')));
}

/** Messages of a topic from the beginning (throwaway group), until `enough` says so. */
async function readTopicUntil(topic: string, enough: (msgs: ConsumedMessage[]) => boolean): Promise<ConsumedMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), sessionTimeoutMs: 6000 });
  const got: ConsumedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe([topic], { fromBeginning: true });
  await consumer.run(async (batch, control) => {
    got.push(...batch.messages);
    control.resolve(batch.messages[batch.messages.length - 1]!.offset);
  });
  try {
    await waitFor(`messages on ${topic}`, () => enough(got), 30_000, () => got.length);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const json = (m: ConsumedMessage) => JSON.parse(m.value!.toString()) as Record<string, unknown>;

const okItems = (runId: string) => count(ts.store, `SELECT count() FROM warmup_items FINAL WHERE run_id = {runId:String} AND status = 'ok'`, { runId });

before(async () => {
  broker = await startTestBroker();
  upstream = await startUpstream({ latencyMs: 5 });
  // n3's upstream is a slow WAN: its run lasts long enough to kill a worker in the middle of it.
  slowUpstream = await startUpstream({ latencyMs: 120 });
  [n0, n1, n2, n3, n4] = await Promise.all([
    startProxy(upstream.url),
    startProxy(upstream.url),
    startProxy(upstream.url),
    startProxy(slowUpstream.url),
    startProxy(upstream.url),
  ]);
  const node = (name: string, region: string, baseUrl: string, extra: object = {}) => ({ name, region, baseUrl, software: 'goproxy', maxConcurrency: 4, ...extra });
  const overrides = {
    ...kafkaOverrides(broker.brokers),
    regions: [
      { name: 'eu', timeZone: 'Europe/Berlin' },
      { name: 'us', timeZone: 'America/New_York' },
      // On holiday for days: the scheduler's tick (last test) never warms this region by itself.
      { name: 'ap', timeZone: 'Asia/Tokyo', holidays: [-1, 0, 1, 2].map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10)) },
    ],
    fleet: {
      nodes: [
        node('n1', 'eu', n1.url),
        node('n2', 'eu', n2.url),
        node('n3', 'us', n3.url, { maxConcurrency: 2, maxRequestsPerSecond: 8 }),
        node('n4', 'ap', n4.url),
      ],
    },
    // No release spreading by the tick either (every module would count as hot and new here).
    scheduler: { dispatch: 'kafka', hotModuleMinRequests: 1_000_000 },
  };
  ts = await openTestStore(overrides);
  configFile = join(ts.dir, 'worker.json');
  const { dataDir: _ignored, ...workerConfig } = overrides as Record<string, unknown>;
  writeFileSync(configFile, JSON.stringify({ ...workerConfig, logLevel: 'warn' }));
  kafka = testKafkaClient(ts.config.kafka);

  // History: the go command downloaded the module set through n0 (not a warm-up target); every version it
  // fetched is predicted fleet-wide, so n1, n2 and n3 each have the whole set to warm.
  const cold = await goModDownload(n0.url);
  assert.equal(cold.exitCode, 0, cold.stderr);
  await ingestAccessLog(ts.store, ts.config, n0.accessLog, 'n0');
  await seedPredictionsFromEvents(ts.store, 'pred-d', 'n0', { windowHours: 24 * 9 });
  // The scheduler is not started: its minute tick would warm on its own (business hours, new versions) while
  // this file checks exact fetch counts. The results consumer it would start runs here instead.
  scheduler = createScheduler({ config: ts.config, store: ts.store, logger: createLogger('silent'), kafka });
  resultsConsumer = new WarmupResultsConsumer({ store: ts.store, kafka, config: ts.config, logger: createLogger('silent') });
  await resultsConsumer.start();
});

after(async () => {
  await Promise.all([...workers].map((w) => stopWorker(w, 'SIGKILL')));
  await resultsConsumer?.stop();
  await scheduler?.stop();
  await Promise.all([n0, n1, n2, n3, n4, upstream, slowUpstream].filter(Boolean).map((s) => s.stop()));
  for (const s of [n0, n1, n2, n3, n4, upstream, slowUpstream]) if (s) removeServerDir(s);
  await ts?.cleanup();
  await broker?.stop();
});

test('a run dispatched to two workers is fetched once per URL and finished in the store', async () => {
  startWorker();
  startWorker();
  const res = await scheduler.triggerWarmup({ region: 'eu', wait: true });
  assert.equal(res.runs.length, 2);
  for (const [run, proxy] of [[res.runs.find((r) => r.node === 'n1')!, n1], [res.runs.find((r) => r.node === 'n2')!, n2]] as const) {
    assert.equal(run.status, 'done', `${run.node}: ${run.message}`);
    assert.ok(run.items >= 30, `${run.items} versions planned for ${run.node}`);
    const items = await runItems(ts.store, run.runId);
    assert.ok(items.length > 0);
    assert.deepEqual([...new Set(items.map((i) => i.status))], ['ok'], `${run.node}: every item fetched`);
    const fetched = await fetchedPaths(proxy);
    assert.deepEqual([...fetched.keys()].sort(), items.map((i) => i.path).sort(), `${run.node} served exactly the planned paths`);
    assert.deepEqual([...new Set(fetched.values())], [1], `${run.node}: no URL fetched twice`);
    const rec = (await readRun(ts.store, run.runId))!;
    assert.equal(rec.itemsDone, items.length);
    assert.ok(rec.bytes > 0);
  }
  // The warm-up did what it is for: the go command now finds n2's storage warm (no upstream fetch).
  const before = (await upstream.stats()).requests;
  const warm = await goModDownload(n2.url);
  assert.equal(warm.exitCode, 0, warm.stderr);
  assert.equal((await upstream.stats()).requests, before, 'n2 served the module set from its storage');
});

test('a worker killed mid-task: another takes the task over and skips what the first finished', async (t) => {
  for (const w of [...workers]) await stopWorker(w, 'SIGTERM');
  const first = startWorker();
  const res = await scheduler.triggerWarmup({ node: 'n3' });
  const runId = res.runs[0]!.runId;
  assert.equal(res.runs[0]!.status, 'dispatched');
  const planned = res.runs[0]!.items;
  await waitFor('the first worker to store some results', async () => (await okItems(runId)) >= 12);
  await stopWorker(first, 'SIGKILL');
  // What the killed worker finished and reported is stored once its last results are consumed.
  let done = await okItems(runId);
  for (let settled = 0; settled < 6; ) {
    await sleep(250);
    const now = await okItems(runId);
    settled = now === done ? settled + 1 : 0;
    done = now;
  }
  assert.ok(done < planned, `the kill came before the end of the run (${done} of ${planned} done)`);

  startWorker();
  const final = await waitForRun(ts.store, runId);
  assert.equal(final.status, 'done', final.message);
  const items = await runItems(ts.store, runId);
  assert.deepEqual([...new Set(items.map((i) => i.status))], ['ok']);
  const fetched = await fetchedPaths(n3);
  assert.deepEqual([...fetched.keys()].sort(), items.map((i) => i.path).sort());
  const twice = [...fetched.values()].filter((n) => n > 1).length;
  t.diagnostic(`${items.length} requests; ${done} done before the kill; ${twice} fetched again after the takeover`);
  // Only requests in flight or not yet reported at the kill (concurrency 2, results sent every 250 ms at 8 req/s)
  // are fetched again; without the progress record all `done` would be.
  assert.ok(twice <= 6, `${twice} URLs fetched twice after the takeover (${done} were done before the kill)`);
});

test('forged and unreadable tasks fetch nothing outside configured GOPROXY paths and are dead-lettered', async () => {
  if (workers.size === 0) startWorker();
  await n1.resetStats();
  const producer = kafka.producer();
  await producer.connect();
  const garbage = Buffer.from('{"v":1,"type":"warmup-task","runId":');
  const forged = {
    v: 1, type: 'warmup-task', runId: 'forged-run', node: 'n1', part: 0, parts: 1, notAfter: Date.now() + 3_600_000, maxBytes: 1e9, issuedAt: Date.now(),
    requests: [
      { module: 'example.com/../../etc', version: 'v1.0.0', endpoint: 'zip', expectedBenefit: 1 },
      { module: 'github.com/Azure/go-autorest', version: 'v1.0.0/../../x', endpoint: 'mod', expectedBenefit: 1 },
      // Listed twice: one item, one result, and the task still completes (no redelivery loop).
      { module: 'example.com/../../etc', version: 'v1.0.0', endpoint: 'zip', expectedBenefit: 1 },
    ],
  };
  const unknownNode = { ...forged, runId: 'forged-run-2', node: 'evil.example.com:80', requests: [{ module: 'github.com/pkg/errors', version: 'v0.9.1', endpoint: 'zip', expectedBenefit: 1 }] };
  await producer.send([
    {
      topic: ts.config.kafka.topics.warmupTasks,
      messages: [
        { key: 'n1', value: garbage },
        { key: 'n1', value: Buffer.from(JSON.stringify(forged)) },
        { key: 'evil', value: Buffer.from(JSON.stringify(unknownNode)) },
      ],
    },
  ]);
  await producer.disconnect();

  const fromTasks = (m: ConsumedMessage) => json(m).topic === ts.config.kafka.topics.warmupTasks;
  const dead = await readTopicUntil(ts.config.kafka.topics.dlq, (msgs) => msgs.some(fromTasks));
  const letter = json(dead.find(fromTasks)!) as { value: string; error: string };
  assert.equal(Buffer.from(letter.value, 'base64').toString(), garbage.toString(), 'the original bytes are kept');
  assert.match(letter.error, /warm-up task/);

  const forgedResults = (msgs: ConsumedMessage[]) =>
    msgs.map(json).filter((m) => String(m.runId).startsWith('forged-run')) as { runId: string; results: { status: string; reason: string }[] }[];
  const results = forgedResults(await readTopicUntil(ts.config.kafka.topics.warmupResults, (msgs) => forgedResults(msgs).length >= 2));
  const statuses = results.flatMap((m) => m.results.map((r) => `${m.runId}:${r.status}:${r.reason.split(':')[0]}`)).sort();
  assert.deepEqual(statuses, ['forged-run-2:skipped:node "evil.example.com', 'forged-run:skipped:invalid request', 'forged-run:skipped:invalid request'].sort());
  assert.equal((await fetchedPaths(n1)).size, 0, 'no request reached the node');
  const lag = () => withAdmin(kafka, (admin) => admin.groupLag(resultsGroupId(ts.config), [ts.config.kafka.topics.warmupResults]));
  await waitFor('the results consumer to take every result', async () => (await lag()) === 0, 30_000, lag);
  assert.equal(await count(ts.store, `SELECT count() FROM warmup_items WHERE run_id LIKE 'forged-run%'`), 0, 'results of runs the scheduler never made are not stored');
});

test('a started scheduler stores the workers\' results itself (its own results consumer)', async () => {
  if (workers.size === 0) startWorker();
  await resultsConsumer.stop();
  await scheduler.start();
  const res = await scheduler.triggerWarmup({ node: 'n4', maxItems: 5 });
  const run = res.runs[0]!;
  assert.equal(run.status, 'dispatched', run.message);
  const final = await waitForRun(ts.store, run.runId);
  assert.equal(final.status, 'done', final.message);
  assert.equal(final.itemsDone, final.itemsPlanned);
  assert.ok(final.itemsPlanned > 0);
});

test('dispatching a run that is already with the workers sends nothing again', async () => {
  const target = findTarget(ts.config, 'n4');
  const { plan } = await planForNode(ts.store, ts.config, target, Date.now(), { maxItems: 3 });
  assert.ok(plan.items.length > 0, 'n4 still has versions to warm');
  const taskCount = async () =>
    (await withAdmin(kafka, (a) => a.describe([ts.config.kafka.topics.warmupTasks])))[0]!.partitions.reduce((s, p) => s + p.high, 0);
  const before = await taskCount();
  const dispatcher = new WarmupDispatcher({ store: ts.store, kafka, config: ts.config, logger: createLogger('silent') });
  const opts = { store: ts.store, target, runId: 'release:twice:n4', plan, trigger: 'release' as const, plannedFor: Date.now(), notAfter: Date.now() + 3_600_000 };
  const first = await dispatcher.dispatch(opts);
  const second = await dispatcher.dispatch(opts);
  await dispatcher.close();
  assert.equal(first.status, 'dispatched');
  assert.ok(['dispatched', 'done'].includes(second.status), second.status);
  assert.equal((await waitForRun(ts.store, opts.runId)).status, 'done');
  assert.equal((await taskCount()) - before, 1, 'one task message for the run, not two');
});
