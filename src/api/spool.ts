/**
 * Spools a request body to a temporary file before it is parsed, so an ingest is all or nothing with respect to
 * size: a body over the wire limit, or a gzip body whose decompressed size passes the cap (a gzip bomb), is
 * refused before a single event is stored, and memory stays at one chunk whatever the body size.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ModcastError, ErrorCodes } from '../errors.js';

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
  /** Disk shared with the other requests spooling at the same time. */
  budget?: SpoolBudget;
}

/**
 * Bytes all spooled bodies of this process may hold on disk at once: each request takes its bytes as they are
 * written and gives them back when its file is removed, so concurrent uploads cannot fill the disk between them.
 */
export class SpoolBudget {
  private used = 0;
  constructor(readonly maxBytes: number) {}
  get inUse(): number {
    return this.used;
  }
  take(n: number): void {
    if (this.used + n > this.maxBytes)
      throw new ModcastError(
        ErrorCodes.SPOOL_FULL,
        `the ingest spool is full (${this.maxBytes} bytes across concurrent requests, api.spoolMaxBytes); retry later or send smaller bodies`,
      );
    this.used += n;
  }
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/**
 * Removes spool files left by a process that died mid-request. Only files older than `olderThanMs` go: no live
 * request (bounded by api.ingestMaxSeconds) can own one, so another process sharing the directory loses nothing.
 */
export async function sweepSpool(dir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!/^ingest-[0-9a-f-]{36}\.body$/.test(name)) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st || now - st.mtimeMs <= olderThanMs) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
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
  new ModcastError(ErrorCodes.PAYLOAD_TOO_LARGE, `${what} exceeds ${limit} bytes (${setting}); split it into smaller requests`);

/** Passes bytes through, failing once more than `limit` went by. */
function byteLimit(limit: number, fail: () => ModcastError, onChunk?: (chunk: Buffer) => void): Transform {
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
  let taken = 0;
  const remove = async () => {
    await rm(path, { force: true });
    opts.budget?.release(taken);
    taken = 0;
  };
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
      opts.budget?.take(c.length);
      taken += c.length;
      bytes += c.length;
      newlines += countNewlines(c, opts.maxLines - newlines);
      if (c.length > 0) lastByte = c[c.length - 1] as number;
      // Blank lines count: parsing a body of newlines costs per line, not per byte.
      if (newlines > opts.maxLines)
        throw new ModcastError(ErrorCodes.PAYLOAD_TOO_LARGE, `the body has more than ${opts.maxLines} lines, blank ones included (api.ingestMaxLines); split it into smaller requests`);
      hash.update(c);
    }),
  );
  try {
    await pipeline(source, ...(stages as [Transform]), createWriteStream(path), { signal: opts.signal ?? new AbortController().signal });
  } catch (e) {
    await remove();
    if (e instanceof ModcastError) throw e;
    if (opts.signal?.aborted) throw opts.signal.reason instanceof ModcastError ? opts.signal.reason : e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (opts.gzip && code.startsWith('Z_'))
      throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `the body is not valid gzip (${(e as Error).message})`);
    throw e;
  }
  const lines = newlines + (lastByte === 10 ? 0 : 1);
  if (lines > opts.maxLines) {
    await remove();
    throw new ModcastError(ErrorCodes.PAYLOAD_TOO_LARGE, `the body has more than ${opts.maxLines} lines (api.ingestMaxLines); split it into smaller requests`);
  }
  return { path, bytes, lines, sha256: hash.digest('hex'), remove };
}
