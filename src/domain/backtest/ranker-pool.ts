/**
 * The ranker pool as backtest methods. One pass per decision and budget kind computes, for every candidate item,
 * its features on each node (decayed counts at exact fetch times, hourly window counts), sums them per region and
 * fleet, and keeps each contender's (ranker × scope) top list per deciding node. Then:
 * - `modcast` chooses per node and budget among the contenders by the hits their lists realised over the node's
 *   last decisions (OnlineSelector), judging a decision only once its window has passed, and warms the chosen
 *   contender's list whole;
 * - `rank:<ranker>@<scope>` is one contender alone (the single-ranker rows of the comparison).
 */
import { HOUR_MS } from '../calendar.js';
import {
  F_LAST24, FEATURES, addDecayedRowAt, MODELS, OnlineSelector, RANKERS, SELECTOR_HALF_LIFE, TopK, type Ranker,
  windowFeatures,
} from '../forecast/rankers.js';
import { ROW_CHUNK_SHIFT, ROW_LAST_FETCH, ROW_VERSION_NODES, WINDOW_ROW, rowOffset, type ItemHistory, type TraceHistory } from './history.js';
import { ModcastMethod } from './modcast.js';
import { heldEverywhereMask, type BudgetKind, type Decision, type DecisionContext, type WarmupMethod } from './method.js';

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
  /** Judged decisions after which a decision's evidence weighs half in the selector (OnlineSelector). */
  halfLife: number;
  /**
   * Also let the per-series model ensemble (seasonal profiles, Holt-Winters, TSB/Croston, release adoption) compete
   * as one more contender. It wins on traffic with strong weekly rhythm and releases spreading through the fleet,
   * and costs a model fit per candidate and decision (an order of magnitude slower than the rankers).
   */
  models: boolean;
}

export const DEFAULT_POOL: PoolOptions = { candidateHours: 14 * 24, halfLife: SELECTOR_HALF_LIFE, models: true };

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
  const rowRegion = Int32Array.from(history.nodeNames, (node) => regionIndex.get(regionOfNode(node)) ?? -1);
  const rowDeciding = Int32Array.from(history.nodeNames, (node) => deciding.indexOf(node));
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
  const nodeScores = new Float64Array(C);
  // Skipping by bound: an item enters a node's list only with a score at or above the list's floor and when the node
  // does not hold it, and no scope's score exceeds the ranker's score of `bound` (features bounded from the item's
  // fleet-wide counts). Per deciding node, the floors are the lowest of ranker r's fleet and region lists, and of its
  // node list (which only items the node fetched can enter, so it stays short and low). Floors only rise: a stale one
  // is merely less selective.
  const floors: Floors = { shared: new Float64Array(D * R), node: new Float64Array(D * R), any: new Float64Array(R) };
  const refreshFloors = (): void => {
    floors.shared.fill(Infinity);
    floors.node.fill(Infinity);
    floors.any.fill(Infinity);
    for (let n = 0; n < D; n++) {
      for (let c = 0; c < C; c++) {
        if (source[n]![c] !== c) continue;
        const i = n * R + (c % R);
        const floor = heaps[n]![c]!.floor;
        if (c < 2 * R) floors.shared[i] = Math.min(floors.shared[i]!, floor);
        else floors.node[i] = floor;
        floors.any[c % R] = Math.min(floors.any[c % R]!, floor);
      }
    }
  };
  let sinceRefresh = 0;
  const bound = new Float64Array(FEATURES);
  const boundScores = new Float64Array(R);
  /** Per deciding node, for the current item: may it enter one of the node's lists (bound and floors), not held there. */
  const takes = new Uint8Array(D);

  refreshFloors();
  // The bound reads only the packed rows and the week's window counts, in id order (the order of history.items); an
  // item's own objects are read once its bound reaches some node's floors.
  const N = history.byId.length;
  const windows = windowCounts(N);
  history.addFleetWindows(h, w, windows);
  // A version every deciding node fetched is held by all of them when caches keep versions: it can enter no list.
  const heldByAll = heldEverywhereMask(ctx);
  // Each deciding node's bit in the rows' version nodes (0: it has none).
  const decidingBits = Int32Array.from(deciding, (node) => history.versionMaskOf([node]));
  /** Offers item `id` to every list it may enter (nothing when its bound reaches no floor or it is not a candidate). */
  const consider = (id: number): void => {
    const row = history.rowChunks[id >> ROW_CHUNK_SHIFT]!;
    const o = rowOffset(id);
    if (row[o + ROW_LAST_FETCH]! < since) return;
    if (history.fetchedByAll(id, heldByAll)) return;
    const per = ctx.budgetKind === 'bytes' ? 1 / history.sizeOf(history.byId[id]) : 1;
    boundScoresOf(row, o, windows, id * WINDOW_ROW, at, per, w, bound, boundScores);
    // Most items reach no list of any node: one comparison per ranker says so.
    if (!reaches(boundScores, floors.any, 0)) return;
    // When caches keep versions, a version is held exactly where it was fetched: its row's node bits say where for
    // every node that has a bit, without reading its objects.
    const versionNodes = ctx.keepsVersions ? row[o + ROW_VERSION_NODES]! : 0;
    let item: ItemHistory | null = null;
    let taken = false;
    for (let n = 0; n < D; n++) {
      const shared = reaches(boundScores, floors.shared, n);
      if (!shared && !reaches(boundScores, floors.node, n)) {
        takes[n] = 0;
        continue;
      }
      if (versionNodes !== 0 && decidingBits[n] !== 0) {
        // Fetched here: held, and a node list takes only what the node fetched. Else only shared lists may take it.
        takes[n] = shared && (versionNodes & decidingBits[n]!) === 0 ? 1 : 0;
      } else {
        item ??= history.byId[id]!;
        const node = deciding[n]!;
        // Node lists only take items the node fetched; whether the node holds it is asked last.
        takes[n] = (shared || item.nodes.has(node)) && !ctx.holds(node, item) ? 1 : 0;
      }
      taken ||= takes[n] === 1;
    }
    if (!taken) return;
    item ??= history.byId[id]!;
    // Only the features of rankers whose bound reaches one of their lists are read: a ranker whose bound does not has
    // full lists (a positive floor) its score cannot reach, and a score from fewer features is lower still (rankers
    // are non-decreasing in every feature), so its offers are refused either way.
    let needDecays = false;
    let needWindows = false;
    for (let r = 0; r < R; r++) {
      if (!(boundScores[r]! > 0 && boundScores[r]! >= floors.any[r]!)) continue;
      needDecays ||= READS_DECAYS[r] === 1;
      needWindows ||= READS_WINDOWS[r] === 1;
    }
    if (++sinceRefresh === FLOOR_REFRESH_ITEMS) {
      refreshFloors();
      sinceRefresh = 0;
    }
    fleetFeat.fill(0);
    regionFeat.fill(0);
    regionSeen.fill(0);
    decidingSeen.fill(0);
    regionScored.fill(0);
    for (const points of item.nodes.values()) {
      nodeFeat.fill(0);
      if (needDecays) points.decay.addValuesAt(at, nodeFeat, 0);
      if (needWindows) windowFeatures(points, h, w, nodeFeat, 0);
      const region = rowRegion[points.node]!;
      const ro = region * FEATURES;
      for (let k = 0; k < FEATURES; k++) {
        regionFeat[ro + k] = regionFeat[ro + k]! + nodeFeat[k]!;
        fleetFeat[k] = fleetFeat[k]! + nodeFeat[k]!;
      }
      regionSeen[region] = 1;
      const d = rowDeciding[points.node]!;
      if (d >= 0) {
        decidingFeat.set(nodeFeat, d * FEATURES);
        decidingSeen[d] = 1;
      }
    }
    for (let r = 0; r < R; r++) fleetScores[r] = scoreOf(r, fleetFeat, 0, w) * per;
    for (let n = 0; n < D; n++) {
      // This node's scores, for the lists it owns (only where the bound let the item in and the node does not hold
      // it); offered only if one of them would be kept.
      if (!takes[n]) continue;
      const own = source[n]!;
      const heap = heaps[n]!;
      const region = decidingRegion[n]!;
      let kept = false;
      for (let c = 0; c < C; c++) {
        let score = 0;
        if (own[c] !== c) {
          // shares another contender's list
        } else if (c < R) score = fleetScores[c]!;
        else if (c < 2 * R) {
          if (region >= 0 && regionSeen[region]) {
            if (!regionScored[region]) {
              for (let r = 0; r < R; r++) regionScores[region * R + r] = scoreOf(r, regionFeat, region * FEATURES, w) * per;
              regionScored[region] = 1;
            }
            score = regionScores[region * R + c - R]!;
          }
        } else if (decidingSeen[n]) score = scoreOf(c % R, decidingFeat, n * FEATURES, w) * per;
        nodeScores[c] = score;
        kept ||= score > 0 && score >= heap[c]!.floor;
      }
      if (!kept) continue;
      for (let c = 0; c < C; c++) if (nodeScores[c]! > 0) heap[c]!.offer(nodeScores[c]!, item.key, id);
    }
  };
  // The items the last decision listed first: they are likely near the top again, so the lists' floors start high and
  // the bound lets fewer of the rest through. The lists do not depend on the order of offers (TopK keeps the best k by score,
  // then key), only the work does.
  const seeded = new Uint8Array(N);
  for (const id of listedIds.get(history)?.get(ctx.budgetKind) ?? []) {
    seeded[id] = 1;
    consider(id);
  }
  for (let id = 0; id < N; id++) if (!seeded[id]) consider(id);
  const lists = new Map<string, string[][]>();
  // Every listed item's id (the heaps carry them), for the next pass's seeds.
  const listed = new Set<number>();
  deciding.forEach((node, n) => {
    const sorted = heaps[n]!.map((heap) => {
      const entries = heap.entries();
      for (const { payload } of entries) listed.add(payload);
      return entries.map((e) => e.key);
    });
    // Aliased scopes share one list (same items, same order): a tie between them is not a choice.
    lists.set(node, source[n]!.map((c) => sorted[c]!));
  });
  let byKind = listedIds.get(history);
  if (!byKind) listedIds.set(history, (byKind = new Map()));
  byKind.set(ctx.budgetKind, [...listed]);
  return { lists };
}

/** Per history and budget kind, the ids of the items some list held at the last pass (the next pass's seeds). */
const listedIds = new WeakMap<TraceHistory, Map<BudgetKind, number[]>>();

/** Per ranker, the one feature its score is (-1: its score is computed). */
const FEATURE_OF = Int32Array.from(RANKERS, (r) => r.feature ?? -1);
/** Per ranker, whether its score may read the decayed counts, and the window counts (a computed score: both). */
const READS_DECAYS = Uint8Array.from(FEATURE_OF, (f) => (f < F_LAST24 ? 1 : 0));
const READS_WINDOWS = Uint8Array.from(FEATURE_OF, (f) => (f < 0 || f >= F_LAST24 ? 1 : 0));

/** Ranker r's score of the features at `o`: the feature itself where the score is one (no call), else the ranker's. */
function scoreOf(r: number, f: Float64Array, o: number, w: number): number {
  const feature = FEATURE_OF[r]!;
  return feature >= 0 ? f[o + feature]! : RANKERS[r]!.score(f, o, w);
}

/** Items scored between two refreshes of the lists' floors (a refresh reads every list's floor). */
const FLOOR_REFRESH_ITEMS = 16;
/** Relative slack on the bound: the fleet-wide decayed count and the sum of the nodes' differ by rounding only. */
const BOUND_SLACK = 1 + 1e-6;

/**
 * Per ranker, a score no scope of the item exceeds: every feature of every scope is at most the fleet's and rankers
 * are non-decreasing in every feature. The fleet's decayed counts are the item's fleet-wide ones from its packed row
 * (with slack for rounding); its window counts, active node-hours included, are exact from the fleet's hourly counts
 * (whole fetches: sums in any order agree). So a fleet list's bound is its score.
 */
function boundScoresOf(row: Float64Array, o: number, windows: Float64Array, wo: number, at: number, per: number, w: number, bound: Float64Array, out: Float64Array): void {
  bound.fill(0);
  addDecayedRowAt(row, o, at, bound, 0);
  for (let k = 0; k < F_LAST24; k++) bound[k] = bound[k]! * BOUND_SLACK;
  for (let j = 0; j < WINDOW_ROW; j++) bound[F_LAST24 + j] = windows[wo + j]!;
  for (let r = 0; r < RANKERS.length; r++) out[r] = scoreOf(r, bound, 0, w) * per;
}

/** The window counts of every item at a decision (TraceHistory.addFleetWindows), zeroed; one buffer, grown as needed. */
let windowBuffer = new Float64Array(0);
function windowCounts(items: number): Float64Array {
  const n = items * WINDOW_ROW;
  if (windowBuffer.length < n) windowBuffer = new Float64Array(Math.max(n, windowBuffer.length * 2));
  windowBuffer.fill(0, 0, n);
  return windowBuffer;
}

/** Per deciding node, the lowest floor of each ranker's lists (Infinity where it has none of its own). */
interface Floors {
  /** [n * R + r]: node n's fleet and region lists of ranker r. */
  shared: Float64Array;
  /** [n * R + r]: node n's node list of ranker r. */
  node: Float64Array;
  /** [r]: the lowest of ranker r's floors over every list of every deciding node. */
  any: Float64Array;
}

/** Could some ranker's bound score reach deciding node n's floor? */
function reaches(best: Float64Array, floors: Float64Array, n: number): boolean {
  const R = best.length;
  for (let r = 0; r < R; r++) if (best[r]! > 0 && best[r]! >= floors[n * R + r]!) return true;
  return false;
}

function passFor(ctx: DecisionContext, o: PoolOptions): Pass {
  let byKind = passes.get(ctx.decision);
  if (!byKind) passes.set(ctx.decision, (byKind = new Map()));
  let pass = byKind.get(ctx.budgetKind);
  if (!pass) byKind.set(ctx.budgetKind, (pass = computePass(ctx, o)));
  return pass;
}

/**
 * Was the item asked for on the node in [at, windowEnd)? A mutable item only within the TTL after `at`: warmed at
 * the decision, it answers from the cache that long, so a request later in the window gains nothing from it.
 */
function usedOn(history: TraceHistory, node: string, key: string, at: number, windowEnd: number, mutableTtlMs: number): boolean {
  const item = history.items.get(key);
  if (!item) return false;
  return history.requestedIn(item, node, at, item.mutable ? Math.min(windowEnd, at + mutableTtlMs) : windowEnd);
}

/**
 * What the model ensemble re-ranks at an hourly decision: every item some contender lists, and what the ensemble
 * itself ranked at the last decision. Demand the rankers' recency misses (a daily peak, a slow climb) would otherwise
 * drop off the shortlist between two forecasts of it (on the demo, hourly: 736 → 756 misses avoided at 100 items).
 */
export function shortlistOf(contenderLists: Iterable<readonly (readonly string[])[]>, lastModelLists: Iterable<readonly string[]>): Set<string> {
  const out = new Set<string>();
  for (const lists of contenderLists) for (const list of lists) for (const key of list) out.add(key);
  for (const list of lastModelLists) for (const key of list) out.add(key);
  return out;
}

/** modcast: per node, the contender whose lists realised the most hits over the node's recent decisions. */
export class PoolMethod implements WarmupMethod {
  readonly name = 'modcast';
  private readonly options: PoolOptions;
  /** Per budget kind and node. */
  private readonly selectors = new Map<string, OnlineSelector>();
  private readonly lastDecision = new Map<BudgetKind, Decision>();

  private readonly models: ModcastMethod | null;
  private readonly names: string[];
  /** Every item some ranker lists at the current decision: what the model ensemble re-ranks. */
  private shortlist: Set<string> | null = null;
  /**
   * Per budget kind, the ensemble's lists at the latest decision: the current one's once it has ranked, until then the
   * last one's (which the shortlist keeps, see shortlistOf).
   */
  private readonly modelLists = new Map<BudgetKind, Map<string, string[]>>();

  constructor(options: Partial<PoolOptions> = {}) {
    this.options = { ...DEFAULT_POOL, ...options };
    this.models = this.options.models ? new ModcastMethod({ shortlist: () => this.shortlist }) : null;
    this.names = [...CONTENDERS.map((c) => c.name), ...(this.models ? [MODELS] : [])];
  }

  /**
   * One ranking for every budget of the kind: for items, the combined ranking (each checkpoint's winner fills up to
   * that checkpoint, so every prefix is a budget's choice); for bytes, the overall winner's list.
   */
  rank(ctx: DecisionContext): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const { node, sel, totals, lists } of this.choices(ctx)) {
      out.set(node, ctx.budgetKind === 'items' ? sel.combine(lists, totals).ranking : (lists[sel.overallWinner(totals)] ?? []));
    }
    return out;
  }

  /**
   * The list for one budget: for K items, the list of the contender that leads at the smallest checkpoint of at
   * least K (its evidence pooled with every larger one), whole. A combined ranking makes a budget of 100 start with
   * what won at 5 and 20; when a different contender leads at 100, its own top 100 did better than such a mix (on
   * the NASA log the mix lost 7–8 % of the misses avoided at 100 items). Bytes: as rank().
   */
  rankForBudget(ctx: DecisionContext, value: number): Map<string, string[]> {
    if (ctx.budgetKind !== 'items') return this.rank(ctx);
    const out = new Map<string, string[]>();
    for (const { node, sel, totals, lists } of this.choices(ctx)) out.set(node, sel.listFor(lists, value, totals));
    return out;
  }

  /** A warm-up decision: the contenders' lists are recorded to be judged like any decision's. */
  learn(ctx: DecisionContext): void {
    this.choices(ctx);
  }

  /**
   * Per deciding node: its selector, the evidence its choice is made on (pooled over its region's nodes) and the
   * contenders' lists. The first call at a decision judges what has become the past and records today's lists.
   */
  private choices(ctx: DecisionContext): { node: string; sel: OnlineSelector; totals: Float64Array; lists: string[][] }[] {
    const pass = passFor(ctx, this.options);
    const { decision, history } = ctx;
    const first = this.lastDecision.get(ctx.budgetKind) !== decision;
    if (this.models && first) {
      // Hourly, the ensemble re-ranks the rankers' shortlist: a fit per candidate and decision would cost an order of
      // magnitude more than the rankers. Before business blocks there are a few decisions a day, and a block's demand
      // is what the ensemble forecasts and recency-ranked lists miss (on the demo the shortlist cost 16 % at 100
      // items): it forecasts every candidate there.
      this.shortlist = ctx.beforeBlocks ? null : shortlistOf(pass.lists.values(), this.modelLists.get(ctx.budgetKind)?.values() ?? []);
      this.modelLists.set(ctx.budgetKind, this.models.rank(ctx));
    }
    this.lastDecision.set(ctx.budgetKind, decision);
    const modelLists = this.modelLists.get(ctx.budgetKind);
    const listsOf = (node: string): string[][] => {
      const lists = pass.lists.get(node) ?? [];
      return modelLists ? [...lists, modelLists.get(node) ?? []] : lists;
    };
    const selectors = new Map<string, OnlineSelector>();
    for (const node of decision.nodes) {
      const id = `${ctx.budgetKind}\u0000${node}`;
      let sel = this.selectors.get(id);
      if (!sel || sel.limit !== ctx.rankLimit) {
        sel = new OnlineSelector(this.names.length, ctx.rankLimit, this.options.halfLife);
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
    return decision.nodes.map((node) => {
      const sel = selectors.get(node)!;
      const region = ctx.regionOf(node);
      let totals = pooled.get(region);
      if (!totals) {
        const peers = [...this.selectors.entries()].filter(([id]) => id.startsWith(`${ctx.budgetKind}\u0000`) && ctx.regionOf(id.slice(ctx.budgetKind.length + 1)) === region).map(([, s]) => s);
        pooled.set(region, (totals = OnlineSelector.pooled(peers.filter((s) => s.limit === sel.limit))));
      }
      return { node, sel, totals, lists: listsOf(node) };
    });
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
