/**
 * One prom-client registry for the whole process, served by `GET /metrics`.
 * Metrics are created through the get-or-create helpers below, so a module that is loaded once but used by
 * several app instances (tests build many) never registers a name twice.
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'modcast_' });

type Labels<L extends string> = readonly L[];

export function counter<L extends string = never>(name: string, help: string, labelNames: Labels<L> = []): Counter<L> {
  const existing = metricsRegistry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames: [...labelNames], registers: [metricsRegistry] });
}

export function gauge<L extends string = never>(name: string, help: string, labelNames: Labels<L> = []): Gauge<L> {
  const existing = metricsRegistry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [metricsRegistry] });
}

export function histogram<L extends string = never>(
  name: string,
  help: string,
  labelNames: Labels<L> = [],
  buckets?: number[],
): Histogram<L> {
  const existing = metricsRegistry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return new Histogram<L>({ name, help, labelNames: [...labelNames], registers: [metricsRegistry], ...(buckets ? { buckets } : {}) });
}

/** Events and rejects stored, by how they arrived (`http`, `file`, `kafka`). */
export const ingestEventsTotal = counter('modcast_ingest_events_total', 'Access events stored, by source', ['source'] as const);
export const ingestRejectedTotal = counter('modcast_ingest_rejected_total', 'Source records rejected (kept in rejected_events), by source', [
  'source',
] as const);
export const warmupWorkerRequestsTotal = counter('modcast_warmup_worker_requests_total', 'Warm-up requests a worker finished, by status', ['status'] as const);
export const warmupWorkerTasksTotal = counter('modcast_warmup_worker_tasks_total', 'Warm-up tasks a worker completed');
