/**
 * Ingest of whole files (plain or .gz) and stdin, resumable through checkpoints.
 * The checkpoint is written after each stored batch; on restart the file is reopened at that offset (a .gz is
 * decompressed again and the stored prefix skipped) and batches are cut exactly as before.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gunzipFile, damagedInputError, type GzDamage } from '../lib/gunzip.js';
import { ingestStream, type IngestOptions, type IngestStats } from './pipeline.js';
import { CheckpointStore, fileIdentity, sameContent } from '../lib/checkpoint.js';
import { fileSourceId } from '../lib/log-source.js';
import { ModcastError, ErrorCodes } from '../errors.js';

export type FileIngestOptions = Omit<IngestOptions, 'sourceId' | 'sourceName' | 'tokenPrefix' | 'startOffset' | 'onCommitted'> & {
  checkpoints?: CheckpointStore;
  onProgress?: (stats: IngestStats, totalBytes: number | undefined) => void;
  /** Log lines a warning (file replaced since the checkpoint, etc.). */
  warn?: (message: string) => void;
};

export interface FileIngestResult extends IngestStats {
  source: string;
  resumedFrom: number;
}

export async function ingestFile(path: string, opts: FileIngestOptions): Promise<FileIngestResult> {
  if (path === '-') return ingestStdin(opts);
  const abs = resolve(path);
  if (!existsSync(abs)) throw new ModcastError(ErrorCodes.INPUT_NOT_FOUND, `input file ${path} does not exist`);
  const identity = fileIdentity(abs);
  const gz = abs.endsWith('.gz');
  const key = `file:${opts.node}:${abs}`;
  let start = 0;
  let batchLines = opts.batchLines;
  const cp = opts.checkpoints?.get(key);
  if (cp) {
    if (!sameContent(cp.identity, abs) || (!gz && cp.offset > statSync(abs).size)) {
      opts.warn?.(`${path} changed since its checkpoint (replaced or truncated); ingesting it from the start`);
    } else {
      start = cp.offset;
      batchLines = cp.batchLines;
    }
  }
  const size = gz ? undefined : statSync(abs).size;
  // The shipper's identity of these lines (node + first line), so a file both shipped and ingested is stored once.
  const id = await fileSourceId(opts.node, abs);
  let damage: GzDamage | undefined;
  let stream: AsyncIterable<Buffer>;
  if (gz) stream = gunzipFile(abs, start, (d) => (damage = d));
  else stream = createReadStream(abs, { start, highWaterMark: 256 * 1024 });
  const stats = await ingestStream(stream, {
    ...opts,
    partialReason: () => (damage ? `line cut short where the file is damaged (${damage.reason})` : undefined),
    batchLines,
    sourceId: id,
    sourceName: abs,
    tokenPrefix: `file:${id}`,
    startOffset: start,
    onCommitted: (end, s) => {
      opts.checkpoints?.put({ key, identity: cp && start > 0 ? cp.identity : identity, offset: end, batchLines });
      opts.onProgress?.(s, size);
    },
  });
  // Raised after the readable part is stored and checkpointed: a rerun resumes there and reports the same damage.
  if (damage) throw damagedInputError(abs, damage);
  return { ...stats, source: abs, resumedFrom: start };
}

async function ingestStdin(opts: FileIngestOptions): Promise<FileIngestResult> {
  // stdin cannot be re-read, so there is nothing to resume: a fresh id per run.
  const id = `stdin-${randomUUID().slice(0, 8)}`;
  const stats = await ingestStream(process.stdin, {
    ...opts,
    sourceId: id,
    sourceName: 'stdin',
    tokenPrefix: id,
    startOffset: 0,
    onCommitted: (_end, s) => opts.onProgress?.(s, undefined),
  });
  return { ...stats, source: 'stdin', resumedFrom: 0 };
}
