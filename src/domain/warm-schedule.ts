/**
 * When a region's warm-up is due: `leadMinutes` before the start of its next business-hours block, in the
 * region's own time zone (DST-correct through calendar.ts). Evaluated on every scheduler tick, so a missed
 * tick, a restart or a paused process is noticed at the next one:
 * - before the warm time: wait;
 * - at or after it, up to `maxLatenessMinutes` late: run (late runs say so);
 * - later than that (the window passed, e.g. the process was down): skip, recorded once.
 * The block identifies the run, so however many ticks see it due, it is warmed at most once.
 */
import { currentOrNextBusinessBlock, MINUTE_MS, type BusinessBlock, type RegionCalendar } from './calendar.js';

export type WarmDecision =
  | { action: 'wait'; block: BusinessBlock; warmAt: number }
  | { action: 'run'; block: BusinessBlock; warmAt: number; latenessMs: number }
  | { action: 'skip'; block: BusinessBlock; warmAt: number; latenessMs: number }
  | { action: 'none' };

/** Ticks at most this late after the warm time count as on time (no "late" warning). */
export const ON_TIME_MS = 2 * MINUTE_MS;

export function warmDecision(region: RegionCalendar, now: number, leadMinutes: number, maxLatenessMinutes: number): WarmDecision {
  const block = currentOrNextBusinessBlock(region, now);
  if (!block) return { action: 'none' };
  const warmAt = block.start - leadMinutes * MINUTE_MS;
  if (now < warmAt) return { action: 'wait', block, warmAt };
  const latenessMs = now - warmAt;
  if (latenessMs > maxLatenessMinutes * MINUTE_MS) return { action: 'skip', block, warmAt, latenessMs };
  return { action: 'run', block, warmAt, latenessMs };
}

/** Deterministic id of a scheduled run: one per region block and node. */
export function scheduledRunId(region: string, node: string, block: BusinessBlock): string {
  return `sched:${region}:${node}:${block.date}`;
}
