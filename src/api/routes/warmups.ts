/** Warm-up runs: list, one run with its items and effectiveness, and POST to trigger a run (token). */
import { Type } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../context.js';
import {
  RunId, TriggerWarmupBody, TriggerWarmupReply, WarmupDetailQuery, WarmupDetailReply, WarmupsQuery, WarmupsReply, withErrors, WARMUPS_CURSOR,
} from '../schemas.js';
import { listWarmupRuns, readRun, runWritesOf, warmupItems, warmupItemCounts } from '../../store/queries/warmups.js';
import { JSON_UTF8 } from '../cache.js';
import { runView } from '../run-info.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { runEffectiveness } from '../effectiveness-summary.js';

export const warmupRoutes: RoutePlugin = async (app, ctx) => {
  const readAccess = { onRequest: async (req: Parameters<typeof ctx.auth.requireReadAccess>[0]) => ctx.auth.requireReadAccess(req) };

  app.get(
    '/v1/warmups',
    {
      schema: {
        tags: ['warm-ups'],
        summary: 'warm-up runs, newest first',
        querystring: WarmupsQuery,
        response: withErrors({ 200: WarmupsReply }),
      },
      ...readAccess,
    },
    async (req, reply) => {
      const q = req.query;
      const after = q.cursor ? (decodeCursor(q.cursor, WARMUPS_CURSOR) as [number, string]) : undefined;
      // Kept serialized per query: each is a FINAL over the runs. Runs this process writes (the scheduler, POST
      // /v1/warmups) are in the key, so they show at once; other processes' within the cache's TTL, and an answer
      // is made again only when warmup_runs changed.
      const key = [q.node ?? null, q.region ?? null, q.status ?? null, q.trigger ?? null, q.cursor ?? null, q.limit, runWritesOf(ctx.store)];
      const body = await ctx.runs.recent<Buffer>('warmups', key, async () => {
        const rows = await listWarmupRuns(ctx.store, { ...q, ...(after ? { after } : {}), limit: q.limit + 1 });
        const page = rows.slice(0, q.limit);
        const last = page[page.length - 1];
        const bytes = Buffer.from(
          reply.serialize({ items: page.map(runView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.createdAt, last.runId]) : null }) as string,
          'utf8',
        );
        return { value: bytes, bytes: bytes.length };
      }, ctx.runs.tablesVersion(['warmup_runs']));
      return reply.type(JSON_UTF8).send(body);
    },
  );

  app.get(
    '/v1/warmups/:id',
    {
      schema: {
        tags: ['warm-ups'],
        summary: 'one warm-up run: its items, counts per status and effectiveness',
        params: Type.Object({ id: RunId }),
        querystring: WarmupDetailQuery,
        response: withErrors({ 200: WarmupDetailReply }),
      },
      ...readAccess,
    },
    async (req) => {
      const run = await readRun(ctx.store, req.params.id);
      if (!run) throw new ModcastError(ErrorCodes.NOT_FOUND, `no warm-up run ${req.params.id}`);
      const [items, itemCounts, effectiveness] = await Promise.all([
        warmupItems(ctx.store, run.runId, req.query.items),
        warmupItemCounts(ctx.store, run.runId),
        runEffectiveness(ctx.store, run.runId),
      ]);
      return { run: runView(run), items, itemCounts, effectiveness };
    },
  );

  app.post(
    '/v1/warmups',
    {
      schema: {
        tags: ['warm-ups'],
        summary: 'trigger a warm-up of a node or a region (bearer token)',
        description: 'Plans (and unless `dryRun`, executes) a warm-up now. Answers 202 with what the scheduler planned.',
        security: [{ bearerAuth: [] }],
        body: TriggerWarmupBody,
        response: withErrors({ 202: TriggerWarmupReply }),
      },
      onRequest: async (req) => ctx.auth.requireToken(req),
    },
    async (req, reply) => {
      const b = req.body;
      if (!b.node && !b.region) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'name a node or a region to warm');
      const nodes = ctx.config.fleet.nodes;
      if (b.node && !nodes.some((n) => n.name === b.node)) throw new ModcastError(ErrorCodes.NODE_UNKNOWN, `node ${b.node} is not in fleet.nodes`);
      if (b.region && !nodes.some((n) => n.region === b.region)) throw new ModcastError(ErrorCodes.NODE_UNKNOWN, `no node of fleet.nodes is in region ${b.region}`);
      if (!ctx.scheduler) throw new ModcastError(ErrorCodes.NOT_CONFIGURED, 'no scheduler runs in this process (it is hosted by `modcast serve` or `modcast scheduler`)');
      const result = await ctx.scheduler.triggerWarmup({
        ...(b.node ? { node: b.node } : {}),
        ...(b.region ? { region: b.region } : {}),
        dryRun: b.dryRun,
        ...(b.maxItems ? { maxItems: b.maxItems } : {}),
        ...(b.maxBytes ? { maxBytes: b.maxBytes } : {}),
        trigger: 'api',
      });
      return reply.status(202).send({ accepted: true, dryRun: b.dryRun, result });
    },
  );
};
