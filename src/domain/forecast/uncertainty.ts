/**
 * From an expected count to what a warm-up planner needs: P(at least one request) and a 10-90 % interval.
 *
 * Counts are modelled as negative binomial with mean μ and size k (variance μ + μ²/k), Poisson when k is huge.
 * k comes from the series' own backtest residuals: bursty series (CI pipelines hammering one version) get a small
 * k, so a high mean does not claim certainty and a low mean keeps a fair chance of zero.
 */
import { probit } from 'simple-statistics';

/** Size at or above which the count is treated as Poisson. */
export const POISSON_SIZE = 1e6;
/** Size used when a series has no residuals to learn from (geometric counts: honest about burstiness). */
export const DEFAULT_SIZE = 1;
const MIN_SIZE = 0.05;

export interface CountSummary {
  expected: number;
  pAny: number;
  /** 10th percentile. */
  lower: number;
  /** 90th percentile. */
  upper: number;
}

/** Running sums of backtest residuals, enough to estimate the NB size by moments. */
export interface ResidualSums {
  /** Σ (x - μ)² */
  sq: number;
  /** Σ μ */
  mean: number;
  /** Σ μ² */
  meanSq: number;
  points: number;
}

export function emptyResiduals(): ResidualSums {
  return { sq: 0, mean: 0, meanSq: 0, points: 0 };
}

export function addResiduals(acc: ResidualSums, actual: Float64Array, actualFrom: number, forecast: Float64Array, length: number): void {
  for (let k = 0; k < length; k++) {
    const mu = forecast[k]!;
    const r = actual[actualFrom + k]! - mu;
    acc.sq += r * r;
    acc.mean += mu;
    acc.meanSq += mu * mu;
  }
  acc.points += length;
}

/**
 * Method-of-moments NB size: E[(x-μ)²] = μ + μ²/k  ⇒  1/k = (Σr² − Σμ) / Σμ². No excess variance ⇒ Poisson.
 * Too few points or a degenerate forecast ⇒ DEFAULT_SIZE.
 */
export function sizeFromResiduals(acc: ResidualSums, minPoints = 24): number {
  if (acc.points < minPoints || !(acc.meanSq > 1e-9)) return DEFAULT_SIZE;
  const excess = acc.sq - acc.mean;
  if (!(excess > 0)) return POISSON_SIZE;
  const k = acc.meanSq / excess;
  return Number.isFinite(k) ? Math.min(POISSON_SIZE, Math.max(MIN_SIZE, k)) : DEFAULT_SIZE;
}

/**
 * NB size of a window sum: hours are taken as independent NB(μ_i, k), so Var = Σμ_i + Σμ_i²/k, and the window is
 * moment-matched to NB(Σμ_i, k_w) with k_w = (Σμ_i)² · k / Σμ_i².
 */
export function windowSize(sumMean: number, sumMeanSq: number, hourSize: number): number {
  if (hourSize >= POISSON_SIZE || !(sumMeanSq > 0)) return hourSize;
  const kw = (sumMean * sumMean * hourSize) / sumMeanSq;
  return Number.isFinite(kw) ? Math.min(POISSON_SIZE, Math.max(MIN_SIZE, kw)) : hourSize;
}

/** P(count = 0). */
export function probabilityOfZero(mean: number, size: number): number {
  return Math.exp(logProbabilityOfZero(mean, size));
}

/** log P(count = 0): −μ (Poisson) or −k·log(1 + μ/k) (NB). Cheaper than P itself when only compared. */
export function logProbabilityOfZero(mean: number, size: number): number {
  if (!(mean > 0)) return 0;
  if (size >= POISSON_SIZE) return -mean;
  return -size * Math.log1p(mean / size);
}

const MAX_CDF_STEPS = 20_000;
/** No window sees more requests than this; larger means are input errors, clamped so arithmetic stays finite. */
const MAX_MEAN = 1e15;

/** 10th and 90th percentile of the count, by walking the pmf (normal approximation for huge means). */
function percentiles(mean: number, size: number): { lower: number; upper: number } {
  if (!(mean > 0)) return { lower: 0, upper: 0 };
  const poisson = size >= POISSON_SIZE;
  if (mean > 2000) {
    // sd = √(μ + μ²/k) written so that μ² cannot overflow.
    const sd = mean * Math.sqrt(1 / mean + (poisson ? 0 : 1 / size));
    const z = probit(0.9);
    return { lower: Math.max(0, Math.floor(mean - z * sd)), upper: Math.ceil(mean + z * sd) };
  }
  let p = probabilityOfZero(mean, size);
  let cdf = p;
  let lower = -1;
  let x = 0;
  const ratio = poisson ? 0 : mean / (size + mean);
  while (cdf < 0.9 && x < MAX_CDF_STEPS) {
    if (lower < 0 && cdf >= 0.1) lower = x;
    // pmf recursions: Poisson p(x+1) = p(x)·μ/(x+1); NB p(x+1) = p(x)·(x+k)/(x+1)·μ/(k+μ).
    p = poisson ? (p * mean) / (x + 1) : (p * (x + size) * ratio) / (x + 1);
    x++;
    cdf += p;
  }
  if (lower < 0) lower = x;
  return { lower, upper: x };
}

/**
 * Summary of a window's count. `floorProbability` keeps every item at a small non-zero chance (nothing is ever
 * certain not to be requested), with the expected count raised to match.
 */
export function summariseCount(mean: number, size: number, floorProbability: number): CountSummary {
  const m = Number.isFinite(mean) && mean > 0 ? Math.min(mean, MAX_MEAN) : 0;
  const k = Number.isFinite(size) && size > 0 ? Math.max(MIN_SIZE, size) : size === Infinity ? POISSON_SIZE : DEFAULT_SIZE;
  let pAny = 1 - probabilityOfZero(m, k);
  let expected = m;
  if (pAny < floorProbability) {
    pAny = floorProbability;
    expected = Math.max(m, -Math.log1p(-floorProbability));
  }
  const { lower, upper } = percentiles(m, k);
  return { expected, pAny: Math.min(pAny, 1 - 1e-12), lower, upper };
}
