/**
 * Scoring warm-up sets against what happened. Each decision window is judged against the no-warm-up cache (the
 * same trajectory for every method): a warmed item avoids a miss when its first request in the window missed
 * there (see oracle.ts). This makes methods comparable on the very same misses and makes the oracle a true upper
 * bound. What it leaves out, deliberately: a warm-up's own evictions (shown as wasted bytes instead) and benefit
 * carried past the window (the next decision can warm it again).
 */
import { REACHABLE_ORACLE, isBeneficial, type WindowOutcome } from './oracle.js';
import { budgetLabel, type Budget } from './method.js';
import { rng } from '../random.js';

/** Fills a budget from a best-first ranking: up to K items, or as many as fit in B bytes (skipping too-big ones). */
export function selectWarmSet(ranking: readonly string[], budget: Budget, sizeOf: (key: string) => number): string[] {
  const out: string[] = [];
  if (budget.kind === 'items') {
    for (const key of ranking) {
      if (out.length >= budget.value) break;
      out.push(key);
    }
    return out;
  }
  let left = budget.value;
  for (const key of ranking) {
    const size = sizeOf(key);
    if (size > left) continue;
    left -= size;
    out.push(key);
  }
  return out;
}

export interface MethodMetrics {
  method: string;
  budget: Budget;
  budgetLabel: string;
  windows: number;
  requests: number;
  /** Misses of the no-warm-up cache in the judged windows. */
  baselineMisses: number;
  missesAvoided: number;
  bytesAvoided: number;
  /** Hit ratio with this method's warm-ups (no-warm-up hits + misses avoided). */
  hitRatio: number;
  baselineHitRatio: number;
  /** missesAvoided / the oracle's at the same budget (1 for the oracle; 0 when the oracle avoids none). */
  oracleShare: number;
  /** missesAvoided / the reachable oracle's (no first-ever requests) at the same budget. */
  reachableShare: number;
  /** Misses avoided against the baseline method, with a paired bootstrap 95 % interval over windows (null for the baseline). */
  vsBaseline: { method: string; change: number; low: number; high: number } | null;
  /** False where the baseline already reaches 95 % of the reachable oracle: this budget cannot tell methods apart. */
  informative: boolean;
  warmed: number;
  warmedBytes: number;
  /** Warmed items requested in their window. */
  used: number;
  precision: number;
  /** Bytes of warmed items nobody requested in the window. */
  wastedBytes: number;
}

interface Acc {
  windows: number;
  requests: number;
  baselineMisses: number;
  avoided: number;
  avoidedBytes: number;
  warmed: number;
  warmedBytes: number;
  used: number;
  wastedBytes: number;
  /** Misses avoided per judged window, in judging order (the same windows for every method). */
  perWindow: number[];
}

/**
 * Paired bootstrap over windows of Σa / Σb − 1: windows are resampled with replacement (the same draws for both
 * methods, so what both find easy or hard cancels out), 2.5 and 97.5 percentiles of `reps` resamples.
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], reps = 1000, seed = 1): { change: number; low: number; high: number } {
  const n = Math.min(a.length, b.length);
  const ratio = (sa: number, sb: number): number => (sb > 0 ? sa / sb - 1 : sa > 0 ? Infinity : 0);
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < n; i++) {
    ta += a[i]!;
    tb += b[i]!;
  }
  if (n === 0) return { change: 0, low: 0, high: 0 };
  const rand = rng(seed);
  const draws = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rand() * n);
      sa += a[j]!;
      sb += b[j]!;
    }
    draws[r] = ratio(sa, sb);
  }
  draws.sort();
  return { change: ratio(ta, tb), low: draws[Math.floor(0.025 * (reps - 1))]!, high: draws[Math.ceil(0.975 * (reps - 1))]! };
}

export class MetricsAccumulator {
  private readonly accs = new Map<string, { method: string; budget: Budget; acc: Acc }>();
  private readonly methodOrder: string[] = [];

  constructor(
    readonly budgets: readonly Budget[],
    readonly mutableTtlMs: number,
  ) {}

  /** Scores one method's warm set for one window and budget. */
  add(method: string, budget: Budget, outcome: WindowOutcome, warmSet: readonly string[], sizeOf: (key: string) => number): void {
    const id = `${method}\u0000${budgetLabel(budget)}`;
    let slot = this.accs.get(id);
    if (!slot) {
      slot = { method, budget, acc: { windows: 0, requests: 0, baselineMisses: 0, avoided: 0, avoidedBytes: 0, warmed: 0, warmedBytes: 0, used: 0, wastedBytes: 0, perWindow: [] } };
      this.accs.set(id, slot);
      if (!this.methodOrder.includes(method)) this.methodOrder.push(method);
    }
    const a = slot.acc;
    a.windows++;
    a.requests += outcome.requests;
    a.baselineMisses += outcome.misses;
    const avoidedBefore = a.avoided;
    for (const key of warmSet) {
      const size = sizeOf(key);
      a.warmed++;
      a.warmedBytes += size;
      const f = outcome.first.get(key);
      if (!f) {
        a.wastedBytes += size;
        continue;
      }
      a.used++;
      if (isBeneficial(f, outcome.start, this.mutableTtlMs)) {
        // The miss would have fetched the whole item from upstream (bundle), not just the first response.
        a.avoided++;
        a.avoidedBytes += size;
      }
    }
    a.perWindow.push(a.avoided - avoidedBefore);
  }

  /** Rows in method order then budget order, with oracle shares and the comparison with the baseline filled in. */
  finish(oracleMethod = 'oracle', reachableMethod = REACHABLE_ORACLE, baselineMethod = 'last-24h'): MethodMetrics[] {
    const rows: MethodMetrics[] = [];
    for (const method of this.methodOrder) {
      for (const budget of this.budgets) {
        const slot = this.accs.get(`${method}\u0000${budgetLabel(budget)}`);
        if (!slot) continue;
        const a = slot.acc;
        const at = (m: string): Acc | undefined => this.accs.get(`${m}\u0000${budgetLabel(budget)}`)?.acc;
        const oracle = at(oracleMethod)?.avoided ?? 0;
        const reachable = at(reachableMethod)?.avoided ?? 0;
        const base = at(baselineMethod);
        const hits = a.requests - a.baselineMisses;
        rows.push({
          method,
          budget,
          budgetLabel: budgetLabel(budget),
          windows: a.windows,
          requests: a.requests,
          baselineMisses: a.baselineMisses,
          missesAvoided: a.avoided,
          bytesAvoided: a.avoidedBytes,
          hitRatio: a.requests > 0 ? (hits + a.avoided) / a.requests : 0,
          baselineHitRatio: a.requests > 0 ? hits / a.requests : 0,
          oracleShare: oracle > 0 ? a.avoided / oracle : 0,
          reachableShare: reachable > 0 ? a.avoided / reachable : 0,
          vsBaseline: base && method !== baselineMethod ? { method: baselineMethod, ...pairedBootstrap(a.perWindow, base.perWindow) } : null,
          informative: !base || reachable <= 0 || base.avoided < 0.95 * reachable,
          warmed: a.warmed,
          warmedBytes: a.warmedBytes,
          used: a.used,
          precision: a.warmed > 0 ? a.used / a.warmed : 0,
          wastedBytes: a.wastedBytes,
        });
      }
    }
    return rows;
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** A fixed-width table, one row per method and budget. */
export function formatTable(rows: readonly MethodMetrics[]): string {
  const header = ['method', 'budget', 'misses avoided', 'bytes avoided', 'hit ratio', 'of oracle', 'of reachable', 'vs last-24h [95% CI]', 'precision', 'wasted'];
  const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%` : 'inf');
  const body = rows.map((r) => [
    r.method,
    `${r.budgetLabel}${r.informative ? '' : '*'}`,
    `${r.missesAvoided}/${r.baselineMisses}`,
    formatMiB(r.bytesAvoided),
    pct(r.hitRatio),
    pct(r.oracleShare),
    pct(r.reachableShare),
    r.vsBaseline ? `${signed(r.vsBaseline.change)} [${signed(r.vsBaseline.low)}, ${signed(r.vsBaseline.high)}]` : '-',
    r.warmed > 0 ? pct(r.precision) : '-',
    formatMiB(r.wastedBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (rows.some((r) => !r.informative)) lines.push('* last-24h already reaches 95 % of the reachable oracle at this budget: it cannot tell methods apart');
  return lines.join('\n');
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
