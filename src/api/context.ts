/** What the API's routes are given: built once in server.ts, shared by every route plugin. */
import type { FastifyInstance, FastifyBaseLogger, RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import type { Authenticator } from './auth.js';
import type { PredictionRunCache } from './cache.js';

/** Options of a warm-up asked for over the API. */
export interface WarmupRequest {
  node?: string;
  region?: string;
  dryRun: boolean;
  maxItems?: number;
  maxBytes?: number;
  trigger: 'api';
}

/** The part of the scheduler (src/scheduler) the API calls. */
export interface WarmupScheduler {
  triggerWarmup(opts: WarmupRequest): Promise<unknown>;
  onReleaseEvent(module: string, version: string): Promise<unknown>;
}

/** Resolves when the broker is reachable, rejects with the reason otherwise. */
export type KafkaHealthCheck = () => Promise<void>;

export interface ApiContext {
  config: Config;
  store: Store;
  auth: Authenticator;
  /** The newest prediction run and what routes computed from finished runs (see cache.ts). */
  runs: PredictionRunCache;
  scheduler?: WarmupScheduler | undefined;
  kafkaHealth?: KafkaHealthCheck | undefined;
  /** Salt of client address hashes for HTTP ingest. */
  clientSalt: string;
  /** Wall clock (ms): webhook timestamps are checked against it; windows "before now" end at it. */
  now: () => number;
}

export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export type RoutePlugin = (app: ApiInstance, ctx: ApiContext) => Promise<void>;
