/** API: `GET /v1/warmups` (newest first, some filtered) at a constant rate; see bench/read-routes.ts. */
import { readRouteStage } from '../read-routes.js';

readRouteStage('api-warmups', 'GET /v1/warmups', ['/v1/warmups', '/v1/warmups?node=eu-1', '/v1/warmups?status=failed&limit=20', '/v1/warmups?region=us']);
