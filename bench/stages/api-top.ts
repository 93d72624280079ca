/** API: `GET /v1/top` (hot now vs predicted, as the dashboard asks it) at a constant rate; see bench/read-routes.ts. */
import { readRouteStage } from '../read-routes.js';

readRouteStage('api-top', 'GET /v1/top', [
  '/v1/top',
  '/v1/top?by=module&window=24h&limit=50',
  '/v1/top?by=version&window=1h',
  '/v1/top?by=node',
  '/v1/top?by=region&sort=forecast',
  '/v1/top?region=eu&window=6h',
  '/v1/top?module=github.com/org3/',
]);
