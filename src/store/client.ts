/**
 * The store: one @clickhouse/client, over embedded chDB (default) or a ClickHouse server over HTTP.
 * The rest of modcast only sees `Store`, so the same SQL runs on both.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import type { Config } from '../config.js';
import { ModcastError, ErrorCodes } from '../errors.js';

export interface Store {
  readonly client: ClickHouseClient;
  readonly embedded: boolean;
  /** Human-readable location (data dir or server URL without credentials). */
  readonly location: string;
  readonly retentionDays: number;
  /**
   * Inserts rows with settings scoped to this one insert. Use it (not `client.insert`) whenever an insert carries
   * settings: chDB's client adapter applies `clickhouse_settings` as session-wide `SET`s, so a dedup token would
   * stick to every later statement of the process (see `insertRows`).
   */
  insert(request: InsertRequest): Promise<void>;
  /** Set on a cluster (`clickhouse.cluster`): tables are Distributed over local tables (src/store/cluster.ts). */
  readonly cluster?: ClusterInfo;
  close(): Promise<void>;
}

export interface ClusterInfo {
  name: string;
  database: string;
  replicated: boolean;
  /** Node URLs that migrations are applied on one by one; empty = `ON CLUSTER`. */
  nodes: readonly string[];
  /** A plain store on one node (same credentials and database), for per-node migrations and checks. */
  openNode(url: string): Promise<Store>;
}

type SettingValue = string | number | boolean;

export type InsertRequest =
  | InsertCommon & { format: 'JSONEachRow'; rows: readonly object[] }
  /** One array per row, in `columns` order. */
  | InsertCommon & { format: 'JSONCompactEachRow'; rows: readonly (readonly unknown[])[] };

interface InsertCommon {
  table: string;
  columns?: readonly string[];
  /** Applied to this insert only (e.g. dedup tokens). */
  settings?: Readonly<Record<string, SettingValue>>;
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
  // Names validated by the config schema. Without node URLs the database is created by distributed DDL.
  const onCluster = ch.cluster && ch.nodes.length === 0 ? ` ON CLUSTER ${ch.cluster}` : '';
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${ch.database}${onCluster}` });
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
    clickhouse_settings: {
      date_time_input_format: 'best_effort',
      ...(ch.cluster
        ? {
            // An insert into a Distributed table returns once every shard stored its part, under the batch's dedup
            // token; a background queue would acknowledge first and could lose or re-send a part.
            distributed_foreground_insert: 1,
            // IN / JOIN over a Distributed subquery: run the subquery once and ship its result to the shards.
            distributed_product_mode: 'global',
          }
        : {}),
    },
  });
  const cluster: ClusterInfo | undefined = ch.cluster
    ? {
        name: ch.cluster,
        database: ch.database,
        replicated: ch.replicated,
        nodes: ch.nodes,
        openNode: (nodeUrl) => openServerStore({ ...ch, url: nodeUrl, cluster: undefined, replicated: false, nodes: [] }),
      }
    : undefined;
  return {
    client,
    embedded: false,
    location: safeUrl,
    retentionDays: ch.retentionDays,
    ...(cluster ? { cluster } : {}),
    // Over HTTP, clickhouse_settings travel as URL parameters of this one request.
    insert: async ({ table, columns, rows, format, settings }) => {
      if (rows.length === 0) return;
      await client.insert({
        table,
        values: rows as unknown[],
        format,
        ...(columns ? { columns: [...columns] as [string, ...string[]] } : {}),
        ...(settings ? { clickhouse_settings: settings } : {}),
      });
    },
    close: () => client.close(),
  };
}

async function openEmbeddedStore(dataDir: string, retentionDays: number): Promise<Store> {
  const path = resolve(dataDir, 'chdb');
  mkdirSync(path, { recursive: true });
  let client: ClickHouseClient;
  let connection: ChdbConnection;
  try {
    // chDB ignores the client's `database` option, so embedded tables live in `default`.
    connection = createChdbConnection({ path });
    // chdb types the connection against its own copy of @clickhouse/client-common; the runtime contract is the same.
    client = createClient({ connection: connection as unknown as ClickHouseClientConfigOptions['connection'] });
    await client.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const holder = lockHolder(path);
    if (holder || LOCK_MESSAGE.test(causeMessages(e))) {
      throw new ModcastError(
        ErrorCodes.STORE_LOCKED,
        `the embedded store ${path} is held by another modcast process${holder ? ` (pid ${holder.pid}, since ${holder.since})` : ''}: ` +
          `chDB locks its data directory to one process. ` +
          `Talk to that process over its API (e.g. POST /v1/ingest, POST /v1/warmups), stop it first, or use another --data-dir.`,
        { cause: e },
      );
    }
    throw new ModcastError(ErrorCodes.STORE_UNAVAILABLE, `cannot open the embedded store at ${path}: ${msg}`, { cause: e });
  }
  const chdb = connection.chdb;
  return {
    client,
    embedded: true,
    location: path,
    retentionDays,
    insert: async ({ table, columns, rows, format, settings }) => {
      if (rows.length === 0) return;
      // rawInsert puts the settings in the statement's own SETTINGS clause (nothing left on the session, so
      // concurrent inserts cannot see each other's tokens) and hands the payload to the engine without first
      // gluing it to the SQL text, which the adapter's `insert` does.
      await chdb.rawInsert({
        table,
        format,
        values: jsonLines(rows),
        ...(columns ? { columns } : {}),
        ...(settings ? { settings } : {}),
      });
    },
    close: () => client.close(),
  };
}

/** Every message down an error's cause chain (chDB's connection error wraps the engine's). */
function causeMessages(e: unknown): string {
  const out: string[] = [];
  for (let c = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) out.push(c.message);
  return out.join('\n');
}

/**
 * Who holds the chDB directory: the engine writes its pid to `status` and flocks that file, and its own lock error
 * only reaches stderr, not the thrown error. A live pid other than ours there, after a failed open, is the holder.
 */
function lockHolder(path: string): { pid: number; since: string } | undefined {
  let text: string;
  try {
    text = readFileSync(join(path, 'status'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, since: /^Started at:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? 'unknown' };
}

/** One JSON document per line: the payload of JSONEachRow and JSONCompactEachRow. */
function jsonLines(rows: readonly unknown[]): string {
  let out = '';
  for (const row of rows) out += JSON.stringify(row) + '\n';
  return out;
}

/** Answers when the store can run a query (readiness). */
export async function pingStore(store: Store): Promise<void> {
  await queryRows(store, 'SELECT 1');
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

/**
 * Runs a query and returns all rows; only for results known to be small (aggregates, LIMITed lists).
 * Time parameters: epoch ms, through the helpers of time-params.ts.
 */
export async function queryRows<T>(store: Store, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await store.client.query({ query, query_params, format: 'JSONEachRow' });
  return rs.json<T>();
}
