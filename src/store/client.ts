/**
 * The store: one @clickhouse/client, over embedded chDB (default) or a ClickHouse server over HTTP.
 * The rest of modcast only sees `Store`, so the same SQL runs on both.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Config } from '../config.js';
import { ModcastError, ErrorCodes } from '../errors.js';

export interface Store {
  readonly client: ClickHouseClient;
  readonly embedded: boolean;
  /** Human-readable location (data dir or server URL without credentials). */
  readonly location: string;
  readonly retentionDays: number;
  close(): Promise<void>;
}

const LOCK_MESSAGE = /Cannot lock file|Another server instance in same directory|already running|different on-disk path/i;

export async function openStore(cfg: Pick<Config, 'dataDir' | 'clickhouse'>): Promise<Store> {
  if (cfg.clickhouse.url) return openServerStore(cfg.clickhouse);
  return openEmbeddedStore(cfg.dataDir, cfg.clickhouse.retentionDays);
}

async function openServerStore(ch: Config['clickhouse']): Promise<Store> {
  const url = new URL(ch.url!);
  const safeUrl = `${url.protocol}//${url.host}${url.pathname}`;
  // The database may not exist yet: create it through a client bound to `default`.
  const admin = createClient({ url: ch.url, username: ch.username, password: ch.password });
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${ch.database}` }); // name validated by config schema
  } catch (e) {
    throw new ModcastError(ErrorCodes.STORE_UNAVAILABLE, `ClickHouse at ${safeUrl} is not reachable: ${(e as Error).message}`, { cause: e });
  } finally {
    await admin.close();
  }
  const client = createClient({
    url: ch.url,
    username: ch.username,
    password: ch.password,
    database: ch.database,
    clickhouse_settings: { date_time_input_format: 'best_effort' },
  });
  return { client, embedded: false, location: safeUrl, retentionDays: ch.retentionDays, close: () => client.close() };
}

async function openEmbeddedStore(dataDir: string, retentionDays: number): Promise<Store> {
  const path = resolve(dataDir, 'chdb');
  mkdirSync(path, { recursive: true });
  let client: ClickHouseClient;
  try {
    // chDB ignores the client's `database` option, so embedded tables live in `default`.
    // chdb types the connection against its own copy of @clickhouse/client-common; the runtime contract is the same.
    const connection = createChdbConnection({ path }) as unknown as ClickHouseClientConfigOptions['connection'];
    client = createClient({ connection });
    await client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (LOCK_MESSAGE.test(msg)) {
      throw new ModcastError(
        ErrorCodes.STORE_LOCKED,
        `the embedded store ${path} is held by another modcast process (chDB locks its data directory to one process). ` +
          `Talk to that process over its API (e.g. POST /v1/ingest), stop it first, or use another --data-dir.`,
        { cause: e },
      );
    }
    throw new ModcastError(ErrorCodes.STORE_UNAVAILABLE, `cannot open the embedded store at ${path}: ${msg}`, { cause: e });
  }
  return { client, embedded: true, location: path, retentionDays, close: () => client.close() };
}

/** Runs a query and streams its rows in JSONEachRow chunks without holding the whole result. */
export async function* streamRows<T>(
  store: Store,
  query: string,
  query_params: Record<string, unknown> = {},
): AsyncGenerator<T[]> {
  const rs = await store.client.query({ query, query_params, format: 'JSONEachRow' });
  for await (const rows of rs.stream<T>()) {
    yield rows.map((r) => r.json<T>());
  }
}

/** Runs a query and returns all rows; only for results known to be small (aggregates, LIMITed lists). */
export async function queryRows<T>(store: Store, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.client.query({ query, query_params, format: 'JSONEachRow' });
  return rs.json<T>();
}
