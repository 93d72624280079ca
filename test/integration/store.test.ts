import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { cpSync, appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, PIPELINES_DIR } from '../../src/store/migrate.js';
import { isModcastError, ErrorCodes } from '../../src/errors.js';
import type { AccessEventRow } from '../../src/store/event-rows.js';
import { readStoreTrace, storeTimeRange, truncateEventTables } from '../../src/store/queries/access-events.js';
import { readStoredLines } from '../../src/store/queries/event-lines.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => {
  await t?.cleanup();
});

function rows(n: number, startTs: number): AccessEventRow[] {
  return Array.from({ length: n }, (_, i) => ({
    event_id: `src:${i}`,
    ts: startTs + i * 60_000,
    node: i % 2 ? 'n1' : 'n2',
    region: 'eu',
    module: `github.com/acme/m${i % 7}`,
    version: 'v1.2.3',
    kind: i % 3 === 0 ? 'zip' : 'info',
    status: 200,
    bytes: 100 + i,
    duration_ms: 5,
    cache_status: i % 4 === 0 ? 'miss' : 'hit',
    client_hash: `c${i % 5}`,
  }));
}

test('migrations are idempotent', async () => {
  const again = await migrate(t.store);
  assert.deepEqual(again.applied, []);
  assert.ok((await count(t.store, 'SELECT count() FROM schema_migrations')) >= 2);
});

test('processes migrating one store at once (consume ×N on a server) record each migration once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-migrations-'));
  try {
    cpSync(PIPELINES_DIR, dir, { recursive: true });
    writeFileSync(join(dir, '999_probe.sql'), 'CREATE TABLE IF NOT EXISTS migration_probe (x UInt8) ENGINE = MergeTree ORDER BY x;\n');
    const runs = await Promise.all([1, 2, 3].map(() => migrate(t.store, dir)));
    assert.ok(runs.some((r) => r.applied.includes('999_probe.sql')));
    assert.equal(await count(t.store, 'SELECT count() FROM schema_migrations WHERE version = 999'), 1);
    assert.equal(await count(t.store, 'SELECT count() FROM migration_probe'), 0);
    assert.deepEqual((await migrate(t.store, dir)).applied, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an applied migration edited since refuses the start by name, before anything new is applied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-pipelines-'));
  try {
    cpSync(PIPELINES_DIR, dir, { recursive: true });
    // Another retention changes the templated text of 001, not the file: no refusal.
    assert.deepEqual((await migrate({ ...t.store, retentionDays: t.store.retentionDays + 7 }, dir)).applied, []);
    writeFileSync(join(dir, '900_later.sql'), 'CREATE TABLE later_table (x UInt8) ENGINE = MergeTree ORDER BY x;\n');
    appendFileSync(join(dir, '020_predictions.sql'), '\nALTER TABLE predictions ADD COLUMN IF NOT EXISTS edited UInt8;\n');
    await assert.rejects(migrate(t.store, dir), (e) => {
      assert.ok(isModcastError(e, ErrorCodes.MIGRATION_CHANGED), String(e));
      assert.match(e.message, /020_predictions\.sql/);
      return true;
    });
    assert.equal(await count(t.store, "SELECT count() FROM system.tables WHERE name = 'later_table'"), 0);
    assert.equal(await count(t.store, 'SELECT count() FROM schema_migrations WHERE version = 900'), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a retried batch with the same token is stored once, in raw events and in rollups', async () => {
  const writer = new EventWriter(t.store);
  const batch = { token: 'test:dedup:0-500', events: rows(500, Date.UTC(2026, 10, 20, 8)), rejects: [] };
  await writer.write(batch);
  await writer.write(batch);
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'src:%'"), 500);
  assert.equal(await count(t.store, 'SELECT sum(requests) FROM rollups_5m'), 500);
  assert.equal(await count(t.store, 'SELECT sum(requests) FROM rollups_1h'), 500);
  // Other lines of the source (an event id is a line's identity: the same id is the same line, left out).
  const other = { token: 'test:dedup:500-1000', events: rows(500, Date.UTC(2026, 10, 21, 8)).map((r, i) => ({ ...r, event_id: `src:${500 + i}` })), rejects: [] };
  await writer.write(other);
  assert.equal(await count(t.store, 'SELECT sum(requests) FROM rollups_1h'), 1000);
});

test('lines already stored are left out, and only they: a batch whose offsets interleave with stored lines of its source stores all of its own', async () => {
  const writer = new EventWriter(t.store);
  const at = (offsets: number[], day: number) =>
    rows(offsets.length, Date.UTC(2026, 10, day, 8)).map((r, i) => ({ ...r, event_id: `inter:${offsets[i]}` }));
  // As two Kafka partitions of one shipped file: their line offsets interleave.
  const first = await writer.write({ token: 'test:inter:p0', events: at([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], 23), rejects: [] });
  assert.equal(first.alreadyStored, 0);
  // The other partition's lines, plus two lines the store has already (the same file ingested by another path).
  const second = await writer.write({ token: 'test:inter:p1', events: at([5, 15, 25, 30, 35, 45, 55, 60, 65, 95], 24), rejects: [] });
  assert.equal(second.alreadyStored, 2);
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'inter:%'"), 18);
  assert.equal(await count(t.store, "SELECT uniqExact(event_id) FROM access_events WHERE event_id LIKE 'inter:%'"), 18);
});

test('the stored-lines check takes a batch of 20,000 lines with large offsets (a server takes parameters as form fields of at most 128 KiB)', async () => {
  const writer = new EventWriter(t.store);
  const base = 9_000_000_000;
  const stored = [base + 7, base + 70_007, base + 139_993];
  await writer.write({ token: 'test:big:stored', events: rows(3, Date.UTC(2026, 10, 25, 8)).map((r, i) => ({ ...r, event_id: `big:${stored[i]}` })), rejects: [] });
  const offsets = Array.from({ length: 20_000 }, (_, i) => base + 7 * i);
  const found = await readStoredLines(t.store, [{ source: 'big', from: base, to: base + 7 * 20_000, offsets }]);
  assert.deepEqual([...found].sort(), stored.map((o) => `big:${o}`).sort());
});

test('rollups equal a direct aggregation over raw events', async () => {
  const q = (table: string) => `
    SELECT groupArray(tuple(module, version, node, b, r, z, m, by, c)) FROM (
      SELECT module, version, node, toStartOfHour(bucket) AS b, sum(requests) r, sum(zips) z, sum(misses) m, sum(bytes) by,
             uniqMerge(clients) c
      FROM ${table} GROUP BY module, version, node, b ORDER BY module, version, node, b)`;
  const raw = `
    SELECT groupArray(tuple(module, version, node, b, r, z, m, by, c)) FROM (
      SELECT module, version, node, toStartOfHour(ts) AS b, count() r, countIf(kind='zip') z, countIf(cache_status='miss') m,
             sum(bytes) by, uniqIf(client_hash, client_hash != '') c
      FROM access_events GROUP BY module, version, node, b ORDER BY module, version, node, b)`;
  const get = async (sql: string) => JSON.stringify(await (await t.store.client.query({ query: sql, format: 'JSONEachRow' })).json());
  const direct = await get(raw);
  assert.ok(direct.length > 100);
  assert.equal(await get(q('rollups_1h')), direct);
});

test('a dedup token does not outlive its insert: a later plain insert into the same table is stored', async () => {
  const writer = new EventWriter(t.store);
  const token = 'test:leak:0-10';
  await writer.write({ token, events: rows(10, Date.UTC(2026, 10, 22, 8)).map((r) => ({ ...r, event_id: `leak-a:${r.event_id}` })), rejects: [] });
  // A plain insert (no settings) of other rows: on chDB the token used to stay SET on the session, so this block
  // carried token `test:leak:0-10` again and the dedup window dropped it silently.
  await t.store.client.insert({
    table: 'access_events',
    // Same day, so same partition as the batch above: a repeated token would name the same block there.
    values: rows(10, Date.UTC(2026, 10, 22, 12)).map((r) => ({ ...r, event_id: `leak-b:${r.event_id}` })),
    format: 'JSONEachRow',
  });
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'leak-b:%'"), 10);
  const rs = await t.store.client.query({ query: "SELECT getSetting('insert_deduplication_token') AS token", format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ token: '' }]);
});

test('concurrent batches with their own tokens and a concurrent plain insert are all stored once', async () => {
  const writer = new EventWriter(t.store);
  const day = (d: number) => Date.UTC(2026, 9, d, 8);
  const batches = Array.from({ length: 6 }, (_, b) => ({
    token: `test:concurrent:${b}`,
    events: rows(50, day(b + 1)).map((r) => ({ ...r, event_id: `conc-${b}:${r.event_id}` })),
    rejects: [],
  }));
  await Promise.all([
    ...batches.map((batch) => writer.write(batch)),
    t.store.client.insert({
      table: 'access_events',
      values: rows(50, day(20)).map((r) => ({ ...r, event_id: `conc-plain:${r.event_id}` })),
      format: 'JSONEachRow',
    }),
  ]);
  // Retrying every batch concurrently stores nothing more.
  await Promise.all(batches.map((batch) => writer.write(batch)));
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'conc-%'"), 7 * 50);
  assert.equal(await count(t.store, "SELECT uniqExact(event_id) FROM access_events WHERE event_id LIKE 'conc-%'"), 7 * 50);
});

// Last: it empties the event tables.
test('demo --reset empties the event tables; the store read as a backtest trace gives every event of a range in time order, across days', async () => {
  await truncateEventTables(t.store);
  for (const table of ['access_events', 'rollups_5m', 'rollups_1h', 'rejected_events', 'event_lines']) assert.equal(await count(t.store, `SELECT count() FROM ${table}`), 0, table);
  assert.equal(await storeTimeRange(t.store), null);
  const start = Date.UTC(2026, 10, 2, 22);
  // 3000 minutes: three days; the writer's rows are in key order, not time order.
  const events = rows(3000, start).reverse();
  await new EventWriter(t.store).write({ token: 'test:trace', events, rejects: [] });
  assert.deepEqual(await storeTimeRange(t.store), { from: start, to: start + 2999 * 60_000 + 1 });
  const from = start + 100 * 60_000;
  const to = start + 2900 * 60_000;
  const trace = [];
  for await (const r of readStoreTrace(t.store, from, to)) trace.push(r);
  assert.equal(trace.length, 2800);
  assert.deepEqual(trace.map((r) => r.ts), Array.from({ length: 2800 }, (_, i) => from + i * 60_000));
  const first = rows(3000, start)[100]!;
  assert.deepEqual(trace[0], { ts: from, module: first.module, version: first.version, node: first.node, region: first.region, bytes: first.bytes, kind: first.kind });
});
