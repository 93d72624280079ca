/** GET /v1/stats/*: the aggregates the dashboard draws (and anything else may read). */
import type { RoutePlugin } from '../context.js';
import {
  HeatmapQuery, HeatmapReply, IngestStatsQuery, IngestStatsReply, ReleasesQuery, ReleasesReply, ScopesReply, WarmupStatsQuery,
  WarmupStatsReply, withErrors, HEATMAP_WINDOW, HISTORY_WINDOW, TIME_ZONES,
} from '../schemas.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { dataEnd, parseModulePrefix, parseWindow, DAY, HOUR, MINUTE } from '../params.js';
import { runInfo } from '../run-info.js';
import { JSON_UTF8, sizedJson, type SourceVersion } from '../cache.js';
import { ROLLUP_TABLES } from '../../store/queries/table-versions.js';
import { runWritesOf } from '../../store/queries/warmups.js';
import type { FastifyReply } from 'fastify';
import { dataStart, hourOfWeekHeatmap, ingestHealth, releaseSpread, seenScopes, warmupSummary } from '../../store/queries/dashboard-stats.js';
import { windowEffectiveness } from '../effectiveness-summary.js';
import { measureWarmupTraffic } from '../../warmup/effectiveness.js';
import { ingestEventsTotal, ingestRejectedTotal } from '../../lib/metrics-registry.js';

const WEEK = 7 * DAY;
const KNOWN_TIME_ZONES = new Set(TIME_ZONES);

async function counterValue(c: typeof ingestEventsTotal, source: string): Promise<number> {
  const m = await c.get();
  return m.values.find((v) => v.labels.source === source)?.value ?? 0;
}

export const statsRoutes: RoutePlugin = async (app, ctx) => {
  const common = { onRequest: async (req: Parameters<typeof ctx.auth.requireReadAccess>[0]) => ctx.auth.requireReadAccess(req) };
  const regionTimeZone = (region: string | undefined) => ctx.config.regions.find((r) => r.name === region)?.timeZone;
  // Aggregates over the rollups are kept for the cache's TTL per query and newest bucket (as /v1/top's): a dashboard
  // page load asks several of them, each a scan of weeks of rollups, and chDB runs one query at a time.
  const newestBucket = () => ctx.runs.dataEnd(() => dataEnd(ctx.store));
  const rollups = ctx.runs.tablesVersion(ROLLUP_TABLES);
  // Answers over a window that ends at the wall clock also move as time passes, not only with their tables: kept at
  // most a minute past their tables' last change (a minute of a window of days).
  const alsoTheMinute = (tables: readonly string[]): SourceVersion => {
    const version = ctx.runs.tablesVersion(tables);
    return async () => {
      const v = await version();
      return v.version === undefined ? v : { ...v, version: `${v.version}@${Math.floor(Date.now() / MINUTE)}` };
    };
  };
  const ingestSources = alsoTheMinute([...ROLLUP_TABLES, 'rejected_events']);
  /** The last reply made from each cached ingest answer, and the process counters it showed. */
  const ingestReplies = new WeakMap<object, { counters: string; body: Buffer }>();
  const warmupSources = alsoTheMinute(['warmup_runs', 'warmup_items', 'warmup_events', 'access_events']);
  // Kept serialized, as /v1/top's pages: a heatmap is thousands of cells, and serializing it per request was most of
  // the cost once the store's part was cached. `reply.serialize` is the route's own response serializer.
  // Each is made again only when its tables changed (see cache.ts `recent`).
  const serialized = async (reply: FastifyReply, cache: string, key: unknown[], version: SourceVersion, make: () => Promise<unknown>) => {
    const body = await ctx.runs.recent<Buffer>(cache, key, async () => {
      const bytes = Buffer.from(reply.serialize(await make()) as string, 'utf8');
      return { value: bytes, bytes: bytes.length };
    }, version);
    return reply.type(JSON_UTF8).send(body);
  };

  app.get(
    '/v1/stats/scopes',
    { schema: { tags: ['stats'], summary: 'regions and nodes (configured and seen in the data)', response: withErrors({ 200: ScopesReply }) }, ...common },
    async (_req, reply) => {
      const [end, run] = await Promise.all([newestBucket(), ctx.runs.latest()]);
      return serialized(reply, 'stats_scopes', [end.getTime(), run?.runId ?? null], rollups, () => scopes(end, run));
    },
  );

  async function scopes(end: Date, run: Awaited<ReturnType<typeof ctx.runs.latest>>) {
    const seen = await seenScopes(ctx.store);
    const byRegion = new Map<string, Set<string>>();
    for (const r of seen) byRegion.set(r.region, new Set(r.nodes));
    for (const n of ctx.config.fleet.nodes) (byRegion.get(n.region) ?? byRegion.set(n.region, new Set()).get(n.region)!).add(n.name);
    for (const r of ctx.config.regions) if (!byRegion.has(r.name)) byRegion.set(r.name, new Set());
    return {
      regions: [...byRegion.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, nodes]) => ({ name, timeZone: regionTimeZone(name) ?? null, nodes: [...nodes].sort() })),
      dataEnd: end.toISOString(),
      run: runInfo(run),
    };
  }

  app.get(
    '/v1/stats/heatmap',
    {
      schema: {
        tags: ['stats'],
        summary: 'requests per module and hour of week',
        querystring: HeatmapQuery,
        response: withErrors({ 200: HeatmapReply }),
      },
      ...common,
    },
    async (req, reply) => {
      const q = req.query;
      const windowMs = parseWindow(q.window, HEATMAP_WINDOW);
      const timeZone = q.tz ?? regionTimeZone(q.region) ?? 'UTC';
      if (!KNOWN_TIME_ZONES.has(timeZone)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `unknown time zone ${JSON.stringify(timeZone)}`);
      const to = await newestBucket();
      return serialized(reply, 'stats_heatmap', [q.window, timeZone, q.limit, q.module ?? null, q.node ?? null, q.region ?? null, to.getTime()], rollups, async () => {
        const start = await dataStart(ctx.store);
        const from = new Date(to.getTime() - windowMs);
        const { modules, cells } = await hourOfWeekHeatmap(ctx.store, {
          from, to, timeZone, limit: q.limit, modulePrefix: parseModulePrefix(q.module),
          ...(q.node ? { node: q.node } : {}),
          ...(q.region ? { region: q.region } : {}),
        });
        // Per-week averages over the weeks the data really covers, not the whole window asked for.
        const covered = Math.min(windowMs, to.getTime() - (start ?? from).getTime());
        const weeks = Math.max(covered, HOUR) / WEEK;
        return {
          from: from.toISOString(),
          to: to.toISOString(),
          timeZone,
          weeks,
          modules,
          cells: cells.map(([h, m, v]) => [h, m, Math.round((v / Math.max(weeks, 1)) * 100) / 100] as [number, number, number]),
        };
      });
    },
  );

  app.get(
    '/v1/stats/releases',
    {
      schema: {
        tags: ['stats'],
        summary: 'new versions and how they spread across regions',
        querystring: ReleasesQuery,
        response: withErrors({ 200: ReleasesReply }),
      },
      ...common,
    },
    async (req, reply) => {
      const q = req.query;
      const windowMs = parseWindow(q.window, HISTORY_WINDOW);
      const to = await newestBucket();
      return serialized(reply, 'stats_releases', [q.window, q.module ?? null, q.limit, to.getTime()], rollups, async () => {
        const from = new Date(to.getTime() - windowMs);
        const releases = await releaseSpread(ctx.store, { from, to, modulePrefix: parseModulePrefix(q.module), limit: q.limit });
        const regions = [...new Set(releases.flatMap((r) => r.regions.map((x) => x.region)))].sort();
        return {
          from: from.toISOString(),
          to: to.toISOString(),
          regions,
          releases: releases.map((r) => ({
            module: r.module,
            version: r.version,
            firstSeen: new Date(r.firstSeen).toISOString(),
            requests: r.requests,
            regions: r.regions.map((x) => ({
              region: x.region,
              firstSeen: new Date(x.firstSeen).toISOString(),
              lagHours: (x.firstSeen - r.firstSeen) / HOUR,
              requests: x.requests,
            })),
          })),
        };
      });
    },
  );

  app.get(
    '/v1/stats/ingest',
    {
      schema: {
        tags: ['stats'],
        summary: 'ingest health: events and rejects per minute, reject reasons, hit/miss latency',
        querystring: IngestStatsQuery,
        response: withErrors({ 200: IngestStatsReply }),
      },
      ...common,
    },
    async (req, reply) => {
      const q = req.query;
      const windowMs = parseWindow(q.window, HISTORY_WINDOW);
      const to = await newestBucket();
      const from = new Date(to.getTime() - windowMs);
      // The store's part is kept like the other aggregates, with the rejects' window it was read over.
      const health = await ctx.runs.recent(
        'stats_ingest',
        [q.window, q.node ?? null, q.region ?? null, to.getTime()],
        async () => {
          const rejectsTo = new Date();
          const rejectsFrom = new Date(rejectsTo.getTime() - windowMs);
          const stored = await ingestHealth(ctx.store, {
            from,
            to,
            rejectsFrom,
            ...(q.node ? { node: q.node } : {}),
            ...(q.region ? { region: q.region } : {}),
          });
          return sizedJson({ ...stored, rejectsFrom, rejectsTo });
        },
        ingestSources,
      );
      // This process's counters are read fresh every time; the reply (a day of points per minute) is serialized
      // again only when they or the store's part changed.
      const counters = { httpEvents: await counterValue(ingestEventsTotal, 'http'), httpRejected: await counterValue(ingestRejectedTotal, 'http') };
      const countersKey = `${counters.httpEvents}/${counters.httpRejected}`;
      const known = ingestReplies.get(health);
      if (known?.counters === countersKey) return reply.type(JSON_UTF8).send(known.body);
      const perMinute = (points: [number, number][]) => points.map(([t, n]) => [t, n / health.bucketMinutes] as [number, number]);
      const body = Buffer.from(
        reply.serialize({
          ...health,
          // The two time bases, so that the dashboard draws each axis over its whole window and shows gaps.
          from: from.toISOString(),
          to: to.toISOString(),
          rejectsFrom: health.rejectsFrom.toISOString(),
          rejectsTo: health.rejectsTo.toISOString(),
          events: perMinute(health.events),
          rejects: perMinute(health.rejects),
          process: counters,
        }) as string,
        'utf8',
      );
      ingestReplies.set(health, { counters: countersKey, body });
      return reply.type(JSON_UTF8).send(body);
    },
  );

  app.get(
    '/v1/stats/warmups',
    {
      schema: {
        tags: ['stats'],
        summary: 'warm-up runs per day, totals and effectiveness',
        querystring: WarmupStatsQuery,
        response: withErrors({ 200: WarmupStatsReply }),
      },
      ...common,
    },
    async (req, reply) => {
      const q = req.query;
      const windowMs = parseWindow(q.window, HISTORY_WINDOW);
      const to = new Date(ctx.now());
      const from = new Date(to.getTime() - windowMs);
      const scope = { ...(q.node ? { node: q.node } : {}), ...(q.region ? { region: q.region } : {}) };
      // Warm-up runs are not rollups, so there is no newest bucket in the key; runs this process writes are.
      const key = [q.window, q.node ?? null, q.region ?? null, runWritesOf(ctx.store)];
      return serialized(reply, 'stats_warmups', key, warmupSources, async () => {
        const [summary, effectiveness, traffic] = await Promise.all([
          warmupSummary(ctx.store, { from, ...scope }),
          windowEffectiveness(ctx.store, { from, ...scope }),
          measureWarmupTraffic(ctx.store, { from, to, ...scope }),
        ]);
        return {
          days: summary.days.map((d) => ({ ...d, day: new Date(d.day).toISOString() })),
          totals: summary.totals,
          effectiveness,
          traffic,
        };
      });
    },
  );
};
