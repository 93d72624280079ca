/** Liveness, readiness (store and, when configured, Kafka) and Prometheus metrics. */
import type { RoutePlugin } from '../context.js';
import { HealthReply, ReadyReply } from '../schemas.js';
import { metricsRegistry } from '../../lib/metrics-registry.js';
import { StoreGauges } from '../http-metrics.js';
import { pingStore } from '../../store/client.js';

const READY_TIMEOUT_MS = 5000;

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; message?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: RoutePlugin = async (app, ctx) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'the process is up', response: { 200: HealthReply } }, config: { rateLimit: false } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'the store (and Kafka, when configured) answers',
        description: '200 when every check passes, 503 with the same body otherwise',
        response: { 200: ReadyReply, 503: ReadyReply },
      },
      config: { rateLimit: false },
    },
    async (_req, reply) => {
      const checks: Record<string, { ok: boolean; message?: string }> = {
        store: await check(() => pingStore(ctx.store)),
      };
      if (ctx.kafkaHealth) checks.kafka = await check(ctx.kafkaHealth);
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks });
    },
  );

  // A store hiccup must not hide the process metrics: log it and serve what there is.
  const gauges = new StoreGauges(ctx.store, ctx.now, (err) => app.log.warn({ err: err.message }, 'store gauges not refreshed'));
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
      // Its own limit, far above any scrape interval: a scrape is cheap now, but it still renders every series.
      config: { rateLimit: { max: ctx.config.api.metricsRateLimitPerMinute, timeWindow: 60_000 } },
      onRequest: async (req) => ctx.auth.requireReadAccess(req),
    },
    async (_req, reply) => {
      await gauges.beforeScrape();
      return reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
    },
  );
};
