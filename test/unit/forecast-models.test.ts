import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearRegression } from 'simple-statistics';
import { HoltWinters, leastSquares } from '../../src/domain/forecast/holt-winters.js';
import { PooledSeasonal, SeasonalProfile } from '../../src/domain/forecast/seasonal.js';
import { normaliseShape, type Forecaster } from '../../src/domain/forecast/series.js';
import { Croston, Tsb } from '../../src/domain/forecast/tsb.js';
import { businessProfile, rng, sum, synthetic } from './forecast-synthetic.js';

const N = 28 * 24;
const H = 48;

function forecastOf(model: Forecaster, s: ReturnType<typeof synthetic>, horizon = H): Float64Array {
  const out = new Float64Array(horizon);
  model.forecast(s.ctx, s.ctx.n, horizon, out);
  return out;
}

/** Relative error of the forecast's total vs the truth's over the horizon. */
function totalError(forecast: Float64Array, truth: Float64Array, n: number): number {
  const t = sum(truth, n, n + forecast.length);
  return Math.abs(sum(forecast) - t) / t;
}

/** Mean absolute error per hour relative to the mean truth: sensitive to timing, not only totals. */
function shapeError(forecast: Float64Array, truth: Float64Array, n: number): number {
  let e = 0;
  for (let k = 0; k < forecast.length; k++) e += Math.abs(forecast[k]! - truth[n + k]!);
  return e / sum(truth, n, n + forecast.length);
}

test('pure seasonal (business hours): seasonal profile and Holt-Winters recover the week shape', () => {
  const profile = businessProfile(0.1);
  // History ends on a Sunday night: the horizon is Monday-Tuesday, business hours included.
  const s = synthetic(N, H, (_i, how) => 12 * profile[how]!, 7);
  for (const model of [new SeasonalProfile(), new HoltWinters()]) {
    const f = forecastOf(model, s);
    assert.ok(totalError(f, s.truth, N) < 0.12, `${model.name} total error ${totalError(f, s.truth, N)}`);
    assert.ok(shapeError(f, s.truth, N) < 0.3, `${model.name} shape error ${shapeError(f, s.truth, N)}`);
    // Monday 10:00 is busy, Monday 03:00 is not.
    assert.ok(f[10]! > 5 * f[3]!, `${model.name}: ${f[10]} vs ${f[3]}`);
  }
  // A flat model gets the total roughly right but the timing badly wrong: the structure test can fail.
  const flat = forecastOf(new Tsb(), s);
  assert.ok(shapeError(flat, s.truth, N) > 0.5);
});

test('trend: Holt-Winters follows a growing level, a flat model lags', () => {
  const s = synthetic(N, H, (i) => 5 + 0.03 * i, 11);
  const hw = forecastOf(new HoltWinters(), s, 24);
  const truthNext = sum(s.truth, N, N + 24) / 24; // ≈ 25
  const hwMean = sum(hw) / 24;
  assert.ok(Math.abs(hwMean - truthNext) / truthNext < 0.1, `holt-winters ${hwMean} vs ${truthNext}`);
  const flatMean = sum(forecastOf(new SeasonalProfile(), s, 24)) / 24;
  assert.ok(flatMean < hwMean, 'a decayed average lags a trend');
});

test('intermittent: TSB and Croston estimate the demand rate without bias (100 seeds)', () => {
  const p = 0.05;
  const size = 4;
  const trueRate = p * size;
  for (const make of [() => new Tsb(), () => new Croston()]) {
    let total = 0;
    const seeds = 100;
    for (let seed = 1; seed <= seeds; seed++) {
      const rand = rng(seed);
      const s = synthetic(N, 24, () => 0, seed);
      for (let i = 0; i < N; i++) s.ctx.values[i] = rand() < p ? size : 0;
      const f = forecastOf(make(), s, 24);
      assert.ok(f.every((v) => v === f[0]), 'flat forecast');
      total += f[0]!;
    }
    const mean = total / seeds;
    assert.ok(Math.abs(mean - trueRate) / trueRate < 0.15, `${make().name} mean rate ${mean} vs ${trueRate}`);
  }
});

test('TSB decays towards zero after demand stops (obsolescence); Croston notices the silence', () => {
  const s = synthetic(N, 24, (i) => (i < N - 10 * 24 ? 0.5 : 0), 3);
  const tsb = forecastOf(new Tsb(), s, 24)[0]!;
  const croston = forecastOf(new Croston(), s, 24)[0]!;
  assert.ok(tsb < 0.05, `tsb ${tsb}`);
  assert.ok(croston < 0.1, `croston ${croston}`);
});

test('pooled seasonal: a sparse series takes its timing from the pooled shape and its level from itself', () => {
  const profile = businessProfile(0.05);
  const shape = normaliseShape(profile, 0);
  const s = synthetic(N, H, (_i, how) => 0.3 * shape[how]!, 5, shape);
  const f = forecastOf(new PooledSeasonal(), s);
  assert.ok(totalError(f, s.truth, N) < 0.35, `total error ${totalError(f, s.truth, N)}`);
  assert.ok(f[10]! > 10 * f[3]!);
});

test('burst: a one-off CI burst does not leave a lasting forecast of its size', () => {
  // Baseline 2/h; 300 requests in three hours two days ago (a CI pipeline), then baseline again.
  const burstAt = N - 48;
  const s = synthetic(N, 24, () => 2, 9);
  for (let i = burstAt; i < burstAt + 3; i++) s.ctx.values[i] = 100;
  for (const model of [new Tsb(), new Croston(), new PooledSeasonal(), new SeasonalProfile(), new HoltWinters()]) {
    const f = forecastOf(model, s, 24);
    const mean = sum(f) / 24;
    assert.ok(mean < 2 * 2 + 1, `${model.name} stays near the baseline: ${mean}`);
    assert.ok(mean > 1, `${model.name} does not forget the baseline: ${mean}`);
  }
});

test('models never emit NaN or negatives on empty, constant-zero or huge series', () => {
  const models = [new Tsb(), new Croston(), new PooledSeasonal(), new SeasonalProfile(), new HoltWinters()];
  const cases = [synthetic(N, 24, () => 0, 1), synthetic(N, 24, () => 1e6, 1), synthetic(0, 24, () => 0, 1)];
  const young = synthetic(N, 24, () => 3, 2);
  young.ctx.start = N - 5; // five hours of history
  cases.push(young);
  for (const s of cases) {
    for (const model of models) {
      const f = forecastOf(model, s, 24);
      assert.ok(f.every((v) => Number.isFinite(v) && v >= 0), `${model.name} n=${s.ctx.n}`);
    }
  }
});

test("Holt-Winters' typed-array least squares agrees with simple-statistics' linearRegression", () => {
  const s = synthetic(200, 0, (i) => 3 + 0.2 * i, 4);
  const line = leastSquares(s.ctx.values, 20, 180);
  const ref = linearRegression(Array.from(s.ctx.values.subarray(20, 180), (y, x) => [x, y]));
  assert.ok(Math.abs(line.m - ref.m) < 1e-9 && Math.abs(line.b - ref.b) < 1e-9, JSON.stringify({ line, ref }));
  assert.deepEqual(leastSquares(s.ctx.values, 5, 6), { m: 0, b: s.ctx.values[5] });
});

test('cold start: with 48 h of flat history the pooled-seasonal next hour is within 2× of the recent rate', async () => {
  // The pool's shape is measured from the same two days: every hour of the week after them was never observed.
  const { weekShape } = await import('../../src/domain/forecast/series.js');
  const { hourOfWeekGrid } = await import('../../src/domain/calendar.js');
  const n = 48;
  const how = hourOfWeekGrid(Date.UTC(2026, 0, 5), n + 24, 'UTC');
  const flat = synthetic(n, 24, () => 5, 11);
  const shape = weekShape(flat.ctx.values, how.subarray(0, n));
  const s = { ctx: { ...flat.ctx, how, shape } };
  const f = new Float64Array(24);
  new PooledSeasonal().forecast(s.ctx, n, 24, f);
  const recent = sum(flat.ctx.values, n - 24, n) / 24;
  for (let k = 0; k < 24; k++) assert.ok(f[k]! > recent / 2 && f[k]! < recent * 2, `hour ${k}: ${f[k]} vs recent ${recent}`);
  // Unobserved hours of the week take the same hour of day's level, not the 5 % floor.
  for (let h = 48; h < 168; h++) assert.ok(shape[h]! > 0.5, `hour of week ${h}: ${shape[h]}`);
});
