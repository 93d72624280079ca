/**
 * A real store for tests, migrated: embedded chDB in a fresh temp directory (one per test file: one chDB path per
 * process), or with MODCAST_TEST_STORE=server a fresh database on a real ClickHouse server over HTTP — the server at
 * MODCAST_TEST_CLICKHOUSE_URL, else one node started for this test process (scripts/clickhouse-local.sh).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { startTestClickHouse } from './clickhouse-server.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';

export interface TestStore {
  store: Store;
  config: Config;
  dir: string;
  cleanup(): Promise<void>;
}

export const serverMode = process.env.MODCAST_TEST_STORE === 'server';
if (process.env.MODCAST_TEST_STORE && !['server', 'embedded'].includes(process.env.MODCAST_TEST_STORE)) {
  throw new Error(`MODCAST_TEST_STORE must be 'server' or 'embedded', not ${process.env.MODCAST_TEST_STORE}`);
}

let serverUrl: Promise<string> | undefined;
/** The server of this test process (started once, stopped with the process). */
export function testServerUrl(): Promise<string> {
  serverUrl ??= process.env.MODCAST_TEST_CLICKHOUSE_URL
    ? Promise.resolve(process.env.MODCAST_TEST_CLICKHOUSE_URL)
    : startTestClickHouse().then((ch) => ch.urls[0]!);
  return serverUrl;
}

/** Where a test's data lives: config overrides and CLI environment for it, and how to remove it. */
export interface StoreTarget {
  overrides: Record<string, unknown>;
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** In server mode a fresh database (no test sees another's rows); embedded: nothing to add (the data dir decides). */
export async function storeTarget(): Promise<StoreTarget> {
  if (!serverMode) return { overrides: {}, env: {}, drop: async () => {} };
  const url = await testServerUrl();
  const database = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    overrides: { clickhouse: { url, database } },
    env: { MODCAST_CLICKHOUSE_URL: url, MODCAST_CLICKHOUSE_DATABASE: database },
    drop: async () => {
      const admin = createClient({ url });
      try {
        await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      } finally {
        await admin.close();
      }
    },
  };
}

/** The overrides that put another config (a child process, a Kafka scenario) on the same store as `config`. */
export function sameStore(config: Config): Record<string, unknown> {
  const { url, database, cluster, replicated, nodes } = config.clickhouse;
  if (!url) return {};
  return { clickhouse: { url, database, ...(cluster ? { cluster, replicated, nodes } : {}) } };
}

export function testConfig(dir: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, file: undefined, overrides: { dataDir: dir, logLevel: 'silent', privacy: { clientSalt: 'test-salt-0123456789' }, ...overrides } });
}

export async function openTestStore(overrides: Record<string, unknown> = {}): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-test-'));
  const target = await storeTarget();
  const config = testConfig(dir, { ...target.overrides, ...overrides });
  const store = await openStore(config);
  await migrate(store);
  // Fixtures sit at fixed instants so that results do not depend on the day the suite runs; the tables' TTLs
  // (predictions 30 days after made_at, rollups_5m 35 days, raw events 90) would otherwise delete them within
  // seconds once those instants are old enough. No test here is about retention.
  await stopTtlMerges(store);
  return {
    store,
    config,
    dir,
    async cleanup() {
      await store.close();
      await target.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function count(store: Store, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const rs = await store.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
  const rows = await rs.json<Record<string, unknown>>();
  return Number(Object.values(rows[0] ?? { c: 0 })[0]);
}

/** Stops TTL merges on this store's own MergeTree tables only (a shared server's other databases keep theirs). */
async function stopTtlMerges(store: Store): Promise<void> {
  const rs = await store.client.query({
    query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'",
    format: 'JSONEachRow',
  });
  // Names come from system.tables (our own migrations), quoted as identifiers.
  for (const { name } of await rs.json<{ name: string }>()) await store.client.command({ query: `SYSTEM STOP TTL MERGES \`${name.replace(/`/g, '')}\`` });
}
