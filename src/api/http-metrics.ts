/** HTTP metrics of the API, in the shared registry served by GET /metrics. */
import type { ApiInstance } from './context.js';
import { histogram, counter, gauge } from '../lib/metrics-registry.js';
import type { Store } from '../store/client.js';
import { recentWarmupStatusCounts } from '../store/queries/warmups.js';
import { latestPredictionRun } from '../store/queries/prediction-runs.js';

const httpDuration = histogram(
  'modcast_http_request_duration_seconds',
  'API request latency by route pattern',
  ['method', 'route', 'status_code'] as const,
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);
const httpRequests = counter('modcast_http_requests_total', 'API requests by route pattern and status', ['method', 'route', 'status_code'] as const);

export function installHttpMetrics(app: ApiInstance): void {
  // A callback hook: an async one costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: one series per route however many modules or ids are asked for.
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    httpDuration.observe(labels, reply.elapsedTime / 1000);
    httpRequests.inc(labels);
    done();
  });
}

const warmupItems = gauge('modcast_warmup_items', 'Warm-up items of runs created in the last 24 h, by status (read from the store at scrape)', ['status'] as const);
const warmupRuns = gauge('modcast_warmup_runs', 'Warm-up runs created in the last 24 h, by status (read from the store at scrape)', ['status'] as const);
const scoringDuration = gauge('modcast_scoring_last_duration_seconds', 'Duration of the newest finished scoring run');
const scoringFinished = gauge('modcast_scoring_last_finished_timestamp_seconds', 'When the newest scoring run finished (epoch seconds)');
const scoringPredictions = gauge('modcast_scoring_last_predictions', 'Predictions written by the newest finished scoring run');

const gaugeRefreshes = counter('modcast_store_gauge_refreshes_total', 'Reads of the store behind the warm-up and scoring gauges of /metrics');

/** How often a scrape may cause a store read, and how stale the served values may get before a scrape waits. */
export const STORE_GAUGES_REFRESH_MS = 15_000;
const STORE_GAUGES_MAX_STALE_MS = 4 * STORE_GAUGES_REFRESH_MS;

/**
 * The store-backed gauges of one API process, read in the background: a scrape older than the refresh interval
 * starts one read (never two at once) and is answered from the values in hand, so scrapes at any rate cost at
 * most one store read per interval. Only the first scrape, or one after a long pause, waits for the read.
 */
export class StoreGauges {
  private refreshedAt = -Infinity;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
    private readonly refreshMs = STORE_GAUGES_REFRESH_MS,
  ) {}

  async beforeScrape(): Promise<void> {
    const age = this.now() - this.refreshedAt;
    if (age < this.refreshMs) return;
    this.inFlight ??= refreshStoreGauges(this.store)
      .catch(this.onError)
      .finally(() => {
        // A failed read is retried after the interval too: a store outage must not turn every scrape into a query.
        this.refreshedAt = this.now();
        this.inFlight = undefined;
      });
    if (age > STORE_GAUGES_MAX_STALE_MS) await this.inFlight;
  }
}

/**
 * Outcomes that live in the store (warm-ups, scoring) as gauges, so every API replica reports them whichever
 * process did the work.
 */
async function refreshStoreGauges(store: Store): Promise<void> {
  gaugeRefreshes.inc();
  const [{ items, runs }, last] = await Promise.all([recentWarmupStatusCounts(store), latestPredictionRun(store)]);
  warmupItems.reset();
  for (const [status, n] of Object.entries(items)) warmupItems.set({ status }, n);
  warmupRuns.reset();
  for (const [status, n] of Object.entries(runs)) warmupRuns.set({ status }, n);
  if (last?.finishedAt != null) {
    scoringDuration.set((last.finishedAt - last.startedAt) / 1000);
    scoringFinished.set(last.finishedAt / 1000);
    scoringPredictions.set(last.predictions);
  }
}
