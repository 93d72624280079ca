/**
 * The Grafana dashboards are tested, not just shipped: every ClickHouse panel query (macros and variables
 * substituted as Grafana would) runs against a real store with data, and every Prometheus metric the other
 * dashboard plots is one modcast exposes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { seedEvents, seedPredictionRun, type SeedEvent } from '../helpers/api.js';
import { queryRows } from '../../src/store/client.js';
import { metricsRegistry } from '../../src/lib/metrics-registry.js';
import { projectPath } from '../../src/lib/paths.js';

const GRAFANA = projectPath('dashboards', 'grafana');
const HOUR = 3_600_000;
const START = Math.floor(Date.now() / HOUR) * HOUR - 3 * 24 * HOUR;

interface Target { rawSql?: string; expr?: string }
interface Panel { title: string; targets: Target[] }
const load = (file: string) => JSON.parse(readFileSync(join(GRAFANA, file), 'utf8')) as { panels: Panel[]; templating: { list: { name: string }[] } };

/** What Grafana sends for `region = eu`, no node, no prefix, top 15, the last 7 days. */
function substitute(sql: string): string {
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, '($1 >= now() - INTERVAL 7 DAY AND $1 <= now())')
    .replaceAll('${region:sqlstring}', "'eu'")
    .replaceAll('${node:sqlstring}', "''")
    .replaceAll('${module_prefix:sqlstring}', "''")
    .replaceAll('${top_n:raw}', '15');
}

let t: TestStore;
before(async () => {
  t = await openTestStore();
  const events: SeedEvent[] = [];
  for (let h = 0; h < 72; h++) {
    for (let i = 0; i < 5; i++) events.push({ module: `github.com/acme/m${i}`, version: h < 40 ? 'v1.0.0' : 'v1.1.0', node: i % 2 ? 'eu-1' : 'us-1', region: i % 2 ? 'eu' : 'us', ts: START + h * HOUR + i * 1000, cache: i === 0 ? 'miss' : 'hit' });
  }
  await seedEvents(t.store, 'seed:grafana', events);
  await seedPredictionRun(t.store, 'run-g', START + 72 * HOUR, [
    { scope: 'fleet', scopeId: 'fleet', module: 'github.com/acme/m1', version: '', kind: 'any', hour: 0, expected: 3 },
    { scope: 'region', scopeId: 'eu', module: 'github.com/acme/m1', version: '', kind: 'any', hour: 1, expected: 2 },
  ]);
  const ch = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  await t.store.client.insert({
    table: 'warmup_runs',
    format: 'JSONEachRow',
    values: [{ run_id: 'g-1', node: 'eu-1', region: 'eu', trigger: 'schedule', planned_for: ch(START + 40 * HOUR), created_at: ch(Date.now() - HOUR), finished_at: ch(Date.now() - HOUR), status: 'done', dry_run: false, items_planned: 1, items_done: 1, items_failed: 0, bytes: 10, expected_benefit: 1, prediction_run_id: 'run-g', message: '' }],
  });
  await t.store.client.insert({
    table: 'warmup_items',
    format: 'JSONEachRow',
    values: [{ run_id: 'g-1', item_id: 'i', node: 'eu-1', module: 'github.com/acme/m1', version: 'v1.1.0', endpoint: 'zip', path: '/x', expected_benefit: 1, status: 'ok', http_status: 200, bytes: 10, latency_ms: 1, attempts: 1, sha256: '', reason: '', finished_at: ch(Date.now() - HOUR) }],
  });
});
after(async () => {
  await t?.cleanup();
});

test('every ClickHouse panel query runs on the modcast schema and the main panels return rows', async () => {
  const dash = load('modcast-clickhouse.json');
  const rows = new Map<string, number>();
  for (const p of dash.panels) {
    for (const target of p.targets) {
      assert.ok(target.rawSql, `${p.title} has SQL`);
      try {
        rows.set(p.title, (await queryRows(t.store, substitute(target.rawSql))).length);
      } catch (e) {
        assert.fail(`${p.title}: ${(e as Error).message}`);
      }
    }
  }
  for (const v of dash.templating.list.filter((x) => 'query' in x && typeof (x as { query?: unknown }).query === 'string' && /SELECT/.test((x as unknown as { query: string }).query))) {
    await queryRows(t.store, substitute((v as unknown as { query: string }).query));
  }
  const nonEmpty = (prefix: string) => [...rows.entries()].find(([title]) => title.startsWith(prefix))?.[1] ?? 0;
  assert.ok(nonEmpty('Hotness') > 0);
  assert.ok(nonEmpty('Top modules') > 0);
  assert.ok(nonEmpty('New releases') > 0);
  assert.ok(nonEmpty('Ingest: events') > 0);
  assert.ok(nonEmpty('Warm-up effectiveness') > 0);
});

test('the Prometheus dashboard plots metrics modcast exposes', async () => {
  const dash = load('modcast-prometheus.json');
  const sources = readdirSync(projectPath('src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(projectPath('src'), f), 'utf8'))
    .join('\n');
  const registered = new Set((await metricsRegistry.getMetricsAsJSON()).map((m) => m.name));
  const names = new Set(dash.panels.flatMap((p) => p.targets.flatMap((x) => x.expr?.match(/modcast_[a-z0-9_]+/g) ?? [])));
  assert.ok(names.size >= 10);
  for (const name of names) {
    const base = name.replace(/_bucket$/, '');
    assert.ok(registered.has(base) || sources.includes(`'${base}'`), `${name} is exposed by modcast`);
  }
});
