/**
 * New-release adoption: when a version first appears (on any node, or announced by an index feed), predict how it
 * spreads over the next days in each region from how earlier releases did.
 *
 * An adoption curve is the deseasonalised request level at each hour since a release (per region): expected
 * requests at hour a = curve[a] × the region's week shape at that hour. Levels are measured over segments (6 h on
 * the first day, when a release spreads region by region, then whole days) so one release's timing within the
 * week does not end up in the curve. The curve of a new
 * version blends the mean curve of the same module's earlier releases with the curve of releases of modules of
 * similar popularity (scaled to this module's traffic), weighted by how many earlier releases the module has. The
 * curve is then rescaled by what the new version has actually drawn so far across the fleet (a gamma-Poisson style
 * ratio that starts at 1 and follows the evidence), and spread over the week by the pooled shape.
 */
import { sanitise, type Forecaster, type SeriesContext } from './series.js';

/** Hours since release an adoption curve covers; older versions are left to the other models. */
export const RELEASE_CURVE_HOURS = 168;

export interface ReleaseContext {
  /** Deseasonalised level at each hour since release in this scope (length RELEASE_CURVE_HOURS). */
  curve: Float64Array;
  /** Index on the series grid of the release hour (≤ n). */
  releaseIndex: number;
  /**
   * Scale from the fleet-wide evidence (see releaseScale). Absent: computed from this series alone, which is what a
   * region without its own requests yet must not do (it would read its zero as "nobody wants it").
   */
  scale?: number;
}

/** Pseudo-count of the scale prior: how much evidence it takes to move away from "like earlier releases". */
const SCALE_PRIOR = 2;

/** Ratio of observed to expected requests so far, shrunk towards 1. */
export function releaseScale(observed: number, expected: number, prior = SCALE_PRIOR): number {
  const o = Number.isFinite(observed) && observed > 0 ? observed : 0;
  const e = Number.isFinite(expected) && expected > 0 ? expected : 0;
  return (o + prior) / (e + prior);
}

/** Segments (hours since release) over which adoption levels are measured. */
const SEGMENTS: readonly [number, number][] = [
  [0, 6], [6, 12], [12, 18], [18, 24], [24, 48], [48, 72], [72, 96], [96, 120], [120, 144], [144, 168],
];

/** Segments a level curve has; segment levels are stored SEGMENT_COUNT per region. */
export const SEGMENT_COUNT = SEGMENTS.length;

/** The segment of each hour since release. */
export const SEGMENT_OF_HOUR: Uint8Array = (() => {
  const out = new Uint8Array(RELEASE_CURVE_HOURS);
  SEGMENTS.forEach(([from, to], s) => out.fill(s, from, to));
  return out;
})();

/**
 * The level curve of one release from its hourly counts since release (`counts[a]`, a < lived) and the exposure
 * (week shape) at each of those hours: per segment Σ counts / Σ exposure. Segments not lived yet extend the last
 * measured level.
 */
export function levelCurve(counts: ArrayLike<number>, lived: number, exposureAt: (a: number) => number): Float64Array {
  return curveOfLevels(levelsOfCounts(counts, lived, exposureAt, new Float64Array(SEGMENT_COUNT), 0), 0);
}

/** The segment levels of levelCurve, into out[offset ..] (see segmentLevels). */
function levelsOfCounts(counts: ArrayLike<number>, lived: number, exposureAt: (a: number) => number, out: Float64Array, offset: number): Float64Array {
  const demands = new Float64Array(offset + SEGMENT_COUNT);
  for (let s = 0; s < SEGMENT_COUNT; s++) {
    const [from, to] = SEGMENTS[s]!;
    const end = Math.min(to, lived);
    let demand = 0;
    for (let a = from; a < end; a++) demand += counts[a] ?? 0;
    demands[offset + s] = demand;
  }
  return segmentLevels(demands, segmentExposures(lived, exposureAt), lived, out, offset);
}

/**
 * Per segment the level of a release (see levelCurve): Σ demand / Σ exposure over its hours lived, 0 without
 * exposure; a segment not lived yet extends the last measured level. Demands and levels at [offset, offset +
 * SEGMENT_COUNT) of their arrays (one region of several), exposures from 0.
 */
export function segmentLevels(demands: ArrayLike<number>, exposures: ArrayLike<number>, lived: number, out: Float64Array, offset: number): Float64Array {
  let level = 0;
  for (let s = 0; s < SEGMENT_COUNT; s++) {
    const [from, to] = SEGMENTS[s]!;
    if (Math.min(to, lived) > from) {
      const e = exposures[s]!;
      level = e > 0 ? demands[offset + s]! / e : 0;
    }
    out[offset + s] = level;
  }
  return out;
}

/** The level curve of segment levels (levels[offset ..]): each level over the hours of its segment. */
export function curveOfLevels(levels: ArrayLike<number>, offset: number): Float64Array {
  const curve = new Float64Array(RELEASE_CURVE_HOURS);
  for (let s = 0; s < SEGMENT_COUNT; s++) curve.fill(levels[offset + s]!, SEGMENTS[s]![0], SEGMENTS[s]![1]);
  return curve;
}

/** Per segment, Σ exposure over its hours lived (what levelCurve divides by); 0 for a segment not reached. */
export function segmentExposures(lived: number, exposureAt: (a: number) => number): Float64Array {
  const out = new Float64Array(SEGMENT_COUNT);
  for (let s = 0; s < SEGMENT_COUNT; s++) {
    const [from, to] = SEGMENTS[s]!;
    const end = Math.min(to, lived);
    let e = 0;
    for (let a = from; a < end; a++) e += exposureAt(a);
    out[s] = e;
  }
  return out;
}

/**
 * Per segment the least level of a curve, then per segment the greatest: bounds on a sum over its hours that cost
 * a product per segment (not a number for a segment with a level that is not one).
 */
export function segmentLevelRange(curve: Float64Array): Float64Array {
  const out = new Float64Array(2 * SEGMENT_COUNT);
  for (let s = 0; s < SEGMENT_COUNT; s++) {
    const [from, to] = SEGMENTS[s]!;
    let low = Infinity;
    let high = -Infinity;
    for (let a = from; a < to; a++) {
      const v = curve[a]!;
      if (v < low) low = v;
      if (v > high) high = v;
      if (v !== v) {
        low = high = NaN;
        break;
      }
    }
    out[s] = low;
    out[SEGMENT_COUNT + s] = high;
  }
  return out;
}

/** Expected requests in the first `hours` after a release at grid index `releaseIndex`, given the scope's shape. */
export function expectedSince(curve: Float64Array, releaseIndex: number, hours: number, how: Uint8Array, shape: Float64Array): number {
  let s = 0;
  for (let a = 0; a < hours; a++) s += curveAt(curve, a) * shape[how[releaseIndex + a]!]!;
  return s;
}

function curveAt(curve: Float64Array, a: number): number {
  return curve[Math.min(a, RELEASE_CURVE_HOURS - 1)]!;
}

/** Mean of several curves (earlier releases), newest weighted most when weights are given. */
export function meanCurve(curves: readonly Float64Array[], weights?: readonly number[]): Float64Array | null {
  if (curves.length === 0) return null;
  const out = new Float64Array(RELEASE_CURVE_HOURS);
  let wsum = 0;
  curves.forEach((c, i) => {
    const w = weights?.[i] ?? 1;
    wsum += w;
    for (let a = 0; a < RELEASE_CURVE_HOURS; a++) out[a] = out[a]! + w * (c[a] ?? 0);
  });
  if (!(wsum > 0)) return null;
  for (let a = 0; a < RELEASE_CURVE_HOURS; a++) out[a] = out[a]! / wsum;
  return out;
}

/**
 * The adoption curve of a new release: the module's own earlier releases (n of them, mean curve `own`) blended with
 * the similar-popularity curve `peers`, each level times `peerFactor`, as `priorReleases` pseudo-releases. Null when
 * neither is known.
 */
export function blendCurves(own: Float64Array | null, ownReleases: number, peers: Float64Array | null, priorReleases = 1, peerFactor = 1): Float64Array | null {
  if (!own || ownReleases <= 0) return peers ? times(peers, peerFactor) : null;
  if (!peers) return Float64Array.from(own);
  const out = new Float64Array(RELEASE_CURVE_HOURS);
  const total = ownReleases + priorReleases;
  for (let a = 0; a < RELEASE_CURVE_HOURS; a++) out[a] = (ownReleases * own[a]! + priorReleases * (peers[a]! * peerFactor)) / total;
  return out;
}

/** Popularity class of a module from its weekly request count: log2 buckets, so 100 and 150 a week are peers. */
export function popularityClass(weeklyRequests: number): number {
  return Math.max(0, Math.floor(Math.log2(1 + Math.max(0, weeklyRequests))));
}

export class ReleaseAdoption implements Forecaster {
  readonly name = 'release' as const;
  readonly minHistory = 0;
  /** Set per series by the caller before forecasting (the curve is not part of the generic context). */
  release: ReleaseContext | null = null;

  forecast(ctx: SeriesContext, end: number, horizon: number, out: Float64Array): void {
    const r = this.release;
    if (!r) {
      out.fill(0, 0, horizon);
      return;
    }
    const age = Math.max(0, end - r.releaseIndex);
    let scale = r.scale;
    if (scale === undefined) {
      let observed = 0;
      for (let i = Math.max(ctx.start, r.releaseIndex); i < end; i++) observed += ctx.values[i]!;
      scale = releaseScale(observed, expectedSince(r.curve, r.releaseIndex, age, ctx.how, ctx.shape));
    }
    // Past the curve the last level holds, so the forecast does not fall off a cliff at hour 168.
    for (let k = 0; k < horizon; k++) out[k] = scale * curveAt(r.curve, age + k) * ctx.shape[ctx.how[end + k]!]!;
    sanitise(out, horizon);
  }
}

/**
 * The segment levels (see segmentLevels) of one release in one region, into out[offset ..], from its fetches at each
 * hour since first seen (`counts`, length RELEASE_CURVE_HOURS, modified). `firstHere`: the release's very first fetch
 * was in this region — it defines the release time, so it is there by construction and not demand that followed; it
 * is taken out.
 */
export function releaseLevels(counts: Float64Array, firstHere: boolean, lived: number, exposureAt: (a: number) => number, out: Float64Array, offset: number): Float64Array {
  if (firstHere) counts[0] = Math.max(0, counts[0]! - 1);
  return levelsOfCounts(counts, Math.min(RELEASE_CURVE_HOURS, Math.max(0, lived)), exposureAt, out, offset);
}

/**
 * Per popularity class, per region: the mean level curve of releases, each divided by its module's fetch rate (so
 * a class curve times a module's rate is that module's expected adoption). Releases are added by their segment
 * levels (SEGMENT_COUNT per region, see segmentLevels) and summed as they come: a level curve is its segment levels
 * each filled over its segment, so the mean of the levels, filled, is the mean of the curves.
 */
export class ClassCurveSums {
  private readonly byClass = new Map<number, { samples: number; sums: Float64Array }>();

  constructor(private readonly regions: number) {}

  add(moduleRate: number, levels: ArrayLike<number>): void {
    if (!(moduleRate > 0)) return;
    const c = popularityClass(moduleRate * 168);
    let entry = this.byClass.get(c);
    if (!entry) this.byClass.set(c, (entry = { samples: 0, sums: new Float64Array(this.regions * SEGMENT_COUNT) }));
    entry.samples++;
    const sums = entry.sums;
    for (let i = 0; i < sums.length; i++) sums[i] = sums[i]! + levels[i]! / moduleRate;
  }

  curves(): Map<number, (Float64Array | null)[]> {
    const out = new Map<number, (Float64Array | null)[]>();
    for (const [c, { samples, sums }] of this.byClass) {
      const means = sums.map((sum) => sum / samples);
      const perRegion: (Float64Array | null)[] = [];
      for (let r = 0; r < this.regions; r++) perRegion.push(curveOfLevels(means, r * SEGMENT_COUNT));
      out.set(c, perRegion);
    }
    return out;
  }
}

/**
 * Adoption curves of a new version per region: the mean of its module's earlier releases blended with the class
 * curve of its module's popularity scaled by the module's fetch rate.
 */
export function adoptionCurves(
  priors: readonly (readonly Float64Array[])[],
  classes: ReadonlyMap<number, (Float64Array | null)[]>,
  moduleRate: number,
  regions: number,
): (Float64Array | null)[] {
  const peers = moduleRate > 0 ? classes.get(popularityClass(moduleRate * 168)) : undefined;
  const out: (Float64Array | null)[] = [];
  for (let r = 0; r < regions; r++) {
    out.push(blendCurves(meanCurve(priors.map((p) => p[r]!)), priors.length, peers?.[r] ?? null, 1, moduleRate));
  }
  return out;
}

/** A copy of a curve with every level times `factor` (a loop: Float64Array.map calls a closure per hour). */
function times(curve: Float64Array, factor: number): Float64Array {
  const out = new Float64Array(curve.length);
  for (let a = 0; a < curve.length; a++) out[a] = curve[a]! * factor;
  return out;
}

