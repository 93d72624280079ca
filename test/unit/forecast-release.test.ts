import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RELEASE_CURVE_HOURS,
  ReleaseAdoption,
  blendCurves,
  expectedSince,
  levelCurve,
  meanCurve,
  popularityClass,
  releaseScale,
  ClassCurveSums,
  SEGMENT_COUNT,
  SEGMENT_OF_HOUR,
  curveOfLevels,
  segmentExposures,
  segmentLevelRange,
  segmentLevels,
} from '../../src/domain/forecast/release.js';
import { parseGoModRequires, propagateHotness, requirementKey, type Requirement } from '../../src/domain/forecast/dependency.js';
import { sum, synthetic } from './forecast-synthetic.js';

function decayCurve(peak: number, tau: number, delay = 0): Float64Array {
  const c = new Float64Array(RELEASE_CURVE_HOURS);
  for (let a = delay; a < RELEASE_CURVE_HOURS; a++) c[a] = peak * Math.exp(-(a - delay) / tau);
  return c;
}

test('release burst: a new version drawing twice the usual adoption is forecast at about twice the curve', () => {
  // Earlier releases of the module: 20/h at release, decaying with a one-day time constant.
  const prior = meanCurve([decayCurve(18, 24), decayCurve(22, 24)])!;
  const n = 200;
  const releaseIndex = n - 12;
  const s = synthetic(n, 24, (i) => (i >= releaseIndex ? 2 * prior[i - releaseIndex]! : 0), 8);
  s.ctx.start = releaseIndex;
  const model = new ReleaseAdoption();
  model.release = { curve: prior, releaseIndex };
  const out = new Float64Array(24);
  model.forecast(s.ctx, n, 24, out);
  const expected = 2 * sum(prior, 12, 36);
  const rel = Math.abs(sum(out) - expected) / expected;
  assert.ok(rel < 0.15, `release forecast ${sum(out)} vs ${expected}`);
});

test('a region that has not seen the release yet follows the fleet scale and its own delayed curve', () => {
  const regionCurve = decayCurve(5, 48, 10); // this region usually starts ~10 h after release
  const n = 100;
  const s = synthetic(n, 24, () => 0, 1);
  const model = new ReleaseAdoption();
  model.release = { curve: regionCurve, releaseIndex: n - 4, scale: releaseScale(40, 20) };
  const out = new Float64Array(24);
  model.forecast(s.ctx, n, 24, out);
  assert.equal(out[0], 0, 'nothing before the usual delay');
  assert.ok(out[10]! > 5, 'demand arrives after the delay, scaled up by the fleet evidence');
});

test('level curves take the week shape out: a release at night and one at noon give the same levels', () => {
  const shape = new Float64Array(168).fill(1);
  for (let h = 0; h < 168; h++) shape[h] = h % 24 >= 9 && h % 24 < 17 ? 2.5 : 0.25;
  const level = 4;
  const curves = [0, 12].map((releaseHow) => {
    const counts = new Float64Array(RELEASE_CURVE_HOURS);
    for (let a = 0; a < RELEASE_CURVE_HOURS; a++) counts[a] = level * shape[(releaseHow + a) % 168]!;
    return levelCurve(counts, RELEASE_CURVE_HOURS, (a) => shape[(releaseHow + a) % 168]!);
  });
  for (const c of curves) assert.ok(c.every((v) => Math.abs(v - level) < 1e-9));
  // Segments not lived yet extend the last measured level; expected demand puts the shape back.
  const partial = levelCurve(new Float64Array(RELEASE_CURVE_HOURS).fill(2), 30, () => 1);
  assert.equal(partial[100], 2);
  const how = new Uint8Array(200).map((_, i) => i % 168);
  assert.ok(Math.abs(expectedSince(curves[0]!, 0, 24, how, shape) - level * sum(shape, 0, 24)) < 1e-9);
});

test('release curves: blending, scale prior, popularity classes', () => {
  const own = decayCurve(10, 24);
  const peers = decayCurve(2, 24);
  const blended = blendCurves(own, 3, peers, 1)!;
  assert.ok(Math.abs(blended[0]! - (3 * 10 + 2) / 4) < 1e-12);
  assert.deepEqual(blendCurves(null, 0, peers), peers);
  assert.equal(blendCurves(null, 0, null), null);
  assert.equal(releaseScale(0, 0), 1, 'no evidence ⇒ like earlier releases');
  assert.ok(releaseScale(0, 100) < 0.05, 'expected 100 and saw none ⇒ much smaller');
  assert.equal(releaseScale(NaN, -1), 1);
  assert.equal(popularityClass(100), popularityClass(120));
  assert.ok(popularityClass(1000) > popularityClass(100));
  assert.equal(popularityClass(-5), 0);
});

const GO_MOD = `module example.com/app

go 1.22

require github.com/single/line v1.2.3

require (
\tgithub.com/pkg/errors v0.9.1
\tgolang.org/x/text v0.14.0 // indirect
\t"example.com/quoted" v1.0.0
\t// a comment line
\tgithub.com/pkg/errors v0.9.1
)

replace (
\tgithub.com/replaced/mod v1.0.0 => ../local
)

exclude github.com/excluded/mod v0.1.0
retract [v1.0.0, v1.0.5] // oops
`;

test('go.mod parsing: single and block requires, indirect, quotes, comments; other directives ignored', () => {
  const reqs = parseGoModRequires(GO_MOD);
  assert.deepEqual(reqs, [
    { module: 'github.com/single/line', version: 'v1.2.3', indirect: false },
    { module: 'github.com/pkg/errors', version: 'v0.9.1', indirect: false },
    { module: 'golang.org/x/text', version: 'v0.14.0', indirect: true },
    { module: 'example.com/quoted', version: 'v1.0.0', indirect: false },
  ]);
  assert.deepEqual(parseGoModRequires(''), []);
  assert.deepEqual(parseGoModRequires('require (\n  broken\n'), []);
});

test('dependency hotness propagates to requirements, summed over parents, bounded', () => {
  const graph = new Map<string, Requirement[]>([
    [requirementKey('a', 'v1.0.0'), [{ module: 'lib', version: 'v1.0.0', indirect: false }, { module: 'x', version: 'v0.1.0', indirect: true }]],
    [requirementKey('b', 'v2.0.0'), [{ module: 'lib', version: 'v1.0.0', indirect: false }]],
    [requirementKey('lib', 'v1.0.0'), [{ module: 'deep', version: 'v1.0.0', indirect: false }]],
  ]);
  const requiresOf = (m: string, v: string) => graph.get(requirementKey(m, v));
  const parents = [
    { module: 'a', version: 'v1.0.0', rate: 10 },
    { module: 'b', version: 'v2.0.0', rate: 4 },
  ];
  const one = propagateHotness(parents, requiresOf, { factor: 0.5 });
  assert.equal(one.get('lib@v1.0.0')!.rate, 7);
  assert.equal(one.get('x@v0.1.0')!.rate, 5);
  assert.equal(one.has('deep@v1.0.0'), false);
  const two = propagateHotness(parents, requiresOf, { factor: 0.5, depth: 2 });
  assert.equal(two.get('deep@v1.0.0')!.rate, 3.5);
  const limited = propagateHotness(parents, requiresOf, { factor: 0.5, limit: 1 });
  assert.deepEqual([...limited.keys()], ['lib@v1.0.0']);
});

test('segment levels: the level curve again from per segment sums, and level ranges that bound expected requests', () => {
  const shape = new Float64Array(168).map((_, h) => 0.3 + ((h * 7919) % 13) / 6);
  const how = new Uint8Array(400).map((_, i) => (i + 5) % 168);
  const counts = new Float64Array(RELEASE_CURVE_HOURS).map((_, a) => (a * 31) % 7);
  const exposureAt = (a: number) => shape[how[40 + a]!]!;
  for (const lived of [0, 5, 30, 100, RELEASE_CURVE_HOURS]) {
    // Two regions' demands side by side; the second is this release's.
    const demands = new Float64Array(2 * SEGMENT_COUNT);
    for (let a = 0; a < lived; a++) demands[SEGMENT_COUNT + SEGMENT_OF_HOUR[a]!]! += counts[a]!;
    const levels = segmentLevels(demands, segmentExposures(lived, exposureAt), lived, new Float64Array(2 * SEGMENT_COUNT), SEGMENT_COUNT);
    assert.deepEqual(curveOfLevels(levels, SEGMENT_COUNT), levelCurve(counts, lived, exposureAt), `lived ${lived}`);
  }
  // A curve that is not level within segments: the ranges still bound the sum from both sides.
  const curve = decayCurve(9, 20);
  const range = segmentLevelRange(curve);
  for (const hours of [1, 7, 50, RELEASE_CURVE_HOURS - 1]) {
    const exposures = segmentExposures(hours, exposureAt);
    let low = 0;
    let high = 0;
    for (let s = 0; s < SEGMENT_COUNT; s++) {
      low += range[s]! * exposures[s]!;
      high += range[SEGMENT_COUNT + s]! * exposures[s]!;
    }
    const exact = expectedSince(curve, 40, hours, how, shape);
    assert.ok(low <= exact && exact <= high, `${hours} h: ${low} ≤ ${exact} ≤ ${high}`);
    assert.ok(low < high, 'a decaying curve is not level within a segment');
  }
  // A level that is not a number makes its segment's bounds none either (the bound is then not used).
  curve[30] = NaN;
  const withNaN = segmentLevelRange(curve);
  assert.ok(Number.isNaN(withNaN[SEGMENT_OF_HOUR[30]!]!) && Number.isNaN(withNaN[SEGMENT_COUNT + SEGMENT_OF_HOUR[30]!]!));
  assert.equal(withNaN[0], range[0]);
});

test('class curve sums: per popularity class and region, the mean of the filled level curves over the module rates', () => {
  const regions = 2;
  const samples = [3, 0.5, 2.5, 0.5, 0].map((moduleRate, i) => {
    const levels = new Float64Array(regions * SEGMENT_COUNT).map((_, j) => ((i + 1) * (j + 3) * 0.37) % 5);
    return { moduleRate, levels, curves: [0, 1].map((r) => curveOfLevels(levels, r * SEGMENT_COUNT)) };
  });
  const sums = new ClassCurveSums(regions);
  for (const s of samples) sums.add(s.moduleRate, s.levels);
  // The plain computation on whole curves: a module without fetches has no class.
  const expected = new Map<number, Float64Array[]>();
  for (const c of [...new Set(samples.filter((s) => s.moduleRate > 0).map((s) => popularityClass(s.moduleRate * 168)))]) {
    const members = samples.filter((s) => s.moduleRate > 0 && popularityClass(s.moduleRate * 168) === c);
    expected.set(c, [0, 1].map((r) => {
      const mean = new Float64Array(RELEASE_CURVE_HOURS);
      for (const m of members) for (let a = 0; a < RELEASE_CURVE_HOURS; a++) mean[a] = mean[a]! + m.curves[r]![a]! / m.moduleRate;
      return mean.map((v) => v / members.length);
    }));
  }
  assert.deepEqual(sums.curves(), expected);
  assert.equal(sums.curves().size, 2, 'two popularity classes of two releases each');
});
