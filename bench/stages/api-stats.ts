/** API: the dashboard's `GET /v1/stats/*` routes, cycled as one page load asks them, at a constant rate; see bench/read-routes.ts. */
import { readRouteStage } from '../read-routes.js';

readRouteStage('api-stats', 'GET /v1/stats/*', [
  '/v1/stats/scopes',
  '/v1/stats/heatmap',
  '/v1/stats/heatmap?region=eu',
  '/v1/stats/releases',
  '/v1/stats/ingest',
  '/v1/stats/warmups',
]);
