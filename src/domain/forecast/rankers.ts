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

/** Half-lives of the decayed counts, in hours: from "the last half hour" to "the last week". */
export const HALF_LIVES_HOURS = [0.5, 2, 6, 24, 72, 168] as const;
const H = HALF_LIVES_HOURS.length;

/** Feature vector layout: decayed counts per half-life, then window counts. */
export const F_LAST24 = H;
export const F_YESTERDAY = H + 1;
export const F_LAST_WEEK = H + 2;
export const FEATURES = H + 3;

const LN2 = Math.LN2;
const HOUR_MS = 3_600_000;
/** Multiplier per elapsed ms of each half-life: value × exp(-dt × rate). */
export const DECAY_RATES_PER_MS = Float64Array.from(HALF_LIVES_HOURS, (h) => LN2 / (h * HOUR_MS));

/**
 * Exponentially decayed request counts at several half-lives, kept exact at every request: add() at time t decays
 * the values to t and adds 1, valueAt() decays to a later time without changing anything.
 */
export class DecayedCounts {
  readonly values = new Float64Array(H);
  at = -Infinity;

  add(t: number, count = 1): void {
    const v = this.values;
    if (this.at !== -Infinity && t > this.at) {
      const dt = t - this.at;
      for (let k = 0; k < H; k++) v[k] = v[k]! * Math.exp(-dt * DECAY_RATES_PER_MS[k]!);
    }
    for (let k = 0; k < H; k++) v[k] = v[k]! + count;
    if (t > this.at) this.at = t;
  }

  /** Adds the values decayed to time t into out[0..H). */
  addValuesAt(t: number, out: Float64Array, offset = 0): void {
    if (this.at === -Infinity) return;
    const dt = Math.max(0, t - this.at);
    for (let k = 0; k < H; k++) out[offset + k] = out[offset + k]! + this.values[k]! * Math.exp(-dt * DECAY_RATES_PER_MS[k]!);
  }
}

export interface Ranker {
  /** Stable name, shown in reports and stored in predictions.model. */
  name: string;
  /** Score from the feature vector at `offset`; window is the decision window in hours (≥ 1). */
  score(f: Float64Array, offset: number, windowHours: number): number;
  /** Expected requests in the window implied by the score (a rate times the window), before calibration. */
  expected(f: Float64Array, offset: number, windowHours: number): number;
}

/** Requests per hour implied by a decayed count: Σ e^{-λ age} ≈ rate / λ. */
function rateOf(f: Float64Array, offset: number, k: number): number {
  return (f[offset + k]! * LN2) / HALF_LIVES_HOURS[k]!;
}

function decayRanker(k: number): Ranker {
  return {
    name: `decay-${HALF_LIVES_HOURS[k]}h`,
    score: (f, o) => f[o + k]!,
    expected: (f, o, w) => rateOf(f, o, k) * w,
  };
}

function windowRanker(name: string, feature: number, hours: (w: number) => number): Ranker {
  return {
    name,
    score: (f, o) => f[o + feature]!,
    expected: (f, o, w) => (f[o + feature]! / Math.max(1, hours(w))) * w,
  };
}

const K6 = HALF_LIVES_HOURS.indexOf(6);
const K24 = HALF_LIVES_HOURS.indexOf(24);

/** The pool, in tie-break order: with no evidence yet the first one is used (a day of decayed history). */
export const RANKERS: readonly Ranker[] = [
  decayRanker(K24),
  ...HALF_LIVES_HOURS.map((_, k) => k).filter((k) => k !== K24).map(decayRanker),
  windowRanker('last-24h', F_LAST24, () => 24),
  windowRanker('same-window-yesterday', F_YESTERDAY, (w) => w),
  windowRanker('same-window-last-week', F_LAST_WEEK, (w) => w),
  blend('recent+last-week', [[K6, 0.5]], [[F_LAST_WEEK, 0.5]]),
  blend('day+yesterday+last-week', [[K24, 1 / 3]], [[F_YESTERDAY, 1 / 3], [F_LAST_WEEK, 1 / 3]]),
];

/** Weighted mean of hourly rates from decayed counts and same-length windows. */
function blend(name: string, decays: [number, number][], windows: [number, number][]): Ranker {
  const rate = (f: Float64Array, o: number, w: number): number => {
    let r = 0;
    for (const [k, weight] of decays) r += weight * rateOf(f, o, k);
    for (const [feature, weight] of windows) r += (weight * f[o + feature]!) / Math.max(1, w);
    return r;
  };
  return { name: `blend:${name}`, score: rate, expected: (f, o, w) => rate(f, o, w) * w };
}

export function rankerNamed(name: string): Ranker | undefined {
  return RANKERS.find((r) => r.name === name);
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
 * Chooses among contenders (rankers, or ranker × scope pairs) by realised hits over the last `memory` judged
 * decisions of a scope. A decision is judged only after its window ended, by a caller-given `wasUsed(key)` that
 * sees what happened in that window: the choice at a decision never sees its own future.
 *
 * The combined ranking takes, for each checkpoint K, the items the best contender at K puts first: its top-K
 * prefix is exactly the winner's at the smallest budget, and larger budgets extend it with their own winners.
 */
export class OnlineSelector {
  private readonly pending: PastDecision[] = [];
  /** Per judged decision: hits[contender * C + checkpoint]. */
  private readonly judged: Float64Array[] = [];
  private readonly totals: Float64Array;
  private readonly cps: number[];

  constructor(
    readonly contenders: number,
    readonly limit: number,
    readonly memory = 24,
  ) {
    this.cps = checkpoints(limit);
    this.totals = new Float64Array(contenders * this.cps.length);
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
      const seen = new Map<string, boolean>();
      for (let c = 0; c < this.contenders; c++) {
        const list = d.lists[c] ?? [];
        let h = 0;
        let j = 0;
        for (let pos = 0; pos < this.limit; pos++) {
          if (pos < list.length) {
            const key = list[pos]!;
            let used = seen.get(key);
            if (used === undefined) seen.set(key, (used = wasUsed(key, d.at, d.windowEnd)));
            if (used) h++;
          }
          while (j < C && this.cps[j] === pos + 1) hits[c * C + j++] = h;
        }
      }
      this.judged.push(hits);
      for (let x = 0; x < hits.length; x++) this.totals[x] = this.totals[x]! + hits[x]!;
      if (this.judged.length > this.memory) {
        const old = this.judged.shift()!;
        for (let x = 0; x < old.length; x++) this.totals[x] = this.totals[x]! - old[x]!;
      }
    }
  }

  /** Decisions judged so far (at most `memory`). */
  get evidence(): number {
    return this.judged.length;
  }

  /** Hits per contender and checkpoint over the remembered decisions (contender-major). */
  get hits(): Float64Array {
    return this.totals;
  }

  /**
   * Evidence pooled from several selectors with the same contenders and limit (e.g. every node of a region): the
   * choice is then made on all their decisions, which is steadier than one node's few.
   */
  static pooled(selectors: readonly OnlineSelector[]): Float64Array {
    const out = new Float64Array(selectors[0]?.totals.length ?? 0);
    for (const s of selectors) for (let x = 0; x < out.length; x++) out[x] = out[x]! + s.totals[x]!;
    return out;
  }

  /** The best contender at checkpoint j (ties: the earlier contender). */
  winnerAt(j: number, totals: Float64Array = this.totals): number {
    const C = this.cps.length;
    let best = 0;
    for (let c = 1; c < this.contenders; c++) if (totals[c * C + j]! > totals[best * C + j]! + 1e-9) best = c;
    return best;
  }

  /** The contender with the most hits summed over checkpoints, each relative to its budget (for byte budgets). */
  overallWinner(totals: Float64Array = this.totals): number {
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

  /** Realised hits of a contender at checkpoint j over the remembered decisions. */
  hitsOf(c: number, j: number): number {
    return this.totals[c * this.cps.length + j]!;
  }

  /** The combined ranking (see the class comment) and the contender that leads it (the smallest budget's winner). */
  combine(lists: readonly (readonly string[])[], totals: Float64Array = this.totals): { ranking: string[]; lead: number } {
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
