/**
 * The ranker pool: simple, fast ways to say "what will be asked for next", each right on some traffic and wrong on
 * other traffic. Real request logs disagree on how much memory pays: some reward the last hour, some the same hour
 * last week, some a day of history. Rather than one model with fixed constants, modcast keeps a pool and lets each
 * scope's recent decisions choose (see OnlineSelector): what worked over the last decisions, using only the past.
 *
 * Every ranker is a function of a few features of an item at a decision, computed from exact request times
 * (decayed counts) and hourly counts (windows). Scores are comparable within a ranker, not across rankers; the
 * selector compares rankers by the hits their top-K lists realised, never by their scores.
 */

import { HOUR_MS } from '../calendar.js';

/** Half-lives of the decayed counts, in hours: from "the last half hour" to "the last week". */
export const HALF_LIVES_HOURS = [0.5, 2, 6, 24, 72, 168] as const;
const H = HALF_LIVES_HOURS.length;

/** Feature vector layout: decayed counts per half-life, then window counts. */
export const F_LAST24 = H;
export const F_YESTERDAY = H + 1;
export const F_LAST_WEEK = H + 2;
/** Hours with at least one fetch in the last 24 hours and the last week: demand that recurs, whatever its volume. */
export const F_ACTIVE_DAY = H + 3;
export const F_ACTIVE_WEEK = H + 4;
export const FEATURES = H + 5;

const LN2 = Math.LN2;
/** Multiplier per elapsed ms of each half-life: value × exp(-dt × rate). */
const DECAY_RATES_PER_MS = Float64Array.from(HALF_LIVES_HOURS, (h) => LN2 / (h * HOUR_MS));

/** Length of a DecayedCounts row: the H values, then the time they are at. */
export const DECAYED_ROW = H + 1;

/**
 * Exponentially decayed request counts at several half-lives, kept exact at every request: add() at time t decays
 * the values to t and adds 1, addValuesAt() decays to a later time without changing anything. The row may sit inside a
 * larger array (the backtest packs the rows of every item and node series together, see TraceHistory): hundreds of
 * thousands of small arrays would each cost an object and a buffer beside their 56 bytes.
 */
export class DecayedCounts {
  constructor(
    /** From `row`: [0, H) the values, [H] the time they are at (-Infinity before the first count). */
    readonly values: Float64Array = new Float64Array(DECAYED_ROW),
    readonly row = 0,
  ) {
    values[row + H] = -Infinity;
  }

  get at(): number {
    return this.values[this.row + H]!;
  }

  add(t: number, count = 1): void {
    const v = this.values;
    const o = this.row;
    const at = v[o + H]!;
    if (at !== -Infinity && t > at) {
      const dt = t - at;
      for (let k = 0; k < H; k++) v[o + k] = v[o + k]! * Math.exp(-dt * DECAY_RATES_PER_MS[k]!);
    }
    for (let k = 0; k < H; k++) v[o + k] = v[o + k]! + count;
    if (t > at) v[o + H] = t;
  }

  /** Adds the values decayed to time t into out[offset, offset + H). */
  addValuesAt(t: number, out: Float64Array, offset = 0): void {
    addDecayedRowAt(this.values, this.row, t, out, offset);
  }
}

/** Adds the values of the DecayedCounts row at row[o, o + DECAYED_ROW), decayed to time t, into out[offset, offset + H). */
export function addDecayedRowAt(row: Float64Array, o: number, t: number, out: Float64Array, offset: number): void {
  const at = row[o + H]!;
  if (at === -Infinity) return;
  const dt = Math.max(0, t - at);
  for (let k = 0; k < H; k++) out[offset + k] = out[offset + k]! + row[o + k]! * Math.exp(-dt * DECAY_RATES_PER_MS[k]!);
}

/**
 * Adds a count of `ago` hours back (1 = the last whole hour) to the window features: last 24 h, the same window
 * yesterday and last week (w hours long), and the active-hour counts (`active`: the series active in that hour, e.g.
 * a fleet's nodes that fetched in it; one for one series).
 */
export function addWindowCount(out: Float64Array, o: number, ago: number, c: number, w: number, active = 1): void {
  if (ago > 168 || c === 0) return;
  out[o + F_ACTIVE_WEEK] = out[o + F_ACTIVE_WEEK]! + active;
  if (ago > 168 - w) out[o + F_LAST_WEEK] = out[o + F_LAST_WEEK]! + c;
  if (ago > 24) return;
  out[o + F_LAST24] = out[o + F_LAST24]! + c;
  out[o + F_ACTIVE_DAY] = out[o + F_ACTIVE_DAY]! + active;
  if (ago > 24 - w) out[o + F_YESTERDAY] = out[o + F_YESTERDAY]! + c;
}

/** Sparse hourly counts with running totals (the backtest's PointList): index look-ups and sums over index ranges. */
export interface HourlyTotals {
  /** Index of the first point at or after `hour`, searched in [lo, hi). */
  indexOf(hour: number, lo?: number, hi?: number): number;
  /** Σ counts of the points with index in [i, j). */
  between(i: number, j: number): number;
}

/**
 * The window features from sparse hourly points before hour h (w ≤ 24): each window a difference of running totals,
 * each active-hour count a difference of indices (a point is an hour with at least one fetch).
 */
export function windowFeatures(points: HourlyTotals, h: number, w: number, out: Float64Array, o: number): void {
  const end = points.indexOf(h);
  const week = points.indexOf(h - 168, 0, end);
  if (week === end) return;
  const day = points.indexOf(h - 24, week, end);
  out[o + F_ACTIVE_WEEK] = out[o + F_ACTIVE_WEEK]! + (end - week);
  out[o + F_LAST_WEEK] = out[o + F_LAST_WEEK]! + points.between(week, points.indexOf(h - 168 + w, week, day));
  if (day === end) return;
  out[o + F_LAST24] = out[o + F_LAST24]! + points.between(day, end);
  out[o + F_ACTIVE_DAY] = out[o + F_ACTIVE_DAY]! + (end - day);
  out[o + F_YESTERDAY] = out[o + F_YESTERDAY]! + points.between(day, points.indexOf(h - 24 + w, day, end));
}

/** Decay multipliers per whole hour of age (an hourly bucket counts at its middle), per half-life. */
const hourlyDecay = HALF_LIVES_HOURS.map((h) => Float64Array.from({ length: 24 * 14 + 1 }, (_, age) => Math.pow(2, -(age + 0.5) / h)));

/**
 * Features at hour index n from a dense hourly series (the store's hourly rollups): decayed counts with each bucket
 * at its middle, and the window features. The backtest has exact fetch times and uses DecayedCounts instead.
 */
export function featuresFromHourly(values: ArrayLike<number>, n: number, windowHours: number, out: Float64Array): void {
  out.fill(0);
  const oldest = Math.max(0, n - (hourlyDecay[0]!.length - 1));
  for (let i = n - 1; i >= oldest; i--) {
    const c = values[i]!;
    if (c === 0) continue;
    const age = n - 1 - i;
    for (let k = 0; k < H; k++) out[k] = out[k]! + c * hourlyDecay[k]![age]!;
    addWindowCount(out, 0, n - i, c, windowHours);
  }
}

export interface Ranker {
  /** Stable name, shown in reports and stored in predictions.model. */
  name: string;
  /** Score from the feature vector at `offset`; window is the decision window in hours (≥ 1). */
  score(f: Float64Array, offset: number, windowHours: number): number;
  /** Expected requests in the window implied by the score (a rate times the window), before calibration. */
  expected(f: Float64Array, offset: number, windowHours: number): number;
  /** The one feature the score is, when it is one (a hot loop reads it instead of calling score). */
  feature?: number;
}

/** Requests per hour implied by a decayed count: Σ e^{-λ age} ≈ rate / λ. */
function rateOf(f: Float64Array, offset: number, k: number): number {
  return (f[offset + k]! * LN2) / HALF_LIVES_HOURS[k]!;
}

function decayRanker(k: number): Ranker {
  return {
    name: `decay-${HALF_LIVES_HOURS[k]}h`,
    feature: k,
    score: (f, o) => f[o + k]!,
    expected: (f, o, w) => rateOf(f, o, k) * w,
  };
}

function windowRanker(name: string, feature: number, hours: (w: number) => number): Ranker {
  return {
    name,
    feature,
    score: (f, o) => f[o + feature]!,
    expected: (f, o, w) => (f[o + feature]! / Math.max(1, hours(w))) * w,
  };
}

const K6 = HALF_LIVES_HOURS.indexOf(6);
const K24 = HALF_LIVES_HOURS.indexOf(24);

/**
 * The pool, in tie-break order: with no evidence (or none that tells contenders apart) the first one leads, and it is
 * the strongest naive baseline itself, so modcast only leaves "yesterday's top items" when its own past decisions
 * show something better.
 */
export const RANKERS: readonly Ranker[] = [
  windowRanker('last-24h', F_LAST24, () => 24),
  ...HALF_LIVES_HOURS.map((_, k) => decayRanker(k)),
  windowRanker('same-window-yesterday', F_YESTERDAY, (w) => w),
  windowRanker('same-window-last-week', F_LAST_WEEK, (w) => w),
  windowRanker('active-hours-24h', F_ACTIVE_DAY, () => 24),
  windowRanker('active-hours-week', F_ACTIVE_WEEK, () => 168),
  blend('recent+last-week', [[K6, 0.5]], [[F_LAST_WEEK, 0.5]]),
  blend('day+yesterday+last-week', [[K24, 1 / 3]], [[F_YESTERDAY, 1 / 3], [F_LAST_WEEK, 1 / 3]]),
];

/** Weighted mean of hourly rates from decayed counts and same-length windows. */
function blend(name: string, decays: [number, number][], windows: [number, number][]): Ranker {
  // Flat arrays and indexed loops: the ranker pool scores hundreds of thousands of items per decision.
  const decayIndices = Int32Array.from(decays, ([k]) => k);
  const decayWeights = Float64Array.from(decays, ([, weight]) => weight);
  const windowIndices = Int32Array.from(windows, ([feature]) => feature);
  const windowWeights = Float64Array.from(windows, ([, weight]) => weight);
  const rate = (f: Float64Array, o: number, w: number): number => {
    let r = 0;
    for (let i = 0; i < decayIndices.length; i++) r += decayWeights[i]! * rateOf(f, o, decayIndices[i]!);
    for (let i = 0; i < windowIndices.length; i++) r += (windowWeights[i]! * f[o + windowIndices[i]!]!) / Math.max(1, w);
    return r;
  };
  return { name: `blend:${name}`, score: rate, expected: (f, o, w) => rate(f, o, w) * w };
}

/** Bounded best-first selection: higher score first, equal scores in key order (deterministic runs). */
export class TopK {
  private readonly scores: Float64Array;
  private readonly keys: string[] = [];
  /** A number carried with each key (e.g. its expected count). */
  private readonly payloads: number[] = [];
  private n = 0;

  constructor(private readonly k: number) {
    this.scores = new Float64Array(Math.max(1, k));
  }

  /** What an offer has to reach to be kept: 0 until the list is full (any positive score is kept), then the worst kept. */
  get floor(): number {
    return this.n < this.k ? 0 : this.scores[0]!;
  }

  reset(): void {
    this.n = 0;
    this.keys.length = 0;
    this.payloads.length = 0;
  }

  /** a ranks after b (worse). */
  private worse(sa: number, ka: string, sb: number, kb: string): boolean {
    return sa < sb || (sa === sb && ka > kb);
  }

  offer(score: number, key: string, payload = 0): void {
    if (this.k <= 0 || !(score > 0)) return;
    if (this.n < this.k) {
      // sift up a min-heap (the root is the worst kept)
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(score, key, this.scores[p]!, this.keys[p]!)) break;
        this.scores[i] = this.scores[p]!;
        this.keys[i] = this.keys[p]!;
        this.payloads[i] = this.payloads[p]!;
        i = p;
      }
      this.scores[i] = score;
      this.keys[i] = key;
      this.payloads[i] = payload;
      return;
    }
    if (!this.worse(this.scores[0]!, this.keys[0]!, score, key)) return;
    // replace the root and sift down
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const c = r < this.n && this.worse(this.scores[r]!, this.keys[r]!, this.scores[l]!, this.keys[l]!) ? r : l;
      if (!this.worse(this.scores[c]!, this.keys[c]!, score, key)) break;
      this.scores[i] = this.scores[c]!;
      this.keys[i] = this.keys[c]!;
      this.payloads[i] = this.payloads[c]!;
      i = c;
    }
    this.scores[i] = score;
    this.keys[i] = key;
    this.payloads[i] = payload;
  }

  /** Keys best first. */
  sorted(): string[] {
    return this.order().map((i) => this.keys[i]!);
  }

  /** Keys with their payloads, best first. */
  entries(): { key: string; payload: number }[] {
    return this.order().map((i) => ({ key: this.keys[i]!, payload: this.payloads[i]! }));
  }

  private order(): number[] {
    const idx = Array.from({ length: this.n }, (_, i) => i);
    idx.sort((a, b) => this.scores[b]! - this.scores[a]! || (this.keys[a]! < this.keys[b]! ? -1 : this.keys[a]! > this.keys[b]! ? 1 : 0));
    return idx;
  }
}

/**
 * Budgets at which the selector compares rankers: a ranking is read as a sequence of prefixes (a node warms the
 * first K), and the best ranker for 5 items is not always the best for 500.
 */
export function checkpoints(limit: number): number[] {
  const out: number[] = [];
  for (let m = 1; m <= limit; m *= 10) for (const x of [1, 2, 5]) if (x * m <= limit) out.push(x * m);
  if (out[out.length - 1] !== limit && limit > 0) out.push(limit);
  return out;
}

/** One past decision of one scope: each contender's ranking as it was, judged once its window has passed. */
interface PastDecision {
  at: number;
  windowEnd: number;
  lists: readonly (readonly string[])[];
}

/**
 * Chooses among contenders (rankers, or ranker × scope pairs) by realised hits over the judged decisions of a scope,
 * older decisions fading with a half-life of `halfLife` decisions. A decision is judged only after its window ended,
 * by a caller-given `wasUsed(key)` that sees what happened in that window: the choice at a decision never sees its
 * own future.
 *
 * A budget of K items warms the list of the best contender at the smallest checkpoint of at least K. Where one
 * ranking must serve every budget (PoolMethod.rank, for a caller that takes prefixes), the combined ranking takes,
 * for each checkpoint K, the items the best contender at K puts first: its top-K prefix is exactly the winner's at
 * the smallest budget, and larger budgets extend it with their own winners.
 *
 * Why fading rather than a window of the last N decisions: a burst leaving a hard window flips the choice at once,
 * and on bursty traffic the choice then chases noise. Why a checkpoint also counts the hits at every larger one: a
 * ranking's top 5 is the start of its top 20 and top 100, hits at small budgets are few (a handful a day on some
 * traffic), and the longer prefixes of the same ranking say much more about how well it orders items.
 */
const LONG_RUN_WEIGHT = 1e-7;
/** Judged decisions after which a decision's evidence weighs half: the backtest's pool and scoring's choice alike. */
export const SELECTOR_HALF_LIFE = 24;
/**
 * Weight of the order evidence (discounted hits, see judge): enough to decide between contenders whose hits are
 * level or nearly so, far too little to outvote one relative hit.
 */
const ORDER_WEIGHT = 1e-4;

export class OnlineSelector {
  private readonly pending: PastDecision[] = [];
  /** Faded evidence: per contender and checkpoint, relative hits at that checkpoint and every larger one. */
  private readonly totals: Float64Array;
  /** Faded like totals, of hits discounted by their rank (1 / log2(rank + 1)): how high a list put what was asked for. */
  private readonly order: Float64Array;
  /** Every judged decision at full weight, never forgotten: only breaks ties of the faded evidence (see scores). */
  private readonly longRun: Float64Array;
  /** What the choice compares: faded totals, plus the long run at a weight too small to outvote them. */
  private readonly scores: Float64Array;
  private readonly cps: number[];
  /** Per judged decision, the weight of everything judged before it. */
  private readonly fade: number;
  private judgedCount = 0;

  constructor(
    readonly contenders: number,
    readonly limit: number,
    /** Judged decisions after which a decision's evidence weighs half. */
    readonly halfLife = SELECTOR_HALF_LIFE,
  ) {
    this.cps = checkpoints(limit);
    this.totals = new Float64Array(contenders * this.cps.length);
    this.order = new Float64Array(contenders * this.cps.length);
    this.longRun = new Float64Array(contenders * this.cps.length);
    this.scores = new Float64Array(contenders * this.cps.length);
    this.fade = 0.5 ** (1 / halfLife);
  }

  get checkpoints(): readonly number[] {
    return this.cps;
  }

  /** Remembers the contenders' rankings at a decision for the window [at, windowEnd). */
  record(at: number, windowEnd: number, lists: readonly (readonly string[])[]): void {
    this.pending.push({ at, windowEnd, lists });
  }

  /** Judges every recorded decision whose window ended by `now`; wasUsed tells whether a key was asked for in it. */
  judge(now: number, wasUsed: (key: string, at: number, windowEnd: number) => boolean): void {
    const C = this.cps.length;
    for (let i = 0; i < this.pending.length; ) {
      const d = this.pending[i]!;
      if (d.windowEnd > now) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      const hits = new Float64Array(this.contenders * C);
      const ranked = new Float64Array(this.contenders * C);
      const seen = new Map<string, boolean>();
      for (let c = 0; c < this.contenders; c++) {
        const list = d.lists[c] ?? [];
        let h = 0;
        let r = 0;
        let j = 0;
        for (let pos = 0; pos < this.limit; pos++) {
          if (pos < list.length) {
            const key = list[pos]!;
            let used = seen.get(key);
            if (used === undefined) seen.set(key, (used = wasUsed(key, d.at, d.windowEnd)));
            if (used) {
              h++;
              r += 1 / Math.log2(pos + 2);
            }
          }
          while (j < C && this.cps[j] === pos + 1) {
            ranked[c * C + j] = r;
            hits[c * C + j++] = h;
          }
        }
      }
      // Each decision counts once: hits relative to the decision's best contender at each checkpoint. A burst in
      // which every list hits everything would otherwise outweigh a day of ordinary decisions.
      this.relativePooled(hits);
      this.relativePooled(ranked);
      this.judgedCount++;
      for (let x = 0; x < hits.length; x++) {
        this.totals[x] = this.totals[x]! * this.fade + hits[x]!;
        this.order[x] = this.order[x]! * this.fade + ranked[x]!;
        this.longRun[x] = this.longRun[x]! + hits[x]!;
      }
    }
    // Recent decisions weigh most. When contenders hit equally often (early on, lists that share their hits), the
    // one that ranked its hits higher leads; when nothing tells them apart (bursts hit every list alike, quiet hours
    // hit none), the whole history does, rather than a fixed order. Relative hits are at most one per checkpoint and
    // decision, so the two tie-breaks' weights keep them far below one recent hit.
    for (let x = 0; x < this.scores.length; x++) this.scores[x] = this.totals[x]! + ORDER_WEIGHT * this.order[x]! + LONG_RUN_WEIGHT * this.longRun[x]!;
  }

  /**
   * In place, per checkpoint: relative to the decision's best contender, then plus every larger checkpoint's (a
   * checkpoint counts the same lists' longer prefixes too, see the class comment).
   */
  private relativePooled(v: Float64Array): void {
    const C = this.cps.length;
    for (let j = 0; j < C; j++) {
      let best = 0;
      for (let c = 0; c < this.contenders; c++) best = Math.max(best, v[c * C + j]!);
      for (let c = 0; c < this.contenders; c++) v[c * C + j] = best > 0 ? v[c * C + j]! / best : 0;
    }
    for (let c = 0; c < this.contenders; c++) for (let j = C - 2; j >= 0; j--) v[c * C + j] = v[c * C + j]! + v[c * C + j + 1]!;
  }

  /** Decisions judged so far. */
  get evidence(): number {
    return this.judgedCount;
  }

  /**
   * Evidence pooled from several selectors with the same contenders and limit (e.g. every node of a region): the
   * choice is then made on all their decisions, which is steadier than one node's few.
   */
  static pooled(selectors: readonly OnlineSelector[]): Float64Array {
    const out = new Float64Array(selectors[0]?.scores.length ?? 0);
    for (const s of selectors) for (let x = 0; x < out.length; x++) out[x] = out[x]! + s.scores[x]!;
    return out;
  }

  /** The best contender at checkpoint j (ties: the earlier contender). */
  winnerAt(j: number, totals: Float64Array = this.scores): number {
    const C = this.cps.length;
    let best = 0;
    for (let c = 1; c < this.contenders; c++) if (totals[c * C + j]! > totals[best * C + j]! + 1e-9) best = c;
    return best;
  }

  /** The contender with the most hits summed over checkpoints, each relative to its budget (for byte budgets). */
  overallWinner(totals: Float64Array = this.scores): number {
    const C = this.cps.length;
    let best = 0;
    let bestScore = -1;
    for (let c = 0; c < this.contenders; c++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += totals[c * C + j]! / this.cps[j]!;
      if (s > bestScore + 1e-12) {
        best = c;
        bestScore = s;
      }
    }
    return best;
  }

  /** Faded relative hits of a contender at checkpoint j and every larger one. */
  hitsOf(c: number, j: number): number {
    return this.totals[c * this.cps.length + j]!;
  }

  /** A budget of `items`: the whole list of the winner at the smallest checkpoint of at least `items`. */
  listFor(lists: readonly (readonly string[])[], items: number, totals: Float64Array = this.scores): string[] {
    let j = this.cps.findIndex((k) => k >= items);
    if (j < 0) j = this.cps.length - 1;
    return (lists[this.winnerAt(j, totals)] ?? []).slice(0, items);
  }

  /** The combined ranking (see the class comment) and the contender that leads it (the smallest budget's winner). */
  combine(lists: readonly (readonly string[])[], totals: Float64Array = this.scores): { ranking: string[]; lead: number } {
    const out: string[] = [];
    const taken = new Set<string>();
    let lead = -1;
    for (let j = 0; j < this.cps.length; j++) {
      const w = this.winnerAt(j, totals);
      if (lead < 0) lead = w;
      const list = lists[w] ?? [];
      for (let i = 0; i < list.length && out.length < this.cps[j]!; i++) {
        const key = list[i]!;
        if (!taken.has(key)) {
          taken.add(key);
          out.push(key);
        }
      }
    }
    return { ranking: out, lead: Math.max(0, lead) };
  }
}

/** The contender name of the per-series model ensemble (seasonal, Holt-Winters, TSB/Croston, release adoption). */
export const MODELS = 'models';

export interface ContenderChoice {
  contender: string;
  /** Realised fetches per expected fetch of the contender's picks (scales its expected counts); 1 without evidence. */
  calibration: number;
  /** Picks of the winner that were asked for in their window, over the judged runs. */
  hits: number;
  /** Judged runs behind the choice (0: the fallback, no evidence). */
  evidence: number;
}

/** A contender's pick in a past scoring run, judged once its window ended. */
export interface JudgedPickInput {
  runId: string;
  contender: string;
  /** 0-based position in the contender's list. */
  rank: number;
  /** Identifies the item within the run (the same item picked by two contenders has the same key). */
  key: string;
  /** Fetches of the item during the pick's window (0: nobody asked for it). */
  actual: number;
  expected: number;
}

/**
 * Chooses a contender from the judged picks of past runs exactly as OnlineSelector chooses in the backtest: each run
 * is one judged decision, its hits relative to the run's best contender, pooled with every larger checkpoint and
 * faded with the half-life; the winner has the most of that summed over checkpoints, each relative to its budget
 * (a run warms by budget, as a byte budget chooses in the backtest). Ties go to the earlier contender; without
 * evidence the fallback wins. `runs` is oldest first.
 */
export function chooseFromJudged(
  runs: readonly string[],
  picks: readonly JudgedPickInput[],
  contenders: readonly string[],
  limit: number,
  fallback: string,
  halfLife = SELECTOR_HALF_LIFE,
): ContenderChoice {
  const index = new Map(contenders.map((c, i) => [c, i]));
  const runIndex = new Map(runs.map((r, i) => [r, i]));
  const lists = runs.map(() => contenders.map((): string[] => []));
  const used = runs.map(() => new Set<string>());
  let judged = 0;
  for (const p of picks) {
    const c = index.get(p.contender);
    const r = runIndex.get(p.runId);
    if (c === undefined || r === undefined || !(p.rank >= 0 && p.rank < limit)) continue;
    lists[r]![c]![p.rank] = p.key;
    if (p.actual > 0) used[r]!.add(p.key);
  }
  const sel = new OnlineSelector(contenders.length, limit, halfLife);
  for (let r = 0; r < runs.length; r++) {
    if (!lists[r]!.some((l) => l.length > 0)) continue;
    // A list with a gap (a pick not stored) is read up to the gap: the ranks after it are not comparable.
    const dense = lists[r]!.map((l) => {
      const end = l.findIndex((k) => k === undefined);
      return end < 0 ? l : l.slice(0, end);
    });
    sel.record(r, r, dense);
    judged++;
  }
  if (judged === 0) return { contender: fallback, calibration: 1, hits: 0, evidence: 0 };
  sel.judge(Infinity, (key, r) => used[r]!.has(key));
  const name = contenders[sel.overallWinner()]!;
  let actual = 0;
  let expected = 0;
  let hits = 0;
  for (const p of picks) {
    if (p.contender !== name) continue;
    actual += p.actual;
    expected += p.expected;
    if (p.actual > 0) hits++;
  }
  const calibration = expected > 0 ? Math.min(20, Math.max(0.05, actual / expected)) : 1;
  return { contender: name, calibration, hits, evidence: judged };
}
