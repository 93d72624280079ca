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
  runId: string;
  region: string;
  contender: string;
  rank: number;
  /** The item, the same for every contender that picked it in the run. */
  key: string;
  /** Fetches of the item in the pick's region during the pick's window (0: a miss). */
  actual: number;
  expected: number;
}

/**
 * The picks of the last `runs` scoring runs whose window ended by `asOf`, each with the fetches it saw in its
 * window (0: a miss), read from the hourly rollups, and those runs oldest first. Only the past: windows still open
 * are left out.
 */
export async function readJudgedPicks(store: Store, asOf: number, runs: number): Promise<{ runs: string[]; picks: JudgedPick[] }> {
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
  if (recent.length === 0) return { runs: [], picks: [] };
  const from = Math.min(...recent.map((r) => Number(r.from)));
  const to = Math.max(...recent.map((r) => Number(r.to)));
  const picks = await queryRows<{ run_id: string; region: string; contender: string; rank: number; module: string; version: string; actual: number; expected: number }>(
    store,
    `SELECT p.run_id AS run_id, toString(p.region) AS region, toString(p.contender) AS contender, p.rank AS rank,
            p.module AS module, p.version AS version, p.expected AS expected,
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
  return {
    runs: recent.map((r) => r.run_id).reverse(),
    picks: picks.map((p) => ({
      runId: p.run_id,
      region: p.region,
      contender: p.contender,
      rank: Number(p.rank),
      key: `${p.module}\u0000${p.version}`,
      actual: Number(p.actual),
      expected: Number(p.expected),
    })),
  };
}
