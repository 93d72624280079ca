/**
 * Every user-facing failure carries one of these codes, so logs, CLI output and API errors can be
 * searched and documented in one place. Each code names the HTTP status the API answers with when the error
 * reaches it (as fastify's own FST_ERR_* errors do); a 500 is a bug or an operator's problem, so the API shows
 * its message only in the server log.
 */
const ERRORS = {
  CONFIG_INVALID: ['MODCAST_ERR_CONFIG_INVALID', 500],
  CONFIG_FILE: ['MODCAST_ERR_CONFIG_FILE', 500],
  STORE_LOCKED: ['MODCAST_ERR_STORE_LOCKED', 503],
  STORE_UNAVAILABLE: ['MODCAST_ERR_STORE_UNAVAILABLE', 503],
  MIGRATION_FAILED: ['MODCAST_ERR_MIGRATION_FAILED', 500],
  /** An applied migration's file differs from what was applied. */
  MIGRATION_CHANGED: ['MODCAST_ERR_MIGRATION_CHANGED', 500],
  INPUT_NOT_FOUND: ['MODCAST_ERR_INPUT_NOT_FOUND', 500],
  FORMAT_UNKNOWN: ['MODCAST_ERR_FORMAT_UNKNOWN', 400],
  /** A compressed input breaks off or is corrupt; what was readable before the damage is kept. */
  INPUT_DAMAGED: ['MODCAST_ERR_INPUT_DAMAGED', 422],
  CHECKPOINT: ['MODCAST_ERR_CHECKPOINT', 500],
  BROKER_UNAVAILABLE: ['MODCAST_ERR_BROKER_UNAVAILABLE', 503],
  INVALID_MODULE_PATH: ['MODCAST_ERR_INVALID_MODULE_PATH', 400],
  INVALID_ARGUMENT: ['MODCAST_ERR_INVALID_ARGUMENT', 400],
  /** A node or region that is not in fleet.nodes: to the API a resource that does not exist. */
  NODE_UNKNOWN: ['MODCAST_ERR_NODE_UNKNOWN', 404],
  UPSTREAM: ['MODCAST_ERR_UPSTREAM', 502],
  UNAUTHORIZED: ['MODCAST_ERR_UNAUTHORIZED', 401],
  /** A signed webhook whose timestamp is outside the accepted window (captured and sent again later, or a bad clock). */
  HOOK_STALE: ['MODCAST_ERR_HOOK_STALE', 401],
  /** A signed webhook (same signature or delivery id) that was already accepted. */
  HOOK_REPLAYED: ['MODCAST_ERR_HOOK_REPLAYED', 409],
  NOT_FOUND: ['MODCAST_ERR_NOT_FOUND', 404],
  /** The resource exists but not with this HTTP method (405, with Allow). */
  METHOD_NOT_ALLOWED: ['MODCAST_ERR_METHOD_NOT_ALLOWED', 405],
  /** A request took longer than its limit (HTTP ingest: api.ingestMaxSeconds). */
  REQUEST_TIMEOUT: ['MODCAST_ERR_REQUEST_TIMEOUT', 408],
  PAYLOAD_TOO_LARGE: ['MODCAST_ERR_PAYLOAD_TOO_LARGE', 413],
  UNSUPPORTED_MEDIA_TYPE: ['MODCAST_ERR_UNSUPPORTED_MEDIA_TYPE', 415],
  RATE_LIMITED: ['MODCAST_ERR_RATE_LIMITED', 429],
  /** HTTP ingest's spool (api.spoolMaxBytes across concurrent requests) has no room for this body now. */
  SPOOL_FULL: ['MODCAST_ERR_SPOOL_FULL', 507],
  /** A feature the request needs is not configured here (hook secret, scheduler, Kafka). */
  NOT_CONFIGURED: ['MODCAST_ERR_NOT_CONFIGURED', 503],
  /** The API's listen address is taken (another modcast serve/demo, or any other server). */
  PORT_IN_USE: ['MODCAST_ERR_PORT_IN_USE', 500],
  INTERNAL: ['MODCAST_ERR_INTERNAL', 500],
} as const satisfies Record<string, readonly [`MODCAST_ERR_${string}`, number]>;

type ErrorKey = keyof typeof ERRORS;
export const ErrorCodes = Object.fromEntries(Object.entries(ERRORS).map(([k, [code]]) => [k, code])) as {
  readonly [K in ErrorKey]: (typeof ERRORS)[K][0];
};
export type ErrorCode = (typeof ErrorCodes)[ErrorKey];

const STATUS_OF_CODE = new Map<ErrorCode, number>(Object.values(ERRORS));

export class ModcastError extends Error {
  readonly code: ErrorCode;
  /** HTTP status of this error: the code's own, unless the thrower names a more exact one (422 beside 400). */
  readonly statusCode: number;
  override readonly cause?: unknown;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; statusCode?: number } = {}) {
    super(message);
    this.name = 'ModcastError';
    this.code = code;
    this.statusCode = options.statusCode ?? STATUS_OF_CODE.get(code) ?? 500;
    this.cause = options.cause;
  }
}

export function isModcastError(e: unknown, code?: ErrorCode): e is ModcastError {
  return e instanceof ModcastError && (code === undefined || e.code === code);
}

/** A message safe to show a user: the error's own message, never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof ModcastError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
