/** Request values that need more than a JSON schema: windows, module paths (plain or case-encoded), time anchors. */
import { parseDuration, formatDuration } from '../domain/duration.js';
import { checkModulePath, unescapeModulePath } from '../domain/module-path.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import type { Store } from '../store/client.js';
import { latestBucketEnd } from '../store/queries/top.js';

const MINUTE = 60_000;

/** A window such as `6h` within [min, max]; a multiple of 5 minutes (the finest rollup). */
export function parseWindow(text: string, bounds: { min: number; max: number }, name = 'window'): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `${name} ${JSON.stringify(text)} is not a duration such as 30m, 6h, 7d`);
  if (ms < bounds.min || ms > bounds.max)
    throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `${name} ${text} is out of range: ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}`);
  if (ms % (5 * MINUTE) !== 0) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `${name} ${text} must be a whole number of 5-minute steps`);
  return ms;
}

/**
 * A module path as a client may send it: plain (`github.com/Azure/x`) or case-encoded as in GOPROXY URLs
 * (`github.com/!azure/x`). Returns the decoded, validated path.
 */
export function parseModulePath(raw: string): string {
  let path = raw;
  if (path.includes('!')) {
    const decoded = unescapeModulePath(path);
    if (!decoded.ok) throw new ModcastError(ErrorCodes.INVALID_MODULE_PATH, `invalid case-encoded module path ${JSON.stringify(raw)}: ${decoded.reason}`);
    path = decoded.value;
  }
  const reason = checkModulePath(path);
  if (reason !== undefined) throw new ModcastError(ErrorCodes.INVALID_MODULE_PATH, reason);
  return path;
}

/** A module path prefix: decodes `!x` to `X` without requiring a whole valid path. */
export function parseModulePrefix(raw: string | undefined): string {
  if (!raw) return '';
  if (!raw.includes('!')) return raw;
  if (!/^(?:[^!]|![a-z])*$/.test(raw)) throw new ModcastError(ErrorCodes.INVALID_MODULE_PATH, `invalid case-encoded module prefix ${JSON.stringify(raw)}`);
  return raw.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** End of the newest data (or now, on an empty store): "the last hour" of a replayed trace is its last hour. */
export async function dataEnd(store: Store): Promise<Date> {
  return (await latestBucketEnd(store)) ?? new Date(Math.ceil(Date.now() / (5 * MINUTE)) * 5 * MINUTE);
}

export const DAY = 24 * 60 * MINUTE;
export const HOUR = 60 * MINUTE;
export { MINUTE };
