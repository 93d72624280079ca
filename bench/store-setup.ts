/** An embedded store (chDB) for one benchmark process, in that run's work directory, migrated. */
import type { Config } from '../src/config.js';
import { benchConfig } from './config.js';
import { openStore, queryRows, type Store } from '../src/store/client.js';
import { migrate } from '../src/store/migrate.js';
import { createReadStream } from 'node:fs';
import { EventWriter } from '../src/store/event-writer.js';
import { readLines } from '../src/logs/lines.js';
import type { AccessEventRow } from '../src/store/event-rows.js';

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

/**
 * Writes a JSONEachRow file of event rows with EventWriter in batches of `batchRows` (tokens `bench:<n>`); only the
 * writes are timed (reading and parsing the file is not). Returns the seconds spent writing and the batch count.
 */
export async function writeEventsFile(store: Store, file: string, batchRows: number): Promise<{ seconds: number; batches: number }> {
  const writer = new EventWriter(store);
  let seconds = 0;
  let batches = 0;
  let batch: AccessEventRow[] = [];
  const flush = async () => {
    const t0 = process.hrtime.bigint();
    await writer.write({ token: `bench:${batches}`, events: batch, rejects: [] });
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    batches++;
    batch = [];
  };
  for await (const lines of readLines(createReadStream(file, { highWaterMark: 1 << 20 }))) {
    for (const line of lines) {
      batch.push(JSON.parse(line.raw.toString('utf8')) as AccessEventRow);
      if (batch.length >= batchRows) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return { seconds, batches };
}
