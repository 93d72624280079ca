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
import { ModcastError, ErrorCodes } from '../errors.js';

export interface SpoolOptions {
  dir: string;
  gzip: boolean;
  /** Limit of the body as sent. */
  maxWireBytes: number;
  /** Limit after decompression. */
  maxBytes: number;
}

export interface SpooledBody {
  path: string;
  /** Bytes after decompression. */
  bytes: number;
  /** sha256 (hex) of the decompressed bytes. */
  sha256: string;
  remove(): Promise<void>;
}

const tooLarge = (what: string, limit: number) =>
  new ModcastError(ErrorCodes.PAYLOAD_TOO_LARGE, `${what} exceeds ${limit} bytes; split it into smaller requests`);

/** Passes bytes through, failing once more than `limit` went by. */
function byteLimit(limit: number, what: string, onChunk?: (chunk: Buffer) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) return cb(tooLarge(what, limit));
      onChunk?.(chunk);
      cb(null, chunk);
    },
  });
}

export async function spoolBody(body: Readable, opts: SpoolOptions): Promise<SpooledBody> {
  await mkdir(opts.dir, { recursive: true });
  const path = join(opts.dir, `ingest-${randomUUID()}.body`);
  const hash = createHash('sha256');
  let bytes = 0;
  const remove = () => rm(path, { force: true });
  // Read the request without destroying it on failure: destroying it would close the socket before the 4xx is sent.
  const source = body.iterator({ destroyOnReturn: false });
  const stages: NodeJS.ReadWriteStream[] = [byteLimit(opts.maxWireBytes, opts.gzip ? 'the compressed body' : 'the body')];
  if (opts.gzip) {
    const gunzip = createGunzip();
    stages.push(gunzip);
  }
  stages.push(
    byteLimit(opts.maxBytes, 'the decompressed body', (c) => {
      bytes += c.length;
      hash.update(c);
    }),
  );
  try {
    await pipeline(source, ...(stages as [Transform]), createWriteStream(path));
  } catch (e) {
    await remove();
    if (e instanceof ModcastError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (opts.gzip && code.startsWith('Z_'))
      throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `the body is not valid gzip (${(e as Error).message})`);
    throw e;
  }
  return { path, bytes, sha256: hash.digest('hex'), remove };
}
