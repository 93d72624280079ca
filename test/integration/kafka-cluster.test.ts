/**
 * The Kafka path on a real 3-broker KRaft cluster (topics with replication factor 3, min.insync.replicas 2, the
 * shipper's acks=all): the leader of the busiest partition is killed with SIGKILL mid-stream and restarted later, a
 * second ingestor joins the group and leaves again — every line is stored exactly once, and the group's rebalances
 * show in the ingestor's log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestKafkaCluster, type TestKafkaCluster } from '../helpers/kafka.js';
import { GrowingLog, appendOverTime, waitFor } from '../helpers/kafka-logs.js';
import { KafkaScenario, nodesLike } from '../helpers/kafka-scenario.js';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { withAdmin } from '../../src/kafka/topics.js';
import type { Ingestor } from '../../src/ingest/consumer.js';

let cluster: TestKafkaCluster;
let ts: TestStore;

before(async () => {
  [cluster, ts] = await Promise.all([startTestKafkaCluster(3), openTestStore()]);
});

after(async () => {
  await ts?.cleanup();
  await cluster?.stop();
});

test('leader of a busy partition killed -9 and restarted, an ingestor joining and leaving: 0 lost, 0 duplicated', { timeout: 240_000 }, async (t) => {
  const sc = await KafkaScenario.create(t, cluster, ts, 'kc', { replicationFactor: 3, partitions: 4 });
  const access = sc.config.kafka.topics.access;
  // The test's own admin calls meet the killed broker and metadata still settling: each is retried for a while.
  const settled = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (i >= 60) throw e;
        await sleep(500);
      }
    }
  };
  const describe = () => settled(() => withAdmin(sc.client, (a) => a.describe([access])).then(([d]) => d!.partitions));
  const groupLag = () => settled(() => sc.groupLag());
  // Topics were created with leaders waited for (no kafkajs waitForLeaders): every partition on all three brokers.
  for (const p of await describe()) {
    assert.equal(p.replicas.length, 3, `partition ${p.partition} replicas ${p.replicas}`);
    assert.ok(p.leader >= 1, `partition ${p.partition} has a leader`);
  }

  const lines: string[] = [];
  const logA = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const a = await sc.ingest(1000, undefined, logA);
  const linesB: string[] = [];
  const logB = pino({ level: 'info' }, { write: (s: string) => void linesB.push(s) });
  const log = new GrowingLog(mkdtempSync(join(tmpdir(), 'modcast-kc-logs-')), { name: 'kc-1', region: 'eu', timeZone: 'UTC' }, { seed: 21, malformedEvery: 50 });
  sc.ship(log);

  let killed = -1;
  let busiest = -1;
  let b: Ingestor | undefined;
  let restarted: Promise<void> | undefined;
  let leftAt = Infinity;
  const t0 = Date.now();
  const phases: string[] = [];
  const phase = (what: string) => phases.push(`${what} +${((Date.now() - t0) / 1000).toFixed(1)}s`);
  // About 25 s of traffic; the faults happen while lines keep coming.
  await appendOverTime([log], 16_000, 200, 250, async (step) => {
    if (step === 10) {
      const parts = await describe();
      const top = parts.reduce((x, y) => (y.high > x.high ? y : x));
      busiest = top.partition;
      killed = top.leader;
      await cluster.killNode(killed);
      phase(`killed broker ${killed}`);
    }
    if (step === 20) {
      b = await sc.ingest(1000, undefined, logB);
      phase('second ingestor started');
    }
    if (step === 40 && b) {
      // It leaves only once it has taken part: assigned partitions and stored batches of its own.
      const joined = b;
      await waitFor('the second ingestor storing batches', () => joined.stats.batches > 0, 60_000, () => joined.stats);
      phase('second ingestor stored batches');
      leftAt = Date.now();
      await joined.stop();
      sc.ingestors.splice(sc.ingestors.indexOf(joined), 1);
      phase('second ingestor left');
    }
    if (step === 55) {
      restarted = cluster.startNode(killed);
      phase('restarting the killed broker');
    }
  });
  assert.ok(killed >= 1, 'a leader was killed');
  await restarted;
  phase('killed broker restarted');
  const where = nodesLike('kc-');
  const state = async () => ({
    ...(await sc.state('kc-')),
    valid: log.valid,
    phases,
    partitions: await describe().catch((e: Error) => e.message),
    firstIngestorLog: lines.slice(-15).map((l) => l.slice(0, 400)),
  });
  await waitFor('every line stored and committed', async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where)) >= log.valid && (await groupLag()) === 0, 90_000, state);
  // The restarted broker caught up and is back in every ISR.
  await waitFor('the restarted broker back in sync', async () => (await describe()).every((p) => p.isr.length === 3), 60_000, state);
  phase('all stored');
  await sc.stop();

  assert.equal(await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where), log.valid, 'stored');
  assert.equal(await count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}', where), log.valid, 'distinct');
  assert.equal(await count(ts.store, 'SELECT sum(requests) FROM rollups_5m WHERE node LIKE {prefix:String}', where), log.valid, 'rolled up');
  assert.equal(await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', where), log.malformed, 'rejected');
  assert.ok(b && b.stats.batches > 0, `the second ingestor stored batches while it was a member (${JSON.stringify(b?.stats)})`);
  // The group's rebalances are in the members' logs: the second member's assignment when it joined, and the first
  // member owning every partition again after the second left. (How many rebalances the first member logs varies:
  // kafkajs stalls a member whose fetch leader died until its retries give up, and the group may drop it meanwhile.)
  const assigned = (l: string[]) => l.filter((x) => x.includes('"partitions assigned"')).map((x) => JSON.parse(x) as { time: number; assignment: Record<string, number[]> });
  const aAssigned = assigned(lines);
  const bAssigned = assigned(linesB);
  assert.ok(bAssigned.some((x) => (x.assignment[access] ?? []).length > 0), `the second member logged its assignment: ${JSON.stringify(bAssigned)}`);
  assert.ok(
    aAssigned.some((x) => x.time >= leftAt && (x.assignment[access] ?? []).length === 4),
    `the first member logged owning all 4 partitions after the second left: ${JSON.stringify(aAssigned)}\n${phases.join(', ')}`,
  );
  assert.ok(a.stats.batches > 0);
  console.log(`# kafka cluster: ${log.valid} events + ${log.malformed} rejects once; killed broker ${killed} (leader of partition ${busiest}); ${aAssigned.length} + ${bAssigned.length} assignments logged; ${phases.join(', ')}`);
});
