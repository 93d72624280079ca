/**
 * SQL of `ranker_picks` (pipelines/022_ranker_picks.sql): what each contender of the ranker pool would have warmed
 * per scoring run and region, and how those picks fared once their window had passed.
 */
import type { Store } from '../client.js';
import { queryRows } from '../client.js';
import { FETCHES } from './scoring.js';
import { dateTimeParam } from '../time-params.js';

const secs = (ms: number): number => Math.floor(ms / 1000);

export interface RankerPick {
  region: string;
  contender: string;
  /** 0-based position in the contender's list. */
  rank: number;
  module: string;
  version: string;
  expected: number;
}

export async function writeRankerPicks(store: Store, run: { runId: string; madeAt: number; windowStart: number; windowEnd: number }, picks: readonly RankerPick[]): Promise<void> {
  if (picks.length === 0) return;
  await store.insert({
    table: 'ranker_picks',
    format: 'JSONCompactEachRow',
    columns: ['run_id', 'made_at', 'region', 'contender', 'rank', 'module', 'version', 'window_start', 'window_end', 'expected'],
    rows: picks.map((p) => [run.runId, secs(run.madeAt), p.region, p.contender, p.rank, p.module, p.version, secs(run.windowStart), secs(run.windowEnd), p.expected]),
  });
}

export interface JudgedPick {
  region: string;
  contender: string;
  rank: number;
  /** Fetches of the item in the pick's region during the pick's window. */
  actual: number;
  expected: number;
}

/**
 * The picks of the last `runs` scoring runs whose window ended by `asOf`, each with the fetches it saw in its
 * window (0: a miss), read from the hourly rollups. Only the past: windows still open are left out.
 */
export async function readJudgedPicks(store: Store, asOf: number, runs: number): Promise<{ runs: number; picks: JudgedPick[] }> {
  const recent = await queryRows<{ run_id: string; from: number; to: number }>(
    store,
    `SELECT run_id, toUnixTimestamp(min(window_start)) * 1000 AS from, toUnixTimestamp(max(window_end)) * 1000 AS to
     FROM ranker_picks
     WHERE window_end <= ${dateTimeParam('asOf')}
     GROUP BY run_id
     ORDER BY to DESC, run_id DESC
     LIMIT {runs:UInt32}`,
    { asOf, runs },
  );
  if (recent.length === 0) return { runs: 0, picks: [] };
  const from = Math.min(...recent.map((r) => Number(r.from)));
  const to = Math.max(...recent.map((r) => Number(r.to)));
  const picks = await queryRows<{ region: string; contender: string; rank: number; actual: number; expected: number }>(
    store,
    `SELECT toString(p.region) AS region, toString(p.contender) AS contender, p.rank AS rank, p.expected AS expected,
            toFloat64(sumIf(r.fetches, r.bucket >= p.window_start AND r.bucket < p.window_end)) AS actual
     FROM (SELECT * FROM ranker_picks WHERE run_id IN {runIds:Array(String)}) AS p
     LEFT JOIN (
       SELECT module, version, toString(region) AS region, bucket,
              ${FETCHES} AS fetches
       FROM rollups_1h
       WHERE bucket >= ${dateTimeParam('from')} AND bucket < ${dateTimeParam('to')}
       GROUP BY module, version, region, bucket
     ) AS r ON r.module = p.module AND r.version = p.version AND r.region = toString(p.region)
     GROUP BY p.run_id, region, contender, rank, expected, p.module, p.version`,
    { runIds: recent.map((r) => r.run_id), from, to },
  );
  return { runs: recent.length, picks: picks.map((p) => ({ ...p, rank: Number(p.rank), actual: Number(p.actual), expected: Number(p.expected) })) };
}
