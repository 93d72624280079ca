/** GET /v1/forecasts: the latest run's forecasts, filtered, summed over a horizon window, cursor-paged. */
import type { RoutePlugin } from '../context.js';
import { ForecastsQuery, ForecastsReply, withErrors, FORECAST_CURSOR, FORECAST_WINDOW } from '../schemas.js';
import { runInfo } from '../run-info.js';
import type { PredictionRun } from '../../store/queries/prediction-runs.js';
import { listForecasts, type ForecastAfter, type ForecastFilter, type ForecastOrder, type SeriesKey } from '../../store/queries/predictions.js';
import { JSON_UTF8 } from '../cache.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { parseModulePrefix, parseWindow } from '../params.js';


/**
 * Where a cursor's page ended. Any cursor of the documented shape is a position: by expected demand, an expected
 * field that is not a number (e.g. from a sort=key page) positions before every series.
 */
function afterOf(order: ForecastOrder, expected: string, key: SeriesKey): ForecastAfter {
  if (order === 'key') return { key };
  const e = expected.trim() === '' ? Number.NaN : Number(expected);
  return { key, expected: Number.isFinite(e) ? e : Number.MAX_VALUE };
}

export const forecastRoutes: RoutePlugin = async (app, ctx) => {
  app.get(
    '/v1/forecasts',
    {
      schema: {
        tags: ['forecasts'],
        summary: 'latest forecasts per scope, module, version and kind',
        description:
          'Series of the newest finished prediction run, summed over the windows starting in [asOf, asOf + window). ' +
          'Most expected requests first (`sort=key`: by scope, scopeId, module, version, kind); pass `nextCursor` back as `cursor` for the next page ' +
          '(a cursor stays on the run it started with).',
        querystring: ForecastsQuery,
        response: withErrors({ 200: ForecastsReply }),
      },
      onRequest: async (req) => ctx.auth.requireReadAccess(req),
    },
    async (req, reply) => {
      const q = req.query;
      const windowMs = parseWindow(q.window, FORECAST_WINDOW);
      const order: ForecastOrder = q.sort;
      const parts = q.cursor ? (decodeCursor(q.cursor, FORECAST_CURSOR) as string[]) : undefined;
      const cursor = parts ? { run: parts[0]!, after: afterOf(order, parts[1]!, parts.slice(2) as SeriesKey) } : undefined;
      const run = cursor ? await ctx.runs.byId(cursor.run) : await ctx.runs.latest();
      if (!run && cursor) throw new ModcastError(ErrorCodes.NOT_FOUND, 'the prediction run of this cursor no longer exists; start again without a cursor');
      if (!run) return { run: null, window: q.window, items: [], nextCursor: null };
      const filter: ForecastFilter = {
        runId: run.runId,
        from: run.asOf,
        to: run.asOf + windowMs,
        ...(q.scope ? { scope: q.scope } : {}),
        ...(q.id ? { scopeId: q.id } : {}),
        modulePrefix: parseModulePrefix(q.module),
        ...(q.kind ? { kind: q.kind } : {}),
        windowKind: q.windowKind,
      };
      // A page of a finished run never changes: kept serialized, per run and validated query (the echoed window
      // text is part of the body, so it is part of the key).
      const body = await ctx.runs.perRun<Buffer>('forecasts', run.runId, [filter, q.window, order, cursor?.after ?? null, q.limit], async () => {
        const page = await forecastPage(run, filter, q.window, cursor?.after, q.limit, order);
        // Kept encoded: a hit then sends the bytes without converting the string again.
        const body = Buffer.from(reply.serialize(page) as string, 'utf8');
        return { value: body, bytes: body.length };
      });
      return reply.type(JSON_UTF8).send(body);
    },
  );

  async function forecastPage(run: PredictionRun, filter: ForecastFilter, window: string, after: ForecastAfter | undefined, limit: number, order: ForecastOrder) {
    const rows = await listForecasts(ctx.store, filter, after, limit + 1, order);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      run: runInfo(run),
      window,
      items: page.map((r) => ({
        scope: r.key[0],
        scopeId: r.key[1],
        module: r.key[2],
        version: r.key[3],
        kind: r.key[4],
        expected: r.expected,
        pAny: r.pAny,
        lower: r.lower,
        upper: r.upper,
        model: r.model,
        windowStart: new Date(r.windowStart).toISOString(),
        windowEnd: new Date(r.windowEnd).toISOString(),
      })),
      nextCursor: rows.length > limit && last ? encodeCursor([run.runId, order === 'expected' ? String(last.sortExpected) : '', ...last.key]) : null,
    };
  }
};
