/**
 * Effectiveness of warm-ups (hits on warmed items, cold vs warm latency, wasted bytes), measured by
 * src/warmup/effectiveness.ts per run; summed here over the recent runs for the dashboard.
 */
import type { Store } from '../store/client.js';
import { measureEffectiveness, type Effectiveness } from '../warmup/effectiveness.js';
import { listWarmupRuns } from '../store/queries/warmups.js';

/** Runs measured for a window summary (each costs a few queries). */
const MAX_RUNS = 20;

export async function runEffectiveness(store: Store, runId: string): Promise<Record<string, unknown> | null> {
  const e = await measureEffectiveness(store, runId);
  return { ...e };
}

const mean = (values: (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
};

/** Sums the effectiveness of the newest finished (not dry-run) runs created since `from`; null when there are none. */
export async function windowEffectiveness(store: Store, q: { from: Date; node?: string; region?: string }): Promise<Record<string, unknown> | null> {
  const runs = (await listWarmupRuns(store, { ...q, status: 'done', limit: MAX_RUNS })).filter((r) => !r.dryRun && r.createdAt >= q.from.getTime());
  if (runs.length === 0) return null;
  const measured: Effectiveness[] = await Promise.all(runs.map((r) => measureEffectiveness(store, r.runId)));
  const sum = (pick: (e: Effectiveness) => number) => measured.reduce((s, e) => s + pick(e), 0);
  const warmedVersions = sum((e) => e.warmedVersions);
  const usedVersions = sum((e) => e.usedVersions);
  return {
    runs: measured.length,
    warmedVersions,
    usedVersions,
    useRate: warmedVersions === 0 ? 0 : usedVersions / warmedVersions,
    requestsOnWarmed: sum((e) => e.requestsOnWarmed),
    hitsOnWarmed: sum((e) => e.hitsOnWarmed),
    missesOnWarmed: sum((e) => e.missesOnWarmed),
    warmedRequestMs: mean(measured.map((e) => e.warmedRequestMs)),
    coldRequestMs: mean(measured.map((e) => e.coldRequestMs)),
    warmRequestMs: mean(measured.map((e) => e.warmRequestMs)),
    wastedVersions: sum((e) => e.wastedVersions),
    wastedTransferBytes: sum((e) => e.wastedTransferBytes),
    wastedUpstreamBytes: sum((e) => e.wastedUpstreamBytes),
  };
}
