/**
 * modcast as a backtest method: at each decision, forecast every candidate item in every region with the same
 * ItemForecaster scoring uses (model selection per series, fleet pooling, release adoption curves), turn the
 * window's expected count on each node into P(any request), and rank by it (per byte for byte budgets).
 *
 * Release curves come from the replayed history: earlier releases of the same module, and releases of modules in
 * the same popularity class, measured per region in hours since they were first seen.
 */
import { HOUR_MS, WEEK_HOURS, hourOfWeekGrid, type RegionCalendar } from '../calendar.js';
import { ItemForecaster, keptChoice, nodeShare, type RegionResult, type ScopeGrid } from '../forecast/item.js';
import {
  ClassCurveSums,
  RELEASE_CURVE_HOURS,
  SEGMENT_COUNT,
  SEGMENT_OF_HOUR,
  adoptionCurves,
  curveOfLevels,
  expectedSince,
  releaseScale,
  segmentExposures,
  segmentLevelRange,
  segmentLevels,
} from '../forecast/release.js';
import { TopK } from '../forecast/rankers.js';
import { WEEK, weekShape, type ModelName } from '../forecast/series.js';
import { DEFAULT_SELECT, type KeptChoice, type SelectOptions } from '../forecast/select.js';
import { windowSpan, type WindowSpan } from '../windows.js';
import type { ItemHistory, TraceHistory } from './history.js';
import { byScore, heldEverywhereMask, type Decision, type DecisionContext, type Scored, type WarmupMethod } from './method.js';

export interface ModcastMethodOptions {
  /** Hours of history the models see (4 weeks by default, as scoring). */
  historyHours: number;
  /** Items with a request in this many past hours are candidates (plus young releases). */
  candidateHours: number;
  /** Versions first seen this long after the trace starts count as releases seen happening. */
  releaseGraceHours: number;
  /** Force one model for every series (the per-model rows of the comparison). */
  only?: ModelName;
  select?: SelectOptions;
  /**
   * A series' model choice (and the model's parameters) is kept this many hours: decisions in between re-forecast
   * with the kept model instead of backtesting every candidate again, as scoring would run once a day in
   * production. 0: select at every decision.
   */
  reselectHours: number;
  /**
   * Forecast only these items (and young releases): the ranker pool's own top lists, so that fitting a model per
   * series stays affordable on logs with tens of thousands of candidates per decision.
   */
  shortlist?: () => ReadonlySet<string> | null;
  /**
   * With a shortlist: young releases off it that are fitted, per region, as a multiple of the rank limit — those
   * whose adoption curve (scaled by what they drew so far) expects the most now (Infinity: every young release).
   * A release no ranker lists yet competes on that cheap expectation first, so a fit per release stays affordable
   * where every new file of a log is a release.
   */
  youngFitsPerList: number;
  /** Sees every scored candidate (diagnostics). */
  onScore?: (s: { node: string; key: string; p: number; model: string; at: number }) => void;
}

export const DEFAULT_MODCAST_METHOD: ModcastMethodOptions = { historyHours: 4 * WEEK_HOURS, candidateHours: 2 * WEEK_HOURS, releaseGraceHours: 24, reselectHours: 24, youngFitsPerList: 2 };

const DEFAULT_CALENDAR_ZONE = 'UTC';

export class ModcastMethod implements WarmupMethod {
  readonly name: string;
  private readonly options: ModcastMethodOptions;

  constructor(options: Partial<ModcastMethodOptions> = {}) {
    this.options = { ...DEFAULT_MODCAST_METHOD, ...options };
    this.name = this.options.only ? `modcast:${this.options.only}` : 'modcast:models';
  }

  rank(ctx: DecisionContext): Map<string, string[]> {
    // One forecast pass per decision: a second call for another budget kind only re-ranks.
    if (this.memo?.decision !== ctx.decision) this.memo = { decision: ctx.decision, perNode: sharedPass(ctx, this).get(this)! };
    const out = new Map<string, string[]>();
    for (const [node, list] of this.memo.perNode) {
      const scored: Scored[] = list.map((c) => ({ key: c.key, score: ctx.budgetKind === 'items' ? c.p : c.p / c.size }));
      scored.sort(byScore);
      out.set(node, scored.slice(0, ctx.rankLimit).map((x) => x.key));
    }
    return out;
  }

  private memo: { decision: Decision; perNode: PerNode } | null = null;

  /** Methods with the same key see the same candidates and inputs: they differ only in the model(s) they use. */
  get sharingKey(): string {
    const o = this.options;
    return `${o.historyHours}|${o.candidateHours}|${o.releaseGraceHours}|${o.reselectHours}|${o.youngFitsPerList}|${JSON.stringify(o.select ?? DEFAULT_SELECT)}${o.shortlist ? '|shortlist' : ''}`;
  }

  get only(): ModelName | undefined {
    return this.options.only;
  }

  get onScore(): ModcastMethodOptions['onScore'] {
    return this.options.onScore;
  }

  get preparation(): ModcastMethodOptions {
    return this.options;
  }
}

/** Per node, P(any request in the window) of every candidate item the node does not hold. */
type PerNode = Map<string, { key: string; p: number; size: number }[]>;

const passes = new WeakMap<Decision, Map<string, Map<ModcastMethod, PerNode>>>();

/**
 * The probabilities of every modcast method at this decision that shares `self`'s inputs (the ensemble and each
 * model alone), computed in one pass: each item's series are read once and each model fits them once
 * (ItemForecaster.forecastVariants), then every method gets exactly what its own pass would have given.
 */
function sharedPass(ctx: DecisionContext, self: ModcastMethod): Map<ModcastMethod, PerNode> {
  const key = self.sharingKey;
  let byKey = passes.get(ctx.decision);
  if (!byKey) passes.set(ctx.decision, (byKey = new Map()));
  const known = byKey.get(key);
  if (known?.has(self)) return known;
  const peers = (ctx.methods ?? []).filter((m): m is ModcastMethod => m instanceof ModcastMethod && m.sharingKey === key && m !== self);
  const group = [self, ...peers.filter((p) => !known?.has(p))];
  const computed = probabilities(ctx, self.preparation, group);
  if (!known) byKey.set(key, computed);
  else for (const [m, perNode] of computed) known.set(m, perNode);
  return known ?? computed;
}

/** P(any request in the window) per node for every candidate item the node does not hold, for each method. */
function probabilities(ctx: DecisionContext, options: ModcastMethodOptions, methods: readonly ModcastMethod[]): Map<ModcastMethod, PerNode> {
  const { history, decision } = ctx;
  const out = new Map<ModcastMethod, PerNode>(methods.map((m) => [m, new Map(decision.nodes.map((n) => [n, []]))]));
  const prep = prepare(ctx, options);
  if (!prep) return out; // not a day of history yet: nothing to learn from
  const { scopes, n, horizon, gridStartHour, nowHour } = prep;
  const forecaster = new ItemForecaster(scopes.grids, scopes.fleet, n, horizon, options.select ?? DEFAULT_SELECT);
  const variants = methods.map((m) => m.only);
  const lists = methods.map((m) => out.get(m)!);
  const window = { mean: 0, size: 0 };
  const shortlist = options.shortlist?.() ?? null;
  const ensemble = variants.indexOf(undefined);
  const choices = ensemble >= 0 && options.reselectHours > 0 ? keptChoices(history, methods[ensemble]!.sharingKey, nowHour, options.reselectHours) : null;
  for (const { item, young, wanted } of candidates(ctx, options, prep, shortlist)) {
    forecaster.reset();
    for (const [node, points] of item.nodes) {
      const r = scopes.regionIndex.get(history.nodeRegion.get(node) ?? '');
      if (r !== undefined) for (let i = 0; i < points.length; i++) forecaster.addPoint(r, points.hourAt(i), points.countAt(i), gridStartHour);
    }
    const releaseIndex = history.hourOf(item.firstTs) - gridStartHour;
    const known = choices?.get(item.key);
    const kept = known && nowHour - known.hour < options.reselectHours ? known : undefined;
    forecaster.forecastVariants(
      {
        // Only a release seen happening starts at its first fetch; an old item quiet for a while is not new.
        start: young ? Math.max(0, releaseIndex) : 0,
        release: young ? { releaseIndex: Math.max(0, releaseIndex), curves: prep.curves.curvesFor(item), sighted: true } : null,
        kept: kept?.perRegion ?? null,
      },
      variants,
    );
    if (choices) keepChoices(choices, item.key, kept, forecaster.resultsOf(ensemble), nowHour);
    const size = history.sizeOf(item);
    const span = item.mutable ? prep.mutableSpan : prep.span;
    for (const { node, r } of wanted) {
      const nodeCount = item.nodes.get(node)?.sum(gridStartHour, nowHour) ?? 0;
      const share = nodeShare(nodeCount, forecaster.regionTotal(r), scopes.nodeShare.get(node) ?? 0);
      for (let v = 0; v < methods.length; v++) {
        const w = forecaster.regionWindow(r, span, window, v);
        // Poisson P(any): monotone in the expected count, so a model's ranking follows its forecast. (The negative
        // binomial size from a few dozen residuals reordered items by the noise in their fit.)
        const p = -Math.expm1(-share * w.mean);
        if (!(p > 0)) continue;
        methods[v]!.onScore?.({ node, key: item.key, p, model: forecaster.resultsOf(v)[r]!.model, at: decision.at });
        lists[v]!.get(node)!.push({ key: item.key, p, size });
      }
    }
  }
  return out;
}

/** Per item, the model choice of each region and the hour it was made. */
type ChoiceMemo = Map<string, { hour: number; perRegion: (KeptChoice | null)[] }>;

const choiceMemos = new WeakMap<TraceHistory, { key: string; sweptAt: number; memo: ChoiceMemo }[]>();

/** The replay's memo of model choices for methods of this sharing key, swept of choices older than `hours`. */
function keptChoices(history: TraceHistory, key: string, nowHour: number, hours: number): ChoiceMemo {
  let all = choiceMemos.get(history);
  if (!all) choiceMemos.set(history, (all = []));
  let entry = all.find((e) => e.key === key);
  if (!entry) all.push((entry = { key, sweptAt: nowHour, memo: new Map() }));
  if (nowHour - entry.sweptAt >= hours) {
    for (const [k, c] of entry.memo) if (nowHour - c.hour >= hours) entry.memo.delete(k);
    entry.sweptAt = nowHour;
  }
  return entry.memo;
}

/** Remembers the choices the last forecast made by backtest: all of them for a new entry, else the regions re-selected. */
function keepChoices(memo: ChoiceMemo, key: string, known: { hour: number; perRegion: (KeptChoice | null)[] } | undefined, results: readonly RegionResult[], nowHour: number): void {
  if (!known) {
    memo.set(key, { hour: nowHour, perRegion: results.map(keptChoice) });
    return;
  }
  results.forEach((res, r) => {
    if (res.backtested) known.perRegion[r] = keptChoice(res);
  });
}

/** What every modcast method needs at a decision, whatever its model: computed once per decision and shared. */
interface DecisionPrep {
  optionsKey: string;
  n: number;
  horizon: number;
  gridStartHour: number;
  nowHour: number;
  span: WindowSpan;
  mutableSpan: WindowSpan;
  scopes: Scopes;
  curves: ReleaseCurves;
  deciding: { node: string; r: number }[];
}

/**
 * Items worth forecasting (requested within the candidate hours, or young releases; on the shortlist when there is
 * one, and then young releases off it only as many as youngFitsPerList keeps) and the deciding nodes that do not
 * hold them, in the order the items were first seen. With a shortlist only its items and the young releases are
 * read, not every item the replay has seen.
 */
function* candidates(
  ctx: DecisionContext,
  o: ModcastMethodOptions,
  prep: DecisionPrep,
  shortlist: ReadonlySet<string> | null,
): Generator<{ item: ItemHistory; young: boolean; wanted: { node: string; r: number }[] }> {
  const { history } = ctx;
  const { nowHour, curves } = prep;
  const wantedBy = (item: ItemHistory) => prep.deciding.filter((d) => d.r >= 0 && !ctx.holds(d.node, item));
  // A version every deciding node holds is wanted nowhere: skipped before any count or curve is read.
  const held = heldEverywhereMask(ctx);
  const isYoung = (item: ItemHistory) => curves.isRelease(item) && nowHour - history.hourOf(item.firstTs) < RELEASE_CURVE_HOURS;
  const youngPicks = shortlist && Number.isFinite(o.youngFitsPerList) ? new YoungPicks(ctx, prep, Math.ceil(o.youngFitsPerList * ctx.rankLimit)) : null;
  let items: Iterable<ItemHistory> = history.items.values();
  if (shortlist) {
    const seen = seenItems(history, nowHour);
    const listed: ItemHistory[] = [];
    for (const key of shortlist) {
      const item = history.items.get(key);
      if (item) listed.push(item);
    }
    // Recent versions are younger than RELEASE_CURVE_HOURS already: young if seen being released.
    const youngOff = seen.recent.filter((v) => curves.isReleaseHour(v.firstHour) && !shortlist.has(v.item.key) && !history.fetchedByAll(v.item.id, held));
    if (youngPicks) for (const v of youngOff) youngPicks.offer(v);
    items = seen.inOrder(youngPicks ? listed : [...listed, ...youngOff.map((v) => v.item)]);
  }
  for (const item of items) {
    if (history.fetchedByAll(item.id, held)) continue;
    const young = isYoung(item);
    // The fleet's hourly fetches are the sum of the nodes' (one list to search rather than one per node).
    if (!young && item.fleet.sum(nowHour - o.candidateHours, nowHour) <= 0) continue;
    const wanted = wantedBy(item);
    if (wanted.length > 0) yield { item, young, wanted };
  }
  for (const item of youngPicks?.picked() ?? []) yield { item, young: true, wanted: wantedBy(item) };
}

/**
 * The replay's items in the order first seen, kept up to date without walking them all at every decision: a Map
 * iterator sees entries added after it was made, so each decision reads only the items new since the last one
 * (exactly as many as the map grew by: an iterator that ran to its end stays ended). A TraceHistory never forgets
 * an item; a map that shrank, or a decision earlier than the last, starts the index over.
 */
class SeenItems {
  private readonly iterator: Iterator<ItemHistory>;
  /** Position of each item in the order first seen. */
  private readonly position = new Map<string, number>();
  /** Versions first seen less than RELEASE_CURVE_HOURS before the last refresh, in the order first seen. */
  recent: RecentVersion[] = [];
  private hour = -Infinity;

  constructor(private readonly history: TraceHistory) {
    this.iterator = history.items.values();
  }

  /** False when the index cannot follow the history from where it is. */
  canFollow(nowHour: number): boolean {
    return this.history.items.size >= this.position.size && nowHour >= this.hour;
  }

  refresh(nowHour: number): void {
    for (let i = this.position.size; i < this.history.items.size; i++) {
      const item = this.iterator.next().value as ItemHistory;
      this.position.set(item.key, i);
      if (item.version !== '') this.recent.push({ item, firstHour: this.history.hourOf(item.firstTs), curves: null });
    }
    this.recent = this.recent.filter((v) => nowHour - v.firstHour < RELEASE_CURVE_HOURS);
    this.hour = nowHour;
  }

  /** The items sorted by when they were first seen. */
  inOrder(items: ItemHistory[]): ItemHistory[] {
    const placed = items.map((item) => ({ item, at: this.position.get(item.key)! }));
    placed.sort((a, b) => a.at - b.at);
    return placed.map((p) => p.item);
  }
}

/** A version first seen lately, and its curves as last read (kept so that a decision need not look them up). */
interface RecentVersion {
  item: ItemHistory;
  firstHour: number;
  curves: ItemCurves | null;
}

const seenIndexes = new WeakMap<TraceHistory, SeenItems>();

function seenItems(history: TraceHistory, nowHour: number): SeenItems {
  let seen = seenIndexes.get(history);
  if (!seen?.canFollow(nowHour)) seenIndexes.set(history, (seen = new SeenItems(history)));
  seen.refresh(nowHour);
  return seen;
}

/**
 * Young releases off the shortlist, per region the `k` whose curves expect the most now: the adoption level at the
 * release's age times the scale its fetches so far give (the release model's own forecast, less the week shape,
 * which is the same for every item of a region).
 *
 * The scale divides by the requests the curves expected so far, a sum over up to RELEASE_CURVE_HOURS hours per
 * region. A lower bound of that sum (per segment of the curve, its least level times the segment's exposure) gives
 * each release a bound on its level that costs a few products; releases are judged best bound first, and one whose
 * bound misses every region's floor is passed over without the sum: its level would miss too, and a floor only
 * rises. The releases kept are those the exact levels alone keep.
 */
class YoungPicks {
  private readonly tops: TopK[];
  private readonly offers: YoungOffer[] = [];
  /** Per release hour, per region: the exposure of each curve segment lived by now. */
  private readonly exposures = new Map<number, Float64Array[]>();

  constructor(
    private readonly ctx: DecisionContext,
    private readonly prep: DecisionPrep,
    k: number,
  ) {
    this.tops = prep.scopes.regions.map(() => new TopK(k));
  }

  offer(v: RecentVersion): void {
    const { nowHour } = this.prep;
    const { item, firstHour: first } = v;
    v.curves = this.prep.curves.entryFor(item, v.curves);
    const { curves, ranges } = rangedCurves(v.curves.set);
    const age = nowHour - first;
    // The first fetch made the release time; it says nothing of demand after it (as in the forecast). The fleet's
    // points are the sum of the nodes' (whole counts: any order sums the same).
    const observed = Math.max(0, item.fleet.sum(first, nowHour) - 1);
    // releaseScale falls as the expected count grows: at the lower bound it is at least the exact scale.
    const scaleBound = releaseScale(observed, this.expectedLowerBound(ranges, first, age));
    const offer = { item, curves, first, age, observed, scaleBound, best: 0 };
    for (let r = 0; r < curves.length; r++) {
      const b = levelBound(offer, r);
      if (b > offer.best) offer.best = b; // a bound that is not a number bounds nothing: its region is passed over
    }
    if (offer.best > 0) this.offers.push(offer);
  }

  /** The items kept in any region, in key order. */
  picked(): ItemHistory[] {
    this.offers.sort((a, b) => b.best - a.best);
    for (const o of this.offers) {
      // Every release after this one bounds lower still: once below every (full) list's floor, none can enter.
      if (this.tops.every((top) => o.best < top.floor)) break;
      if (this.tops.some((top, r) => levelBound(o, r) > 0 && levelBound(o, r) >= top.floor)) this.judge(o);
    }
    const keys = new Set<string>();
    for (const top of this.tops) for (const key of top.sorted()) keys.add(key);
    return [...keys].sort().map((key) => this.ctx.history.items.get(key)!);
  }

  /** The exact level of a release in each region, offered where it reaches the floor and a deciding node lacks it. */
  private judge({ item, curves, first, age, observed }: YoungOffer): void {
    const { gridStartHour, scopes } = this.prep;
    let expected = 0;
    for (let r = 0; r < curves.length; r++) {
      const c = curves[r];
      if (c) expected += expectedSince(c, first - gridStartHour, age, scopes.grids[r]!.how, scopes.grids[r]!.shape);
    }
    const scale = releaseScale(observed, expected);
    for (let r = 0; r < curves.length; r++) {
      const c = curves[r];
      const top = this.tops[r]!;
      const level = c ? scale * c[Math.min(age, RELEASE_CURVE_HOURS - 1)]! : 0;
      if (!(level > 0) || level < top.floor) continue;
      if (this.prep.deciding.some((d) => d.r === r && !this.ctx.holds(d.node, item))) top.offer(level, item.key);
    }
  }

  /**
   * At most what expectedSince sums over the regions, with room for its rounding (relative error far below
   * BOUND_MARGIN for a sum of a few hundred non-negative terms); 0 when the sum could overflow or is not a number
   * (releaseScale then reads it as 0).
   */
  private expectedLowerBound(ranges: readonly (Float64Array | null)[], first: number, age: number): number {
    const exposures = this.segmentExposures(first, age);
    let low = 0;
    let high = 0;
    for (let r = 0; r < ranges.length; r++) {
      const range = ranges[r];
      if (!range) continue;
      const e = exposures[r]!;
      for (let s = 0; s < e.length; s++) {
        low += range[s]! * e[s]!;
        high += range[e.length + s]! * e[s]!;
      }
    }
    return low >= 0 && high < OVERFLOW_GUARD ? low * (1 - BOUND_MARGIN) : 0;
  }

  private segmentExposures(first: number, age: number): Float64Array[] {
    let known = this.exposures.get(first);
    if (!known) {
      const index = first - this.prep.gridStartHour;
      // As expectedSince reads them (an index off the grid reads as not a number, and so does the bound).
      known = this.prep.scopes.grids.map(({ how, shape }) => segmentExposures(age, (a) => shape[how[index + a]!]!));
      this.exposures.set(first, known);
    }
    return known;
  }
}

interface YoungOffer {
  item: ItemHistory;
  curves: (Float64Array | null)[];
  first: number;
  age: number;
  observed: number;
  /** At least the scale the release's levels are multiplied by. */
  scaleBound: number;
  /** The greatest levelBound over the regions. */
  best: number;
}

/** At least the level a release would be offered at in region r (0: none). */
function levelBound(o: YoungOffer, r: number): number {
  const c = o.curves[r];
  return c ? o.scaleBound * c[Math.min(o.age, RELEASE_CURVE_HOURS - 1)]! : 0;
}

const BOUND_MARGIN = 1e-9;
const OVERFLOW_GUARD = 1e300;

const preps = new WeakMap<Decision, DecisionPrep>();

function prepare(ctx: DecisionContext, o: ModcastMethodOptions): DecisionPrep | null {
  const { history, decision } = ctx;
  const optionsKey = `${o.historyHours}|${o.candidateHours}|${o.releaseGraceHours}`;
  const known = preps.get(decision);
  if (known && known.optionsKey === optionsKey) return known;
  const nowHour = history.hourOf(decision.at);
  const n = Math.min(o.historyHours, nowHour);
  if (n < 24) return null;
  const gridStartHour = nowHour - n;
  const gridStart = history.origin + gridStartHour * HOUR_MS;
  const forecastStart = history.origin + nowHour * HOUR_MS;
  const horizon = Math.max(1, Math.ceil((decision.windowEnd - forecastStart) / HOUR_MS));
  const scopes = buildScopes(ctx, gridStart, gridStartHour, n, horizon);
  const curves = new ReleaseCurves(history, scopes.regions, scopes.grids, gridStartHour, nowHour, o.releaseGraceHours);
  const deciding = decision.nodes.map((node) => ({ node, r: scopes.regionIndex.get(ctx.regionOf(node)) ?? -1 }));
  const prep: DecisionPrep = {
    optionsKey,
    n,
    horizon,
    gridStartHour,
    nowHour,
    span: windowSpan(forecastStart, { start: decision.at, end: decision.windowEnd }),
    // A warmed list/@latest answer is only fresh for the TTL: what counts is a request before it expires.
    mutableSpan: windowSpan(forecastStart, { start: decision.at, end: Math.min(decision.windowEnd, decision.at + ctx.mutableTtlMs) }),
    scopes,
    curves,
    deciding,
  };
  preps.set(decision, prep);
  return prep;
}

interface Scopes {
  regions: string[];
  regionIndex: Map<string, number>;
  grids: ScopeGrid[];
  fleet: { how: Uint8Array; shape: Float64Array };
  /** Node's share of its region's traffic. */
  nodeShare: Map<string, number>;
}

/** Regions, their local hour grids, week shapes and traffic shares, from the node totals of the history window. */
function buildScopes(ctx: DecisionContext, gridStart: number, gridStartHour: number, n: number, horizon: number): Scopes {
  const { history } = ctx;
  const regions = [...new Set([...history.nodeRegion.values()])].sort();
  const regionIndex = new Map(regions.map((r, i) => [r, i]));
  const regionTotals = regions.map(() => new Float64Array(n));
  const nodeTotals = new Map<string, number>();
  for (const [node, points] of history.nodeTotals) {
    const r = regionIndex.get(history.nodeRegion.get(node)!)!;
    const before = sumOf(regionTotals[r]!);
    points.scatter(regionTotals[r]!, gridStartHour);
    nodeTotals.set(node, sumOf(regionTotals[r]!) - before);
  }
  const fleetTotals = new Float64Array(n);
  const totals = regionTotals.map((t) => {
    for (let i = 0; i < n; i++) fleetTotals[i] = fleetTotals[i]! + t[i]!;
    return sumOf(t);
  });
  const fleetTotal = totals.reduce((a, b) => a + b, 0);
  const grids: ScopeGrid[] = regions.map((region, r) => {
    const tz = ctx.calendars.get(region)?.timeZone ?? DEFAULT_CALENDAR_ZONE;
    const how = hourOfWeekGrid(gridStart, n + horizon, tz);
    return { name: region, how, shape: weekShape(regionTotals[r]!, how), share: fleetTotal > 0 ? totals[r]! / fleetTotal : 1 / regions.length };
  });
  const fleetHow = hourOfWeekGrid(gridStart, n + horizon, 'UTC');
  const nodeShareMap = new Map<string, number>();
  for (const [node, total] of nodeTotals) {
    const r = regionIndex.get(history.nodeRegion.get(node)!)!;
    nodeShareMap.set(node, totals[r]! > 0 ? total / totals[r]! : 0);
  }
  return { regions, regionIndex, grids, fleet: { how: fleetHow, shape: weekShape(fleetTotals, fleetHow) }, nodeShare: nodeShareMap };
}

function sumOf(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

/** Adoption curves of earlier releases, per region, read from the replayed history. */
/**
 * Adoption curves change slowly (a release's curve grows by an hour per hour): they are refreshed once a day per
 * replay and shared by every modcast method of it (they do not depend on the model being compared).
 */
const CURVE_REFRESH_HOURS = 24;
/** Hours after which a release's adoption so far is a curve to learn from (ReleaseCurves.isSettledRelease). */
const SETTLED_HOURS = 48;

interface CurveCache {
  classesAt: number;
  classes: Map<number, (Float64Array | null)[]> | null;
  items: Map<string, ItemCurves>;
  /**
   * The curves of versions of modules without an earlier release seen, per module rate: they depend on nothing
   * else (the class curves and the number of regions they were made with are kept to tell).
   */
  byRate: { classes: Map<number, (Float64Array | null)[]> | null; regions: number; sets: Map<number, CurveSet> };
}

interface ItemCurves {
  at: number;
  set: CurveSet;
}

/** A young version's curves per region (shared by versions that would compute the same), read only. */
interface CurveSet {
  curves: (Float64Array | null)[];
  /** Per region segmentLevelRange of the curve, when asked for. */
  ranges: (Float64Array | null)[] | null;
}

const curveCaches = new WeakMap<TraceHistory, CurveCache>();

/** A curve set with its segmentLevelRange per region. */
function rangedCurves(set: CurveSet): { curves: (Float64Array | null)[]; ranges: (Float64Array | null)[] } {
  const ranges = (set.ranges ??= set.curves.map((c) => c && segmentLevelRange(c)));
  return { curves: set.curves, ranges };
}

/**
 * The level curve of a release in a region none of whose nodes fetched it: every level 0, whatever the exposure.
 * Shared by all such (most releases are fetched in a few regions); nothing writes to a release's curves.
 */
const NEVER_FETCHED = new Float64Array(RELEASE_CURVE_HOURS);

class ReleaseCurves {
  private readonly cache: CurveCache;
  /** What this decision computed already (the history does not change within one). */
  private readonly rates = new Map<string, number>();
  private readonly priorCurves = new Map<ItemHistory, Float64Array[]>();
  /** Per release hour, per region: the exposure of each curve segment lived by now. */
  private readonly exposures = new Map<number, Float64Array[]>();
  private nodeRegions: Map<string, number> | null = null;

  constructor(
    private readonly history: TraceHistory,
    private readonly regions: string[],
    private readonly grids: ScopeGrid[],
    private readonly gridStartHour: number,
    private readonly nowHour: number,
    private readonly graceHours: number,
  ) {
    let cache = curveCaches.get(history);
    if (!cache) curveCaches.set(history, (cache = { classesAt: -Infinity, classes: null, items: new Map(), byRate: { classes: null, regions: 0, sets: new Map() } }));
    this.cache = cache;
  }

  /** A version first seen after the start of the trace: we saw it being released. */
  isRelease(item: ItemHistory): boolean {
    return item.version !== '' && this.isReleaseHour(this.history.hourOf(item.firstTs));
  }

  /** A release seen happening at least two days ago: its curve says how adoption went (priors and class samples). */
  private isSettledRelease(item: ItemHistory): boolean {
    return this.isRelease(item) && this.nowHour - this.history.hourOf(item.firstTs) >= SETTLED_HOURS;
  }

  /** A version first seen at this hour is a release seen happening (see isRelease). */
  isReleaseHour(firstHour: number): boolean {
    return firstHour >= this.graceHours;
  }

  /** Per region curve for a young version (null for a region when nothing is known). */
  curvesFor(item: ItemHistory): (Float64Array | null)[] {
    return this.entryFor(item, null).set.curves;
  }

  /**
   * The cache entry of a young version's curves. `known`: its entry as read at an earlier decision, still the entry
   * while fresh (an entry is replaced or swept only once stale, and decisions only move forward).
   */
  entryFor(item: ItemHistory, known: ItemCurves | null): ItemCurves {
    if (known && this.nowHour - known.at < CURVE_REFRESH_HOURS) return known;
    const cached = this.cache.items.get(item.key);
    if (cached && this.nowHour - cached.at < CURVE_REFRESH_HOURS) return cached;
    const firstHour = this.history.hourOf(item.firstTs);
    // A module's versions are in the order first seen: the earlier releases come first, and the walk stops at the
    // first version seen in the release's hour or in the last two days (neither earlier nor settled, nor any after it).
    const priors: ItemHistory[] = [];
    const before = Math.min(firstHour, this.nowHour - SETTLED_HOURS + 1);
    for (const p of this.history.byModule.get(item.module) ?? []) {
      if (this.history.hourOf(p.firstTs) >= before) break;
      if (this.isSettledRelease(p)) priors.push(p);
    }
    const priorCurves = priors.map((p) => this.priorCurvesOf(p));
    const classes = this.classCurves();
    const rate = this.moduleRate(item.module);
    const byRate = this.cache.byRate;
    if (byRate.classes !== classes || byRate.regions !== this.regions.length) this.cache.byRate = { classes, regions: this.regions.length, sets: new Map() };
    let set = priors.length === 0 ? this.cache.byRate.sets.get(rate) : undefined;
    if (!set) {
      set = { curves: adoptionCurves(priorCurves, classes, rate, this.regions.length), ranges: null };
      if (priors.length === 0) this.cache.byRate.sets.set(rate, set);
    }
    const entry = { at: this.nowHour, set };
    this.cache.items.set(item.key, entry);
    return entry;
  }

  /** Similar-popularity curves, rebuilt once a day (and the per-item cache swept of releases grown old). */
  private classCurves(): Map<number, (Float64Array | null)[]> {
    const c = this.cache;
    if (!c.classes || this.nowHour - c.classesAt >= CURVE_REFRESH_HOURS) {
      c.classes = this.similarPopularityCurves();
      c.classesAt = this.nowHour;
      for (const [key, e] of c.items) if (this.nowHour - e.at >= CURVE_REFRESH_HOURS) c.items.delete(key);
    }
    return c.classes;
  }

  /** Fetches per hour of a module (all versions) over the last week. */
  private moduleRate(module: string): number {
    let rate = this.rates.get(module);
    if (rate === undefined) {
      // Whole counts: the fleet's points sum what the nodes' would, in any order.
      let s = 0;
      for (const v of this.history.byModule.get(module) ?? []) s += v.fleet.sum(this.nowHour - WEEK_HOURS, this.nowHour);
      rate = s / WEEK_HOURS;
      this.rates.set(module, rate);
    }
    return rate;
  }

  /** curvesOf an earlier release of a module, which every young version of the module asks for. */
  private priorCurvesOf(item: ItemHistory): Float64Array[] {
    let curves = this.priorCurves.get(item);
    if (!curves) {
      curves = this.curvesOf(item);
      this.priorCurves.set(item, curves);
    }
    return curves;
  }

  /** Level curves of a release per region (see releaseLevelCurve). */
  private curvesOf(item: ItemHistory): Float64Array[] {
    const levels = new Float64Array(this.regions.length * SEGMENT_COUNT);
    const fetched = this.levelsOf(item, levels);
    return this.regions.map((_, r) => (fetched[r] ? curveOfLevels(levels, r * SEGMENT_COUNT) : NEVER_FETCHED));
  }

  /**
   * The segment levels of a release per region (see segmentLevels) into `levels`, and per region whether a node of
   * it fetched the release. Its fetches in each segment are summed straight from the points: whole counts, which
   * sum the same in any order.
   */
  private levelsOf(item: ItemHistory, levels: Float64Array): boolean[] {
    const first = this.history.hourOf(item.firstTs);
    const lived = Math.min(RELEASE_CURVE_HOURS, Math.max(0, this.nowHour - first));
    const demands = new Float64Array(levels.length);
    const fetched = this.regions.map(() => false);
    const firstRegion = this.regionOf(item.firstNode);
    let firstHourHere = 0;
    for (const [node, points] of item.nodes) {
      const r = this.regionOf(node);
      if (r === undefined) continue;
      fetched[r] = true;
      for (let i = 0; i < points.length; i++) {
        const a = points.hourAt(i) - first;
        if (a >= lived) break;
        if (a < 0) continue;
        const d = r * SEGMENT_COUNT + SEGMENT_OF_HOUR[a]!;
        const count = points.countAt(i);
        demands[d] = demands[d]! + count;
        if (a === 0 && r === firstRegion) firstHourHere += count;
      }
    }
    // The very first fetch made the release time, in its first hour (see releaseLevelCurve).
    if (firstHourHere > 0) demands[firstRegion! * SEGMENT_COUNT] = demands[firstRegion! * SEGMENT_COUNT]! - 1;
    const exposures = this.exposuresFrom(first);
    for (let r = 0; r < this.regions.length; r++) segmentLevels(demands, exposures[r]!, lived, levels, r * SEGMENT_COUNT);
    return fetched;
  }

  private regionOf(node: string): number | undefined {
    if (!this.nodeRegions) {
      const index = new Map(this.regions.map((region, r) => [region, r]));
      this.nodeRegions = new Map([...this.history.nodeRegion].map(([n, region]) => [n, index.get(region)!]));
    }
    return this.nodeRegions.get(node);
  }

  /** Per region the exposure of each curve segment of a release first seen at `first`, shared by all such releases. */
  private exposuresFrom(first: number): Float64Array[] {
    let known = this.exposures.get(first);
    if (!known) {
      known = this.grids.map((grid) =>
        // Hours before the grid (an old release) count with mean exposure.
        segmentExposures(this.nowHour - first, (a) => {
          const i = first + a - this.gridStartHour;
          return i >= 0 && i < grid.how.length ? grid.shape[grid.how[i]!]! : 1;
        }),
      );
      this.exposures.set(first, known);
    }
    return known;
  }

  /**
   * The class curves (see ClassCurveSums) of every release seen happening and at least two days old: the
   * similar-popularity samples.
   */
  private similarPopularityCurves(): Map<number, (Float64Array | null)[]> {
    const sums = new ClassCurveSums(this.regions.length);
    const levels = new Float64Array(this.regions.length * SEGMENT_COUNT);
    for (const [module, versions] of this.history.byModule) {
      const moduleRate = this.moduleRate(module);
      if (!(moduleRate > 0)) continue;
      for (const v of versions) {
        if (!this.isSettledRelease(v)) continue;
        this.levelsOf(v, levels);
        sums.add(moduleRate, levels);
      }
    }
    return sums.curves();
  }
}
