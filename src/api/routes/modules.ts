/**
 * GET /v1/modules/{module}/hotness. A module path has slashes, so the route is a wildcard and the
 * `/hotness` suffix is split off here; the path may be plain or case-encoded (`!azure`), and is validated.
 */
import { Type } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../context.js';
import { HotnessQuery, HotnessReply, withErrors, HISTORY_WINDOW } from '../schemas.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { parseModulePath, parseWindow, dataEnd, HOUR } from '../params.js';
import { moduleHistory } from '../../store/queries/module-history.js';
import { ROLLUP_TABLES } from '../../store/queries/table-versions.js';
import { moduleForecast, type ForecastFilter, type ForecastSeries } from '../../store/queries/predictions.js';
import { runInfo } from '../run-info.js';
import { JSON_UTF8 } from '../cache.js';
import type { PredictionRun } from '../../store/queries/prediction-runs.js';

export const HOTNESS_SUFFIX = '/hotness';
/** How the wildcard route is shown in the OpenAPI document. */
export const HOTNESS_DOC_URL = '/v1/modules/{module}/hotness';
const MAX_FORECAST_SERIES = 200;

export const moduleRoutes: RoutePlugin = async (app, ctx) => {
  app.get(
    '/v1/modules/*',
    {
      schema: {
        tags: ['modules'],
        summary: 'history and forecast of one module',
        description:
          'Request history from the rollups (per version, top N and `(other)`) over `window` ending at the newest data, ' +
          'and the latest run\'s per-step forecast per scope, version and kind. `{module}` is a Go module path, plain or ' +
          'case-encoded as in GOPROXY URLs (`github.com/!azure/azure-sdk-for-go`); its slashes need no escaping.',
        params: Type.Object({ '*': Type.String({ description: 'module path followed by /hotness' }) }),
        querystring: HotnessQuery,
        response: withErrors({ 200: HotnessReply }),
      },
      onRequest: async (req) => ctx.auth.requireReadAccess(req),
    },
    async (req, reply) => {
      const rest = req.params['*'];
      if (!rest.endsWith(HOTNESS_SUFFIX)) throw new ModcastError(ErrorCodes.NOT_FOUND, `no route GET /v1/modules/${rest}: use /v1/modules/<module path>/hotness`);
      const module = parseModulePath(rest.slice(0, -HOTNESS_SUFFIX.length));
      const q = req.query;
      const windowMs = parseWindow(q.window, HISTORY_WINDOW);
      const [to, run] = await Promise.all([ctx.runs.dataEnd(() => dataEnd(ctx.store)), ctx.runs.latest()]);
      // Kept serialized for the cache's TTL per module, query, newest bucket and run (as /v1/top's pages): each is a
      // scan of the rollups, and a reply of weeks of hourly points costs more to serialize than to send. Made again
      // only when the rollups changed (a module's history is read by the dashboard over and over, 64 such in the bench).
      const key = [module, q.window, q.versions, q.scope ?? null, q.id ?? null, to.getTime(), run?.runId ?? null];
      const body = await ctx.runs.recent<Buffer>('module_history', key, async () => {
        const from = new Date(to.getTime() - windowMs);
        const scope = q.scope === 'node' ? { node: q.id } : q.scope === 'region' ? { region: q.id } : {};
        const [{ bucket, history }, forecast] = await Promise.all([
          moduleHistory(ctx.store, { module, from, to, versions: q.versions, ...scope }),
          run ? runForecast(run, module, q.scope, q.id) : [],
        ]);
        // Nothing seen and nothing expected: to this API the module does not exist (any valid path would otherwise be
        // an empty 200, indistinguishable from a typo).
        if (history.length === 0 && forecast.length === 0)
          throw new ModcastError(ErrorCodes.NOT_FOUND, `no requests of ${module} in the last ${q.window} of data${q.scope ? ` (${q.scope} ${q.id ?? 'any'})` : ''} and no forecast for it`);
        const page = { module, window: q.window, from: from.toISOString(), to: to.toISOString(), bucket, history, run: runInfo(run), forecast };
        const bytes = Buffer.from(reply.serialize(page) as string, 'utf8');
        return { value: bytes, bytes: bytes.length };
      }, ctx.runs.tablesVersion(ROLLUP_TABLES));
      return reply.type(JSON_UTF8).send(body);
    },
  );

  /** The run's per-step forecast of one module (per scope when asked): fixed once the run finished, so kept. */
  function runForecast(run: PredictionRun, module: string, scope: string | undefined, id: string | undefined): Promise<ForecastSeries[]> {
    const filter: ForecastFilter = {
      runId: run.runId,
      from: run.asOf,
      to: run.asOf + run.horizonHours * HOUR,
      module,
      ...(scope ? { scope, scopeId: scope === 'fleet' ? (id ?? '') : id } : {}),
    };
    return ctx.runs.perRun('module_forecast', run.runId, filter, async () => {
      const series = await moduleForecast(ctx.store, filter, MAX_FORECAST_SERIES);
      // Rough in-memory size: a few dozen bytes per point and per series.
      return { value: series, bytes: series.reduce((b, s) => b + 128 + s.points.length * 48, 64) };
    });
  }
};
