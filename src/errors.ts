/**
 * Every user-facing failure carries one of these codes, so logs, CLI output and API errors can be
 * searched and documented in one place.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'MODCAST_ERR_CONFIG_INVALID',
  CONFIG_FILE: 'MODCAST_ERR_CONFIG_FILE',
  STORE_LOCKED: 'MODCAST_ERR_STORE_LOCKED',
  STORE_UNAVAILABLE: 'MODCAST_ERR_STORE_UNAVAILABLE',
  MIGRATION_FAILED: 'MODCAST_ERR_MIGRATION_FAILED',
  INPUT_NOT_FOUND: 'MODCAST_ERR_INPUT_NOT_FOUND',
  FORMAT_UNKNOWN: 'MODCAST_ERR_FORMAT_UNKNOWN',
  /** A compressed input breaks off or is corrupt; what was readable before the damage is kept. */
  INPUT_DAMAGED: 'MODCAST_ERR_INPUT_DAMAGED',
  CHECKPOINT: 'MODCAST_ERR_CHECKPOINT',
  BROKER_UNAVAILABLE: 'MODCAST_ERR_BROKER_UNAVAILABLE',
  INVALID_MODULE_PATH: 'MODCAST_ERR_INVALID_MODULE_PATH',
  INVALID_ARGUMENT: 'MODCAST_ERR_INVALID_ARGUMENT',
  NODE_UNKNOWN: 'MODCAST_ERR_NODE_UNKNOWN',
  UPSTREAM: 'MODCAST_ERR_UPSTREAM',
  UNAUTHORIZED: 'MODCAST_ERR_UNAUTHORIZED',
  /** A signed webhook whose timestamp is outside the accepted window (captured and sent again later, or a bad clock). */
  HOOK_STALE: 'MODCAST_ERR_HOOK_STALE',
  /** A signed webhook (same signature or delivery id) that was already accepted. */
  HOOK_REPLAYED: 'MODCAST_ERR_HOOK_REPLAYED',
  NOT_FOUND: 'MODCAST_ERR_NOT_FOUND',
  /** The resource exists but not with this HTTP method (405, with Allow). */
  METHOD_NOT_ALLOWED: 'MODCAST_ERR_METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'MODCAST_ERR_PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'MODCAST_ERR_UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'MODCAST_ERR_RATE_LIMITED',
  /** A request took longer than its limit (HTTP ingest: api.ingestMaxSeconds). */
  REQUEST_TIMEOUT: 'MODCAST_ERR_REQUEST_TIMEOUT',
  /** HTTP ingest's spool (api.spoolMaxBytes across concurrent requests) has no room for this body now. */
  SPOOL_FULL: 'MODCAST_ERR_SPOOL_FULL',
  /** A feature the request needs is not configured here (hook secret, scheduler, Kafka). */
  NOT_CONFIGURED: 'MODCAST_ERR_NOT_CONFIGURED',
  INTERNAL: 'MODCAST_ERR_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class ModcastError extends Error {
  readonly code: ErrorCode;
  override readonly cause?: unknown;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message);
    this.name = 'ModcastError';
    this.code = code;
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
