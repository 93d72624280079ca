/**
 * Read caches of the API over prediction runs. A finished run never changes, so anything computed from one run
 * (a forecasts page, a module's forecast) can be kept per (run id, normalised query); only "which run is the
 * newest" moves, and that is trusted for a short TTL (and forgotten at once when this process finishes a scoring
 * run). Concurrent identical misses share one store query. Without this every request ran two chDB queries, and
 * chDB runs queries one at a time at ≥ 1 ms each.
 */
import { counter } from '../lib/metrics-registry.js';
import { BoundedLru } from '../lib/bounded-lru.js';
import { SingleFlight } from '../lib/single-flight.js';
import type { Store } from '../store/client.js';
import { latestPredictionRun, predictionRunById, type PredictionRun } from '../store/queries/prediction-runs.js';
import { tablesVersion } from '../store/queries/table-versions.js';

export interface ApiCacheOptions {
  /** How long the newest finished run (and a cursor's run) is trusted before the store is asked again. */
  runTtlMs: number;
  /** Bounds of the per-run response cache. */
  maxEntries: number;
  maxBytes: number;
}

/** Content type of cached serialized bodies (what fastify sets when it serializes an object itself). */
export const JSON_UTF8 = 'application/json; charset=utf-8';

export const DEFAULT_API_CACHE: ApiCacheOptions = { runTtlMs: 5_000, maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 };

const hits = counter('modcast_api_cache_hits_total', 'API cache lookups answered from memory (or by joining an identical query in flight)', [
  'cache',
] as const);
const misses = counter('modcast_api_cache_misses_total', 'API cache lookups that queried the store', ['cache'] as const);
const refreshes = counter('modcast_api_cache_refreshes_total', 'Lookups of the newest run renewed in the background while the known one was served', [
  'cache',
] as const);
const renewals = counter('modcast_api_cache_renewals_total', 'Answers kept for another TTL because the tables they were made from had not changed', [
  'cache',
] as const);
const evictions = counter('modcast_api_cache_evictions_total', 'API cache entries dropped to stay within the entry and byte bounds', [
  'cache',
] as const);

/** Sizes in bytes of what the response cache keeps: serialized bodies, or values that say how big they are. */
export type Sized<V> = { value: V; bytes: number };

/**
 * Says whether what an answer was made from changed: equal strings = unchanged; undefined = cannot tell. `readAt`
 * is when the store was asked (an answer kept on its strength is kept until readAt + TTL, never longer).
 */
export type SourceVersion = () => Promise<{ version: string | undefined; readAt: number }>;

interface RecentEntry<V> {
  value: V;
  expires: number;
  /** Of the answer's sources when it was made; undefined = unknown, always made again. */
  version: string | undefined;
  bytes: number;
}

/** A value kept as is, sized by its JSON (what the reply will roughly hold). */
export function sizedJson<V>(value: V): Sized<V> {
  return { value, bytes: JSON.stringify(value).length };
}

export class PredictionRunCache {
  private readonly runs = new BoundedLru<{ run: unknown; expires: number }>(1_000, Number.MAX_SAFE_INTEGER);
  private readonly runFlights = new SingleFlight<unknown>();
  private readonly responses: BoundedLru<unknown>;
  private readonly responseFlights = new SingleFlight<Sized<unknown>>();
  private readonly versionFlights = new SingleFlight<{ version: string | undefined; readAt: number }>();
  /** The last fingerprint read per set of tables: every key over those tables shares it for half a TTL. */
  private readonly versions = new Map<string, { version: string | undefined; readAt: number }>();
  /** Bumped by invalidate(): a lookup that started before it must neither be joined nor stored after it. */
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly options: ApiCacheOptions = DEFAULT_API_CACHE,
    private readonly now: () => number = Date.now,
  ) {
    this.responses = new BoundedLru(options.maxEntries, options.maxBytes, () => evictions.inc({ cache: 'responses' }));
  }

  /** The newest finished run, at most runTtlMs old. */
  latest(): Promise<PredictionRun | undefined> {
    return this.lookupRun<PredictionRun | undefined>('latest', '', () => latestPredictionRun(this.store));
  }

  /** A run by id (a cursor's), at most runTtlMs old. */
  byId(runId: string): Promise<PredictionRun | undefined> {
    return this.lookupRun<PredictionRun | undefined>('run', `id:${runId}`, () => predictionRunById(this.store, runId));
  }

  /** End of the newest rollup bucket (the data's "now"), trusted like the newest run; `load` asks the store. */
  dataEnd(load: () => Promise<Date>): Promise<Date> {
    return this.lookupRun('data_end', 'data-end', load);
  }

  /**
   * What `compute` makes of data that keeps growing (rollups), kept at most runTtlMs per normalised query; the
   * query should name the newest run and data bucket it was made from, so a new one is a new key at once. With
   * `version`, an answer due to be made again is first checked against it and kept for another TTL when its sources
   * did not change: one metadata query instead of the answer's scans, so nothing served is older than the TTL
   * still, and a store that is not written to costs (almost) nothing to keep answering.
   */
  async recent<V>(cache: string, query: unknown, compute: () => Promise<Sized<V>>, version?: SourceVersion): Promise<V> {
    const key = `${cache}\u0000recent\u0000${JSON.stringify(query)}`;
    const known = this.responses.get(key) as RecentEntry<V> | undefined;
    const ttl = this.options.runTtlMs;
    const keep = (entry: RecentEntry<V>) => {
      if (ttl > 0) this.responses.set(key, entry, entry.bytes);
    };
    const run = () =>
      this.responseFlights.run(key, async () => {
        // Asked before the answer is made: rows written meanwhile show as a new version at the next check.
        const current = version ? await version() : undefined;
        const prior = this.responses.get(key) as RecentEntry<V> | undefined;
        if (prior !== undefined && current?.version !== undefined && prior.version === current.version) {
          renewals.inc({ cache });
          keep({ ...prior, expires: current.readAt + ttl });
          return { value: prior.value, bytes: prior.bytes };
        }
        const made = await compute();
        keep({ value: made.value, expires: this.now() + ttl, version: current?.version, bytes: made.bytes });
        return made;
      });
    const now = this.now();
    if (known !== undefined && now < known.expires) {
      hits.inc({ cache });
      // Past half the TTL the answer is made again in the background (as for runs): under steady traffic nobody
      // waits for a query's store round trips at each expiry, and nothing served is older than the TTL.
      if (now >= known.expires - ttl / 2) {
        const refresh = run();
        if (!refresh.joined) refreshes.inc({ cache });
        refresh.promise.catch(() => {});
      }
      return known.value;
    }
    const { promise, joined } = run();
    (joined ? hits : misses).inc({ cache });
    return (await promise).value as V;
  }

  /**
   * The fingerprint of `tables` (store/queries/table-versions.ts) for `recent`. Read at most once per half TTL for
   * all the answers over those tables (64 hotness pages would otherwise each ask chDB, one query at a time, and
   * requests that miss would queue behind them); concurrent askers share one query.
   */
  tablesVersion(tables: readonly string[]): SourceVersion {
    const key = tables.join(',');
    return async () => {
      const known = this.versions.get(key);
      if (known !== undefined && this.now() - known.readAt < this.options.runTtlMs / 2) return known;
      return this.versionFlights.run(key, async () => {
        const readAt = this.now();
        const read = { version: await tablesVersion(this.store, tables), readAt };
        this.versions.set(key, read);
        return read;
      }).promise;
    };
  }

  /** A scoring run finished in this process: the next request asks the store which run is the newest. */
  invalidate(): void {
    this.generation++;
    this.runs.clear();
  }

  /**
   * What `compute` makes of one run and one normalised query, from memory when it was made before. Failures are
   * not kept. `cache` names the caller in the hit/miss metrics.
   */
  async perRun<V>(cache: string, runId: string, query: unknown, compute: () => Promise<Sized<V>>): Promise<V> {
    const key = `${cache}\u0000${runId}\u0000${JSON.stringify(query)}`;
    const known = this.responses.get(key);
    if (known !== undefined) {
      hits.inc({ cache });
      return known as V;
    }
    const { promise, joined } = this.responseFlights.run(key, async () => {
      const made = await compute();
      this.responses.set(key, made.value, made.bytes);
      return made;
    });
    (joined ? hits : misses).inc({ cache });
    return (await promise).value as V;
  }

  /**
   * A run lookup trusted for runTtlMs. Past half of that, the answer known is still served and the store is asked
   * again in the background, so under steady traffic no request waits for the refresh (a slow one would otherwise
   * stall every request arriving meanwhile) and nothing served is older than the TTL.
   */
  private async lookupRun<T>(cache: string, key: string, load: () => Promise<T>): Promise<T> {
    const known = this.runs.get(key) as { run: T; expires: number } | undefined;
    const now = this.now();
    if (known && now < known.expires) {
      hits.inc({ cache });
      if (now >= known.expires - this.options.runTtlMs / 2) {
        // A failed refresh is not an error of this request: the next one past the TTL asks again and reports it.
        const refresh = this.refreshRun(key, load);
        if (!refresh.joined) refreshes.inc({ cache });
        refresh.promise.catch(() => {});
      }
      return known.run;
    }
    const { promise, joined } = this.refreshRun(key, load);
    (joined ? hits : misses).inc({ cache });
    return promise as Promise<T>;
  }

  private refreshRun(key: string, load: () => Promise<unknown>) {
    const generation = this.generation;
    return this.runFlights.run(`${generation}\u0000${key}`, async () => {
      const run = await load();
      if (generation === this.generation) this.runs.set(key, { run, expires: this.now() + this.options.runTtlMs }, 0);
      return run;
    });
  }
}
