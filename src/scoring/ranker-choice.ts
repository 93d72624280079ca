/**
 * The ranker pool inside a scoring run. Each region scores with the contender (a ranker of the pool, or the model
 * ensemble) whose picks hit most over the last runs (chosen before the run from `ranker_picks`), and the run
 * records every contender's picks for its first step window, to be judged by the runs after it.
 */
import { FEATURES, MODELS, RANKERS, SELECTOR_HALF_LIFE, TopK, featuresFromHourly, type ContenderChoice } from '../domain/forecast/rankers.js';
import type { RegionOverride } from '../domain/forecast/emission.js';
import type { RankerPick } from '../store/queries/ranker-picks.js';

/** Every contender a scoring run can choose, in tie-break order: without evidence the model ensemble scores. */
export const SCORING_CONTENDERS: readonly string[] = [MODELS, ...RANKERS.map((r) => r.name)];

/** Picks recorded per contender and region (the largest budget judged). */
export const PICK_LIMIT = 100;

/**
 * Judged runs a choice is made on: three of the selector's half-lives (chooseFromJudged fades runs as the backtest
 * fades decisions), after which a run weighs an eighth.
 */
export const CHOICE_MEMORY = 3 * SELECTOR_HALF_LIFE;

export class ScoringPool {
  private readonly heaps: TopK[][];
  private readonly features = new Float64Array(FEATURES);
  private readonly rankerIndex: number[];

  constructor(
    readonly regions: readonly string[],
    readonly choices: readonly ContenderChoice[],
    /** Hours of the window the picks are for (the run's first step). */
    readonly windowHours: number,
  ) {
    this.heaps = regions.map(() => SCORING_CONTENDERS.map(() => new TopK(PICK_LIMIT)));
    this.rankerIndex = choices.map((c) => RANKERS.findIndex((r) => r.name === c.contender));
  }

  /**
   * Sees one item's history in region r (hourly fetches, index n = now) and the model ensemble's expected fetches
   * in the pick window; returns the region's override when a ranker is chosen there (null: the models score).
   */
  observe(r: number, key: string, series: ArrayLike<number>, n: number, modelsExpected: number): RegionOverride | null {
    const f = this.features;
    featuresFromHourly(series, n, this.windowHours, f);
    const heaps = this.heaps[r]!;
    heaps[0]!.offer(modelsExpected, key, modelsExpected);
    for (let i = 0; i < RANKERS.length; i++) {
      const ranker = RANKERS[i]!;
      heaps[i + 1]!.offer(ranker.score(f, 0, this.windowHours), key, ranker.expected(f, 0, this.windowHours));
    }
    const chosen = this.rankerIndex[r]!;
    if (chosen < 0) return null;
    const ranker = RANKERS[chosen]!;
    const perHour = (ranker.expected(f, 0, this.windowHours) / this.windowHours) * this.choices[r]!.calibration;
    return perHour > 0 ? { perHour, model: ranker.name } : null;
  }

  /** Every contender's picks per region, best first (keys are `module\u0000version`). */
  picks(): RankerPick[] {
    const out: RankerPick[] = [];
    this.heaps.forEach((perContender, r) => {
      perContender.forEach((heap, c) => {
        heap.entries().forEach(({ key, payload }, rank) => {
          const cut = key.indexOf('\u0000');
          out.push({ region: this.regions[r]!, contender: SCORING_CONTENDERS[c]!, rank, module: key.slice(0, cut), version: key.slice(cut + 1), expected: payload });
        });
      });
    });
    return out;
  }
}
