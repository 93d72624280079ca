/** HTTP metrics of the API, in the shared registry served by GET /metrics. */
import type { ApiInstance } from './context.js';
import { histogram, counter } from '../lib/metrics.js';

const httpDuration = histogram(
  'modcast_http_request_duration_seconds',
  'API request latency by route pattern',
  ['method', 'route', 'status_code'] as const,
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);
const httpRequests = counter('modcast_http_requests_total', 'API requests by route pattern and status', ['method', 'route', 'status_code'] as const);

export function installHttpMetrics(app: ApiInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL: one series per route however many modules or ids are asked for.
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    httpDuration.observe(labels, reply.elapsedTime / 1000);
    httpRequests.inc(labels);
  });
}
