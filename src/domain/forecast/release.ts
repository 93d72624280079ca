/**
 * New-release adoption: when a version first appears (on any node, or announced by an index feed), predict how it
 * spreads over the next days in each region from how earlier releases did.
 *
 * An adoption curve is the expected request count at each hour since a release (per region). The curve of a new
 * version blends the mean curve of the same module's earlier releases with the curve of releases of modules of
 * similar popularity (scaled to this module's traffic), weighted by how many earlier releases the module has. The
 * curve is then rescaled by what the new version has actually drawn so far across the fleet (a gamma-Poisson style
 * ratio that starts at 1 and follows the evidence), and spread over the week by the pooled shape.
 */
import { sanitise, type Forecaster, type SeriesContext } from './series.js';

/** Hours since release an adoption curve covers; older versions are left to the other models. */
export const RELEASE_CURVE_HOURS = 168;

export interface ReleaseContext {
  /** Expected requests at each hour since release in this scope (length RELEASE_CURVE_HOURS). */
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

/** Σ curve[0 … hours) — expected requests in the first `hours` after release. */
export function curveTotal(curve: Float64Array, hours: number): number {
  let s = 0;
  const n = Math.min(curve.length, Math.max(0, hours));
  for (let a = 0; a < n; a++) s += curve[a]!;
  return s;
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
 * the similar-popularity curve `peers` as `priorReleases` pseudo-releases. Null when neither is known.
 */
export function blendCurves(own: Float64Array | null, ownReleases: number, peers: Float64Array | null, priorReleases = 1): Float64Array | null {
  if (!own || ownReleases <= 0) return peers ? Float64Array.from(peers) : null;
  if (!peers) return Float64Array.from(own);
  const out = new Float64Array(RELEASE_CURVE_HOURS);
  const total = ownReleases + priorReleases;
  for (let a = 0; a < RELEASE_CURVE_HOURS; a++) out[a] = (ownReleases * own[a]! + priorReleases * peers[a]!) / total;
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
      scale = releaseScale(observed, curveTotal(r.curve, age));
    }
    // Past the curve: the last day's mean rate, so the forecast does not fall off a cliff at hour 168.
    const tail = curveTotal(r.curve.subarray(RELEASE_CURVE_HOURS - 24), 24) / 24;
    for (let k = 0; k < horizon; k++) {
      const a = age + k;
      const c = a < RELEASE_CURVE_HOURS ? r.curve[a]! : tail;
      out[k] = scale * c * ctx.shape[ctx.how[end + k]!]!;
    }
    sanitise(out, horizon);
  }
}
