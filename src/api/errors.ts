/**
 * One error shape for every API failure: `{ error, message, statusCode }`, where `error` is a stable
 * MODCAST_ERR_* code. Validation failures are 400s; anything unexpected is a 500 whose body names the request
 * id only: stack traces and internal messages go to the log, never to the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiInstance } from './context.js';
import { ModcastError, ErrorCodes, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: string;
  message: string;
  statusCode: number;
}

/** A ModcastError that also says which HTTP status it is. */
export class ApiError extends ModcastError {
  readonly statusCode: number;
  constructor(statusCode: number, code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.statusCode = statusCode;
  }
}

export const badRequest = (message: string, code: ErrorCode = ErrorCodes.INVALID_ARGUMENT) => new ApiError(400, code, message);
export const notFound = (message: string) => new ApiError(404, ErrorCodes.NOT_FOUND, message);
export const unauthorized = (message: string) => new ApiError(401, ErrorCodes.UNAUTHORIZED, message);
/** A node or region that is not in fleet.nodes: a resource that does not exist here. */
export const unknownNode = (message: string) => new ApiError(404, ErrorCodes.NODE_UNKNOWN, message);
export const notConfigured = (message: string) => new ApiError(503, ErrorCodes.NOT_CONFIGURED, message);

/** HTTP status of a ModcastError thrown below the API (store, pipeline, scheduler). */
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.INVALID_MODULE_PATH]: 400,
  [ErrorCodes.FORMAT_UNKNOWN]: 400,
  [ErrorCodes.NODE_UNKNOWN]: 404,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.HOOK_STALE]: 401,
  [ErrorCodes.HOOK_REPLAYED]: 409,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.REQUEST_TIMEOUT]: 408,
  [ErrorCodes.SPOOL_FULL]: 507,
  [ErrorCodes.STORE_UNAVAILABLE]: 503,
  [ErrorCodes.STORE_LOCKED]: 503,
  [ErrorCodes.BROKER_UNAVAILABLE]: 503,
  [ErrorCodes.NOT_CONFIGURED]: 503,
  [ErrorCodes.UPSTREAM]: 502,
};

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

export function toErrorBody(err: unknown, requestId: string): ErrorBody {
  if (err instanceof ApiError) return { error: err.code, message: err.message, statusCode: err.statusCode };
  if (err instanceof ModcastError) {
    const statusCode = STATUS_OF_CODE[err.code] ?? 500;
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

export function installErrorHandlers(app: ApiInstance): void {
  // Methods per route pattern, to tell "no such resource" (404) from "not with this method" (405 + Allow).
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ pattern: routePattern(r.url), method: method.toUpperCase() });
  });
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(err, request.id);
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ error: body.error, statusCode: body.statusCode, msg2: body.message }, 'request rejected');
    // The body may be left unread (a refused upload): close, or the client blocks sending it.
    if ([408, 413, 415, 507].includes(body.statusCode)) void reply.header('connection', 'close');
    return reply.status(body.statusCode).send(body);
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
