/**
 * Durable read positions of log sources. A checkpoint is written (atomically: temp file, fsync, rename) only
 * after the data before `offset` is safely stored or acknowledged, so a restart after `kill -9` resumes there:
 * at-least-once from the reader, exactly-once in the store through deterministic batch tokens.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, closeSync, fsyncSync, writeSync, renameSync, readFileSync, statSync, readSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModcastError, ErrorCodes } from '../errors.js';

/** Bytes hashed to recognise a file independently of its name (rotation renames, copytruncate). */
export const FINGERPRINT_BYTES = 1024;

export interface FileIdentity {
  dev: number;
  ino: number;
  /**
   * sha256 (16 hex) of the file's first `fingerprintBytes` bytes; '' for an empty file. A file ingest
   * (fileIdentity) hashes the first min(size, FINGERPRINT_BYTES) bytes; the shipper (ship/tailer.ts) hashes the
   * first line, at most FINGERPRINT_BYTES, so appending to a one-line file does not change its identity.
   */
  fingerprint: string;
  /** How many bytes the fingerprint covers (a short file's fingerprint is re-taken as it grows). */
  fingerprintBytes: number;
}

export interface Checkpoint {
  /** Source key, e.g. the absolute path or glob member. */
  key: string;
  identity: FileIdentity;
  /** Everything before this byte offset is stored/acknowledged. */
  offset: number;
  /** Lines per batch used when the checkpoint was written; a resume reuses it so batch tokens repeat exactly. */
  batchLines: number;
  updatedAt: string;
}

export function fileIdentity(path: string): FileIdentity {
  const st = statSync(path);
  const fd = openSync(path, 'r');
  try {
    const len = Math.min(st.size, FINGERPRINT_BYTES);
    const buf = Buffer.alloc(len);
    const n = len > 0 ? readSync(fd, buf, 0, len, 0) : 0;
    return {
      dev: st.dev,
      ino: st.ino,
      fingerprint: n > 0 ? createHash('sha256').update(buf.subarray(0, n)).digest('hex').slice(0, 16) : '',
      fingerprintBytes: n,
    };
  } finally {
    closeSync(fd);
  }
}

/** Same file content start? A file whose fingerprint covered fewer bytes matches on the common prefix. */
export function sameContent(a: FileIdentity, path: string): boolean {
  if (a.fingerprintBytes === 0) return true;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(a.fingerprintBytes);
    const n = readSync(fd, buf, 0, a.fingerprintBytes, 0);
    if (n < a.fingerprintBytes) return false;
    return createHash('sha256').update(buf).digest('hex').slice(0, 16) === a.fingerprint;
  } finally {
    closeSync(fd);
  }
}

export class CheckpointStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private fileFor(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);
  }

  get(key: string): Checkpoint | undefined {
    const file = this.fileFor(key);
    if (!existsSync(file)) return undefined;
    try {
      const cp = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
      if (cp.key !== key || typeof cp.offset !== 'number') throw new Error('unexpected content');
      return cp;
    } catch (e) {
      throw new ModcastError(ErrorCodes.CHECKPOINT, `checkpoint ${file} for ${key} is unreadable (${(e as Error).message}); remove it to start over`, { cause: e });
    }
  }

  put(cp: Omit<Checkpoint, 'updatedAt'>): void {
    const file = this.fileFor(cp.key);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ ...cp, updatedAt: new Date().toISOString() }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }
}
