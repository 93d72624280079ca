/**
 * Opaque page cursors: base64url of a small JSON value holding the last sort key of the page (and whatever
 * pins the listing, e.g. the prediction run), so the next page starts strictly after it and pages never
 * overlap or skip when new rows arrive.
 */
import { ModcastError, ErrorCodes } from '../errors.js';

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks its shape; a tampered or foreign cursor is a 400, never a 500. */
export function decodeCursor<T>(cursor: string, isValid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'malformed cursor: pass back the nextCursor of the previous page unchanged');
  }
  if (!isValid(value)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'malformed cursor: pass back the nextCursor of the previous page unchanged');
  return value;
}
