import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { poissonDistribution } from 'simple-statistics';
import {
  POISSON_SIZE,
  addResiduals,
  emptyResiduals,
  probabilityOfZero,
  sizeFromResiduals,
  summariseCount,
  windowSize,
} from '../../src/domain/forecast/uncertainty.js';
import { rng, poisson } from './forecast-synthetic.js';

test('Poisson: P(any) = 1 − e^−μ and percentiles match the exact distribution', () => {
  for (const mu of [0.05, 0.7, 3, 12.5, 40]) {
    const s = summariseCount(mu, POISSON_SIZE, 0);
    assert.ok(Math.abs(s.pAny - (1 - Math.exp(-mu))) < 1e-12);
    // simple-statistics gives the pmf table; its 10/90 % quantiles must equal ours.
    const pmf = poissonDistribution(mu) as number[];
    let cdf = 0;
    let lower = -1;
    let upper = -1;
    for (let x = 0; x < pmf.length; x++) {
      cdf += pmf[x]!;
      if (lower < 0 && cdf >= 0.1) lower = x;
      if (upper < 0 && cdf >= 0.9) {
        upper = x;
        break;
      }
    }
    assert.deepEqual([s.lower, s.upper], [lower, upper], `μ=${mu}`);
  }
});

test('negative binomial: over-dispersion lowers P(any) and widens the interval at the same mean', () => {
  const poissonS = summariseCount(5, POISSON_SIZE, 0);
  const bursty = summariseCount(5, 0.5, 0);
  assert.ok(bursty.pAny < poissonS.pAny);
  assert.ok(bursty.upper > poissonS.upper);
  assert.ok(bursty.lower <= poissonS.lower);
  assert.ok(Math.abs(probabilityOfZero(5, 0.5) - Math.pow(0.5 / 5.5, 0.5)) < 1e-12);
});

test('dispersion is learned from residuals: Poisson data ⇒ large size, gamma-mixed data ⇒ small size', () => {
  const rand = rng(3);
  const n = 5000;
  const mu = new Float64Array(n).fill(4);
  const poissonData = new Float64Array(n);
  const mixed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    poissonData[i] = poisson(rand, 4);
    // Gamma(k=1) mixing (exponential rate) ⇒ NB with size 1.
    mixed[i] = poisson(rand, -4 * Math.log(Math.max(1e-12, rand())));
  }
  const a = emptyResiduals();
  addResiduals(a, poissonData, 0, mu, n);
  const b = emptyResiduals();
  addResiduals(b, mixed, 0, mu, n);
  assert.ok(sizeFromResiduals(a) > 20, `poisson size ${sizeFromResiduals(a)}`);
  const kb = sizeFromResiduals(b);
  assert.ok(kb > 0.7 && kb < 1.4, `NB(1) size ${kb}`);
  assert.equal(sizeFromResiduals(emptyResiduals()), 1, 'no residuals ⇒ the conservative default');
});

test('window size: summing independent hours makes the window count less dispersed', () => {
  const hours = 24;
  const k = 0.5;
  const kw = windowSize(hours * 2, hours * 4, k);
  assert.ok(Math.abs(kw - hours * k) < 1e-9);
  assert.equal(windowSize(10, 0, k), k);
});

test('summaries are total: never NaN, P(any) within [floor, 1), lower ≤ upper (property)', () => {
  const weird = fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, -1, Infinity, -Infinity, NaN, 1e-300, 1e9));
  fc.assert(
    fc.property(weird, weird, fc.double({ min: 0, max: 0.5, noNaN: true }), (mean, size, floor) => {
      const s = summariseCount(mean, size, floor);
      for (const v of [s.expected, s.pAny, s.lower, s.upper]) assert.ok(Number.isFinite(v), JSON.stringify({ mean, size, s }));
      assert.ok(s.pAny >= floor - 1e-15 && s.pAny < 1);
      assert.ok(s.lower <= s.upper && s.lower >= 0);
      assert.ok(s.expected >= 0);
    }),
    { numRuns: 500, seed: 7 },
  );
});

test('the floor probability lifts cold items to a small chance with a matching expected count', () => {
  const s = summariseCount(0, 1, 0.01);
  assert.equal(s.pAny, 0.01);
  assert.ok(Math.abs(s.expected - -Math.log(0.99)) < 1e-12);
  assert.deepEqual([s.lower, s.upper], [0, 0]);
});
