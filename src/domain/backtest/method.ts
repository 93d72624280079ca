/**
 * What a warm-up method is to the backtest: at a decision it sees only the past (the history and which items each
 * node's cache holds) and ranks, per node, the items it would warm, best first. The runner turns rankings into
 * warm-up sets per budget (K items, or B bytes, per node and decision) and scores them against what followed.
 */
import type { RegionCalendar } from '../calendar.js';
import type { ItemHistory, TraceHistory } from './history.js';

export type BudgetKind = 'items' | 'bytes';

export interface Budget {
  kind: BudgetKind;
  /** Items, or bytes, per node per decision. */
  value: number;
}

export function budgetLabel(b: Budget): string {
  return b.kind === 'items' ? `${b.value} items` : `${formatBytes(b.value)}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** One decision: warm `nodes` at `at` for the window [at, windowEnd). */
export interface Decision {
  at: number;
  windowEnd: number;
  nodes: string[];
}

export interface DecisionContext {
  decision: Decision;
  history: TraceHistory;
  regionOf(node: string): string;
  /** Calendars of the known regions (time zone, business hours). */
  calendars: ReadonlyMap<string, RegionCalendar>;
  /** True when the node's cache would serve the item at decision time (warming it changes nothing). */
  isCached(node: string, key: string): boolean;
  /** isCached for an item of the history, answered without a cache look-up where the history already tells. */
  holds(node: string, item: ItemHistory): boolean;
  /** Caches never evict: a node holds every version it ever fetched (only list/@latest answers expire). */
  keepsVersions?: boolean;
  /** How long a warmed list/@latest answer stays fresh: warming one only helps requests within this time. */
  mutableTtlMs: number;
  /** Rankings longer than this are cut (no budget can use more). */
  rankLimit: number;
  /**
   * Decisions come once per region before each business block (cadence `business`), not every few minutes: a few a
   * day, each for a window of hours.
   */
  beforeBlocks?: boolean;
  /** Rank for an item budget (by chance of use) or a byte budget (by chance of use per byte). */
  budgetKind: BudgetKind;
  /** Every method ranking at this decision (methods that can share work at a decision find each other here). */
  methods?: readonly WarmupMethod[];
}

export interface WarmupMethod {
  readonly name: string;
  /** Per node, item keys best first, cached items already left out; each budget of the kind warms a prefix. */
  rank(ctx: DecisionContext): Map<string, string[]>;
  /**
   * Per node, the ranking for one budget of the context's kind, for a method whose best list depends on the budget
   * (the ranker pool: the contender that does best with 5 items need not be the one that does best with 100).
   * Without it every budget warms a prefix of rank()'s list.
   */
  rankForBudget?(ctx: DecisionContext, value: number): Map<string, string[]>;
  /**
   * A decision during the warm-up, which warms and judges nothing: a method that chooses by how its own past
   * decisions turned out (the ranker pool) records one, so that its first judged decision has evidence. Methods
   * without it are not asked.
   */
  learn?(ctx: DecisionContext): void;
}

export interface Scored {
  key: string;
  score: number;
}

/**
 * When caches keep every version, the deciding nodes' mask for TraceHistory.fetchedByAll: a version they all fetched is
 * held by all of them and no list can take it. 0 (skips nothing) otherwise.
 */
export function heldEverywhereMask(ctx: DecisionContext): number {
  return ctx.keepsVersions ? ctx.history.versionMaskOf(ctx.decision.nodes) : 0;
}

/** Best first; equal scores in key order, so runs are deterministic. */
export function byScore(a: Scored, b: Scored): number {
  return b.score - a.score || byKey(a.key, b.key);
}

/** Keys in code-unit order: the tie-break of every ranking, so runs are deterministic. */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Per deciding node, the first `rankLimit` keys of the items 0 … scores.length - 1 (with these scores and keys) in
 * byScore order that the node does not hold, passing over the items `skip` names. Equal to sorting and then walking
 * the sorted list per node, but orders only as deep as the nodes need: a heap is built in linear time and popped
 * until every node's list is full (a node holding the most popular items needs a deeper walk, and all nodes stop
 * there), so keys and `skip` are asked only of the items the walk reaches. The heap compares scores alone: items of
 * equal score (counts tie often) come out together and only the groups the walk reaches are put in key order.
 */
export function uncachedTopOf(scores: Float64Array, keyOf: (i: number) => string, ctx: DecisionContext, skip?: (i: number) => boolean): Map<string, string[]> {
  const nodes = ctx.decision.nodes;
  const out = nodes.map((): string[] => []);
  const heap = new Int32Array(scores.length);
  for (let i = 0; i < heap.length; i++) heap[i] = i;
  const siftDown = (from: number, size: number): void => {
    const x = heap[from]!;
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const c = l + 1 < size && scores[heap[l + 1]!]! > scores[heap[l]!]! ? l + 1 : l;
      if (!(scores[heap[c]!]! > scores[x]!)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = x;
  };
  let size = heap.length;
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i, size);
  let open = ctx.rankLimit > 0 ? nodes.length : 0;
  const group: string[] = [];
  while (open > 0 && size > 0) {
    const top = scores[heap[0]!]!;
    if (top <= 0) break;
    group.length = 0;
    while (size > 0 && scores[heap[0]!] === top) {
      if (!skip?.(heap[0]!)) group.push(keyOf(heap[0]!));
      heap[0] = heap[--size]!;
      siftDown(0, size);
    }
    // Equal scores: in key order, as byScore puts them.
    group.sort(byKey);
    for (let g = 0; g < group.length && open > 0; g++) {
      const key = group[g]!;
      for (let n = 0; n < nodes.length; n++) {
        const list = out[n]!;
        if (list.length >= ctx.rankLimit || ctx.isCached(nodes[n]!, key)) continue;
        list.push(key);
        if (list.length >= ctx.rankLimit) open--;
      }
    }
  }
  return new Map(nodes.map((node, n) => [node, out[n]!]));
}
