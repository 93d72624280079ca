/**
 * The ranker pool as backtest methods. One pass per decision and budget kind computes, for every candidate item,
 * its features on each node (decayed counts at exact fetch times, hourly window counts), sums them per region and
 * fleet, and keeps each contender's (ranker × scope) top list per deciding node. Then:
 * - `modcast` chooses per node among the contenders by the hits their lists realised over the node's last
 *   decisions (OnlineSelector), judging a decision only once its window has passed;
 * - `rank:<ranker>@<scope>` is one contender alone (the single-ranker rows of the comparison).
 */
import { HOUR_MS } from '../calendar.js';
import {
  FEATURES, MODELS, OnlineSelector, RANKERS, TopK, type Ranker,
  windowFeatures,
} from '../forecast/rankers.js';
import type { TraceHistory } from './history.js';
import { ModcastMethod } from './modcast.js';
import type { BudgetKind, Decision, DecisionContext, WarmupMethod } from './method.js';

/** Scope order is the tie-break order: with no evidence, fleet-wide demand (what a new node would see) leads. */
export const SCOPES = ['fleet', 'region', 'node'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Contender {
  ranker: Ranker;
  scope: Scope;
  name: string;
}

/** Every ranker at every scope, scope-major: the pool `modcast` chooses from. */
export const CONTENDERS: readonly Contender[] = SCOPES.flatMap((scope) => RANKERS.map((ranker) => ({ ranker, scope, name: `${ranker.name}@${scope}` })));

export interface PoolOptions {
  /** Items fetched within this many hours are candidates. */
  candidateHours: number;
  /** Judged decisions the selector remembers per node. */
  memory: number;
  /**
   * Also let the per-series model ensemble (seasonal profiles, Holt-Winters, TSB/Croston, release adoption) compete
   * as one more contender. It wins on traffic with strong weekly rhythm and releases spreading through the fleet,
   * and costs a model fit per candidate and decision (an order of magnitude slower than the rankers).
   */
  models: boolean;
}

export const DEFAULT_POOL: PoolOptions = { candidateHours: 14 * 24, memory: 24, models: true };

interface Pass {
  /** Per deciding node, per contender, its top list (uncached items, best first). */
  lists: Map<string, string[][]>;
}

const passes = new WeakMap<Decision, Map<BudgetKind, Pass>>();

/** Window length in whole hours for the window features (at least 1, at most a day). */
function windowHours(d: Decision): number {
  return Math.min(24, Math.max(1, Math.ceil((d.windowEnd - d.at) / HOUR_MS)));
}

/**
 * One pass over the candidate items. The sums keep the order of additions of the plain per-item computation (nodes in
 * the item's order, node into region and fleet), so every score is bit-for-bit what it would be; what the pass saves
 * is work that cannot change a list: features are written into preallocated rows (no per-item allocation), each
 * scope's scores are computed once per item rather than once per deciding node, and only contenders that own their
 * list (see `source`) are offered.
 */
function computePass(ctx: DecisionContext, o: PoolOptions): Pass {
  const { history, decision } = ctx;
  const at = decision.at;
  const h = history.hourOf(at);
  const w = windowHours(decision);
  const since = at - o.candidateHours * HOUR_MS;
  const regionOfNode = (node: string): string => history.nodeRegion.get(node) ?? ctx.regionOf(node);
  const deciding = decision.nodes;
  const D = deciding.length;
  const R = RANKERS.length;
  const C = CONTENDERS.length;
  const regions = [...new Set(history.nodeRegion.values())];
  const regionIndex = new Map(regions.map((r, i) => [r, i]));
  const nodesPerRegion = new Map<string, number>();
  for (const r of history.nodeRegion.values()) nodesPerRegion.set(r, (nodesPerRegion.get(r) ?? 0) + 1);
  const heaps = deciding.map(() => CONTENDERS.map(() => new TopK(ctx.rankLimit)));
  // Scopes that would repeat another's list are ranked once: one region is the fleet, one node is its region.
  // source[n][c] is the contender whose list c shares for deciding node n (c itself when its scope is its own).
  const regionIsFleet = regions.length <= 1;
  const source = deciding.map((node) => {
    const nodeIsRegion = (nodesPerRegion.get(regionOfNode(node)) ?? 0) <= 1;
    return CONTENDERS.map((contender, c) => {
      const r = c % R;
      if (contender.scope === 'region' && regionIsFleet) return r;
      if (contender.scope === 'node' && nodeIsRegion) return regionIsFleet ? r : R + r;
      return c;
    });
  });
  // Per node of the history: its region's row and, for a deciding node, its own row (-1: none).
  const nodeRows = new Map<string, { region: number; deciding: number }>();
  for (const [node, region] of history.nodeRegion) nodeRows.set(node, { region: regionIndex.get(region)!, deciding: deciding.indexOf(node) });
  const decidingRegion = Int32Array.from(deciding, (node) => regionIndex.get(regionOfNode(node)) ?? -1);
  const nodeFeat = new Float64Array(FEATURES);
  const fleetFeat = new Float64Array(FEATURES);
  const regionFeat = new Float64Array(regions.length * FEATURES);
  const decidingFeat = new Float64Array(D * FEATURES);
  /** Which rows the current item wrote (the others stand for "no requests": no score, no offer). */
  const regionSeen = new Uint8Array(regions.length);
  const decidingSeen = new Uint8Array(D);
  const fleetScores = new Float64Array(R);
  const regionScores = new Float64Array(regions.length * R);
  const regionScored = new Uint8Array(regions.length);
  const wanted = new Uint8Array(D);

  for (const item of history.items.values()) {
    if (item.lastFetchTs < since) continue;
    let anyWanted = false;
    for (let n = 0; n < D; n++) {
      const want = !ctx.isCached(deciding[n]!, item.key);
      wanted[n] = want ? 1 : 0;
      anyWanted ||= want;
    }
    if (!anyWanted) continue;
    fleetFeat.fill(0);
    regionFeat.fill(0);
    regionSeen.fill(0);
    decidingSeen.fill(0);
    regionScored.fill(0);
    for (const [node, points] of item.nodes) {
      nodeFeat.fill(0);
      item.decay.get(node)?.addValuesAt(at, nodeFeat, 0);
      windowFeatures(points, h, w, nodeFeat, 0);
      const row = nodeRows.get(node);
      if (row === undefined) continue; // never: a node's first fetch of any item names its region
      const ro = row.region * FEATURES;
      for (let k = 0; k < FEATURES; k++) {
        regionFeat[ro + k] = regionFeat[ro + k]! + nodeFeat[k]!;
        fleetFeat[k] = fleetFeat[k]! + nodeFeat[k]!;
      }
      regionSeen[row.region] = 1;
      if (row.deciding >= 0) {
        decidingFeat.set(nodeFeat, row.deciding * FEATURES);
        decidingSeen[row.deciding] = 1;
      }
    }
    const per = ctx.budgetKind === 'bytes' ? 1 / history.sizeOf(item) : 1;
    for (let r = 0; r < R; r++) fleetScores[r] = RANKERS[r]!.score(fleetFeat, 0, w) * per;
    for (let n = 0; n < D; n++) {
      if (!wanted[n]) continue;
      const own = source[n]!;
      const heap = heaps[n]!;
      const region = decidingRegion[n]!;
      for (let c = 0; c < R; c++) if (own[c] === c) heap[c]!.offer(fleetScores[c]!, item.key);
      if (region >= 0 && regionSeen[region]) {
        if (!regionScored[region]) {
          for (let r = 0; r < R; r++) regionScores[region * R + r] = RANKERS[r]!.score(regionFeat, region * FEATURES, w) * per;
          regionScored[region] = 1;
        }
        for (let c = R; c < 2 * R; c++) if (own[c] === c) heap[c]!.offer(regionScores[region * R + c - R]!, item.key);
      }
      if (decidingSeen[n]) {
        for (let c = 2 * R; c < C; c++) if (own[c] === c) heap[c]!.offer(CONTENDERS[c]!.ranker.score(decidingFeat, n * FEATURES, w) * per, item.key);
      }
    }
  }
  const lists = new Map<string, string[][]>();
  deciding.forEach((node, n) => {
    const sorted = heaps[n]!.map((heap) => heap.sorted());
    // Aliased scopes share one list (same items, same order): a tie between them is not a choice.
    lists.set(node, source[n]!.map((c) => sorted[c]!));
  });
  return { lists };
}

function passFor(ctx: DecisionContext, o: PoolOptions): Pass {
  let byKind = passes.get(ctx.decision);
  if (!byKind) passes.set(ctx.decision, (byKind = new Map()));
  let pass = byKind.get(ctx.budgetKind);
  if (!pass) byKind.set(ctx.budgetKind, (pass = computePass(ctx, o)));
  return pass;
}

/** Was the item fetched on the node in [at, windowEnd)? (mutable items: within the TTL after `at`). */
function usedOn(history: TraceHistory, node: string, key: string, at: number, windowEnd: number, mutableTtlMs: number): boolean {
  const item = history.items.get(key);
  const points = item?.nodes.get(node);
  if (!item || !points) return false;
  const end = item.mutable ? Math.min(windowEnd, at + mutableTtlMs) : windowEnd;
  return points.sum(history.hourOf(at), history.hourOf(end - 1) + 1) > 0;
}

/** modcast: per node, the contender whose lists realised the most hits over the node's recent decisions. */
export class PoolMethod implements WarmupMethod {
  readonly name = 'modcast';
  private readonly options: PoolOptions;
  /** Per budget kind and node. */
  private readonly selectors = new Map<string, OnlineSelector>();
  private readonly lastDecision = new Map<BudgetKind, Decision>();
  /** Per node, how often each contender led the ranking (diagnostics and reports). */
  readonly leads = new Map<string, number>();

  private readonly models: ModcastMethod | null;
  private readonly names: string[];
  /** Every item some ranker lists at the current decision: what the model ensemble re-ranks. */
  private shortlist: Set<string> | null = null;

  constructor(options: Partial<PoolOptions> = {}) {
    this.options = { ...DEFAULT_POOL, ...options };
    this.models = this.options.models ? new ModcastMethod({ shortlist: () => this.shortlist }) : null;
    this.names = [...CONTENDERS.map((c) => c.name), ...(this.models ? [MODELS] : [])];
  }

  rank(ctx: DecisionContext): Map<string, string[]> {
    const pass = passFor(ctx, this.options);
    if (this.models) {
      this.shortlist = new Set();
      for (const lists of pass.lists.values()) for (const list of lists) for (const key of list) this.shortlist.add(key);
    }
    const modelLists = this.models?.rank(ctx);
    const listsOf = (node: string): string[][] => {
      const lists = pass.lists.get(node) ?? [];
      return modelLists ? [...lists, modelLists.get(node) ?? []] : lists;
    };
    const { decision, history } = ctx;
    const first = this.lastDecision.get(ctx.budgetKind) !== decision;
    this.lastDecision.set(ctx.budgetKind, decision);
    const out = new Map<string, string[]>();
    const selectors = new Map<string, OnlineSelector>();
    for (const node of decision.nodes) {
      const id = `${ctx.budgetKind}\u0000${node}`;
      let sel = this.selectors.get(id);
      if (!sel || sel.limit !== ctx.rankLimit) {
        sel = new OnlineSelector(this.names.length, ctx.rankLimit, this.options.memory);
        this.selectors.set(id, sel);
      }
      selectors.set(node, sel);
      if (first) {
        // Judge what has become the past, then remember today's lists to judge them later.
        sel.judge(decision.at, (key, at, end) => usedOn(history, node, key, at, end, ctx.mutableTtlMs));
        sel.record(decision.at, decision.windowEnd, listsOf(node));
      }
    }
    // One choice per region, on the pooled evidence of its nodes (every node it has seen, deciding now or not).
    const pooled = new Map<string, Float64Array>();
    for (const node of decision.nodes) {
      const sel = selectors.get(node)!;
      const region = ctx.regionOf(node);
      let totals = pooled.get(region);
      if (!totals) {
        const peers = [...this.selectors.entries()].filter(([id]) => id.startsWith(`${ctx.budgetKind}\u0000`) && ctx.regionOf(id.slice(ctx.budgetKind.length + 1)) === region).map(([, s]) => s);
        pooled.set(region, (totals = OnlineSelector.pooled(peers.filter((s) => s.limit === sel.limit))));
      }
      const lists = listsOf(node);
      if (ctx.budgetKind === 'items') {
        const { ranking, lead } = sel.combine(lists, totals);
        if (first) this.leads.set(this.names[lead]!, (this.leads.get(this.names[lead]!) ?? 0) + 1);
        out.set(node, ranking);
      } else out.set(node, lists[sel.overallWinner(totals)] ?? []);
    }
    return out;
  }
}

/** One contender alone. */
export class SingleRankerMethod implements WarmupMethod {
  readonly name: string;
  private readonly index: number;

  constructor(
    contender: string,
    private readonly options: PoolOptions = DEFAULT_POOL,
  ) {
    this.index = CONTENDERS.findIndex((c) => c.name === contender);
    if (this.index < 0) throw new RangeError(`unknown ranker ${JSON.stringify(contender)}; known: ${CONTENDERS.map((c) => c.name).join(', ')}`);
    this.name = `rank:${contender}`;
  }

  rank(ctx: DecisionContext): Map<string, string[]> {
    const pass = passFor(ctx, this.options);
    return new Map(ctx.decision.nodes.map((node) => [node, pass.lists.get(node)?.[this.index] ?? []]));
  }
}
