/**
 * The identity of a log file's lines, the same for every path that reads the file (`modcast ship`, `modcast ingest
 * --file`): node + fingerprint of the file's first line, plus the line's byte offset. The first line survives what
 * logrotate does to a file (rename, copytruncate's copy, compression to .gz, whose decompressed bytes and offsets are
 * the plain file's), where device + inode do not (a copy or a .gz is a new inode). Event ids are `<source id>:<offset>`,
 * so a line read by both paths carries one id and the store keeps it once (src/store/event-writer.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { FINGERPRINT_BYTES } from './checkpoint.js';
import { gunzipFile } from './gunzip.js';

const NL = 10;

export interface LineFingerprint {
  fingerprint: string;
  /** Bytes hashed: the first line with its newline, at most FINGERPRINT_BYTES. */
  bytes: number;
}

/** Fingerprint of a file's first line (at most FINGERPRINT_BYTES); undefined until that line is complete. */
export function firstLineFingerprint(head: Buffer): LineFingerprint | undefined {
  const nl = head.indexOf(NL);
  const bytes = nl >= 0 ? nl + 1 : head.length >= FINGERPRINT_BYTES ? FINGERPRINT_BYTES : -1;
  if (bytes < 0) return undefined;
  return { fingerprint: createHash('sha256').update(head.subarray(0, bytes)).digest('hex').slice(0, 16), bytes };
}

/** The source id of a log file's lines: same first line on the same node = same source, whatever its name or inode. */
export function logSourceId(node: string, fingerprint: string): string {
  // 'ship' is the prefix shipped event ids have always had: keeping it keeps their ids.
  return createHash('sha256').update(`ship\0${node}\0${fingerprint}`).digest('hex').slice(0, 12);
}

export async function readHead(handle: FileHandle): Promise<Buffer> {
  const buf = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(buf, 0, FINGERPRINT_BYTES, 0);
  return buf.subarray(0, bytesRead);
}

/** The first bytes of a plain file; undefined when it cannot be read. */
export async function plainHead(path: string): Promise<Buffer | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    return await readHead(handle);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** The first decompressed bytes of a .gz file; undefined when it cannot be decompressed that far. */
export async function gzHead(path: string): Promise<Buffer | undefined> {
  const stream = createReadStream(path).pipe(createGunzip());
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      n += chunk.length;
      if (n >= FINGERPRINT_BYTES || chunk.includes(NL)) break;
    }
  } catch {
    return undefined;
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, FINGERPRINT_BYTES);
}

/**
 * The source id of a whole file read at once (`modcast ingest --file`, plain or .gz). A file without a complete first
 * line (a lone unterminated line, which a shipper does not read before the file is finished) is fingerprinted whole.
 */
export async function fileSourceId(node: string, path: string): Promise<string> {
  const head = (path.endsWith('.gz') ? await damagedGzHead(path) : await plainHead(path)) ?? Buffer.alloc(0);
  const fp = firstLineFingerprint(head)?.fingerprint ?? createHash('sha256').update(head).digest('hex').slice(0, 16);
  return logSourceId(node, fp);
}

/** Like gzHead, but a .gz damaged within its first bytes yields what decompresses (the ingest still reads that). */
async function damagedGzHead(path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of gunzipFile(path, 0, () => undefined)) {
    parts.push(chunk);
    n += chunk.length;
    if (n >= FINGERPRINT_BYTES || chunk.includes(NL)) break;
  }
  return Buffer.concat(parts).subarray(0, FINGERPRINT_BYTES);
}
