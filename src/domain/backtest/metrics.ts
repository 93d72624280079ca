/**
 * Scoring warm-up sets against what happened. Each decision window is judged against the no-warm-up cache (the
 * same trajectory for every method): a warmed item avoids a miss when its first request in the window missed
 * there (see oracle.ts). This makes methods comparable on the very same misses and makes the oracle a true upper
 * bound. What it leaves out, deliberately: a warm-up's own evictions (shown as wasted bytes instead) and benefit
 * carried past the window (the next decision can warm it again).
 */
import { isBeneficial, type WindowOutcome } from './oracle.js';
import { budgetLabel, type Budget } from './method.js';

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
      slot = { method, budget, acc: { windows: 0, requests: 0, baselineMisses: 0, avoided: 0, avoidedBytes: 0, warmed: 0, warmedBytes: 0, used: 0, wastedBytes: 0 } };
      this.accs.set(id, slot);
      if (!this.methodOrder.includes(method)) this.methodOrder.push(method);
    }
    const a = slot.acc;
    a.windows++;
    a.requests += outcome.requests;
    a.baselineMisses += outcome.misses;
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
  }

  /** Rows in method order then budget order, with oracle shares filled in. */
  finish(oracleMethod = 'oracle'): MethodMetrics[] {
    const rows: MethodMetrics[] = [];
    for (const method of this.methodOrder) {
      for (const budget of this.budgets) {
        const slot = this.accs.get(`${method}\u0000${budgetLabel(budget)}`);
        if (!slot) continue;
        const a = slot.acc;
        const oracle = this.accs.get(`${oracleMethod}\u0000${budgetLabel(budget)}`)?.acc.avoided ?? 0;
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
  const header = ['method', 'budget', 'misses avoided', 'bytes avoided', 'hit ratio', 'of oracle', 'precision', 'wasted'];
  const body = rows.map((r) => [
    r.method,
    r.budgetLabel,
    `${r.missesAvoided}/${r.baselineMisses}`,
    formatMiB(r.bytesAvoided),
    pct(r.hitRatio),
    pct(r.oracleShare),
    r.warmed > 0 ? pct(r.precision) : '-',
    formatMiB(r.wastedBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
