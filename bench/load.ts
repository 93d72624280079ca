/**
 * A constant-rate (open-loop) HTTP load generator, wrk2-style: request i is due at start + i / rate whatever
 * happened to the ones before, and its latency is counted from when it was due, not from when it was sent, so a
 * slow server cannot hide its queueing (no coordinated omission).
 */
import { Pool } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { setMaxListeners } from 'node:events';

export interface LoadOptions {
  origin: string;
  /** Cycled through in order. */
  paths: readonly string[];
  ratePerSec: number;
  seconds: number;
  /** Upper bound of requests in flight. */
  connections: number;
  headers?: Record<string, string>;
  /** Requests still open this long after the last one was due are aborted and counted as `timeout`. Default 10 s. */
  graceSeconds?: number;
}

export interface LoadResult {
  sent: number;
  /** Responses by HTTP status; `error` for network failures, `timeout` for requests aborted after the grace time. */
  statuses: Record<string, number>;
  /** Latency percentiles, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Requests answered per second over the whole run (timeouts and network errors left out). */
  achievedRate: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function constantRate(opts: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(opts.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const total = Math.round(opts.ratePerSec * opts.seconds);
  const latencies = new Float64Array(total);
  const statuses: Record<string, number> = {};
  const count = (key: string) => (statuses[key] = (statuses[key] ?? 0) + 1);
  const pending: Promise<void>[] = [];
  const abort = new AbortController();
  setMaxListeners(Infinity, abort.signal); // one listener per request in flight
  const interval = 1000 / opts.ratePerSec;
  const start = performance.now() + 20;
  for (let i = 0; i < total; ) {
    const now = performance.now();
    // Everything due by now goes out at once; then sleep until the next one is due.
    for (; i < total && start + i * interval <= now; i++) {
      const due = start + i * interval;
      const slot = i;
      pending.push(
        pool
          .request({ path: opts.paths[i % opts.paths.length]!, method: 'GET', signal: abort.signal, ...(opts.headers ? { headers: opts.headers } : {}) })
          .then(async (res) => {
            await res.body.dump({ limit: 16 * 1024 * 1024 });
            count(String(res.statusCode));
          })
          .catch(() => void count(abort.signal.aborted ? 'timeout' : 'error'))
          .finally(() => {
            latencies[slot] = performance.now() - due;
          }),
      );
    }
    if (i < total) await sleep(Math.max(0, start + i * interval - performance.now()));
  }
  // A server far slower than the rate would keep the run going for ages: past the grace time, what is still open
  // is aborted and its latency counted up to that moment (so p99 is then a lower bound).
  const all = Promise.all(pending);
  const grace = sleep((opts.graceSeconds ?? 10) * 1000, 'grace', { ref: false });
  if ((await Promise.race([all, grace])) === 'grace') abort.abort();
  await all;
  const elapsed = (performance.now() - start) / 1000;
  await pool.destroy();
  latencies.sort();
  return {
    sent: total,
    statuses,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? 0,
    achievedRate: (total - (statuses['timeout'] ?? 0) - (statuses['error'] ?? 0)) / elapsed,
  };
}
