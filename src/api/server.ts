/**
 * The HTTP API: a fastify app built from injected dependencies, so `modcast serve`, tests and other roles
 * assemble it the same way. Security defaults: tokens for writes (and optionally reads), rate limiting,
 * helmet headers with a CSP that allows only same-origin scripts, no CORS unless origins are configured,
 * request logs without credentials.
 */
import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { clientSalt as loadClientSalt } from '../lib/salt.js';
import { createAuthenticator } from './auth.js';
import { PredictionRunCache, DEFAULT_API_CACHE, type ApiCacheOptions } from './cache.js';
import { installHttpMetrics } from './http-metrics.js';
import { ErrorBody } from './schemas.js';
import type { ApiContext, ApiInstance, KafkaHealthCheck, RoutePlugin, WarmupScheduler } from './context.js';
import { ModcastError, ErrorCodes, type ErrorCode } from '../errors.js';
import { healthRoutes } from './routes/health.js';
import { forecastRoutes } from './routes/forecasts.js';
import { moduleRoutes, HOTNESS_DOC_URL } from './routes/modules.js';
import { topRoutes } from './routes/top.js';
import { warmupRoutes } from './routes/warmups.js';
import { ingestRoutes } from './routes/ingest.js';
import { hookRoutes } from './routes/hooks.js';
import { statsRoutes } from './routes/stats.js';
import { dashboardRoutes, type DashboardOptions } from './dashboard.js';

export type { WarmupScheduler, KafkaHealthCheck, ApiInstance } from './context.js';

export interface ApiDeps {
  config: Config;
  store: Store;
  logger?: Logger;
  scheduler?: WarmupScheduler;
  kafkaHealth?: KafkaHealthCheck;
  /** Salt of client hashes for HTTP ingest; default: the configured or per-data-dir salt. */
  clientSalt?: string;
  /** The built-in dashboard at `/`; false = not served. */
  dashboard?: DashboardOptions | false;
  /**
   * The run cache, when the caller must reach it (serve invalidates it when its scoring job finishes); else one is
   * made with `cache` options.
   */
  runCache?: PredictionRunCache;
  cache?: Partial<ApiCacheOptions>;
  /** Wall clock (ms) for webhook timestamps and windows before now; default Date.now. */
  now?: () => number;
}

/** Every resource, one plugin each; encapsulated so content-type parsers stay per route. */
const ROUTES: RoutePlugin[] = [healthRoutes, forecastRoutes, moduleRoutes, topRoutes, warmupRoutes, ingestRoutes, hookRoutes, statsRoutes];

/** Largest JSON body of the ordinary routes (ingest and hooks set their own). */
const JSON_BODY_LIMIT = 64 * 1024;

export const API_VERSION = '1.0.0';

/** Lowercase host (first label of 6+ characters) and 1–4 elements of 4–40 characters ending in a letter. */
export const MODULE_PATH_DOC_PATTERN = '^[a-z][a-z0-9-]{5,30}(?:\\.[a-z][a-z0-9-]{1,30})+(?:/[a-z][a-z0-9_-]{2,38}[a-z]){1,4}$';

export interface RouteInfo {
  method: string;
  url: string;
  /** Left out of the OpenAPI document (static files, Swagger UI's own routes). */
  hidden: boolean;
}
const registered = new WeakMap<object, RouteInfo[]>();

/** Every route the app registered, for the contract test against the OpenAPI document. */
export function routesOf(app: ApiInstance): RouteInfo[] {
  return [...(registered.get(app) ?? [])];
}

export async function buildApi(deps: ApiDeps): Promise<ApiInstance> {
  const { config } = deps;
  const logger = (deps.logger ?? createLogger(config.logLevel)).child({ component: 'api' });
  const ctx: ApiContext = {
    config,
    store: deps.store,
    auth: createAuthenticator(config.api),
    runs: deps.runCache ?? new PredictionRunCache(deps.store, { ...DEFAULT_API_CACHE, ...deps.cache }),
    scheduler: deps.scheduler,
    kafkaHealth: deps.kafkaHealth,
    clientSalt: deps.clientSalt ?? loadClientSalt(config),
    now: deps.now ?? Date.now,
  };

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    // One log line per request (installRequestLog) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Router-level failures (over-long params, malformed URLs) get the same error shape as the rest.
    frameworkErrors: (err, req, reply) => {
      const body = toErrorBody(err, req.id);
      void (reply as FastifyReply).code(body.statusCode).send(body);
    },
    // removeAdditional off: an unknown parameter or body field is refused, not silently dropped.
    ajv: { customOptions: { coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiInstance;

  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, hidden: Boolean((r.schema as { hide?: boolean } | undefined)?.hide) });
  });
  registered.set(app, routes);

  installErrorHandlers(app);
  app.addSchema(ErrorBody);
  installHttpMetrics(app);

  installSecurityHeaders(app, helmetHeaders());
  installRequestLog(app);

  await app.register(rateLimit, {
    global: true,
    max: config.api.rateLimitPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, rl) =>
      new ModcastError(ErrorCodes.RATE_LIMITED, `rate limit of ${rl.max} requests per minute exceeded; retry in ${rl.after}`),
  });

  installCors(app, config.api.corsOrigins);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'modcast API',
        version: API_VERSION,
        description:
          'Forecasts, module hotness and warm-up results of modcast. Errors always have the shape ' +
          '`{ error, message, statusCode }` (see ErrorBody).',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'forecasts' }, { name: 'modules' }, { name: 'warm-ups' }, { name: 'ingest' }, { name: 'hooks' },
        { name: 'stats', description: 'aggregates behind the dashboard' }, { name: 'health' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    // The module route is a wildcard (module paths have slashes); document it as the path it serves.
    transform: ({ schema, url }) => {
      if (url !== '/v1/modules/*') return { schema, url };
      const { params: _wildcard, ...rest } = schema as Record<string, unknown>;
      return {
        schema: {
          ...rest,
          params: {
            type: 'object',
            properties: {
              module: {
                type: 'string',
                // A conservative form that is always a valid module path (no Windows-reserved or major-version
                // elements): generated requests stay valid. Other valid paths (capitals, `!`-encoded, percent-encoded,
                // short elements, gopkg.in) are served too; an invalid one is 400 MODCAST_ERR_INVALID_MODULE_PATH.
                pattern: MODULE_PATH_DOC_PATTERN,
                example: 'github.com/acme/widgets',
                description:
                  'Go module path, plain (`github.com/Azure/x`), case-encoded (`github.com/!azure/x`) or percent-encoded; the ' +
                  'pattern shows the common lowercase form',
              },
            },
            required: ['module'],
          },
        } as typeof schema,
        url: HOTNESS_DOC_URL,
      };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false } });

  for (const plugin of ROUTES) await app.register(async (child) => plugin(child, ctx));
  if (deps.dashboard !== false) await app.register(async (child) => dashboardRoutes(child, deps.dashboard || {}));

  return app;
}

/** Code of a 4xx raised by fastify itself or a plugin (body limits, media types, JSON syntax). */
function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
    case 403:
      return ErrorCodes.UNAUTHORIZED;
    case 404:
      return ErrorCodes.NOT_FOUND;
    case 413:
      return ErrorCodes.PAYLOAD_TOO_LARGE;
    case 415:
      return ErrorCodes.UNSUPPORTED_MEDIA_TYPE;
    case 429:
      return ErrorCodes.RATE_LIMITED;
    default:
      return ErrorCodes.INVALID_ARGUMENT;
  }
}

/**
 * Validation failures are 400s; a ModcastError answers with its code's status; anything unexpected is a 500 whose
 * body names the request id only: stack traces and internal messages go to the log, never to the client.
 */
function toErrorBody(err: unknown, requestId: string): Static<typeof ErrorBody> {
  if (err instanceof ModcastError) {
    const { statusCode } = err;
    if (statusCode < 500 || statusCode === 503 || statusCode === 502 || statusCode === 507) return { error: err.code, message: err.message, statusCode };
  }
  const fe = err as Partial<FastifyError> | undefined;
  if (fe?.validation) {
    return { error: ErrorCodes.INVALID_ARGUMENT, message: `invalid request: ${fe.message ?? fe.validationContext ?? ''}`, statusCode: 400 };
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) return { error: codeOfStatus(status), message: fe?.message ?? 'bad request', statusCode: status };
  return { error: ErrorCodes.INTERNAL, message: `internal error (request ${requestId}; details are in the server log)`, statusCode: 500 };
}

/** `/v1/warmups/:runId` → a regex of the concrete paths it serves (`*` = the rest of the path). */
function routePattern(url: string): RegExp {
  const escaped = url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function installErrorHandlers(app: ApiInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(err, request.id);
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ error: body.error, statusCode: body.statusCode, msg2: body.message }, 'request rejected');
    // The body may be left unread (a refused upload): close, or the client blocks sending it.
    if ([408, 413, 415, 507].includes(body.statusCode)) void reply.header('connection', 'close');
    return reply.status(body.statusCode).send(body);
  });
  // Methods per route pattern, to tell "no such resource" (404) from "not with this method" (405 + Allow).
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ pattern: routePattern(r.url), method: method.toUpperCase() });
  });
  const methodNotAllowed = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
    if (allowed.length === 0) return undefined;
    return reply
      .status(405)
      .header('allow', allowed.join(', '))
      .send({ error: ErrorCodes.METHOD_NOT_ALLOWED, message: `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}`, statusCode: 405 });
  };
  // Before the body is read: a body method (QUERY, PUT) on a GET route would otherwise fail on its content type first.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.is404 && methodNotAllowed(request, reply)) return;
    done();
  });
  app.setNotFoundHandler(
    (request: FastifyRequest, reply: FastifyReply) =>
      methodNotAllowed(request, reply) ??
      reply.status(404).send({ error: ErrorCodes.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}`, statusCode: 404 }),
  );
}

/** helmet's options: its defaults plus a CSP that allows only same-origin scripts. */
const HELMET_OPTIONS: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      // ECharts tooltips and Swagger UI set style attributes; scripts stay same-origin only.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  // Plain-HTTP loopback is the default deployment; HSTS belongs to the TLS terminator in front.
  strictTransportSecurity: false,
};

/**
 * The headers helmet sets, computed once: with no per-request nonces they are the same on every response, and
 * @fastify/helmet rebuilt helmet (parsing the CSP) on every request.
 */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

function installSecurityHeaders(app: ApiInstance, headers: Record<string, string>): void {
  app.addHook('onRequest', (_req, reply, done) => {
    void reply.headers(headers);
    done();
  });
}

/** Method, URL, status and time of every request, one line each (never headers). */
function installRequestLog(app: ApiInstance): void {
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ req: { method: req.method, url: req.url }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });
}

/** CORS only for configured origins (off by default): simple requests and preflights. */
function installCors(app: ApiInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !(allowed.has(origin) || allowed.has('*'))) return;
    void reply.header('access-control-allow-origin', allowed.has('*') ? '*' : origin).header('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      await reply
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'authorization, content-type, content-encoding, idempotency-key, x-modcast-signature')
        .header('access-control-max-age', '600')
        .status(204)
        .send();
    }
  });
}
