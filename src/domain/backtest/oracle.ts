/**
 * The oracle knows what each node will request in the window. Its benefit is the upper bound of every method's at
 * the same budget, because benefit is counted per item against the no-warm-up cache (see metrics.ts): an item
 * avoids exactly one miss when its first request in the window misses without warm-up (and, for a mutable item,
 * comes before a warm copy would expire), else none. With unit benefits:
 * - K items: any K beneficial items are optimal (the biggest first, so bytes avoided are maximal too);
 * - B bytes: the smallest beneficial items first fit the most of them.
 */
import { byKey, type BudgetKind } from './method.js';

export interface FirstRequest {
  ts: number;
  bytes: number;
  /** The no-warm-up cache missed it. */
  miss: boolean;
  mutable: boolean;
  /** The item had been requested somewhere before the window began (no method can foresee a first-ever request). */
  known: boolean;
}

/** What one node did in one decision window, as measured on the no-warm-up cache. */
export interface WindowOutcome {
  node: string;
  region: string;
  start: number;
  end: number;
  /** First request of each item in the window. */
  first: Map<string, FirstRequest>;
  requests: number;
  misses: number;
  missBytes: number;
  /** Bytes of all requests (for byte hit ratios). */
  bytes: number;
}

/** The oracle without first-ever requests (see oracleRanking): the best a method learning from the past can do. */
export const REACHABLE_ORACLE = 'oracle:reachable';

/** Would warming the item at the window start have turned its first request into a hit? */
export function isBeneficial(f: FirstRequest, windowStart: number, mutableTtlMs: number): boolean {
  return f.miss && (!f.mutable || f.ts - windowStart < mutableTtlMs);
}

/**
 * The oracle's ranking. `reachable` leaves out first-ever requests: the best any method that learns from the
 * past could do, since nothing in the past names an item nobody asked for yet.
 */
export function oracleRanking(
  outcome: WindowOutcome,
  mutableTtlMs: number,
  kind: BudgetKind,
  sizeOf: (key: string) => number,
  reachable = false,
): string[] {
  const keys: string[] = [];
  for (const [key, f] of outcome.first) if (isBeneficial(f, outcome.start, mutableTtlMs) && (!reachable || f.known)) keys.push(key);
  if (kind === 'items') keys.sort((a, b) => sizeOf(b) - sizeOf(a) || byKey(a, b));
  else keys.sort((a, b) => sizeOf(a) - sizeOf(b) || byKey(a, b));
  return keys;
}
