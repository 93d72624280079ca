/** An embedded store (chDB) for one benchmark process, in that run's work directory, migrated. */
import type { Config } from '../src/config.js';
import { benchConfig } from './config.js';
import { openStore, queryRows, type Store } from '../src/store/client.js';
import { migrate } from '../src/store/migrate.js';

export { benchConfig };

export interface BenchStore {
  store: Store;
  config: Config;
}

export async function openBenchStore(workDir: string, overrides: Record<string, unknown> = {}): Promise<BenchStore> {
  const config = benchConfig(workDir, overrides);
  const store = await openStore(config);
  await migrate(store);
  return { store, config };
}

/** The single value of a one-row, one-column query. */
export async function scalar(store: Store, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const rows = await queryRows<Record<string, unknown>>(store, sql, params);
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}
