/**
 * The sharded schema of a ClickHouse cluster, derived from the single-server migrations in pipelines/ so both stay one
 * source: every table `T` becomes a local table `T_local` on each node (ReplicatedMergeTree family when replicated)
 * plus `T` = Distributed over the cluster, sharded by a hash of the module (or of the table's key where rows have no
 * module). Materialized views read and write the local tables, so a shard's rollups hold exactly its own events;
 * everything else reads and writes `T`, so the queries are the same as on one server.
 */
import { ModcastError, ErrorCodes } from '../errors.js';

export interface ClusterSchema {
  cluster: string;
  database: string;
  replicated: boolean;
  /** Append `ON CLUSTER <cluster>` (distributed DDL, needs Keeper); false = the caller applies it on each node. */
  onCluster: boolean;
  /** Engine (MergeTree family) of each table created by the migrations, for `CREATE TABLE x AS y` (see engineFamilies). */
  engines?: ReadonlyMap<string, string>;
}

/**
 * Shard key of each table. One module's events, rollups and predictions share a shard; ReplacingMergeTree tables are
 * sharded by their whole-row identity (run_id, …) so every version of a row meets the others on one shard (FINAL and
 * argMax then work per shard).
 */
export const SHARD_KEYS: Readonly<Record<string, string>> = {
  access_events: 'cityHash64(module)',
  rollups_5m: 'cityHash64(module)',
  rollups_1h: 'cityHash64(module)',
  rejected_events: 'cityHash64(source)',
  ingest_batches: 'cityHash64(topic, partition)',
  prediction_runs: 'cityHash64(run_id)',
  predictions: 'cityHash64(module)',
  module_requires: 'cityHash64(module)',
  warmup_runs: 'cityHash64(run_id)',
  warmup_items: 'cityHash64(run_id)',
  scheduler_leases: 'cityHash64(name)',
  ranker_picks: 'cityHash64(run_id)',
  warmup_events: 'cityHash64(module)',
  // Filled per shard by views on access_events and warmup_events; the key only routes direct inserts (there are none).
  event_lines: 'cityHash64(source)',
};

/** How long replicated tables remember insert tokens (docs/deploy.md, "Exactly once"). */
export const REPLICATED_DEDUP_SECONDS = 7 * 24 * 3600;

export const localName = (table: string) => `${table}_local`;

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS (\w+)(\s*\()/;
const CREATE_AS = /^CREATE TABLE IF NOT EXISTS (\w+) AS (\w+)$/;
const CREATE_MV = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\b/;
const ALTER_TABLE = /^ALTER TABLE (\w+)\b/;
const ENGINE = /\bENGINE = (\w*)MergeTree\b(?:\(([^)]*)\))?/;

function shardKey(table: string): string {
  const key = SHARD_KEYS[table];
  if (!key) throw new ModcastError(ErrorCodes.MIGRATION_FAILED, `table ${table} has no shard key for cluster mode: add it to SHARD_KEYS in src/store/cluster.ts`);
  return key;
}

/** Rewrites one single-server statement into its cluster statements. */
export function clusterStatements(statement: string, s: ClusterSchema): string[] {
  const on = s.onCluster ? ` ON CLUSTER ${s.cluster}` : '';
  let m = CREATE_TABLE.exec(statement);
  if (m) {
    const table = m[1]!;
    const key = shardKey(table);
    const local = localName(table);
    let body = statement.replace(CREATE_TABLE, `CREATE TABLE IF NOT EXISTS ${local}${on}$2`);
    if (s.replicated) body = replicate(body, local);
    return [body, `CREATE TABLE IF NOT EXISTS ${table}${on} AS ${local} ENGINE = Distributed(${s.cluster}, ${s.database}, ${local}, ${key})`];
  }
  m = CREATE_AS.exec(statement);
  if (m) {
    const [table, source] = [m[1]!, m[2]!];
    const key = shardKey(table);
    shardKey(source);
    const local = localName(table);
    // A plain copy would share the source's replication path in Keeper: a replicated copy names its own engine (the
    // server copies the columns, PARTITION BY, ORDER BY and TTL, not the settings).
    const family = s.engines?.get(source);
    if (s.replicated && family === undefined) {
      throw new ModcastError(ErrorCodes.MIGRATION_FAILED, `cannot replicate ${table}: the engine of ${source} is not known from the migrations`);
    }
    const engine = s.replicated
      ? ` ENGINE = Replicated${family}MergeTree('/clickhouse/tables/{shard}/{database}/${local}', '{replica}')` +
        ` SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = ${REPLICATED_DEDUP_SECONDS}`
      : '';
    return [
      `CREATE TABLE IF NOT EXISTS ${local}${on} AS ${localName(source)}${engine}`,
      `CREATE TABLE IF NOT EXISTS ${table}${on} AS ${local} ENGINE = Distributed(${s.cluster}, ${s.database}, ${local}, ${key})`,
    ];
  }
  m = CREATE_MV.exec(statement);
  if (m) {
    shardKey(m[2]!);
    // The view fires on inserts into the local source table of each shard and writes that shard's local target.
    const rest = statement.slice(m[0].length).replace(/\bFROM (\w+)\b/g, (all, t: string) => (SHARD_KEYS[t] ? `FROM ${localName(t)}` : all));
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${m[1]}${on} TO ${localName(m[2]!)} AS${rest}`];
  }
  m = ALTER_TABLE.exec(statement);
  if (m) {
    shardKey(m[1]!);
    const rest = statement.slice(m[0].length);
    return [`ALTER TABLE ${localName(m[1]!)}${on}${rest}`, `ALTER TABLE ${m[1]}${on}${rest}`];
  }
  throw new ModcastError(ErrorCodes.MIGRATION_FAILED, `cluster mode cannot shard this statement (CREATE TABLE, CREATE MATERIALIZED VIEW … TO, ALTER TABLE only): ${statement.slice(0, 120)}`);
}

/** Table → MergeTree family prefix ('' for MergeTree, 'Replacing', 'Aggregating', …) of every CREATE TABLE among `statements`. */
export function engineFamilies(statements: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const st of statements) {
    const name = CREATE_TABLE.exec(st)?.[1];
    const family = ENGINE.exec(st)?.[1];
    if (name && family !== undefined) out.set(name, family);
  }
  return out;
}

/** MergeTree family → its Replicated form with a per-shard path; dedup windows become the replicated settings. */
function replicate(statement: string, local: string): string {
  const m = ENGINE.exec(statement);
  if (!m) throw new ModcastError(ErrorCodes.MIGRATION_FAILED, `table ${local} has no MergeTree engine to replicate`);
  const args = [`'/clickhouse/tables/{shard}/{database}/${local}'`, `'{replica}'`, ...(m[2] ? [m[2]] : [])];
  return statement
    .replace(ENGINE, `ENGINE = Replicated${m[1]}MergeTree(${args.join(', ')})`)
    // Replicated dedup also forgets tokens older than a time window (1 hour by default in recent releases): keep them
    // as long as Kafka keeps messages (7 days by default), so a range replayed after a long outage is still dropped.
    .replace(/\bnon_replicated_deduplication_window = (\d+)/g, `replicated_deduplication_window = $1, replicated_deduplication_window_seconds = ${REPLICATED_DEDUP_SECONDS}`);
}

/** The table of applied migrations: per node when migrations run node by node, one replicated table with ON CLUSTER. */
export function migrationsTableDDL(s?: ClusterSchema): string {
  const columns = 'version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()';
  if (s?.onCluster) {
    // Every node is a replica of the same table (no {shard} in the path): the record is the cluster's.
    return `CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER ${s.cluster} (${columns})
      ENGINE = ReplicatedMergeTree('/clickhouse/tables/{database}/schema_migrations', '{replica}') ORDER BY version`;
  }
  return `CREATE TABLE IF NOT EXISTS schema_migrations (${columns}) ENGINE = MergeTree ORDER BY version
      SETTINGS non_replicated_deduplication_window = 1000`;
}
