/**
 * Cost and effectiveness accounting over warmup_events: proxy log lines (warm-up fetches marked by their user agent,
 * client requests) ingested into a real store, then per node and day what warm-ups cost and which warmed versions
 * clients used within the window after the warm-up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { ingestStream } from '../../src/ingest/pipeline.js';
import { measureWarmupTraffic } from '../../src/warmup/effectiveness.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => {
  await t?.cleanup();
});

const WARMUP_AGENT = 'modcast-warmup/0.1.0';
const CLIENT_AGENT = 'Go-http-client/1.1';

/** One nginx combined line (+ request time and cache status) at `at` (ISO, UTC). */
function line(at: string, path: string, bytes: number, agent: string, cache: 'HIT' | 'MISS'): string {
  const d = new Date(at);
  const month = d.toLocaleString('en', { month: 'short', timeZone: 'UTC' });
  const clf = `${String(d.getUTCDate()).padStart(2, '0')}/${month}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
  return `10.0.0.7 - - [${clf}] "GET ${path} HTTP/1.1" 200 ${bytes} "-" "${agent}" 0.010 ${cache}`;
}

const warm = (at: string, module: string, version: string) =>
  (['info', 'mod', 'zip'] as const).map((ext, i) => line(at, `/${module}/@v/${version}.${ext}`, [100, 200, 5000][i]!, WARMUP_AGENT, 'MISS'));
const client = (at: string, module: string, version: string, ext: string, cache: 'HIT' | 'MISS' = 'HIT') =>
  line(at, `/${module}/@v/${version}.${ext}`, 5000, CLIENT_AGENT, cache);

async function ingest(node: string, lines: string[]): Promise<void> {
  const stats = await ingestStream(Readable.from([Buffer.from(lines.join('\n') + '\n')]), {
    writer: new EventWriter(t.store),
    node,
    region: 'eu',
    format: 'nginx',
    pathPrefixes: t.config.ingest.pathPrefixes,
    clientSalt: 'salt-salt-salt-salt',
    maxLineBytes: 4096,
    batchLines: 5,
    sourceId: `traffic-${node}`,
    sourceName: `test:${node}`,
    tokenPrefix: `test:traffic-${node}`,
  });
  assert.equal(stats.rejected, 0);
}

test('per node and day: warm-up requests and bytes, warmed versions, and the client requests on them within the window', async () => {
  const A = 'github.com/acme/a';
  const B = 'golang.org/x/text';
  const C = 'gopkg.in/yaml.v3';
  await ingest('cost-1', [
    client('2026-11-25T05:00:00Z', A, 'v1.0.0', 'zip'), // before its warm-up: demand, but not use of the warm-up
    line('2026-11-25T06:00:00Z', `/${A}/@v/list`, 40, WARMUP_AGENT, 'MISS'),
    ...warm('2026-11-25T06:00:01Z', A, 'v1.0.0'),
    ...warm('2026-11-25T06:00:02Z', B, 'v0.2.0'),
    ...warm('2026-11-25T06:00:03Z', C, 'v3.0.0'),
    client('2026-11-25T09:00:00Z', A, 'v1.0.0', 'zip'),
    client('2026-11-25T09:05:00Z', A, 'v1.0.0', 'mod'),
    client('2026-11-25T10:00:00Z', B, 'v0.2.0', 'info', 'MISS'),
    client('2026-11-25T10:00:00Z', 'github.com/acme/never-warmed', 'v1.0.0', 'zip', 'MISS'),
    // 25 hours after C's warm-up: outside the 24-hour window.
    client('2026-11-26T07:00:03Z', C, 'v3.0.0', 'zip'),
    // The next day A is warmed again (info only) and used once more.
    line('2026-11-26T06:00:00Z', `/${A}/@v/v1.0.0.info`, 100, WARMUP_AGENT, 'HIT'),
    client('2026-11-26T09:00:00Z', A, 'v1.0.0', 'zip'),
  ]);
  // Another node warmed A too, but no client of that node asked for it (cost-1's clients do not count there).
  await ingest('cost-2', warm('2026-11-25T06:30:00Z', A, 'v1.0.0'));

  const traffic = await measureWarmupTraffic(t.store, { from: new Date('2026-11-25T00:00:00Z'), to: new Date('2026-11-27T00:00:00Z') });
  assert.deepEqual(traffic.days, [
    { day: '2026-11-25T00:00:00.000Z', node: 'cost-1', requests: 10, bytes: 40 + 3 * 5300, warmedVersions: 3, usedVersions: 2, demandRequests: 3, demandHits: 2 },
    { day: '2026-11-25T00:00:00.000Z', node: 'cost-2', requests: 3, bytes: 5300, warmedVersions: 1, usedVersions: 0, demandRequests: 0, demandHits: 0 },
    { day: '2026-11-26T00:00:00.000Z', node: 'cost-1', requests: 1, bytes: 100, warmedVersions: 1, usedVersions: 1, demandRequests: 1, demandHits: 1 },
  ]);
  assert.deepEqual(traffic.totals, { requests: 14, bytes: 40 + 4 * 5300 + 100, warmedVersions: 5, usedVersions: 3, demandRequests: 4, demandHits: 3, useRate: 3 / 5 });
  assert.deepEqual(traffic.window, { from: '2026-11-25T00:00:00.000Z', to: '2026-11-27T00:00:00.000Z', useWithinHours: 24 });

  // Scope and window: one node; a longer use window reaches C's late request.
  const one = await measureWarmupTraffic(t.store, { from: new Date('2026-11-25T00:00:00Z'), to: new Date('2026-11-26T00:00:00Z'), node: 'cost-1', windowHours: 26 });
  assert.deepEqual(
    one.days.map((d) => [d.node, d.usedVersions, d.demandRequests]),
    [['cost-1', 3, 4]],
    "day 1 only: A's two requests of that day (its request of day 2 comes 27 h after), B's, and C's 25 h after",
  );
  // The warm-ups never reached demand: access_events and the rollups hold the clients' requests only.
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE node = 'cost-1'"), 7);
  assert.equal(await count(t.store, "SELECT sum(requests) FROM rollups_1h WHERE node LIKE 'cost-%'"), 7);
  assert.equal(await count(t.store, "SELECT count() FROM warmup_events WHERE node LIKE 'cost-%'"), 14);
  const empty = await measureWarmupTraffic(t.store, { from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-28T00:00:00Z') });
  assert.deepEqual(empty.days, []);
  assert.equal(empty.totals.useRate, 0);
});
