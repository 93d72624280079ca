/** Request history of one module from the rollups: per version (top N, the rest as `(other)`), per bucket. */
import { queryRows, type Store } from '../client.js';
import { rollupFor } from './top.js';
import { dateTime64Param } from '../time-params.js';

export const OTHER_VERSIONS = '(other)';

export interface ScopeFilter {
  node?: string;
  region?: string;
}

/** SQL that keeps rows of one node or one region; parameters `node`, `region` ('' = any). */
export const SCOPE_WHERE = `({node:String} = '' OR node = {node:String}) AND ({region:String} = '' OR region = {region:String})`;
export const scopeParams = (s: ScopeFilter) => ({ node: s.node ?? '', region: s.region ?? '' });

export interface VersionHistory {
  version: string;
  requests: number;
  misses: number;
  points: [number, number][];
}

export async function moduleHistory(
  store: Store,
  q: { module: string; from: Date; to: Date; versions: number } & ScopeFilter,
): Promise<{ bucket: string; history: VersionHistory[] }> {
  const table = rollupFor(q.from, q.to);
  const rows = await queryRows<{ v: string; requests: string; misses: string; points: unknown[][] }>(
    store,
    `WITH top_versions AS (
       SELECT version FROM ${table}
       WHERE module = {module:String} AND bucket >= ${dateTime64Param('from')} AND bucket < ${dateTime64Param('to')} AND ${SCOPE_WHERE}
       GROUP BY version ORDER BY sum(requests) DESC, version LIMIT {versions:UInt32})
     SELECT v, sum(r) AS requests, sum(m) AS misses, arraySort(x -> x.1, groupArray((t, r))) AS points FROM (
       SELECT if(version IN top_versions, version, {other:String}) AS v, toUnixTimestamp(bucket) * 1000 AS t,
              sum(requests) AS r, sum(misses) AS m
       FROM ${table}
       WHERE module = {module:String} AND bucket >= ${dateTime64Param('from')} AND bucket < ${dateTime64Param('to')} AND ${SCOPE_WHERE}
       GROUP BY v, t)
     GROUP BY v ORDER BY v = {other:String}, requests DESC, v`,
    {
      module: q.module,
      from: q.from.getTime(),
      to: q.to.getTime(),
      versions: q.versions,
      other: OTHER_VERSIONS,
      ...scopeParams(q),
    },
  );
  return {
    bucket: table === 'rollups_5m' ? '5m' : '1h',
    history: rows.map((r) => ({
      version: r.v,
      requests: Number(r.requests),
      misses: Number(r.misses),
      points: r.points.map((p) => [Number(p[0]), Number(p[1])] as [number, number]),
    })),
  };
}
