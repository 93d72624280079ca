/**
 * Applies pipelines/NNN_name.sql in order, once each, recorded in `schema_migrations` with a checksum of the file.
 * An applied migration whose file has changed since stops the start (MODCAST_ERR_MIGRATION_CHANGED): its edit would
 * otherwise be skipped silently and the tables would differ from what the files say. Add a new migration instead.
 * Statements are separated by a line ending in `;`. Templates: `{{retention_days}}` only — a validated
 * integer from the config, since DDL TTLs cannot take query parameters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { projectPath } from '../lib/paths.js';
import type { Store } from './client.js';
import { queryRows } from './client.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { clusterStatements, engineFamilies, migrationsTableDDL, type ClusterSchema } from './cluster.js';

export const PIPELINES_DIR = projectPath('pipelines');

export interface Migration {
  version: number;
  name: string;
  file: string;
  statements: string[];
  /** Of the file as written, before templates: a changed setting (retention) is not an edited migration. */
  checksum: string;
  /** Of the file after templates: what versions before the comparison recorded. */
  legacyChecksum: string;
}

const checksumOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir = PIPELINES_DIR, vars: { retentionDays: number }): Migration[] {
  const files = readdirSync(dir).filter((f) => FILE_NAME.test(f)).sort();
  return files.map((f) => {
    const m = FILE_NAME.exec(f)!;
    const raw = readFileSync(join(dir, f), 'utf8');
    const text = raw.replaceAll('{{retention_days}}', String(Math.trunc(vars.retentionDays)));
    return {
      version: Number(m[1]),
      name: m[2]!,
      file: f,
      statements: splitStatements(text),
      checksum: checksumOf(raw),
      legacyChecksum: checksumOf(text),
    };
  });
}

export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function migrate(store: Store, dir = PIPELINES_DIR): Promise<{ applied: string[] }> {
  const c = store.cluster;
  if (!c) return applyMigrations(store, dir);
  const engines = engineFamilies(loadMigrations(dir, { retentionDays: store.retentionDays }).flatMap((m) => m.statements));
  const schema: ClusterSchema = { cluster: c.name, database: c.database, replicated: c.replicated, onCluster: c.nodes.length === 0, engines };
  if (schema.onCluster) return applyMigrations(store, dir, schema);
  // No distributed DDL: the same statements on each node in turn, each node keeping its own record, so a rollout
  // interrupted half-way resumes on the nodes that miss a migration.
  const applied = new Set<string>();
  for (const url of c.nodes) {
    const node = await c.openNode(url);
    try {
      for (const f of (await applyMigrations(node, dir, schema)).applied) applied.add(f);
    } finally {
      await node.close();
    }
  }
  return { applied: [...applied].sort() };
}

async function applyMigrations(store: Store, dir: string, schema?: ClusterSchema): Promise<{ applied: string[] }> {
  await store.client.command({ query: migrationsTableDDL(schema) });
  // On a server several processes (consume ×N, serve) may migrate at once: every statement is idempotent, and the
  // record of a migration carries a dedup token so it is written once however many of them applied it.
  // Tables created before the window existed get it here (a no-op when already set).
  if (!schema?.onCluster) {
    await store.client.command({ query: 'ALTER TABLE schema_migrations MODIFY SETTING non_replicated_deduplication_window = 1000' });
  }
  const done = new Map<number, Set<string>>();
  for (const r of await queryRows<{ version: number; checksum: string }>(store, 'SELECT version, checksum FROM schema_migrations')) {
    const v = Number(r.version);
    done.set(v, (done.get(v) ?? new Set()).add(r.checksum));
  }
  const migrations = loadMigrations(dir, { retentionDays: store.retentionDays });
  // Every applied file is checked before anything new is applied, so a refused start changes nothing.
  for (const m of migrations) {
    const recorded = done.get(m.version);
    if (recorded && !recorded.has(m.checksum) && !recorded.has(m.legacyChecksum))
      throw new ModcastError(
        ErrorCodes.MIGRATION_CHANGED,
        `migration ${m.file} was applied to this store and has been edited since (checksum ${m.checksum}, recorded ${[...recorded].join(', ')}); ` +
          'restore the file and put the change in a new migration',
      );
  }
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) {
      try {
        for (const q of schema ? clusterStatements(statement, schema) : [statement]) await store.client.command({ query: q });
      } catch (e) {
        throw new ModcastError(ErrorCodes.MIGRATION_FAILED, `migration ${m.file} failed on ${store.location}: ${(e as Error).message}`, { cause: e });
      }
    }
    await store.insert({
      table: 'schema_migrations',
      rows: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
      settings: { insert_deduplicate: 1, insert_deduplication_token: `migration:${m.version}:${m.checksum}` },
    });
    applied.push(m.file);
  }
  return { applied };
}
