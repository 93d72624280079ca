/**
 * Naive methods modcast has to beat, both ranking by fleet-wide request counts (a popular item a node has not got
 * is the obvious thing to warm):
 * - `last-24h`: the most requested items of the last 24 hours;
 * - `same-hour-last-week`: the most requested items of the same window one week earlier (captures the weekly
 *   rhythm, misses anything new).
 * And `no-warmup`, the floor every method is measured from.
 */
import { DAY_MS, HOUR_MS, WEEK_HOURS } from '../calendar.js';
import { heldEverywhereMask, uncachedTopOf, type DecisionContext, type WarmupMethod } from './method.js';

export const noWarmup: WarmupMethod = {
  name: 'no-warmup',
  rank: () => new Map(),
};

/** Items ranked by fleet requests in hours [from, to), the same list for every node minus what it holds. */
function rankByCount(ctx: DecisionContext, from: number, to: number): Map<string, string[]> {
  const { history } = ctx;
  // Only items fetched in the window count (their fleet-wide hourly fetches are the sum of the nodes'), and only
  // those some deciding node lacks (the popular versions every node holds are most of the top of the count): asked
  // only of the items the walk reaches.
  const held = heldEverywhereMask(ctx);
  const { ids, counts } = history.fetchCountsDuring(from, to);
  return uncachedTopOf(counts, (i) => history.byId[ids[i]!]!.key, ctx, held === 0 ? undefined : (i) => history.fetchedByAll(ids[i]!, held));
}

export const lastDayTopK: WarmupMethod = {
  name: 'last-24h',
  rank(ctx) {
    const h = ctx.history.hourOf(ctx.decision.at);
    return rankByCount(ctx, h - 24, h);
  },
};

export const sameHourLastWeekTopK: WarmupMethod = {
  name: 'same-hour-last-week',
  rank(ctx) {
    const { at, windowEnd } = ctx.decision;
    const from = ctx.history.hourOf(at - 7 * DAY_MS);
    // At least one hour, at most a week, of the matching window last week.
    const hours = Math.min(WEEK_HOURS, Math.max(1, Math.ceil((windowEnd - at) / HOUR_MS)));
    return rankByCount(ctx, from, from + hours);
  },
};
