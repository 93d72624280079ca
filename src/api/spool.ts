/**
 * Spools a request body to a temporary file before it is parsed, so an ingest is all or nothing with respect to
 * size: a body over the wire limit, or a gzip body whose decompressed size passes the cap (a gzip bomb), is
 * refused before a single event is stored, and memory stays at one chunk whatever the body size.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ErrorCodes } from '../errors.js';
import { ApiError } from './errors.js';

export interface SpoolOptions {
  dir: string;
  gzip: boolean;
  /** Limit of the body as sent. */
  maxWireBytes: number;
  /** Limit after decompression. */
  maxBytes: number;
  /** Limit of lines after decompression, blank ones included. */
  maxLines: number;
  /** Aborts the spooling (the request's time limit). */
  signal?: AbortSignal;
}

export interface SpooledBody {
  path: string;
  /** Bytes after decompression. */
  bytes: number;
  /** sha256 (hex) of the decompressed bytes. */
  sha256: string;
  /** Lines, the last one counted also without a newline. */
  lines: number;
  remove(): Promise<void>;
}

const tooLarge = (what: string, limit: number, setting: string) =>
  new ApiError(413, ErrorCodes.PAYLOAD_TOO_LARGE, `${what} exceeds ${limit} bytes (${setting}); split it into smaller requests`);

/** Passes bytes through, failing once more than `limit` went by. */
function byteLimit(limit: number, fail: () => ApiError, onChunk?: (chunk: Buffer) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) return cb(fail());
      if (onChunk) {
        try {
          onChunk(chunk);
        } catch (e) {
          return cb(e as Error);
        }
      }
      cb(null, chunk);
    },
  });
}

/** Newlines in `chunk`, stopping once past `stopAfter` (the scan of a body of newlines ends at the cap). */
function countNewlines(chunk: Buffer, stopAfter: number): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i >= 0 && n <= stopAfter; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

export async function spoolBody(body: Readable, opts: SpoolOptions): Promise<SpooledBody> {
  await mkdir(opts.dir, { recursive: true });
  const path = join(opts.dir, `ingest-${randomUUID()}.body`);
  const hash = createHash('sha256');
  let bytes = 0;
  let newlines = 0;
  let lastByte = 10;
  const remove = () => rm(path, { force: true });
  // Read the request without destroying it on failure: destroying it would close the socket before the 4xx is sent.
  const source = body.iterator({ destroyOnReturn: false });
  const stages: NodeJS.ReadWriteStream[] = [
    byteLimit(opts.maxWireBytes, () => tooLarge(opts.gzip ? 'the compressed body' : 'the body', opts.maxWireBytes, 'api.bodyLimitBytes')),
  ];
  if (opts.gzip) {
    const gunzip = createGunzip();
    stages.push(gunzip);
  }
  stages.push(
    byteLimit(opts.maxBytes, () => tooLarge('the decompressed body', opts.maxBytes, 'api.ingestMaxBytes'), (c) => {
      bytes += c.length;
      newlines += countNewlines(c, opts.maxLines - newlines);
      if (c.length > 0) lastByte = c[c.length - 1] as number;
      // Blank lines count: parsing a body of newlines costs per line, not per byte.
      if (newlines > opts.maxLines)
        throw new ApiError(413, ErrorCodes.PAYLOAD_TOO_LARGE, `the body has more than ${opts.maxLines} lines, blank ones included (api.ingestMaxLines); split it into smaller requests`);
      hash.update(c);
    }),
  );
  try {
    await pipeline(source, ...(stages as [Transform]), createWriteStream(path), { signal: opts.signal ?? new AbortController().signal });
  } catch (e) {
    await remove();
    if (e instanceof ApiError) throw e;
    if (opts.signal?.aborted) throw opts.signal.reason instanceof ApiError ? opts.signal.reason : e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (opts.gzip && code.startsWith('Z_'))
      throw new ApiError(400, ErrorCodes.INVALID_ARGUMENT, `the body is not valid gzip (${(e as Error).message})`);
    throw e;
  }
  const lines = newlines + (lastByte === 10 ? 0 : 1);
  if (lines > opts.maxLines) {
    await remove();
    throw new ApiError(413, ErrorCodes.PAYLOAD_TOO_LARGE, `the body has more than ${opts.maxLines} lines (api.ingestMaxLines); split it into smaller requests`);
  }
  return { path, bytes, lines, sha256: hash.digest('hex'), remove };
}
