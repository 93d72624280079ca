/**
 * Cluster mode on a real 2-shard ClickHouse cluster (two server nodes from chDB's engine, remote_servers, no Keeper):
 * migrations applied node by node, Distributed tables sharded by module, exactly-once across shards, rollups per
 * shard, and `top` and a scoring run equal to one server fed the same input. Replicated DDL, which this machine cannot
 * run, is checked by ClickHouse's own parser.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestClickHouse, chQuery, type TestClickHouse } from '../helpers/clickhouse-server.js';
import { testConfig, count } from '../helpers/store.js';
import { openStore, queryRows, type Store } from '../../src/store/client.js';
import { migrate, loadMigrations, PIPELINES_DIR } from '../../src/store/migrate.js';
import { clusterStatements, engineFamilies, migrationsTableDDL, SHARD_KEYS } from '../../src/store/cluster.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { topQuery, TOP_DIMENSIONS } from '../../src/store/queries/top.js';
import { truncateEventTables } from '../../src/store/queries/access-events.js';
import { scoreStore, scoringOptionsFrom } from '../../src/scoring/score.js';
import { defaultWorkload, generateWorkload } from '../../src/demo/generator.js';
import type { AccessEventRow } from '../../src/store/event-rows.js';
import type { Config } from '../../src/config.js';
import { buildApi } from '../../src/api/server.js';

const HOUR = 3_600_000;
const DAYS = 6;
const CLUSTER = 'modcast_c';
const REGIONS = [
  { name: 'eu', timeZone: 'Europe/Berlin' },
  { name: 'us', timeZone: 'America/New_York' },
  { name: 'ap', timeZone: 'Asia/Tokyo' },
];
const workload = defaultWorkload({ seed: 11, days: DAYS, modules: 120, fetchesPerBusyHour: 40 });
const asOf = workload.start + DAYS * 24 * HOUR;

let ch: TestClickHouse;
let single: Store;
let clustered: Store;
let clusterConfig: Config;
let total = 0;

function batches(): { token: string; events: AccessEventRow[]; rejects: [] }[] {
  const out: { token: string; events: AccessEventRow[]; rejects: [] }[] = [];
  let events: AccessEventRow[] = [];
  let i = 0;
  for (const r of generateWorkload(workload)) {
    events.push({
      event_id: `ev-${i++}`, ts: r.ts, node: r.node, region: r.region, module: r.module, version: r.version, kind: r.kind,
      status: r.status, bytes: r.bytes, duration_ms: r.durationMs, cache_status: r.cacheStatus, client_hash: `c${i % 13}`,
    });
    if (events.length === 5000) {
      out.push({ token: `test:cluster:${i - events.length}-${i}`, events, rejects: [] });
      events = [];
    }
  }
  if (events.length > 0) out.push({ token: `test:cluster:${i - events.length}-${i}`, events, rejects: [] });
  return out;
}

before(async () => {
  ch = await startTestClickHouse({ nodes: 2, cluster: CLUSTER });
  const base = { privacy: { clientSalt: 'test-salt-0123456789' }, regions: REGIONS };
  single = await openStore(testConfig('/nonexistent', { ...base, clickhouse: { url: ch.urls[0], database: 'single' } }));
  clusterConfig = testConfig('/nonexistent', { ...base, clickhouse: { url: ch.urls[0], database: 'sharded', cluster: CLUSTER, nodes: ch.urls } });
  clustered = await openStore(clusterConfig);
  await migrate(single);
  await migrate(clustered);
  const all = batches();
  total = all.reduce((n, b) => n + b.events.length, 0);
  for (const store of [single, clustered]) {
    const writer = new EventWriter(store);
    for (const b of all) await writer.write(b);
  }
  // Every batch again, as after a crash between insert and checkpoint: same tokens.
  const writer = new EventWriter(clustered);
  for (const b of all) await writer.write(b);
});

after(async () => {
  await single?.close();
  await clustered?.close();
  await ch?.stop();
});

test('migrations ran on each node: local tables, Distributed tables under the usual names, views on the local tables', async () => {
  for (const url of ch.urls) {
    const tables = await chQuery(url, "SELECT name, engine FROM system.tables WHERE database = 'sharded' ORDER BY name FORMAT JSONCompactEachRow");
    const engines = new Map(tables.trim().split('\n').map((l) => JSON.parse(l) as [string, string]));
    for (const t of Object.keys(SHARD_KEYS)) {
      assert.equal(engines.get(t), 'Distributed', `${t} on ${url}`);
      assert.match(engines.get(`${t}_local`) ?? '', /MergeTree$/, `${t}_local on ${url}`);
    }
    assert.equal(engines.get('rollups_1h_mv'), 'MaterializedView');
    const mv = await chQuery(url, "SELECT create_table_query FROM system.tables WHERE database = 'sharded' AND name = 'rollups_1h_mv'");
    assert.match(mv, /TO sharded\.rollups_1h_local/);
    assert.match(mv, /FROM sharded\.access_events_local/);
    assert.equal((await chQuery(url, 'SELECT count() FROM sharded.schema_migrations')).trim(), String(loadMigrations(PIPELINES_DIR, { retentionDays: 90 }).length));
  }
  assert.deepEqual((await migrate(clustered)).applied, []);
});

test('a batch written twice is stored once across the shards; each module lives on one shard; both shards hold data', async () => {
  assert.equal(await count(clustered, 'SELECT count() FROM access_events'), total);
  assert.equal(await count(clustered, 'SELECT uniqExact(event_id) FROM access_events'), total);
  assert.equal(await count(clustered, 'SELECT sum(requests) FROM rollups_5m'), total);
  assert.equal(await count(clustered, 'SELECT sum(requests) FROM rollups_1h'), total);
  const perShard = await queryRows<{ shard: number; n: string }>(clustered, 'SELECT _shard_num AS shard, count() AS n FROM access_events GROUP BY shard ORDER BY shard');
  assert.deepEqual(perShard.map((r) => Number(r.shard)), [1, 2]);
  for (const r of perShard) assert.ok(Number(r.n) > total * 0.2, `shard ${r.shard} holds ${r.n} of ${total}`);
  assert.equal(await count(clustered, 'SELECT count() FROM (SELECT module FROM access_events GROUP BY module HAVING uniqExact(_shard_num) > 1)'), 0);
});

test('rollups equal a direct aggregation of the raw events, per shard and in total', async () => {
  const rollup = `SELECT groupArray(tuple(module, version, node, b, r, z, m, by, c)) FROM (
      SELECT module, version, node, bucket AS b, sum(requests) r, sum(zips) z, sum(misses) m, sum(bytes) by, uniqMerge(clients) c
      FROM rollups_1h GROUP BY module, version, node, b ORDER BY module, version, node, b)`;
  const raw = `SELECT groupArray(tuple(module, version, node, b, r, z, m, by, c)) FROM (
      SELECT module, version, node, toStartOfHour(ts) AS b, count() r, countIf(kind = 'zip') z, countIf(cache_status = 'miss') m,
             sum(bytes) by, uniqIf(client_hash, client_hash != '') c
      FROM access_events GROUP BY module, version, node, b ORDER BY module, version, node, b)`;
  const [a] = await queryRows<Record<string, unknown>>(clustered, rollup);
  const [b] = await queryRows<Record<string, unknown>>(clustered, raw);
  assert.deepEqual(Object.values(a!)[0], Object.values(b!)[0]);
  const [s] = await queryRows<Record<string, unknown>>(single, rollup);
  assert.deepEqual(Object.values(a!)[0], Object.values(s!)[0], 'the cluster rollups equal the single server ones');
});

test('top gives the same answer on the cluster as on one server', async () => {
  for (const by of TOP_DIMENSIONS) {
    for (const [from, to] of [[asOf - 2 * HOUR, asOf], [asOf - 3 * 24 * HOUR, asOf]] as const) {
      const q = { by, from: new Date(from), to: new Date(to), limit: 15 };
      const one = await topQuery(single, q);
      assert.ok(one.length > 0);
      assert.deepEqual(await topQuery(clustered, q), one, `top by ${by}`);
    }
  }
});

test('a scoring run gives the same predictions on the cluster as on one server', async () => {
  const opts = (runId: string) => scoringOptionsFrom(clusterConfig, { asOf, runId, minProbability: 0 });
  const a = await scoreStore(single, opts('run-same'));
  const b = await scoreStore(clustered, opts('run-same'));
  assert.ok(a.predictions > 100, `predictions ${a.predictions}`);
  assert.deepEqual({ ...b, seconds: 0 }, { ...a, seconds: 0 });
  const rows = `SELECT scope, scope_id, module, version, kind, window_kind, toUnixTimestamp(window_start) AS ws, toUnixTimestamp(window_end) AS we,
                       round(expected_requests, 9) AS e, round(p_any_request, 9) AS p, round(lower, 9) AS lo, round(upper, 9) AS hi, model
                FROM predictions WHERE run_id = 'run-same'
                ORDER BY scope, scope_id, module, version, kind, window_kind, ws, we`;
  const one = await queryRows<Record<string, unknown>>(single, rows);
  assert.equal(one.length, a.predictions);
  assert.deepEqual(await queryRows(clustered, rows), one);
  const [run] = await queryRows<{ status: string }>(clustered, "SELECT status FROM prediction_runs FINAL WHERE run_id = 'run-same'");
  assert.equal(run?.status, 'done');
});

test('the API serves the same forecasts, top lists and module histories from the cluster as from one server', async () => {
  const top = (await topQuery(single, { by: 'module', from: new Date(asOf - 24 * HOUR), to: new Date(asOf), limit: 1 }))[0]!.key;
  // GOPROXY case-encoding of the path.
  const popular = top.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
  const apis = await Promise.all(
    [single, clustered].map((store) => buildApi({ config: clusterConfig, store, dashboard: false, clientSalt: 'test-salt-0123456789', now: () => asOf + HOUR })),
  );
  try {
    for (const url of [
      '/v1/forecasts?scope=fleet&limit=50',
      '/v1/forecasts?scope=region&id=eu&limit=20&kind=zip',
      '/v1/top?window=1d&by=module&limit=10',
      '/v1/top?window=7d&by=region',
      `/v1/modules/${popular}/hotness?window=3d&versions=2`,
    ]) {
      const [one, many] = await Promise.all(apis.map((app) => app.inject({ method: 'GET', url })));
      assert.equal(one!.statusCode, 200, `${url}: ${one!.body}`);
      // The two scoring runs finished at different wall-clock moments; sums of Float64 gathered from two shards add in
      // another order (last bits differ: 12 significant digits compared). Everything else must be equal.
      const body = (r: typeof one) =>
        JSON.parse(r!.body, (k, v: unknown) => (k === 'finishedAt' ? undefined : typeof v === 'number' ? Number(v.toPrecision(12)) : v)) as unknown;
      assert.deepEqual(body(many), body(one), url);
    }
  } finally {
    await Promise.all(apis.map((app) => app.close()));
  }
});

test('replicated DDL with ON CLUSTER (this machine cannot run it) is accepted by ClickHouse\'s parser', async () => {
  const all = loadMigrations(PIPELINES_DIR, { retentionDays: 90 }).flatMap((m) => m.statements);
  const schema = { cluster: CLUSTER, database: 'modcast', replicated: true, onCluster: true, engines: engineFamilies(all) };
  const statements = [migrationsTableDDL(schema), ...all.flatMap((s) => clusterStatements(s, schema))];
  let replicatedTables = 0;
  for (const q of statements) {
    const [row] = await queryRows<{ f: string | null }>(single, 'SELECT formatQueryOrNull({q:String}) AS f', { q });
    assert.ok(row?.f, `ClickHouse cannot parse:\n${q}`);
    assert.match(row.f, new RegExp(`ON CLUSTER ${CLUSTER}`));
    if (/ReplicatedMergeTree|Replicated\w+MergeTree/.test(row.f)) {
      replicatedTables++;
      assert.match(row.f, /'\/clickhouse\/tables\/(\{shard\}\/)?\{database\}\/\w+', '\{replica\}'/);
      assert.doesNotMatch(row.f, /non_replicated_deduplication_window/);
      if (/deduplication_window/.test(q)) assert.match(row.f, /replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800/);
    }
  }
  assert.equal(replicatedTables, Object.keys(SHARD_KEYS).length + 1);
  // The parser is a real check: a broken statement is NULL.
  const [bad] = await queryRows<{ f: string | null }>(single, 'SELECT formatQueryOrNull({q:String}) AS f', { q: 'CREATE TABLE x ON CLUSTER c (a UInt8) ENGINE = ReplicatedMergeTree(' });
  assert.equal(bad?.f, null);
});

test('cluster mode refuses statements it cannot shard, and tables without a shard key', () => {
  const schema = { cluster: CLUSTER, database: 'm', replicated: false, onCluster: false };
  assert.throws(() => clusterStatements('INSERT INTO access_events VALUES (1)', schema), /MODCAST_ERR_MIGRATION_FAILED|cannot shard/);
  assert.throws(() => clusterStatements('CREATE TABLE IF NOT EXISTS mystery (a UInt8) ENGINE = MergeTree ORDER BY a', schema), /no shard key/);
});

// Last: it empties the cluster's event tables.
test('resetting the events (demo --reset) empties the local tables of every shard, not only the Distributed ones', async () => {
  await truncateEventTables(clustered);
  for (const t of ['access_events', 'rollups_5m', 'rollups_1h', 'rejected_events']) assert.equal(await count(clustered, `SELECT count() FROM ${t}`), 0, t);
  for (const url of ch.urls) assert.equal((await chQuery(url, 'SELECT count() FROM sharded.access_events_local')).trim(), '0', url);
  assert.ok(await count(single, 'SELECT count() FROM access_events') > 0, 'the single-server database is left alone');
});
