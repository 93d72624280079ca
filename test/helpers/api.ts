/** A real API over a real embedded store (temp dir), for fastify `inject` tests; plus data seeding helpers. */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { openTestStore, type TestStore } from './store.js';
import { buildApi, type ApiInstance, type WarmupScheduler } from '../../src/api/server.js';
import type { ApiCacheOptions } from '../../src/api/cache.js';
import { EventWriter } from '../../src/store/event-writer.js';
import type { AccessEventRow } from '../../src/store/event-rows.js';
import type { Store } from '../../src/store/client.js';

export const TOKEN = 'test-token-0123456789';
export const HOOK_SECRET = 'hook-secret-0123456789abcdef';
export const auth = { authorization: `Bearer ${TOKEN}` };

export interface TestApi {
  app: ApiInstance;
  t: TestStore;
  close(): Promise<void>;
}

export async function openTestApi(
  overrides: Record<string, unknown> = {},
  extra: { scheduler?: WarmupScheduler; cache?: Partial<ApiCacheOptions>; now?: () => number } = {},
): Promise<TestApi> {
  const { api, ...rest } = overrides as { api?: Record<string, unknown> };
  const t = await openTestStore({
    api: { tokens: [TOKEN], hookSecret: HOOK_SECRET, rateLimitPerMinute: 100_000, ...api },
    regions: [
      { name: 'eu', timeZone: 'Europe/Berlin' },
      { name: 'us', timeZone: 'America/New_York' },
    ],
    fleet: {
      nodes: [
        { name: 'eu-1', region: 'eu', baseUrl: 'http://127.0.0.1:1/' },
        { name: 'eu-2', region: 'eu', baseUrl: 'http://127.0.0.1:1/' },
        { name: 'us-1', region: 'us', baseUrl: 'http://127.0.0.1:1/' },
      ],
    },
    ...rest,
  });
  const app = await buildApi({
    config: t.config,
    store: t.store,
    dashboard: false,
    ...(extra.scheduler ? { scheduler: extra.scheduler } : {}),
    ...(extra.cache ? { cache: extra.cache } : {}),
    ...(extra.now ? { now: extra.now } : {}),
  });
  await app.ready();
  return {
    app,
    t,
    async close() {
      await app.close();
      await t.cleanup();
    },
  };
}

/** Asserts the documented error shape and a 4xx status (never 5xx); returns the body. */
export function assertClientError(res: LightMyRequestResponse, status: number, code?: string) {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body}`);
  const body = res.json() as { error: string; message: string; statusCode: number };
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'statusCode']);
  assert.equal(body.statusCode, status);
  assert.match(body.error, /^MODCAST_ERR_[A-Z_]+$/);
  assert.ok(body.message.length > 0);
  assert.doesNotMatch(body.message, /\n\s+at /, 'no stack traces in error messages');
  if (code) assert.equal(body.error, code);
  return body;
}

const HOUR = 3_600_000;

export interface SeedEvent {
  module: string;
  version: string;
  node: string;
  region: string;
  ts: number;
  cache?: 'hit' | 'miss';
}

export async function seedEvents(store: Store, token: string, events: SeedEvent[]): Promise<void> {
  const rows: AccessEventRow[] = events.map((e, i) => ({
    event_id: `${token}:${i}`,
    ts: e.ts,
    node: e.node,
    region: e.region,
    module: e.module,
    version: e.version,
    kind: 'zip',
    status: 200,
    bytes: 1000,
    duration_ms: e.cache === 'miss' ? 200 : 10,
    cache_status: e.cache ?? 'hit',
    client_hash: `c${i % 7}`,
  }));
  await new EventWriter(store).write({ token, events: rows, rejects: [] });
}

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export interface SeedPrediction {
  scope: 'node' | 'region' | 'fleet';
  scopeId: string;
  module: string;
  version: string;
  kind: string;
  /** Window start offset from asOf, in hours. */
  hour: number;
  expected: number;
  /** Window length in hours (default 1). */
  hours?: number;
  /** 'step' (default), 'horizon' or 'business'. */
  windowKind?: string;
}

/** A finished prediction run with hourly predictions. */
export async function seedPredictionRun(store: Store, runId: string, asOf: number, preds: SeedPrediction[], finishedAt = asOf + 60_000) {
  await store.client.insert({
    table: 'prediction_runs',
    format: 'JSONEachRow',
    values: [
      {
        run_id: runId,
        started_at: chTime(asOf),
        finished_at: chTime(finishedAt),
        status: 'done',
        as_of: chTime(asOf),
        horizon_hours: 24,
        step_minutes: 60,
        series: preds.length,
        predictions: preds.length,
        params: '{}',
      },
    ],
  });
  await store.client.insert({
    table: 'predictions',
    format: 'JSONEachRow',
    values: preds.map((p) => ({
      run_id: runId,
      made_at: chTime(finishedAt),
      scope: p.scope,
      scope_id: p.scopeId,
      module: p.module,
      version: p.version,
      kind: p.kind,
      window_start: chTime(asOf + p.hour * HOUR),
      window_end: chTime(asOf + (p.hour + (p.hours ?? 1)) * HOUR),
      window_kind: p.windowKind ?? 'step',
      expected_requests: p.expected,
      p_any_request: Math.min(0.99, p.expected / 10),
      lower: p.expected * 0.5,
      upper: p.expected * 1.5,
      model: 'seasonal',
      features: '{}',
    })),
  });
}
