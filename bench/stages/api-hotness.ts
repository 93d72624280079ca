/** API: `GET /v1/modules/{module}/hotness` over the popular modules, at a constant rate; see bench/read-routes.ts. */
import { readRouteStage, rollupModule } from '../read-routes.js';

const paths: string[] = [];
for (let k = 0; k < 64; k++) {
  const m = rollupModule(k);
  paths.push(k % 4 === 0 ? `/v1/modules/${m}/hotness?window=14d&versions=3` : `/v1/modules/${m}/hotness`);
}
readRouteStage('api-hotness', 'GET /v1/modules/{module}/hotness', paths);
