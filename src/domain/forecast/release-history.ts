/**
 * A module's releases as the history shows them, and what a young (or announced) version's forecast takes from
 * them: per region level curves of the module's earlier releases, blended with the curves of releases of similar
 * popularity (release.ts holds the curve maths).
 */
import { WEEK_HOURS } from '../calendar.js';
import { ClassCurveSums, RELEASE_CURVE_HOURS, SEGMENT_COUNT, adoptionCurves, curveOfLevels, releaseLevels } from './release.js';
import type { HistoryRange, Scope } from './scope.js';

/** Hourly fetches of one version of a module in one region. */
export interface VersionPoints {
  module: string;
  version: string;
  region: string;
  hours: number[];
  counts: number[];
}

/** A release seen happening in the history, with its module's rate. */
export interface ReleaseSample extends VersionPoints {
  /** Fetches per hour of the whole module over the last week of history. */
  moduleRate: number;
}

/** Versions of one module, each with its first fetch hour, first region and per-region hourly fetches. */
export interface ModuleReleases {
  versions: { version: string; firstHour: number; firstRegion: number; points: { hours: number[]; counts: number[] }[] }[];
  /** Fetches per hour over the last week (all versions). */
  rate: number;
}

/** Versions per module of the given points, with each version's first fetch (hour and region). */
export function groupReleases(points: readonly VersionPoints[], scope: Scope): Map<string, ModuleReleases> {
  const out = new Map<string, ModuleReleases>();
  for (const p of points) {
    let m = out.get(p.module);
    if (!m) out.set(p.module, (m = { versions: [], rate: 0 }));
    let v = m.versions.find((x) => x.version === p.version);
    if (!v) m.versions.push((v = { version: p.version, firstHour: Infinity, firstRegion: -1, points: scope.regions.map(() => ({ hours: [], counts: [] })) }));
    const r = scope.regionIndex.get(p.region);
    if (r === undefined || p.hours.length === 0) continue;
    v.points[r] = { hours: p.hours, counts: p.counts };
    if (p.hours[0]! < v.firstHour) {
      v.firstHour = p.hours[0]!;
      v.firstRegion = r;
    }
  }
  return out;
}

/** The release input of a young (or announced) version: per region adoption curves and the release index. */
export function releaseInput(
  m: ModuleReleases | undefined,
  version: string,
  releaseIndex: number,
  range: HistoryRange,
  scope: Scope,
  classes: Map<number, (Float64Array | null)[]>,
  sighted: boolean,
): { releaseIndex: number; curves: (Float64Array | null)[]; sighted: boolean } {
  const R = scope.regions.length;
  let rate = 0;
  const priors: Float64Array[][] = [];
  for (const v of m?.versions ?? []) {
    for (const p of v.points) for (let k = 0; k < p.hours.length; k++) if (p.hours[k]! >= range.hours - WEEK_HOURS) rate += p.counts[k]!;
    if (v.version === version || !Number.isFinite(v.firstHour) || v.firstHour >= releaseIndex || range.hours - v.firstHour < 48) continue;
    priors.push(curvesFromPoints(v, range, scope));
  }
  return { releaseIndex, curves: adoptionCurves(priors, classes, rate / WEEK_HOURS, R), sighted };
}

/** Level curves per region of a release from its hourly points (see levelsFromPoints). */
function curvesFromPoints(v: ModuleReleases['versions'][number], range: HistoryRange, scope: Scope): Float64Array[] {
  const levels = levelsFromPoints(v, range, scope);
  return scope.regions.map((_, r) => curveOfLevels(levels, r * SEGMENT_COUNT));
}

/** Segment levels per region (SEGMENT_COUNT each, see releaseLevels) of a release from its hourly points. */
function levelsFromPoints(v: ModuleReleases['versions'][number], range: HistoryRange, scope: Scope): Float64Array {
  const levels = new Float64Array(scope.regions.length * SEGMENT_COUNT);
  scope.regions.forEach((_, r) => {
    const counts = new Float64Array(RELEASE_CURVE_HOURS);
    const p = v.points[r]!;
    for (let k = 0; k < p.hours.length; k++) {
      const a = p.hours[k]! - v.firstHour;
      if (a >= 0 && a < RELEASE_CURVE_HOURS) counts[a] = counts[a]! + p.counts[k]!;
    }
    const grid = scope.grids[r]!;
    releaseLevels(counts, v.firstRegion === r, range.hours - v.firstHour, (a) => grid.shape[grid.how[v.firstHour + a]!]!, levels, r * SEGMENT_COUNT);
  });
  return levels;
}

/** Per popularity class and region, the class curves (ClassCurveSums) of the releases seen in the history. */
export function similarPopularityCurves(rows: readonly ReleaseSample[], range: HistoryRange, scope: Scope): Map<number, (Float64Array | null)[]> {
  const grouped = groupReleases(rows, scope);
  const rates = new Map(rows.map((r) => [r.module, r.moduleRate]));
  const sums = new ClassCurveSums(scope.regions.length);
  for (const [module, m] of grouped) {
    for (const v of m.versions) if (Number.isFinite(v.firstHour)) sums.add(rates.get(module) ?? 0, levelsFromPoints(v, range, scope));
  }
  return sums.curves();
}
