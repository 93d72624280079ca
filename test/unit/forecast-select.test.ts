import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelSelector } from '../../src/domain/forecast/select.js';
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
