/** scripts/clickhouse-local.sh: real server nodes from chDB's library, a 2-shard cluster, restart, loud failures. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectPath } from '../../src/lib/paths.js';
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { count, testConfig } from '../helpers/store.js';
import { startTestClickHouse, chQuery, type TestClickHouse } from '../helpers/clickhouse-server.js';

const run = promisify(execFile);
let ch: TestClickHouse;
before(async () => {
  ch = await startTestClickHouse({ nodes: 2, cluster: 'modcast_test' });
});
after(async () => {
  await ch?.stop();
});

test('two nodes answer over HTTP as one cluster of two shards with their own macros', async () => {
  assert.equal(ch.urls.length, 2);
  assert.notEqual(ch.urls[0], ch.urls[1]);
  for (const [i, url] of ch.urls.entries()) {
    assert.equal((await chQuery(url, "SELECT getMacro('shard')")).trim(), String(i + 1));
  }
  const shards = await chQuery(ch.urls[0]!, "SELECT groupArray(_shard_num) FROM (SELECT _shard_num FROM cluster('modcast_test', system.one) ORDER BY _shard_num)");
  assert.equal(shards.trim(), '[1,2]');
});

test('the nodes run in the time zone they were given (the suite picks one far from UTC)', async () => {
  for (const url of ch.urls) assert.equal((await chQuery(url, 'SELECT timezone()')).trim(), 'Asia/Kathmandu');
});

test('modcast on a server: tables in clickhouse.database (not default); an unreachable server is a named error without the password', async () => {
  const config = testConfig('/nonexistent-data-dir', { clickhouse: { url: ch.urls[0], database: 'harness_db', password: '' } });
  const store = await openStore(config);
  try {
    await migrate(store);
    assert.equal(store.embedded, false);
    assert.equal(await count(store, "SELECT count() FROM system.tables WHERE database = 'harness_db' AND name = 'access_events'"), 1);
    assert.equal(await count(store, "SELECT count() FROM system.tables WHERE database = 'default' AND name = 'access_events'"), 0);
  } finally {
    await store.close();
  }
  const down = testConfig('/nonexistent-data-dir', { clickhouse: { url: 'http://127.0.0.1:1/', database: 'x', password: 'secret-pw-123' } });
  await assert.rejects(openStore(down), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'MODCAST_ERR_STORE_UNAVAILABLE');
    assert.match(e.message, /127\.0\.0\.1:1/);
    assert.doesNotMatch(e.message, /secret-pw-123/);
    return true;
  });
});

test('a node stopped and started again keeps its port and its data', async () => {
  const url = ch.urls[1]!;
  await chQuery(url, 'CREATE TABLE IF NOT EXISTS default.keep (x UInt32) ENGINE = MergeTree ORDER BY x');
  await chQuery(url, 'INSERT INTO default.keep VALUES (7)');
  await ch.haltNode(2);
  await assert.rejects(chQuery(url, 'SELECT 1'));
  await ch.startNode(2);
  assert.equal((await chQuery(url, 'SELECT sum(x) FROM default.keep')).trim(), '7');
  // The first node was not touched.
  assert.equal((await chQuery(ch.urls[0]!, 'SELECT 1')).trim(), '1');
});

test('a node that cannot start fails loudly with the reason, keeps its logs and leaves nothing running', async () => {
  const script = projectPath('scripts/clickhouse-local.sh');
  const dir = mkdtempSync(join(tmpdir(), 'modcast-ch-bad-'));
  // Its HTTP port is taken by someone else.
  const squatter = createServer().listen(0, '127.0.0.1');
  await once(squatter, 'listening');
  try {
    const missingLib = await run('bash', [script, 'start', '--dir', join(dir, 'a')], {
      env: { ...process.env, MODCAST_CLICKHOUSE_LIB: join(dir, 'missing-libchdb.so') },
    }).then(() => null, (e: { stderr: string }) => e);
    assert.match(missingLib?.stderr ?? 'started', /libchdb\.so not found/);

    mkdirSync(join(dir, 'b', 'node1'), { recursive: true });
    writeFileSync(join(dir, 'b', 'node1', 'http.port'), String((squatter.address() as AddressInfo).port));
    const busy = await run('bash', [script, 'start', '--dir', join(dir, 'b')]).then(() => null, (e: { stderr: string }) => e);
    assert.match(busy?.stderr ?? 'started', /node 1 (exited during startup|did not answer)/);
    assert.ok(existsSync(join(dir, 'b', 'node1', 'logs', 'launcher.out')), 'logs are kept for the failure');
    const status = await run('bash', [script, 'status', '--dir', join(dir, 'b')]).catch((e: { stdout: string }) => e);
    assert.equal(status.stdout.trim(), 'stopped');
  } finally {
    squatter.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
