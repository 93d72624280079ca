/** Prediction rows from item forecasts, without a store: scopes, windows, module totals and the probability cut. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoursToCover } from '../../src/domain/windows.js';
import { ItemForecaster } from '../../src/domain/forecast/item.js';
import { buildScope, buildWindows, fillSeries, type HistoryRange, type ItemHistory, type Scope } from '../../src/domain/forecast/scope.js';
import { PredictionEmitter, sumBounds, type EmissionOptions } from '../../src/domain/forecast/emission.js';

const H = 3_600_000;
const berlin = { name: 'eu', timeZone: 'Europe/Berlin', businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
const fleet = { calendars: [berlin], nodes: [{ name: 'n1', region: 'eu' }, { name: 'n2', region: 'eu' }] };
// Two weeks of history ending Monday 2026-11-16 06:00 UTC: the next business block opens at 08:00 UTC.
const asOf = Date.UTC(2026, 10, 16, 6);
const range: HistoryRange = { origin: asOf - 14 * 24 * H, asOf, hours: 14 * 24 };

/** Daytime traffic on weekdays: `perHour` fetches in each hour 08:00-16:59 UTC. */
function daytime(perHour: number): { hours: number[]; counts: number[] } {
  const hours: number[] = [];
  const counts: number[] = [];
  for (let h = 0; h < range.hours; h++) {
    const t = new Date(range.origin + h * H);
    if (t.getUTCDay() % 6 !== 0 && t.getUTCHours() >= 8 && t.getUTCHours() < 17) {
      hours.push(h);
      counts.push(perHour);
    }
  }
  return { hours, counts };
}

const items: { version: string; history: ItemHistory }[] = [3, 1].map((perHour, i) => {
  const { hours, counts } = daytime(perHour);
  const total = counts.reduce((a, b) => a + b, 0);
  return { version: `v1.${i}.0`, history: { regions: ['eu'], hours: [hours], counts: [counts], nodes: [[['n1', total * 0.75], ['n2', total * 0.25]]], requests: [total * 2] } };
});

interface Row {
  scope: string;
  id: string;
  version: string;
  window: string;
  expected: number;
  pAny: number;
  lower: number;
  upper: number;
  model: string;
}

/** Scores the two items of one module as the scoring run does, collecting the rows. */
function emitModule(o: EmissionOptions): { rows: Row[]; scope: Scope } {
  const totals = { regionHours: new Map([['eu', new Float64Array(range.hours)]]), nodes: new Map([['n1', { region: 'eu', total: 3 }], ['n2', { region: 'eu', total: 1 }]]) };
  for (const { history } of items) history.hours[0]!.forEach((h, k) => (totals.regionHours.get('eu')![h]! += history.counts[0]![k]!));
  const windows = buildWindows({ horizonHours: 24, stepMinutes: 60 }, asOf, buildScope(fleet, range, totals, range.hours + 1));
  const horizon = hoursToCover(asOf, [...windows.common, ...windows.business.flatMap((b) => (b ? [b] : []))].map((x) => x.w));
  const scope = buildScope(fleet, range, totals, range.hours + horizon);
  const forecaster = new ItemForecaster(scope.grids, scope.fleet, range.hours, horizon);
  const rows: Row[] = [];
  const emitter = new PredictionEmitter(o, scope, windows, (kind, id, _module, version, _kind, w, expected, pAny, lower, upper, model) =>
    rows.push({ scope: kind, id, version, window: `${w.kind}:${w.start}-${w.end}`, expected, pAny, lower, upper, model }),
  );
  const counts = new Float64Array(1);
  const ratio = new Float64Array(2);
  const nodeCounts = new Float64Array(scope.nodeIndex.size);
  for (const { version, history } of items) {
    fillSeries(forecaster, history, scope, counts, ratio, nodeCounts);
    forecaster.forecast({ start: scope.dataStart, release: null, boost: null });
    emitter.emit(forecaster, 'example.com/m', version, ratio, counts, nodeCounts, true);
  }
  emitter.flushModule();
  return { rows, scope };
}

test('every scope and window gets a row per item, and the module total sums them', () => {
  const { rows } = emitModule({ minProbability: 0, floorProbability: 0 });
  const cells = new Map<string, { items: Row[]; sum?: Row }>();
  for (const r of rows) {
    const key = `${r.scope}/${r.id}/${r.window}`;
    const cell = cells.get(key) ?? { items: [] };
    if (r.version === '') cell.sum = r;
    else cell.items.push(r);
    cells.set(key, cell);
  }
  assert.deepEqual([...new Set(rows.map((r) => `${r.scope}/${r.id}`))].sort(), ['fleet/fleet', 'node/n1', 'node/n2', 'region/eu']);
  assert.ok(rows.some((r) => r.window.startsWith('business:') && r.scope === 'region'), 'the region has its business-block window');
  assert.ok(!rows.some((r) => r.window.startsWith('business:') && r.scope === 'fleet'), 'the fleet has no business block');
  for (const [key, { items: of, sum }] of cells) {
    assert.equal(of.length, 2, key);
    const expected = of[0]!.expected + of[1]!.expected;
    // A module expected nowhere in a window has no total there.
    if (!(expected > 0)) {
      assert.equal(sum, undefined, key);
      continue;
    }
    assert.ok(sum, `${key} has its module total`);
    assert.equal(sum.model, 'sum');
    assert.ok(Math.abs(sum.expected - expected) <= 1e-9 * Math.max(1, expected), `${key}: ${sum.expected} = ${expected}`);
    assert.ok(sum.pAny >= Math.max(of[0]!.pAny, of[1]!.pAny) - 1e-9 && sum.pAny < 1, `${key}: P(any) of the module`);
    assert.ok(sum.lower <= sum.expected && sum.expected <= sum.upper, `${key}: bounds around the total`);
  }
  // The busier item is expected more often than the quieter one in the region's business block.
  const block = rows.filter((r) => r.scope === 'region' && r.window.startsWith('business:') && r.version !== '');
  assert.ok(block.find((r) => r.version === 'v1.0.0')!.expected > block.find((r) => r.version === 'v1.1.0')!.expected * 2);
});

test('rows less likely than minProbability are left out; the floor keeps every written item possible', () => {
  const all = emitModule({ minProbability: 0, floorProbability: 0 }).rows;
  const cut = emitModule({ minProbability: 0.5, floorProbability: 0.01 }).rows;
  assert.ok(cut.length > 0 && cut.length < all.length, `${cut.length} of ${all.length} rows kept`);
  for (const r of cut) assert.ok(r.pAny >= 0.5 * 0.99, `${r.scope}/${r.id} ${r.version} ${r.window}: P(any) ${r.pAny}`);
  const floored = emitModule({ minProbability: 0, floorProbability: 0.2 }).rows;
  for (const r of floored) assert.ok(r.pAny >= 0.2 - 1e-12, `${r.scope}/${r.id} ${r.version} ${r.window}: P(any) ${r.pAny} under the floor`);
});

test('sum bounds: 10/90 % of a normal approximation, never below zero', () => {
  assert.deepEqual(sumBounds(100, 100), { lower: Math.floor(100 - 12.816), upper: Math.ceil(100 + 12.816) });
  assert.deepEqual(sumBounds(1, 25), { lower: 0, upper: Math.ceil(1 + 1.2816 * 5) });
  assert.deepEqual(sumBounds(5, 0), { lower: 5, upper: 5 });
});
