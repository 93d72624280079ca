/**
 * Replays a time-ordered request trace through per-node caches and lets warm-up methods decide along the way.
 *
 * At each decision (every N minutes, or N minutes before each region's business hours) every method ranks, per
 * node, what it would warm, seeing only the past. When the decision's window has passed, each ranking is cut to
 * every budget and scored against the no-warm-up cache (metrics.ts), next to the oracle's choice (oracle.ts).
 *
 * Input is any iterator of requests in time order (the demo generator, a CSV trace, the store), consumed once:
 * memory holds the history methods may look at and the open windows, never the trace.
 */
import { HOUR_MS, MINUTE_MS, defaultCalendar, nextBusinessBlock, type RegionCalendar } from '../calendar.js';
import type { RequestKind } from '../event.js';
import { floorToHour } from '../windows.js';
import { NodeCache, isCacheableKind, isMutableKind } from './cache-sim.js';
import { TraceHistory } from './history.js';
import { MetricsAccumulator, selectWarmSet, type MethodMetrics } from './metrics.js';
import type { Budget, BudgetKind, Decision, DecisionContext, WarmupMethod } from './method.js';
import { REACHABLE_ORACLE, oracleRanking, type WindowOutcome } from './oracle.js';

export interface TraceRequest {
  ts: number;
  module: string;
  version: string;
  node: string;
  bytes: number;
  kind: RequestKind;
  /** When the source knows it (the generator, the store); else options.regionOf decides. */
  region?: string;
}

/** Requests in batches, in time order: a file reader hands over a chunk's requests at once (no await per request). */
export interface TraceBatches {
  readonly batches: AsyncIterable<readonly TraceRequest[]> | Iterable<readonly TraceRequest[]>;
}

/** What a backtest replays: requests one at a time (a generator, the store) or in batches. */
export type TraceSource = AsyncIterable<TraceRequest> | Iterable<TraceRequest> | TraceBatches;

function isBatches(source: TraceSource): source is TraceBatches {
  return 'batches' in source;
}

export type Cadence = { kind: 'interval'; minutes: number } | { kind: 'business'; leadMinutes: number };

export interface BacktestOptions {
  methods: WarmupMethod[];
  budgets: Budget[];
  cadence: Cadence;
  /** Trace time before the first decision: history to learn from. */
  warmupHours: number;
  /** Calendars of the regions (time zone, business hours, holidays). */
  calendars: RegionCalendar[];
  /** Region of a node when the request does not say; default 'default'. */
  regionOf?: (node: string) => string | undefined;
  /** Cache capacity per node in bytes (Infinity: nothing is evicted). */
  capacityBytes: number;
  /** Time a list/@latest answer stays fresh in a proxy's cache. */
  mutableTtlMinutes: number;
  /** Size of an item whose responses carried no byte count. */
  defaultBytes: number;
  /** Hours of history kept for methods (older hourly points are dropped). */
  historyHours: number;
  /** Requests out of order by more than this are an error (a merged log is rarely perfectly sorted). */
  disorderToleranceMs: number;
  /**
   * Windows starting before this time are decided (methods learn from them) but not judged: runs with different
   * warm-up histories can then be compared on the very same decisions.
   */
  judgeFrom?: number;
  onProgress?: (p: { requests: number; decisions: number; at: number }) => void;
  /** Sees every judged warm set (diagnostics, tests). */
  onJudge?: (j: { method: string; budget: Budget; outcome: WindowOutcome; warmSet: readonly string[] }) => void;
}

export const DEFAULT_BACKTEST: Omit<BacktestOptions, 'methods'> = {
  budgets: [
    { kind: 'items', value: 5 },
    { kind: 'items', value: 20 },
    { kind: 'items', value: 100 },
  ],
  cadence: { kind: 'interval', minutes: 60 },
  warmupHours: 7 * 24,
  calendars: [],
  capacityBytes: Number.POSITIVE_INFINITY,
  mutableTtlMinutes: 10,
  defaultBytes: 64 * 1024,
  historyHours: 4 * 7 * 24 + 24,
  disorderToleranceMs: 60_000,
};

export interface BacktestReport {
  rows: MethodMetrics[];
  requests: number;
  /** Requests ignored: kinds outside the module cache (sumdb, other). */
  skipped: number;
  /** Requests inside judged windows. */
  judgedRequests: number;
  /** Requests of mutable items (list, @latest; versionless trace rows): fresh only for the TTL once fetched. */
  mutableRequests: number;
  decisions: number;
  /** Decisions during the warm-up (business cadence, see LEARNING_FROM_HOURS) at which methods that learn recorded their choice. */
  learningDecisions: number;
  windows: number;
  firstTs: number | null;
  lastTs: number | null;
  nodes: string[];
  regions: string[];
  methods: string[];
  budgets: Budget[];
  cadence: Cadence;
  capacityBytes: number | null;
  mutableTtlMinutes: number;
  warmupHours: number;
}

/** A trace that ends before any decision window could be judged: nothing to compare, so no table at all. */
export class TraceTooShortError extends Error {
  constructor(readonly firstTs: number | null, readonly lastTs: number | null, readonly warmupHours: number) {
    const span = firstTs !== null && lastTs !== null ? `${((lastTs - firstTs) / HOUR_MS).toFixed(1)} h` : 'no cacheable requests';
    super(`the trace spans ${span}, but the first decision comes ${warmupHours} h after its start and its window must end inside the trace: use a longer trace or a smaller --warmup-hours`);
  }
}

export class TraceOrderError extends Error {
  constructor(readonly index: number, readonly ts: number, readonly previous: number) {
    super(`request ${index} at ${new Date(ts).toISOString()} is earlier than ${new Date(previous).toISOString()}: the trace must be in time order`);
  }
}

interface OpenWindow {
  outcome: WindowOutcome;
  /** Per method and budget (budgetKey), the ranking the budget warms a prefix of. */
  rankings: Map<string, Map<string, string[]>>;
}

/**
 * Hours of history before the first learning decision, before business blocks. A method that chooses by how its own
 * past decisions turned out (the ranker pool) would otherwise meet its first judged decision with no evidence, and a
 * region gets one such decision a workday: the first judged week would be decided by the pool's order (on the demo,
 * that first day cost 13 % of modcast's misses avoided at 100 items). Learning decisions run through the rest of the
 * warm-up, so runs with different --warmup-hours make the same decisions from a day on and differ only in what is
 * judged.
 *
 * Interval cadences do not learn during the warm-up: they gather a day of evidence in their first judged day, and
 * evidence from decisions made on a day or two of history is biased against the contenders with long memories
 * (learning from hour 24 cost 3 % in the geometric mean over the hourly real-trace rows, docs/forecasting.md).
 */
export const LEARNING_FROM_HOURS = 24;

function learningFromHours(o: BacktestOptions): number {
  return o.cadence.kind === 'business' ? Math.min(o.warmupHours, LEARNING_FROM_HOURS) : o.warmupHours;
}

const budgetKey = (b: Budget): string => `${b.kind}:${b.value}`;

/** When the next decisions happen: every N minutes, or before each region's business block. */
class DecisionSchedule {
  private nextInterval: number;
  private readonly nextBlock = new Map<string, Decision | null>();

  constructor(
    private readonly cadence: Cadence,
    private readonly firstAt: number,
    private readonly calendars: Map<string, RegionCalendar>,
  ) {
    this.nextInterval = firstAt;
  }

  /** The earliest pending decision at or before `t`, or null. `nodesOf(region?)` names the nodes known now. */
  take(t: number, regionsNow: () => Iterable<string>, nodesOf: (region?: string) => string[]): Decision | null {
    if (this.cadence.kind === 'interval') {
      if (this.nextInterval > t) return null;
      const at = this.nextInterval;
      this.nextInterval += this.cadence.minutes * MINUTE_MS;
      return { at, windowEnd: this.nextInterval, nodes: nodesOf() };
    }
    const lead = this.cadence.leadMinutes * MINUTE_MS;
    let best: { region: string; d: Decision } | null = null;
    for (const region of regionsNow()) {
      if (!this.nextBlock.has(region)) this.nextBlock.set(region, this.blockAfter(region, this.firstAt + lead));
      const d = this.nextBlock.get(region);
      if (d && d.at <= t && (!best || d.at < best.d.at || (d.at === best.d.at && region < best.region))) best = { region, d };
    }
    if (!best) return null;
    this.nextBlock.set(best.region, this.blockAfter(best.region, best.d.windowEnd));
    return { ...best.d, nodes: nodesOf(best.region) };
  }

  private blockAfter(region: string, after: number): Decision | null {
    if (this.cadence.kind !== 'business') return null;
    // A region nobody described works 09:00-18:00 UTC on weekdays (the same default scoring uses).
    const cal = this.calendars.get(region) ?? defaultCalendar(region);
    const b = nextBusinessBlock(cal, after);
    return b ? { at: b.start - this.cadence.leadMinutes * MINUTE_MS, windowEnd: b.end, nodes: [] } : null;
  }
}

export async function runBacktest(source: TraceSource, options: BacktestOptions): Promise<BacktestReport> {
  const o = options;
  const ttlMs = o.mutableTtlMinutes * MINUTE_MS;
  const unbounded = !Number.isFinite(o.capacityBytes);
  const calendars = new Map(o.calendars.map((c) => [c.name, c]));
  const metrics = new MetricsAccumulator(o.budgets, ttlMs);
  const caches = new Map<string, NodeCache>();
  const nodeRegion = new Map<string, string>();
  const open = new Map<string, OpenWindow[]>();
  /**
   * Keys without a version asked for as a version (.info/.mod/.zip with an empty version column): the cache keeps
   * them like versions, not for the TTL (see holds).
   */
  const versionlessImmutable = new Set<string>();
  const budgetKinds = [...new Set(o.budgets.map((b) => b.kind))];
  const rankLimit = new Map<BudgetKind, number>([
    ['items', Math.max(0, ...o.budgets.filter((b) => b.kind === 'items').map((b) => b.value))],
    ['bytes', 5000],
  ]);

  let history: TraceHistory | null = null;
  let schedule: DecisionSchedule | null = null;
  let requests = 0;
  let skipped = 0;
  let judged = 0;
  let mutableRequests = 0;
  let decisions = 0;
  let learningDecisions = 0;
  /** Decisions before this are learning decisions (see learn). */
  let firstJudgedAt = Infinity;
  let windows = 0;
  let firstTs: number | null = null;
  let lastTs = -Infinity;
  let lastPrune = 0;
  /** The earliest end of an open window: until then a request closes nothing (the common case, checked first). */
  let nextEnd = Infinity;

  const nodesOf = (region?: string): string[] => [...nodeRegion.entries()].filter(([, r]) => region === undefined || r === region).map(([n]) => n).sort();
  const regionsNow = (): Set<string> => new Set(nodeRegion.values());
  const sizeOf = (key: string): number => history!.sizeOf(history!.items.get(key));

  const contextFor = (d: Decision, kind: BudgetKind): DecisionContext => ({
    decision: d,
    history: history!,
    regionOf: (node) => nodeRegion.get(node) ?? 'default',
    calendars,
    isCached: (node, key) => caches.get(node)?.isFresh(key, d.at) ?? false,
    // A node holds only what it fetched, and an unbounded cache keeps every version it fetched (a key with a
    // version is never a list/@latest answer, which alone expire).
    holds: (node, item) => {
      const series = item.nodes.get(node);
      if (series === undefined) return false;
      if (unbounded && item.version !== '') return true;
      // A list/@latest answer is stored at a request and expires the TTL after it: none requested within the TTL
      // (the node's last request of it) means none fresh, without a look-up in the cache (most are long expired).
      if (item.version === '' && series.lastTs + ttlMs <= d.at && !versionlessImmutable.has(item.key)) return false;
      return caches.get(node)?.isFresh(item.key, d.at) ?? false;
    },
    keepsVersions: unbounded,
    mutableTtlMs: ttlMs,
    rankLimit: rankLimit.get(kind)!,
    budgetKind: kind,
    beforeBlocks: o.cadence.kind === 'business',
    methods: o.methods,
  });

  /** A decision before the warm-up ends: the methods that learn from their own decisions record one; nothing is judged. */
  const learn = (d: Decision): void => {
    learningDecisions++;
    for (const kind of budgetKinds) {
      const ctx = contextFor(d, kind);
      for (const m of o.methods) m.learn?.(ctx);
    }
  };

  const decide = (d: Decision): void => {
    if (d.at < firstJudgedAt) return learn(d);
    decisions++;
    const rankings = new Map<string, Map<string, string[]>>();
    const keep = (m: WarmupMethod, budgets: readonly Budget[], perNode: Map<string, string[]>): void => {
      for (const node of d.nodes) {
        let byBudget = rankings.get(`${m.name}\u0000${node}`);
        if (!byBudget) rankings.set(`${m.name}\u0000${node}`, (byBudget = new Map()));
        for (const b of budgets) byBudget.set(budgetKey(b), perNode.get(node) ?? []);
      }
    };
    for (const kind of budgetKinds) {
      const ctx = contextFor(d, kind);
      const budgets = o.budgets.filter((b) => b.kind === kind);
      for (const m of o.methods) {
        if (m.rankForBudget) for (const b of budgets) keep(m, [b], m.rankForBudget(ctx, b.value));
        else keep(m, budgets, m.rank(ctx));
      }
    }
    for (const node of d.nodes) {
      const perMethod = new Map<string, Map<string, string[]>>();
      for (const m of o.methods) perMethod.set(m.name, rankings.get(`${m.name}\u0000${node}`) ?? new Map());
      const w: OpenWindow = {
        outcome: { node, region: nodeRegion.get(node) ?? 'default', start: d.at, end: d.windowEnd, first: new Map(), requests: 0, misses: 0, missBytes: 0, bytes: 0 },
        rankings: perMethod,
      };
      const list = open.get(node);
      if (list) list.push(w);
      else open.set(node, [w]);
      nextEnd = Math.min(nextEnd, w.outcome.end);
    }
    o.onProgress?.({ requests, decisions, at: d.at });
  };

  const judge = (w: OpenWindow): void => {
    if (o.judgeFrom !== undefined && w.outcome.start < o.judgeFrom) return;
    windows++;
    judged += w.outcome.requests;
    for (const budget of o.budgets) {
      const sets: [string, string[]][] = o.methods.map((m) => [m.name, selectWarmSet(w.rankings.get(m.name)?.get(budgetKey(budget)) ?? [], budget, sizeOf)]);
      sets.push(['oracle', selectWarmSet(oracleRanking(w.outcome, ttlMs, budget.kind, sizeOf), budget, sizeOf)]);
      sets.push([REACHABLE_ORACLE, selectWarmSet(oracleRanking(w.outcome, ttlMs, budget.kind, sizeOf, true), budget, sizeOf)]);
      for (const [method, warmSet] of sets) {
        metrics.add(method, budget, w.outcome, warmSet, sizeOf);
        o.onJudge?.({ method, budget, outcome: w.outcome, warmSet });
      }
    }
  };

  const closeUntil = (t: number): void => {
    if (t < nextEnd) return;
    nextEnd = Infinity;
    for (const [node, list] of open) {
      const keep: OpenWindow[] = [];
      for (const w of list) {
        if (w.outcome.end <= t) judge(w);
        else {
          keep.push(w);
          nextEnd = Math.min(nextEnd, w.outcome.end);
        }
      }
      open.set(node, keep);
    }
  };

  const replay = (req: TraceRequest): void => {
    requests++;
    if (firstTs === null) {
      firstTs = req.ts;
      const origin = floorToHour(req.ts);
      history = new TraceHistory(origin, o.defaultBytes);
      firstJudgedAt = origin + o.warmupHours * HOUR_MS;
      schedule = new DecisionSchedule(o.cadence, origin + learningFromHours(o) * HOUR_MS, calendars);
    }
    if (req.ts < lastTs - o.disorderToleranceMs) throw new TraceOrderError(requests, req.ts, lastTs);
    const ts = Math.max(req.ts, lastTs);
    lastTs = ts;
    const region = req.region ?? o.regionOf?.(req.node) ?? nodeRegion.get(req.node) ?? 'default';
    if (!nodeRegion.has(req.node)) {
      nodeRegion.set(req.node, region);
      caches.set(req.node, new NodeCache(o.capacityBytes, ttlMs));
    }
    if (!isCacheableKind(req.kind)) {
      skipped++;
      return;
    }
    closeUntil(ts);
    for (let d = schedule!.take(ts, regionsNow, nodesOf); d; d = schedule!.take(ts, regionsNow, nodesOf)) decide(d);

    const mutable = isMutableKind(req.kind);
    if (mutable) mutableRequests++;
    const bytes = req.bytes > 0 ? req.bytes : o.defaultBytes;
    // Added first: a window asks whether the item was known before it began (an item first seen now was not). The
    // cache and the windows keep the history's own key (see TraceHistory.add), not one cut from the input.
    const item = history!.add(ts, req.module, req.version, req.kind, req.node, nodeRegion.get(req.node)!, req.bytes);
    if (!mutable && req.version === '') versionlessImmutable.add(item.key);
    const { hit } = caches.get(req.node)!.request(item.key, mutable, bytes, ts);
    for (const w of open.get(req.node) ?? []) {
      const out = w.outcome;
      if (ts < out.start || ts >= out.end) continue;
      out.requests++;
      out.bytes += bytes;
      if (!hit) {
        out.misses++;
        out.missBytes += bytes;
      }
      if (!out.first.has(item.key)) out.first.set(item.key, { ts, bytes, miss: !hit, mutable, known: item.firstTs < out.start });
    }

    const hour = history!.hourOf(ts);
    if (hour - lastPrune >= 24) {
      history!.prune(hour - o.historyHours);
      lastPrune = hour;
    }
  };

  if (isBatches(source)) {
    for await (const batch of source.batches) for (const req of batch) replay(req);
  } else for await (const req of source) replay(req);
  if (Number.isFinite(lastTs)) closeUntil(lastTs + 1);
  if (windows === 0) throw new TraceTooShortError(firstTs, Number.isFinite(lastTs) ? lastTs : null, o.warmupHours);

  return {
    rows: metrics.finish(),
    requests,
    skipped,
    judgedRequests: judged,
    mutableRequests,
    decisions,
    learningDecisions,
    windows,
    firstTs,
    lastTs: Number.isFinite(lastTs) ? lastTs : null,
    nodes: nodesOf(),
    regions: [...new Set(nodeRegion.values())].sort(),
    methods: [...o.methods.map((m) => m.name), 'oracle', REACHABLE_ORACLE],
    budgets: o.budgets,
    cadence: o.cadence,
    capacityBytes: Number.isFinite(o.capacityBytes) ? o.capacityBytes : null,
    mutableTtlMinutes: o.mutableTtlMinutes,
    warmupHours: o.warmupHours,
  };
}
