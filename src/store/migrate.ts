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
  await store.client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (
      version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()
    ) ENGINE = MergeTree ORDER BY version`,
  });
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
        await store.client.command({ query: statement });
      } catch (e) {
        throw new ModcastError(ErrorCodes.MIGRATION_FAILED, `migration ${m.file} failed: ${(e as Error).message}`, { cause: e });
      }
    }
    await store.client.insert({
      table: 'schema_migrations',
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    applied.push(m.file);
  }
  return { applied };
}
