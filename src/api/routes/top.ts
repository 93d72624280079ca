/** GET /v1/top: what is hot now (last window of data) next to what the latest run expects for the next window. */
import type { RoutePlugin } from '../context.js';
import { TopQuery, TopReply, withErrors, TOP_WINDOW } from '../schemas.js';
import { parseModulePrefix, parseWindow, dataEnd } from '../params.js';
import type { Static } from '@fastify/type-provider-typebox';
import { runInfo } from '../run-info.js';
import { HOUR_MS } from '../../domain/calendar.js';
import type { PredictionRun } from '../../store/queries/prediction-runs.js';
import { JSON_UTF8 } from '../cache.js';
import { hottest, actualForKeys, forecastByKey } from '../../store/queries/hot-vs-predicted.js';

type TopParams = Static<typeof TopQuery>;

export const topRoutes: RoutePlugin = async (app, ctx) => {
  app.get(
    '/v1/top',
    {
      schema: {
        tags: ['forecasts'],
        summary: 'hot now vs predicted',
        description:
          '`actual` = requests in the last `window` of data; `forecast` = expected requests in the first `window` of the ' +
          'latest prediction run. `by` groups per module, module@version, node or region; `sort` ranks by either side.',
        querystring: TopQuery,
        response: withErrors({ 200: TopReply }),
      },
      onRequest: async (req) => ctx.auth.requireReadAccess(req),
    },
    async (req, reply) => {
      const q = req.query;
      const windowMs = parseWindow(q.window, TOP_WINDOW);
      const to = await ctx.runs.dataEnd(() => dataEnd(ctx.store));
      const run = await ctx.runs.latest();
      // Kept serialized for a few seconds per query, newest bucket and run: under load most requests repeat a few
      // dashboard queries, and each answer costs two or three store queries.
      const body = await ctx.runs.recent<Buffer>('top', [q.window, q.by, q.sort, q.module ?? null, q.limit, q.node ?? null, q.region ?? null, to.getTime(), run?.runId ?? null], async () => {
        const page = await topPage(q, windowMs, to, run);
        const body = Buffer.from(reply.serialize(page) as string, 'utf8');
        return { value: body, bytes: body.length };
      });
      return reply.type(JSON_UTF8).send(body);
    },
  );

  async function topPage(q: TopParams, windowMs: number, to: Date, run: PredictionRun | undefined) {
    const from = new Date(to.getTime() - windowMs);
    const modulePrefix = parseModulePrefix(q.module);
    const scope = { ...(q.node ? { node: q.node } : {}), ...(q.region ? { region: q.region } : {}) };
    const actualQuery = { by: q.by, from, to, limit: q.limit, modulePrefix, ...scope };
    const forecastQuery = run ? { by: q.by, runId: run.runId, from: run.asOf, to: run.asOf + windowMs, modulePrefix, ...scope } : undefined;

    let keys: string[];
    let actual: Map<string, { requests: number; misses: number; bytes: number; clients: number }>;
    let forecast: Map<string, number>;
    if (q.sort === 'forecast') {
      forecast = forecastQuery ? await forecastByKey(ctx.store, forecastQuery, { limit: q.limit }) : new Map();
      keys = [...forecast.keys()];
      actual = await actualForKeys(ctx.store, actualQuery, keys);
    } else {
      const rows = await hottest(ctx.store, actualQuery);
      keys = rows.map((r) => r.key);
      actual = new Map(rows.map((r) => [r.key, r]));
      forecast = forecastQuery && keys.length > 0 ? await forecastByKey(ctx.store, forecastQuery, { keys, limit: keys.length }) : new Map();
    }
    return {
      window: q.window,
      by: q.by,
      actualFrom: from.toISOString(),
      actualTo: to.toISOString(),
      forecastFrom: forecastQuery ? new Date(forecastQuery.from).toISOString() : null,
      // Predictions end at the run's horizon: a 7 d window of a 24 h run forecasts 24 h, and says so.
      forecastTo: run && forecastQuery ? new Date(Math.min(forecastQuery.to, run.asOf + run.horizonHours * HOUR_MS)).toISOString() : null,
      run: runInfo(run),
      items: keys.map((key) => {
        const a = actual.get(key);
        return {
          key,
          actual: a?.requests ?? 0,
          forecast: forecast.get(key) ?? null,
          misses: a?.misses ?? 0,
          bytes: a?.bytes ?? 0,
          clients: a?.clients ?? 0,
        };
      }),
    };
  }
};
