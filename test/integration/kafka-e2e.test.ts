/**
 * Logs → shipper → real Kafka broker → ingestors → real ClickHouse (chDB), end to end, with exact counts.
 * Two ingestors are two real members of one consumer group in this process, sharing its store (chDB holds one data
 * directory per process); the group splits the partitions between them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, uniqueName, type TestBroker } from '../helpers/kafka.js';
import { GrowingLog, appendOverTime, waitFor } from '../helpers/kafka-logs.js';
import { KafkaScenario, nodesLike } from '../helpers/kafka-scenario.js';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { AccessBatchBuilder, decodeAccessMessage, encodeAccessEvent } from '../../src/kafka/messages.js';
import { partitionOf } from '../../src/kafka/partitioner.js';
import { writeTruncatedGz, nginxLines } from '../helpers/damaged-gz.js';
import type { AccessEvent } from '../../src/domain/event.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { ingestFile } from '../../src/ingest/file-ingest.js';
import { clientSalt } from '../../src/lib/salt.js';

let broker: TestBroker;
let ts: TestStore;

before(async () => {
  broker = await startTestBroker();
  ts = await openTestStore();
});

after(async () => {
  await ts?.cleanup();
  await broker?.stop();
});


test('three nodes appended and rotated while shipping: two ingestors store every line exactly once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'e2e');
  const { config, client } = sc;
  const dir = mkdtempSync(join(tmpdir(), 'modcast-logs-'));
  const tz = 'UTC';
  const logs = [
    new GrowingLog(dir, { name: 'e2e-eu', region: 'eu', timeZone: tz }, { seed: 1, malformedEvery: 97 }),
    new GrowingLog(dir, { name: 'e2e-us', region: 'us', timeZone: tz }, { seed: 2, malformedEvery: 89 }),
    new GrowingLog(dir, { name: 'e2e-ap', region: 'ap', timeZone: tz }, { seed: 3, malformedEvery: 101 }),
  ];
  const [eu, us, ap] = logs as [GrowingLog, GrowingLog, GrowingLog];
  const ingestors = [await sc.ingest(), await sc.ingest()];
  for (const l of logs) sc.ship(l);

  await appendOverTime(logs, 6000, 300, 100, (step) => {
    // Every rotation style while lines keep coming.
    if (step === 6) {
      eu.rotateByRename();
      us.rotateByCopyTruncate();
      ap.rotateToGzip();
    }
    if (step === 13) {
      eu.rotateByCopyTruncate();
      us.rotateToGzip();
      ap.rotateByRename();
    }
  });
  // Unreadable messages straight into the topic (a batch message with a bad event among them): dead letters.
  const producer = client.producer();
  await producer.connect();
  await producer.send([{ topic: config.kafka.topics.access, messages: ['not json', '{"v":3}', '{"v":1,"src":"x"}', '{"v":2,"src":"x","node":"n","region":"r","e":[[1]]}'].map((v) => ({ key: 'garbage', value: Buffer.from(v) })) }]);
  await producer.disconnect();

  const valid = logs.reduce((s, l) => s + l.valid, 0);
  const malformed = logs.reduce((s, l) => s + l.malformed, 0);
  assert.ok(malformed > 100);
  const rows = (query: string) => ts.store.client.query({ query, query_params: nodesLike('e2e-'), format: 'JSONEachRow' }).then((r) => r.json());
  const state = async () => ({
    ...(await sc.state('e2e-')),
    // Rejected lines that were not written as garbage, and events stored twice: what went wrong, if it does.
    unexpectedRejects: await rows(`SELECT source, offset, reason, base64Decode(raw_base64) AS raw FROM rejected_events
      WHERE node LIKE {prefix:String} AND NOT startsWith(base64Decode(raw_base64), 'this is not an access log line') LIMIT 10`),
    twice: await rows(`SELECT event_id, count() AS n FROM access_events WHERE node LIKE {prefix:String} GROUP BY event_id HAVING n > 1 LIMIT 10`),
  });
  await waitFor('every line stored', async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', nodesLike('e2e-'))) >= valid, 90_000, state);
  await waitFor('all offsets committed', async () => (await sc.groupLag()) === 0, 30_000, state);
  const assignments = ingestors.map((i) => i.assignment.get(config.kafka.topics.access) ?? []);
  const shipped = await sc.stop();

  const stored = await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', nodesLike('e2e-'));
  const distinct = await count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}', nodesLike('e2e-'));
  const rolledUp = await count(ts.store, 'SELECT sum(requests) FROM rollups_5m WHERE node LIKE {prefix:String}', nodesLike('e2e-'));
  const rejectedLines = await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', nodesLike('e2e-'));
  assert.equal(stored, valid, `every valid line is an event, once: ${JSON.stringify(await state())}`);
  assert.equal(distinct, stored, 'no event stored twice');
  assert.equal(rolledUp, valid, 'the 5-minute rollup counts each event once');
  assert.equal(rejectedLines, malformed, 'every malformed line is kept as a reject, once');
  assert.equal(shipped.reduce((s, x) => s + x.events, 0), valid);
  assert.equal(shipped.reduce((s, x) => s + x.rejected, 0), malformed);
  const kafkaRejects = await count(ts.store, 'SELECT count() FROM rejected_events WHERE startsWith(source, {s:String})', { s: `kafka:${config.kafka.topics.access}/` });
  assert.equal(kafkaRejects, 4, 'each unreadable message is kept once in rejected_events');
  assert.equal(ingestors.reduce((s, i) => s + i.stats.deadLetters, 0), 4);

  // The group shared the work: disjoint, non-empty assignments, both stored events.
  const owned = assignments.map((a) => a.map((p) => `${p}`));
  assert.ok(owned.every((o) => o.length > 0), `both members own access partitions: ${JSON.stringify(owned)}`);
  assert.equal(new Set(owned.flat()).size, owned.flat().length, 'no partition owned twice');
  assert.ok(ingestors.every((i) => i.stats.events > 0));
  assert.equal(ingestors.reduce((s, i) => s + i.stats.events, 0), valid);
  assert.equal(ingestors.reduce((s, i) => s + i.stats.duplicates, 0), 0);
});

test('a truncated .gz rotation: every readable line shipped and stored, the cut last line a reject, the shipper keeps running', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'damaged');
  const dir = mkdtempSync(join(tmpdir(), 'modcast-logs-'));
  const { complete, completeLines } = await writeTruncatedGz(join(dir, 'access.log.2.gz'), 8_000, 5);
  await sc.ingest();
  sc.shipFiles(join(dir, 'access.log*'), 'damaged-1', 'eu');
  const where = nodesLike('damaged-');
  const state = () => sc.state('damaged-');
  await waitFor(
    'readable lines stored',
    async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where)) >= completeLines &&
      (await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', where)) >= 1,
    60_000,
    state,
  );
  const [stats] = await sc.stop();
  assert.equal(await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where), completeLines);
  assert.equal(await count(ts.store, "SELECT count() FROM rejected_events WHERE node LIKE {prefix:String} AND reason LIKE '%damaged%'", where), 1);
  assert.equal(await count(ts.store, 'SELECT max(offset) FROM rejected_events WHERE node LIKE {prefix:String}', where), complete);
  assert.equal(stats!.lines, completeLines + 1);
});

test('warm-up fetches in a shipped log reach warmup_events, never access_events or the rollups', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'warmlog');
  const dir = mkdtempSync(join(tmpdir(), 'modcast-logs-'));
  const lines = nginxLines(2000, 11).split('\n').filter(Boolean);
  const marked = lines.map((l, i) => (i % 4 === 0 ? l.replace('"Go-http-client/1.1"', '"modcast-warmup/0.1.0"') : l));
  writeFileSync(join(dir, 'access.log'), marked.join('\n') + '\n');
  await sc.ingest();
  sc.shipFiles(join(dir, 'access.log'), 'warmlog-1', 'eu');
  const where = nodesLike('warmlog-');
  const stored = () => count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where);
  const warm = () => count(ts.store, 'SELECT count() FROM warmup_events WHERE node LIKE {prefix:String}', where);
  await waitFor('every line stored', async () => (await stored()) >= 1500 && (await warm()) >= 500, 60_000, () => sc.state('warmlog-'));
  await sc.stop();
  assert.equal(await stored(), 1500);
  assert.equal(await warm(), 500);
  assert.equal(await count(ts.store, 'SELECT sum(requests) FROM rollups_1h WHERE node LIKE {prefix:String}', where), 1500);
});

test('ordering and keys: all events of one module are in one partition, each source in line order', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'order');
  const { config, client } = sc;
  const dir = mkdtempSync(join(tmpdir(), 'modcast-logs-'));
  const log = new GrowingLog(dir, { name: 'order-1', region: 'eu', timeZone: 'UTC' }, { seed: 9, malformedEvery: 1000 });
  log.append(8000);
  sc.ship(log);
  const partitionsOf = new Map<string, Set<number>>();
  const lastOffset = new Map<string, number>();
  let events = 0;
  let outOfOrder = 0;
  let batched = 0;
  let misplaced = 0;
  const reader = client.consumer({ groupId: uniqueName('order-reader'), sessionTimeoutMs: 6000 });
  t.after(() => reader.disconnect());
  await reader.connect();
  await reader.subscribe([config.kafka.topics.access], { fromBeginning: true });
  await reader.run(async (batch, control) => {
    for (const m of batch.messages) {
      const d = decodeAccessMessage(m.value);
      if (!d.ok) continue;
      if (d.events.length > 1) batched++;
      for (const e of d.events) {
        events++;
        const set = partitionsOf.get(e.value.module) ?? new Set<number>();
        set.add(batch.partition);
        partitionsOf.set(e.value.module, set);
        const key = `${batch.partition}|${e.src}`;
        if ((lastOffset.get(key) ?? -1) >= e.off) outOfOrder++;
        lastOffset.set(key, e.off);
        // Where a keyed message would land (Kafka's default partitioner on the module): old and new shippers agree.
        if (partitionOf(e.value.module, config.kafka.partitions) !== batch.partition) misplaced++;
      }
    }
    control.resolve(batch.messages.at(-1)!.offset);
  });
  await waitFor('all events read back', () => events >= log.valid, 60_000, () => ({ events, valid: log.valid }));
  await sc.stop();
  assert.equal(events, log.valid);
  const spread = new Set([...partitionsOf.values()].flatMap((s) => [...s]));
  assert.ok(partitionsOf.size > 50, 'many modules');
  assert.ok(spread.size > 1, 'modules spread over several partitions');
  assert.deepEqual([...partitionsOf].filter(([, s]) => s.size > 1), [], 'no module in two partitions');
  assert.equal(outOfOrder, 0, 'within a partition, one source’s lines keep their file order');
  assert.equal(misplaced, 0, 'every module in the partition its key maps to');
  assert.ok(batched > 0, 'events travel several to a message');
});

test('rolling upgrade: an old shipper’s single-event messages, then a new one resending the same lines in batches: each line once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'upgrade');
  const { config, client } = sc;
  const ingestor = await sc.ingest(300);
  const src = 'a1b2c3d4e5f6';
  const modules = ['github.com/acme/one', 'golang.org/x/text', 'example.com/three', 'github.com/acme/four', 'gopkg.in/yaml.v3'];
  const lines: { event: AccessEvent; off: number }[] = Array.from({ length: 1200 }, (_, i) => {
    const off = i * 150;
    const event: AccessEvent = {
      id: `${src}:${off}`, ts: Date.UTC(2026, 10, 20, 9) + i * 1000, node: 'upgrade-1', region: 'eu', module: modules[i % modules.length]!,
      version: `v1.0.${i}`, kind: 'zip', status: 200, bytes: 10, durationMs: 2, cacheStatus: 'hit', clientHash: '',
    };
    return { event, off };
  });
  const producer = client.producer();
  t.after(() => producer.disconnect());
  await producer.connect();
  // The old shipper (schema v1, keyed by module) acknowledged the first 700 lines before it was replaced.
  await producer.send([{ topic: config.kafka.topics.access, messages: lines.slice(0, 700).map(({ event, off }) => ({ key: event.module, value: encodeAccessEvent(event, { src, off }) })) }]);
  // The new shipper resends from an older checkpoint (line 400): batch messages with explicit partitions.
  const builders = new Map<number, AccessBatchBuilder>();
  for (const { event, off } of lines.slice(400)) {
    const p = partitionOf(event.module, config.kafka.partitions);
    const b = builders.get(p) ?? new AccessBatchBuilder(src, 'upgrade-1', 'eu');
    builders.set(p, b);
    b.add(event, off);
  }
  await producer.send([{ topic: config.kafka.topics.access, messages: [...builders].map(([partition, b]) => ({ key: src, partition, value: b.take() })) }]);

  const where = nodesLike('upgrade-');
  const state = () => sc.state('upgrade-');
  await waitFor('every line stored', async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where)) >= lines.length && (await sc.groupLag()) === 0, 60_000, state);
  await sc.stop();
  assert.equal(await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where), lines.length);
  assert.equal(await count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}', where), lines.length);
  assert.equal(ingestor.stats.duplicates, 300, 'the 300 lines both shippers sent were dropped the second time');
  assert.equal(ingestor.stats.deadLetters, 0);
});

test('ClickHouse rejecting inserts for a while: partitions pause and retry, nothing lost, nothing doubled', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'chfail');
  const dir = mkdtempSync(join(tmpdir(), 'modcast-logs-'));
  const log = new GrowingLog(dir, { name: 'chfail-1', region: 'eu', timeZone: 'UTC' }, { seed: 5, malformedEvery: 50 });
  const ingestor = await sc.ingest(500);
  sc.ship(log);
  const where = nodesLike('chfail-');
  const stored = () => count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where);
  const state = () => sc.state('chfail-');
  log.append(2000);
  await waitFor('first lines stored and committed', async () => (await stored()) === log.valid && (await sc.groupLag()) === 0, 30_000, state);
  // Every insert into these tables now fails inside ClickHouse (a CHECK that no row passes).
  const tables = ['access_events', 'rejected_events', 'ingest_batches'];
  for (const table of tables) await ts.store.client.command({ query: `ALTER TABLE ${table} ADD CONSTRAINT modcast_test_block CHECK 0` });
  try {
    const before = await stored();
    await appendOverTime([log], 3000, 500, 100);
    await waitFor('inserts failing and retried', () => ingestor.stats.retries >= 3, 30_000, state);
    assert.equal(await stored(), before, 'nothing stored while ClickHouse rejects inserts');
    assert.ok((await sc.groupLag()) > 0, 'and nothing committed');
  } finally {
    for (const table of tables) await ts.store.client.command({ query: `ALTER TABLE ${table} DROP CONSTRAINT modcast_test_block` });
  }
  await waitFor('everything stored after recovery', async () => (await sc.groupLag()) === 0 && (await stored()) >= log.valid, 60_000, state);
  await sc.stop();
  assert.equal(await stored(), log.valid);
  assert.equal(await count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}', where), log.valid);
  assert.equal(await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', where), log.malformed);
  assert.equal(await count(ts.store, 'SELECT sum(requests) FROM rollups_1h WHERE node LIKE {prefix:String}', where), log.valid);
});

test('a batch slower than the session timeout: the member is dropped, rejoins, replays the batch, stores it once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'slow', { sessionTimeoutMs: 4000 });
  const log = new GrowingLog(mkdtempSync(join(tmpdir(), 'modcast-logs-')), { name: 'slow-1', region: 'eu', timeZone: 'UTC' }, { seed: 21, malformedEvery: 70 });
  let stalled = false;
  // The first stored batch stalls past the session timeout before its commit (a long GC pause, a stuck disk).
  const ingestor = await sc.ingest(800, {
    afterInsert: async () => {
      if (stalled) return;
      stalled = true;
      await sleep(7000);
    },
  });
  sc.ship(log);
  log.append(3000);
  const where = nodesLike('slow-');
  const state = () => sc.state('slow-');
  await waitFor('the stalled batch', () => stalled, 30_000, state);
  log.append(1000);
  await waitFor('everything stored', async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where)) >= log.valid && (await sc.groupLag()) === 0, 60_000, state);
  await sc.stop();
  assert.ok(ingestor.stats.replayed >= 1, `the stalled batch was replayed after the member came back (${JSON.stringify(ingestor.stats)})`);
  assert.equal(await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where), log.valid);
  assert.equal(await count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}', where), log.valid);
  assert.equal(await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', where), log.malformed);
  assert.equal(await count(ts.store, 'SELECT sum(requests) FROM rollups_5m WHERE node LIKE {prefix:String}', where), log.valid);
});

/** `modcast ingest --file <path>` as the CLI runs it (nginx, the config's salt and mount prefixes). */
function ingest(path: string, node: string) {
  const { config } = ts;
  return ingestFile(path, {
    writer: new EventWriter(ts.store),
    node,
    region: 'eu',
    format: 'nginx',
    pathPrefixes: config.ingest.pathPrefixes,
    clientSalt: clientSalt(config),
    maxLineBytes: config.ingest.maxLineBytes,
    batchLines: 700,
  });
}

// One log read by both paths: its lines carry the same ids (node + first line of the file + byte offset), so the store
// keeps each request once, whichever path came first and whatever logrotate did to the file in between.
const stored = (node: string) => count(ts.store, 'SELECT count() FROM access_events WHERE node = {node:String}', { node });
const distinct = (node: string) => count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node = {node:String}', { node });
const rolled = (table: string, node: string) => count(ts.store, `SELECT sum(requests) FROM ${table} WHERE node = {node:String}`, { node });

test('a log ingested with --file and shipped through Kafka (either order, plain or rotated to .gz): each request stored and rolled up once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'both');
  const dir = mkdtempSync(join(tmpdir(), 'modcast-logs-'));
  // Ingested first, then shipped.
  const first = new GrowingLog(dir, { name: 'both-ingested-first', region: 'eu', timeZone: 'UTC' }, { seed: 31, malformedEvery: 97 });
  // Shipped first, rotated to .gz, then the .gz ingested.
  const second = new GrowingLog(dir, { name: 'both-shipped-first', region: 'eu', timeZone: 'UTC' }, { seed: 32, malformedEvery: 89 });
  first.append(3000);
  second.append(2500);

  const byFile = await ingest(first.path, first.node.name);
  assert.equal(byFile.events, first.valid);
  assert.equal(await stored(first.node.name), first.valid);

  const ingestor = await sc.ingest(500);
  sc.ship(first);
  sc.ship(second);
  const state = () => sc.state('both-');
  await waitFor(
    'both logs shipped and consumed',
    async () => sc.shipped(first) === first.lines && sc.shipped(second) === second.lines && (await sc.groupLag()) === 0 && (await stored(second.node.name)) >= second.valid,
    90_000,
    state,
  );
  await sc.stop();
  assert.equal(ingestor.stats.alreadyStored, first.valid, 'the shipped copy of every line ingested before was left out');

  const gz = second.rotateToGzip();
  const again = await ingest(gz, second.node.name);
  assert.equal(again.events, second.valid);
  assert.equal(again.alreadyStored, second.valid, 'every line of the rotated .gz was shipped before: left out');

  for (const log of [first, second]) {
    const node = log.node.name;
    assert.equal(await stored(node), log.valid, `${node}: each request once in access_events (${JSON.stringify(await state())})`);
    assert.equal(await distinct(node), log.valid, `${node}: no event id twice`);
    assert.equal(await rolled('rollups_5m', node), log.valid, `${node}: the 5-minute rollup counts each request once`);
    assert.equal(await rolled('rollups_1h', node), log.valid, `${node}: the hourly rollup counts each request once`);
  }
  // A rejected line is a record of bytes, not a count: each path keeps its own (see the report of issue 13).
  assert.ok((await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', nodesLike('both-'))) >= first.malformed + second.malformed);
});
