import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelSelector, type KeptChoice, type SeriesForecast } from '../../src/domain/forecast/select.js';
import { RELEASE_CURVE_HOURS } from '../../src/domain/forecast/release.js';
import { normaliseShape } from '../../src/domain/forecast/series.js';
import { businessProfile, rng, sum, synthetic } from './forecast-synthetic.js';

const N = 28 * 24;

test('selection follows the data: dense seasonal ⇒ a seasonal model; flat intermittent ⇒ an intermittent model', () => {
  const selector = new ModelSelector(48);
  const profile = businessProfile(0.05);
  const dense = synthetic(N, 48, (_i, how) => 30 * profile[how]!, 1);
  const d = selector.forecast(dense.ctx, 48);
  assert.equal(d.seriesClass, 'dense');
  assert.ok(['holt-winters', 'seasonal'].includes(d.model), d.model);
  assert.ok(d.candidates >= 3);

  const rand = rng(2);
  const sparse = synthetic(N, 48, () => 0, 2);
  for (let i = 0; i < N; i++) sparse.ctx.values[i] = rand() < 0.03 ? 1 + Math.floor(rand() * 3) : 0;
  const s = selector.forecast(sparse.ctx, 48);
  assert.equal(s.seriesClass, 'intermittent');
  assert.ok(['tsb', 'croston', 'pooled-seasonal', 'seasonal'].includes(s.model));
  assert.ok(s.hourly.subarray(0, 48).every((v) => v < 1), 'no spurious peak');
});

test('the selector picks the model with the lowest held-out error, not a fixed favourite', () => {
  const selector = new ModelSelector(24);
  const profile = businessProfile(0.02);
  const shape = normaliseShape(profile, 0);
  // Sparse but strongly seasonal, with the pooled shape known: timing matters, pooled-seasonal should win over
  // the flat intermittent models on squared error.
  const s = synthetic(N, 24, (_i, how) => 0.8 * shape[how]!, 4, shape);
  const r = selector.forecast(s.ctx, 24);
  assert.ok(['pooled-seasonal', 'seasonal'].includes(r.model), r.model);
  // Same data without the pooled shape (flat): the seasonal shape must come from the series itself.
  const flat = synthetic(N, 24, (_i, how) => 0.8 * shape[how]!, 4);
  const r2 = selector.forecast(flat.ctx, 24);
  assert.notEqual(r2.model, 'pooled-seasonal');
});

test('empty series ⇒ floor model, zeros, no NaN; deterministic for the same input', () => {
  const selector = new ModelSelector(24);
  const empty = synthetic(N, 24, () => 0, 1);
  const r = selector.forecast(empty.ctx, 24);
  assert.equal(r.model, 'floor');
  assert.equal(r.seriesClass, 'empty');
  assert.ok(r.hourly.subarray(0, 24).every((v) => v === 0));
  const s = synthetic(N, 24, (i) => 1 + (i % 5), 3);
  const a = Array.from(selector.forecast(s.ctx, 24).hourly.subarray(0, 24));
  const b = Array.from(new ModelSelector(24).forecast(s.ctx, 24).hourly.subarray(0, 24));
  assert.deepEqual(a, b);
});

test('a brand-new version uses its release curve; one with too little history is not backtested', () => {
  const selector = new ModelSelector(24);
  const curve = new Float64Array(RELEASE_CURVE_HOURS).fill(2);
  const s = synthetic(N, 24, (i) => (i >= N - 6 ? 2 : 0), 5);
  s.ctx.start = N - 6;
  const r = selector.forecast(s.ctx, 24, { curve, releaseIndex: N - 6 });
  assert.equal(r.seriesClass, 'new');
  assert.equal(r.model, 'release');
  const mean = sum(r.hourly, 0, 24) / 24;
  assert.ok(mean > 1 && mean < 3.5, `release forecast ${mean}`);
  // Without a curve, a young series falls back to its own level on the pooled shape.
  const r2 = selector.forecast(s.ctx, 24, null);
  assert.equal(r2.model, 'pooled-seasonal');
});

test('forcing one model (backtest methods) bypasses selection', () => {
  const selector = new ModelSelector(24);
  const s = synthetic(N, 24, () => 3, 6);
  for (const m of ['tsb', 'croston', 'seasonal', 'pooled-seasonal', 'holt-winters'] as const) {
    assert.equal(selector.forecast(s.ctx, 24, null, m).model, m);
  }
  assert.throws(() => selector.forecast(s.ctx, 25), /horizon/);
});

test('a kept choice is re-forecast without a backtest, as long as the series is of its class and the model a candidate', () => {
  const selector = new ModelSelector(48);
  const profile = businessProfile(0.05);
  const dense = synthetic(N, 48, (_i, how) => 30 * profile[how]!, 1);
  const selected = selector.forecast(dense.ctx, 48);
  assert.equal(selected.backtested, true);
  const out: SeriesForecast[] = [];
  const forecastKeeping = (kept: KeptChoice) => {
    selector.forecastVariants(dense.ctx, 48, null, [undefined], out, kept);
    return { ...out[0]!, hourly: Array.from(out[0]!.hourly.subarray(0, 48)) };
  };
  // Kept as selected: the same forecast, marked as not chosen here.
  const same = forecastKeeping({ model: selected.model, seriesClass: 'dense', size: selected.size, error: selected.error, params: selected.params });
  assert.equal(same.model, selected.model);
  assert.deepEqual(same.hourly, Array.from(selected.hourly.subarray(0, 48)));
  assert.equal(same.backtested, false);
  // Another candidate kept: it forecasts as alone, with the kept dispersion (no residuals were computed).
  const alone = Array.from(selector.forecast(dense.ctx, 48, null, 'tsb').hourly.subarray(0, 48));
  const tsb = forecastKeeping({ model: 'tsb', seriesClass: 'dense', size: 7.5, error: 1, params: -1 });
  assert.equal(tsb.model, 'tsb');
  assert.equal(tsb.size, 7.5);
  assert.deepEqual(tsb.hourly, alone);
  // Holt-Winters' smoothing parameters are kept with it: the forecast is the one of the fit that chose them.
  selector.forecastVariants(dense.ctx, 48, null, ['holt-winters'], out);
  const hw = { hourly: Array.from(out[0]!.hourly.subarray(0, 48)), params: out[0]!.params };
  assert.ok(hw.params >= 0);
  assert.deepEqual(forecastKeeping({ model: 'holt-winters', seriesClass: 'dense', size: 3, error: 1, params: hw.params }).hourly, hw.hourly);
  // A choice made for another class, or of a model the series no longer competes with, is selected afresh.
  for (const stale of [
    { model: 'tsb' as const, seriesClass: 'intermittent' as const, size: 7.5, error: 1, params: -1 },
    { model: 'croston' as const, seriesClass: 'dense' as const, size: 7.5, error: 1, params: -1 },
  ]) {
    const again = forecastKeeping(stale);
    assert.equal(again.model, selected.model);
    assert.equal(again.backtested, true);
    assert.equal(again.size, selected.size);
  }
});
