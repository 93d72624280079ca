/**
 * Access events around a warm-up run (see warmup/effectiveness.ts): per warmed module@version on the node, the
 * requests in the window and how they were answered; the node's cold and warm latency in the window; and the
 * largest upstream size seen per version. Times are epoch ms.
 */
import { queryRows, type Store } from '../client.js';
import { dateTime64Param } from '../time-params.js';

export type RunWindow = {
  node: string;
  from: number;
  to: number;
  /** The warmed modules. */
  modules: string[];
};

export async function readRunWindowUsage(store: Store, params: RunWindow) {
  const [used, latency, sizes] = await Promise.all([
    queryRows<{ module: string; version: string; requests: string; hits: string; misses: string; sum_ms: number; timed: string }>(
      store,
      `SELECT module, version, count() AS requests, countIf(cache_status = 'hit') AS hits, countIf(cache_status = 'miss') AS misses,
              sumIf(duration_ms, duration_ms > 0) AS sum_ms, countIf(duration_ms > 0) AS timed
       FROM access_events
       WHERE node = {node:String} AND module IN {modules:Array(String)} AND kind IN ('info', 'mod', 'zip')
         AND ts >= ${dateTime64Param('from')} AND ts < ${dateTime64Param('to')}
       GROUP BY module, version`,
      params,
    ),
    queryRows<{ cold: number | null; warm: number | null }>(
      store,
      `SELECT avgIf(duration_ms, cache_status = 'miss' AND duration_ms > 0) AS cold, avgIf(duration_ms, cache_status = 'hit' AND duration_ms > 0) AS warm
       FROM access_events
       WHERE node = {node:String} AND kind IN ('info', 'mod', 'zip')
         AND ts >= ${dateTime64Param('from')} AND ts < ${dateTime64Param('to')}`,
      params,
    ),
    queryRows<{ module: string; version: string; bytes: string }>(
      store,
      `SELECT module, version, maxIf(bytes, kind = 'zip') + maxIf(bytes, kind = 'mod') + maxIf(bytes, kind = 'info') AS bytes
       FROM access_events WHERE module IN {modules:Array(String)} AND status = 200 AND kind IN ('info', 'mod', 'zip')
       GROUP BY module, version`,
      params,
    ),
  ]);
  return { used, latency, sizes };
}
