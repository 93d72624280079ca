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
export const notConfigured = (message: string) => new ApiError(503, ErrorCodes.NOT_CONFIGURED, message);

/** HTTP status of a ModcastError thrown below the API (store, pipeline, scheduler). */
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.INVALID_MODULE_PATH]: 400,
  [ErrorCodes.FORMAT_UNKNOWN]: 400,
  [ErrorCodes.NODE_UNKNOWN]: 400,
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

export function installErrorHandlers(app: ApiInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(err, request.id);
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ error: body.error, statusCode: body.statusCode, msg2: body.message }, 'request rejected');
    // The body may be left unread (a refused upload): close, or the client blocks sending it.
    if (body.statusCode === 413 || body.statusCode === 408 || body.statusCode === 507) void reply.header('connection', 'close');
    return reply.status(body.statusCode).send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    reply.status(404).send({ error: ErrorCodes.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0]}`, statusCode: 404 }),
  );
}
