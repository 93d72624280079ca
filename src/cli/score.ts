/**
 * `modcast score` — one scoring run now (or as of a given hour): forecasts from the rollups into `predictions`,
 * prints what it did. `--requires module@version=go.mod` records a go.mod's requirements first (dependency model);
 * `--announce module@version[@time]` scores versions published but not fetched yet (release model).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clockOf, contextFrom, intOption, withStore } from './context.js';
import { scoreStore, scoringOptionsFrom, type Announcement, type ScoringSummary } from '../scoring/score.js';
import { recordRequirements } from '../store/queries/scoring.js';
import { parseGoModRequires } from '../domain/forecast/dependency.js';
import { parseTraceTime } from '../backtest/trace-csv.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import { eventSpread, type EventSpread } from '../store/queries/top.js';
import { HOUR_MS } from '../domain/calendar.js';

interface ScoreFlags {
  asOf?: string;
  historyDays?: number;
  horizonHours?: number;
  stepMinutes?: number;
  chunk?: number;
  minProbability?: string;
  runId?: string;
  announce: string[];
  requires: string[];
  json?: boolean;
}

function parseTime(s: string, what: string): number {
  const t = parseTraceTime(s);
  if (!Number.isFinite(t)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `${what}: not a time: ${JSON.stringify(s)} (ISO 8601 or epoch)`);
  return t;
}

/** module@version[@time]: the module path may contain '@' only as the separator, versions never do. */
function parseAnnouncement(s: string, now: number): Announcement {
  const parts = s.split('@');
  if (parts.length < 2 || !parts[0] || !parts[1]) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--announce expects module@version[@time], got ${JSON.stringify(s)}`);
  return { module: parts[0], version: parts[1], at: parts[2] ? parseTime(parts.slice(2).join('@'), '--announce') : now };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function render(s: ScoringSummary): string {
  const lines = [
    `run ${s.runId}: ${s.items.toLocaleString()} items, ${s.series.toLocaleString()} series, ${s.predictions.toLocaleString()} predictions in ${s.seconds.toFixed(1)}s (${s.chunks} chunks)`,
    `as of ${new Date(s.asOf).toISOString()}, ${s.historyHours} h of history, ${s.horizonHours} h horizon`,
    `models: ${Object.entries(s.byModel).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ') || '-'}`,
    `series: ${Object.entries(s.byClass).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ') || '-'}`,
    ...s.businessBlocks.map((b) => `next business hours ${b.region}: ${new Date(b.start).toISOString()} - ${new Date(b.end).toISOString()}`),
    ...s.forecasters.map((f) =>
      f.evidenceRuns > 0
        ? `forecaster ${f.region}: ${f.contender} (most hits over the last ${f.evidenceRuns} judged runs; calibration ×${f.calibration})`
        : `forecaster ${f.region}: ${f.contender} (no judged run yet: each run records what every ranker would warm, the next runs choose)`,
    ),
  ];
  return lines.join('\n');
}

const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, 'Z');

/**
 * What the run left out and why: scoring reads the complete hours of [asOf - history, asOf); events after the
 * as-of hour (the current, incomplete one) or older than the history are not scored. Empty when nothing was.
 */
export function skippedNotes(s: Pick<ScoringSummary, 'asOf' | 'historyHours' | 'series'>, spread: EventSpread): string[] {
  const from = s.asOf - s.historyHours * HOUR_MS;
  const notes: string[] = [];
  if (spread.first === null) {
    return ['0 series: the store holds no events; ingest access logs first (`modcast ingest`, POST /v1/ingest) or run `modcast demo`'];
  }
  if (spread.after > 0) {
    const next = Math.floor(spread.last! / HOUR_MS) * HOUR_MS + HOUR_MS;
    notes.push(
      `skipped ${spread.after.toLocaleString()} events at or after ${iso(s.asOf)}: the as-of hour and later are not history yet ` +
        `(they count once the hour is complete; --as-of ${iso(next)} includes them)`,
    );
  }
  if (spread.before > 0) {
    notes.push(`skipped ${spread.before.toLocaleString()} events before ${iso(from)}: older than the ${s.historyHours} h history (--history-days widens it)`);
  }
  if (s.series === 0 && spread.within === 0) notes.unshift(`0 series: no events in the history window ${iso(from)} .. ${iso(s.asOf)}`);
  return notes;
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('forecast module/version demand per node, region and fleet from the rollups into `predictions`')
    .option('--as-of <time>', 'end of history / start of the forecast (ISO or epoch; default now, rounded down to the hour)')
    .option('--history-days <n>', 'days of hourly history (default scoring.historyDays)', intOption('history-days', 1, 365))
    .option('--horizon-hours <n>', 'forecast horizon (default scoring.horizonHours)', intOption('horizon-hours', 1, 24 * 14))
    .option('--step-minutes <n>', 'sliding window step (default scoring.stepMinutes)', intOption('step-minutes', 5, 24 * 60))
    .option('--chunk <n>', 'module-versions per chunk read from ClickHouse', intOption('chunk', 100, 1_000_000))
    .option('--min-probability <p>', 'write rows with at least this P(any request) (default 0.02)')
    .option('--run-id <id>', 'run id (default score-<hour>-<random>)')
    .option('--announce <module@version[@time]>', 'a published version to forecast even if nobody fetched it yet (repeatable)', collect, [])
    .option('--requires <module@version=go.mod>', "record a go.mod's requirements before scoring (repeatable)", collect, [])
    .option('--json', 'print the run summary as JSON')
    .action(async (flags: ScoreFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const now = clockOf(ctx)();
      const minProbability = flags.minProbability === undefined ? undefined : Number(flags.minProbability);
      if (minProbability !== undefined && !(minProbability >= 0 && minProbability <= 1)) {
        throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--min-probability must be within 0..1, got ${JSON.stringify(flags.minProbability)}`);
      }
      const options = scoringOptionsFrom(ctx.config, {
        logger: ctx.logger,
        // Without an explicit horizon, reach every region's next business block (what the planner needs).
        reachBusinessBlocks: flags.horizonHours === undefined,
        announcements: flags.announce.map((a) => parseAnnouncement(a, now)),
        asOf: flags.asOf ? parseTime(flags.asOf, '--as-of') : now,
        ...(flags.historyDays ? { historyHours: flags.historyDays * 24 } : {}),
        ...(flags.horizonHours ? { horizonHours: flags.horizonHours } : {}),
        ...(flags.stepMinutes ? { stepMinutes: flags.stepMinutes } : {}),
        ...(flags.chunk ? { chunkSeries: flags.chunk } : {}),
        ...(minProbability !== undefined ? { minProbability } : {}),
        ...(flags.runId ? { runId: flags.runId } : {}),
      });
      const summary = await withStore(ctx, async (store) => {
        for (const spec of flags.requires) {
          const m = /^([^@=]+)@([^=]+)=(.+)$/.exec(spec);
          if (!m) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--requires expects module@version=path/to/go.mod, got ${JSON.stringify(spec)}`);
          let text: string;
          try {
            text = readFileSync(m[3]!, 'utf8');
          } catch (e) {
            throw new ModcastError(ErrorCodes.INPUT_NOT_FOUND, `cannot read ${m[3]}: ${(e as Error).message}`, { cause: e });
          }
          await recordRequirements(store, m[1]!, m[2]!, parseGoModRequires(text));
        }
        const s = await scoreStore(store, options);
        return { ...s, skipped: skippedNotes(s, await eventSpread(store, s.asOf - s.historyHours * HOUR_MS, s.asOf)) };
      });
      console.log(flags.json ? JSON.stringify(summary, null, 2) : [render(summary), ...summary.skipped].join('\n'));
    });
}
