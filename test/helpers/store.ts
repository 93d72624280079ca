/** A real embedded store (chDB) in a fresh temp directory, migrated. One per test file (one chDB path per process). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';

export interface TestStore {
  store: Store;
  config: Config;
  dir: string;
  cleanup(): Promise<void>;
}

export function testConfig(dir: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, file: undefined, overrides: { dataDir: dir, logLevel: 'silent', privacy: { clientSalt: 'test-salt-0123456789' }, ...overrides } });
}

export async function openTestStore(overrides: Record<string, unknown> = {}): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-test-'));
  const config = testConfig(dir, overrides);
  const store = await openStore(config);
  await migrate(store);
  // Fixtures sit at fixed instants so that results do not depend on the day the suite runs; the tables' TTLs
  // (predictions 30 days after made_at, rollups_5m 35 days, raw events 90) would otherwise delete them within
  // seconds once those instants are old enough. No test here is about retention.
  await store.client.command({ query: 'SYSTEM STOP TTL MERGES' });
  return {
    store,
    config,
    dir,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function count(store: Store, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const rs = await store.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
  const rows = await rs.json<Record<string, unknown>>();
  return Number(Object.values(rows[0] ?? { c: 0 })[0]);
}
