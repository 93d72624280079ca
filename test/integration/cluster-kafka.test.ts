/**
 * Kafka → ingestor → a 2-shard ClickHouse cluster (Distributed tables, foreground inserts): the ingestor, a child
 * process, kills itself with SIGKILL after a batch is stored on the shards and before its offsets are committed; the
 * restarted one replays the range with the same token and every shard drops its part of it: every event stored once
 * across the shards, rollups included.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startTestBroker, type TestBroker } from '../helpers/kafka.js';
import { startTestClickHouse, type TestClickHouse } from '../helpers/clickhouse-server.js';
import { GrowingLog, waitFor } from '../helpers/kafka-logs.js';
import { KafkaScenario, nodesLike } from '../helpers/kafka-scenario.js';
import { count, testConfig, type TestStore } from '../helpers/store.js';
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';

const CLUSTER = 'modcast_k';
let broker: TestBroker;
let ch: TestClickHouse;
let ts: TestStore;

before(async () => {
  [broker, ch] = await Promise.all([startTestBroker(), startTestClickHouse({ nodes: 2, cluster: CLUSTER })]);
  const dir = mkdtempSync(join(tmpdir(), 'modcast-ck-'));
  const config = testConfig(dir, { clickhouse: { url: ch.urls[0], database: 'modcast', cluster: CLUSTER, nodes: ch.urls } });
  const store = await openStore(config);
  await migrate(store);
  ts = { store, config, dir, cleanup: () => store.close() };
});

after(async () => {
  await ts?.cleanup();
  await Promise.all([broker?.stop(), ch?.stop()]);
});

test('ingestor killed -9 between storing a batch on the shards and committing it: every event once across shards', { timeout: 180_000 }, async (t) => {
  const sc = await KafkaScenario.create(t, broker, ts, 'ck');
  const log = new GrowingLog(mkdtempSync(join(tmpdir(), 'modcast-ck-logs-')), { name: 'ck-1', region: 'eu', timeZone: 'UTC' }, { seed: 31, malformedEvery: 45 });
  await sc.crashIngestorAndReplay(log, mkdtempSync(join(tmpdir(), 'modcast-ck-ingestor-')));

  const where = nodesLike('ck-');
  const q = (sql: string) => count(ts.store, sql, where);
  assert.deepEqual(
    {
      stored: await q('SELECT count() FROM access_events WHERE node LIKE {prefix:String}'),
      distinct: await q('SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {prefix:String}'),
      rolledUp: await q('SELECT sum(requests) FROM rollups_1h WHERE node LIKE {prefix:String}'),
      rejected: await q('SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}'),
      shards: await q('SELECT uniqExact(_shard_num) FROM access_events WHERE node LIKE {prefix:String}'),
    },
    { stored: log.valid, distinct: log.valid, rolledUp: log.valid, rejected: log.malformed, shards: 2 },
  );
});
