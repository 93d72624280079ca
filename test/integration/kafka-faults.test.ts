/**
 * Faults on the Kafka path, each ending with exact counts (0 lost, 0 duplicated), on a real broker of this file's
 * own (it is stopped and restarted here) and real chDB stores:
 * - kill -9 of the shipper (a child process) right after the broker acknowledged a batch and before its checkpoint,
 *   then at an arbitrary moment, restarted each time;
 * - kill -9 of the ingestor (a child process with its own store) after a batch is stored and before it is committed;
 * - the broker stopped for 10 s and restarted while logs keep growing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, type TestBroker } from '../helpers/kafka.js';
import { GrowingLog, appendOverTime, waitFor } from '../helpers/kafka-logs.js';
import { KafkaScenario, nodesLike } from '../helpers/kafka-scenario.js';
import { spawnKafkaChild, childExit } from '../helpers/kafka-child.js';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { metricsRegistry } from '../../src/lib/metrics-registry.js';

let broker: TestBroker;
let ts: TestStore;

before(async () => {
  broker = await startTestBroker({ own: true });
  ts = await openTestStore();
});

after(async () => {
  await ts?.cleanup();
  await broker?.stop();
});

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `modcast-${name}-`));

async function storeCounts(prefix: string) {
  const where = nodesLike(prefix);
  return {
    stored: await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where),
    distinct: await count(ts.store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}', where),
    rejected: await count(ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', where),
    rolledUp: await count(ts.store, 'SELECT sum(requests) FROM rollups_5m WHERE node LIKE {prefix:String}', where),
  };
}

test('kill -9 of the shipper between ack and checkpoint, and at a random moment: restarted, every line once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'shipkill');
  const log = new GrowingLog(tmp('logs'), { name: 'shipkill-1', region: 'eu', timeZone: 'UTC' }, { seed: 11, malformedEvery: 40 });
  const ingestor = await sc.ingest(1000);
  const configFile = sc.configFile(tmp('shipper'));
  const args = { patterns: [`${log.path}*`], node: log.node.name, region: log.node.region, batchMessages: 500 };
  const state = async () => ({ ...(await sc.state('shipkill-')), lines: log.lines, valid: log.valid });

  log.append(4000);
  // Killed by itself right after the broker acknowledged its 2nd batch: that batch's checkpoint is never written.
  const first = await childExit(spawnKafkaChild('ship', configFile, { ...args, crashAfter: 2 }));
  assert.equal(first.signal, 'SIGKILL');
  log.append(2000);
  const second = spawnKafkaChild('ship', configFile, args);
  const secondExit = childExit(second);
  await waitFor('the restarted shipper making progress', async () => (await storeCounts('shipkill-')).stored > 3000, 30_000, state);
  log.append(1000);
  second.kill('SIGKILL');
  assert.equal((await secondExit).signal, 'SIGKILL');
  log.append(1000);
  const third = spawnKafkaChild('ship', configFile, args);
  const thirdExit = childExit(third);
  await waitFor('every line stored', async () => (await storeCounts('shipkill-')).stored === log.valid && (await sc.groupLag()) === 0, 60_000, state);
  third.kill('SIGTERM');
  const end = await thirdExit;
  assert.equal(end.code, 0, 'graceful stop on SIGTERM');
  await sc.stop();

  assert.deepEqual(await storeCounts('shipkill-'), { stored: log.valid, distinct: log.valid, rejected: log.malformed, rolledUp: log.valid });
  assert.ok(ingestor.stats.duplicates > 0, `resent lines were dropped by the ingestor (${ingestor.stats.duplicates})`);
});

test('kill -9 of the ingestor after a batch is stored and before it is committed: replayed exactly once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'ingkill');
  const log = new GrowingLog(tmp('logs'), { name: 'ingkill-1', region: 'us', timeZone: 'UTC' }, { seed: 12, malformedEvery: 45 });
  // The ingestor runs in children with a store of their own (chDB: one process per data directory).
  const ingestDir = tmp('ingestor');
  await sc.crashIngestorAndReplay(log, ingestDir);

  const counted = await childExit(spawnKafkaChild('count', sc.configFile(ingestDir), { nodePrefix: 'ingkill-' }));
  assert.deepEqual(counted.stats, { stored: log.valid, distinct: log.valid, rejected: log.malformed, rolledUp: log.valid });
});

test('broker stopped for 10 s and restarted: the shipper stops reading, lag grows, then everything arrives once', async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'brokerdown');
  const log = new GrowingLog(tmp('logs'), { name: 'brokerdown-1', region: 'ap', timeZone: 'UTC' }, { seed: 13, malformedEvery: 60 });
  await sc.ingest(1000);
  sc.ship(log);
  const state = async () => ({ ...(await sc.state('brokerdown-').catch((e: Error) => ({ error: e.message }))), valid: log.valid });
  const shipLines = async () => (await metricsRegistry.getSingleMetric('modcast_ship_lines_total')!.get()).values.reduce((s, v) => s + v.value, 0);
  const lagBytes = async () => (await metricsRegistry.getSingleMetric('modcast_ship_lag_bytes')!.get()).values.find((v) => v.labels.node === log.node.name)?.value ?? 0;

  log.append(3000);
  await waitFor('first lines stored', async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', nodesLike('brokerdown-'))) === log.valid, 30_000, state);
  await broker.halt();
  const down = Date.now();
  // The log keeps growing while the broker is away.
  const writing = appendOverTime([log], 4000, 400, 900);
  // The shipper keeps reading until inFlightBatches batches are out (about one per append here), then stops.
  await sleep(4500);
  const readEarly = await shipLines();
  const lagEarly = await lagBytes();
  await sleep(Math.max(0, 10_000 - (Date.now() - down)));
  const readLate = await shipLines();
  const lagLate = await lagBytes();
  await broker.start();
  await writing;
  assert.equal(readLate, readEarly, 'no lines read while the broker cannot take them (memory stays bounded)');
  assert.ok(lagLate > lagEarly && lagEarly >= 0, `the lag metric grows while the broker is down (${lagEarly} -> ${lagLate} bytes)`);

  await waitFor('every line stored after the restart', async () => (await count(ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', nodesLike('brokerdown-'))) >= log.valid && (await sc.groupLag()) === 0, 90_000, state);
  await sc.stop();
  assert.deepEqual(await storeCounts('brokerdown-'), { stored: log.valid, distinct: log.valid, rejected: log.malformed, rolledUp: log.valid });
  assert.equal(await lagBytes(), 0);
});
