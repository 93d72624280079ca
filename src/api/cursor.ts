/**
 * Page cursors: the last sort key of the page (and whatever pins the listing, e.g. the prediction run), so the next
 * page starts strictly after it and pages never overlap or skip when new rows arrive.
 *
 * The format is documented and checkable by a pattern (docs/api.md, the OpenAPI document): one field per key part,
 * separated by `.`; a text field is the base64url of its UTF-8 bytes, a number field is decimal digits. Every
 * string of that shape decodes to some position, so a request the schema admits is never refused as malformed.
 */
import { ModcastError, ErrorCodes } from '../errors.js';

export type CursorField = 'text' | 'int';

const FIELD_PATTERN: Record<CursorField, string> = { text: '[A-Za-z0-9_-]{0,400}', int: '[0-9]{1,15}' };

/** The regex a cursor of these fields matches (for the schema and for decoding). */
export function cursorPattern(fields: readonly CursorField[]): string {
  return `^${fields.map((f) => FIELD_PATTERN[f]).join('\\.')}$`;
}

export function encodeCursor(values: readonly (string | number)[]): string {
  return values.map((v) => (typeof v === 'number' ? String(v) : Buffer.from(v, 'utf8').toString('base64url'))).join('.');
}

/** The key parts of a cursor of these fields, in order; a cursor of another shape is a 400. */
export function decodeCursor(cursor: string, fields: readonly CursorField[]): (string | number)[] {
  if (!new RegExp(cursorPattern(fields)).test(cursor))
    throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'malformed cursor: pass back the nextCursor of the previous page unchanged');
  return cursor.split('.').map((part, i) => (fields[i] === 'int' ? Number(part) : Buffer.from(part, 'base64url').toString('utf8')));
}
