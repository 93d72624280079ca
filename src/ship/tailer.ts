/**
 * Follows log files the way a log shipper does (Vector / Fluent Bit / Filebeat behaviour):
 * - files are found by glob patterns, polled, and may not exist yet;
 * - a file is identified by its content, not its name: node + fingerprint of its first line. A rename (rotation)
 *   keeps the identity; so does the copy of a copytruncate rotation, which lets the tailer finish the copy from where
 *   it was in the original; the truncated original gets a new first line and so a new identity;
 * - an open file is followed through renames; a file no longer matched (renamed away, deleted) is read to its end
 *   and closed once idle; with several files to read, the oldest (mtime) goes first, so a rotated file is finished
 *   before the new one is read;
 * - `.gz` files (compressed rotations) are read once: their checkpoint marks them done;
 * - only complete lines are handed out (a partial last line waits for its newline, except at the end of a .gz or of
 *   a file that went away);
 * - reading is pulled by the caller (`next`), so a slow consumer simply stops the reading: bounded memory.
 * Positions become checkpoints only when the caller acknowledges them (after the broker acknowledged the lines).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../lib/logger.js';
import { CheckpointStore, type FileIdentity } from '../lib/checkpoint.js';
import { firstLineFingerprint, gzHead, logSourceId, plainHead, readHead } from '../lib/log-source.js';
import { gunzipFile, damagedInputError, type GzDamage } from '../lib/gunzip.js';
import { LineSplitter, type LineRecord } from '../logs/lines.js';
import { expandGlob } from './glob.js';

export interface TailerOptions {
  /** Glob patterns (wildcards in any path segment, no `**`). Include rotated names (`access.log*`) to follow them. */
  patterns: string[];
  node: string;
  checkpoints: CheckpointStore;
  /** How often files are looked for and checked for rotation. */
  pollMs?: number;
  /** Bytes read per read call. */
  chunkBytes?: number;
  maxLineBytes?: number;
  /** An idle file (no new bytes) is closed after this long; one renamed away or deleted is then finished. */
  idleCloseMs?: number;
  logger?: Logger;
}

export interface TailedSource {
  /** Stable id: node + first-line fingerprint. Goes into event ids and Kafka messages. */
  readonly src: string;
  readonly identity: FileIdentity;
  /** The path it was last seen under. */
  readonly path: string;
}

export interface TailChunk {
  source: TailedSource;
  /** Complete lines, in order (the last may be `partial` at the end of a finished file). */
  lines: LineRecord[];
  /** Offset just after the last line: the checkpoint once these lines are acknowledged. */
  end: number;
  /** The source is damaged right after these lines: a `partial` last line is cut short, not a record (why). */
  damaged?: string;
}

interface Candidate {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  gz: boolean;
}

interface GzReader {
  iterator: AsyncGenerator<Buffer>;
  splitter: LineSplitter;
  /** Set when the file turned out damaged: where it breaks. */
  damage?: GzDamage;
}

interface Tracked extends TailedSource {
  path: string;
  key: string;
  handle?: FileHandle;
  handleIno?: number;
  handleDev?: number;
  gz?: GzReader;
  /** A .gz file read to its end: nothing more will come from this source. */
  done: boolean;
  readOffset: number;
  ackedOffset: number;
  /** Size of what is being read (plain file size; for a .gz, its uncompressed size when known). */
  size: number;
  mtimeMs: number;
  lastDataAt: number;
  /** The open file is still visible under a matched path. */
  visible: boolean;
  candidates: Candidate[];
}

/** A .gz trailer's ISIZE: uncompressed size modulo 2^32 (of its last member). */
async function gzSizeMod32(path: string, size: number): Promise<number | undefined> {
  if (size < 18) return undefined;
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    await handle.read(buf, 0, 4, size - 4);
    return buf.readUInt32LE(0);
  } finally {
    await handle.close();
  }
}

export class Tailer {
  private readonly tracked = new Map<string, Tracked>();
  /** Fingerprints of .gz files by dev:ino:size:mtime (they do not change; decompressing once is enough). */
  private readonly gzHeads = new Map<string, { fingerprint: string; bytes: number } | null>();
  private lastScan = 0;
  private readonly pollMs: number;
  private readonly chunkBytes: number;
  private readonly maxLineBytes: number;
  private readonly idleCloseMs: number;

  constructor(private readonly options: TailerOptions) {
    this.pollMs = options.pollMs ?? 250;
    this.chunkBytes = options.chunkBytes ?? 256 * 1024;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.idleCloseMs = options.idleCloseMs ?? 30_000;
  }

  /**
   * Bytes in the matched files not yet acknowledged (the lag metric), measured now: it keeps growing while the
   * caller is stuck (broker down) and reads nothing. Read-only, so it may run beside `next`.
   */
  async lagBytes(): Promise<number> {
    let lag = 0;
    const known = new Set<string>();
    for (const t of this.tracked.values()) {
      for (const c of t.candidates) known.add(c.path);
      known.add(t.path);
      if (t.done) continue;
      const size = t.path.endsWith('.gz') ? t.size : await currentSize(t);
      lag += Math.max(0, size - t.ackedOffset);
    }
    // Files that appeared since the last scan (a rotation while stuck) are all lag.
    for (const pattern of this.options.patterns) {
      for (const path of await expandGlob(pattern)) {
        if (known.has(path)) continue;
        known.add(path);
        lag += (await stat(path).catch(() => undefined))?.size ?? 0;
      }
    }
    return lag;
  }

  sources(): TailedSource[] {
    return [...this.tracked.values()];
  }

  /**
   * The next chunk of complete lines, waiting for data up to `waitMs`; undefined when none came (or on abort).
   */
  async next(waitMs: number, signal?: AbortSignal): Promise<TailChunk | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (signal?.aborted) return undefined;
      if (Date.now() - this.lastScan >= this.pollMs) await this.scan();
      const order = [...this.tracked.values()].filter((t) => !t.done).sort((a, b) => a.mtimeMs - b.mtimeMs);
      for (const t of order) {
        const chunk = await this.read(t);
        if (chunk) return chunk;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(left, this.pollMs), undefined, signal ? { signal } : undefined).catch(() => undefined);
    }
  }

  /** Records that everything before `end` in `source` is safely delivered. */
  acknowledge(source: TailedSource, end: number): void {
    const t = this.tracked.get(source.src);
    if (t) t.ackedOffset = Math.max(t.ackedOffset, end);
    this.options.checkpoints.put({ key: checkpointKey(this.options.node, source.identity), identity: source.identity, offset: end, batchLines: 0 });
  }

  async close(): Promise<void> {
    for (const t of this.tracked.values()) await this.release(t);
    this.tracked.clear();
  }

  private async scan(): Promise<void> {
    this.lastScan = Date.now();
    const found = new Map<string, { identity: FileIdentity; candidates: Candidate[] }>();
    const seen = new Set<string>();
    for (const pattern of this.options.patterns) {
      for (const path of await expandGlob(pattern)) {
        if (seen.has(path)) continue;
        seen.add(path);
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue;
        const gz = path.endsWith('.gz');
        const fp = gz ? await this.gzFingerprint(path, st.dev, st.ino, st.size, st.mtimeMs) : firstLineOf(await plainHead(path));
        if (!fp) continue;
        const src = logSourceId(this.options.node, fp.fingerprint);
        const candidate: Candidate = { path, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, gz };
        const entry = found.get(src);
        if (entry) entry.candidates.push(candidate);
        else found.set(src, { identity: { dev: st.dev, ino: st.ino, fingerprint: fp.fingerprint, fingerprintBytes: fp.bytes }, candidates: [candidate] });
      }
    }
    for (const [src, { identity, candidates }] of found) {
      let t = this.tracked.get(src);
      if (!t) {
        t = this.track(src, identity, candidates);
        this.tracked.set(src, t);
      }
      t.candidates = candidates;
    }
    for (const t of [...this.tracked.values()]) {
      if (!found.has(t.src)) t.candidates = [];
      await this.check(t);
    }
  }

  private async gzFingerprint(path: string, dev: number, ino: number, size: number, mtimeMs: number) {
    const key = `${dev}:${ino}:${size}:${mtimeMs}`;
    let fp = this.gzHeads.get(key);
    if (fp === undefined) {
      const head = await gzHead(path);
      fp = (head && firstLineFingerprint(head)) ?? null;
      // An incomplete .gz (still being written) is looked at again when its size changes.
      this.gzHeads.set(key, fp);
    }
    return fp ?? undefined;
  }

  private track(src: string, identity: FileIdentity, candidates: Candidate[]): Tracked {
    const key = checkpointKey(this.options.node, identity);
    const cp = this.options.checkpoints.get(key);
    const offset = cp?.offset ?? 0;
    const first = candidates[0]!;
    const t: Tracked = {
      src,
      identity: cp?.identity ?? identity,
      path: first.path,
      key,
      done: false,
      readOffset: offset,
      ackedOffset: offset,
      size: first.gz ? offset : first.size,
      mtimeMs: first.mtimeMs,
      lastDataAt: Date.now(),
      visible: true,
      candidates,
    };
    this.options.logger?.debug({ path: first.path, src, offset }, 'following log file');
    return t;
  }

  /** Is the open file still this source (not truncated, not replaced)? Which file to read next if not? */
  private async check(t: Tracked): Promise<void> {
    if (t.done) return;
    const now = Date.now();
    if (t.handle) {
      const st = await t.handle.stat();
      const fp = firstLineOf(await readHead(t.handle));
      if (st.size >= t.readOffset && fp?.fingerprint === t.identity.fingerprint) {
        t.size = st.size;
        t.mtimeMs = st.mtimeMs;
        const visibleAs = t.candidates.find((c) => c.dev === st.dev && c.ino === st.ino);
        t.visible = visibleAs !== undefined;
        if (visibleAs) t.path = visibleAs.path;
        return;
      }
      this.options.logger?.info({ path: t.path, offset: t.readOffset, size: st.size }, 'log file truncated or replaced; continuing from its rotated copy if any');
      await this.release(t);
    }
    if (t.gz) return;
    const plain = t.candidates.filter((c) => !c.gz && c.size > t.readOffset).sort((a, b) => b.size - a.size)[0];
    const gz = t.candidates.find((c) => c.gz);
    const complete = t.candidates.some((c) => !c.gz && c.size === t.readOffset);
    if (plain) {
      t.handle = await open(plain.path, 'r');
      const st = await t.handle.stat();
      Object.assign(t, { handleDev: st.dev, handleIno: st.ino, path: plain.path, size: st.size, mtimeMs: st.mtimeMs, visible: true, lastDataAt: now });
    } else if (gz && !complete) {
      const isize = await gzSizeMod32(gz.path, gz.size).catch(() => undefined);
      // Already read up to the compressed copy's end (as the plain file it was made from): done, no decompression.
      if (t.readOffset > 0 && isize !== undefined && t.readOffset % 2 ** 32 === isize) t.done = true;
      else {
        t.path = gz.path;
        t.mtimeMs = gz.mtimeMs;
      }
    } else if (t.candidates.length === 0 && now - t.lastDataAt > this.idleCloseMs) {
      if (t.ackedOffset < t.size) this.options.logger?.warn({ path: t.path, offset: t.readOffset, size: t.size }, 'log file gone before it was fully shipped (its rotated copy is not matched by the patterns?)');
      this.tracked.delete(t.src);
    }
  }

  private async release(t: Tracked): Promise<void> {
    await t.handle?.close().catch(() => undefined);
    t.handle = undefined;
    if (t.gz) {
      // Ends the generator: its finally closes the file and the decompressor.
      await t.gz.iterator.return(undefined).catch(() => undefined);
      t.gz = undefined;
    }
  }

  private async read(t: Tracked): Promise<TailChunk | undefined> {
    if (t.handle) return this.readPlain(t, t.handle);
    if (!t.gz && t.path.endsWith('.gz') && t.candidates.some((c) => c.gz && c.path === t.path)) this.openGz(t);
    if (t.gz) return this.readGz(t, t.gz);
    return undefined;
  }

  private async readPlain(t: Tracked, handle: FileHandle): Promise<TailChunk | undefined> {
    const st = await handle.stat();
    const now = Date.now();
    if (st.size < t.size) {
      // Shrunk since last seen: truncated (copytruncate). The next scan decides where this source continues.
      await this.release(t);
      this.lastScan = 0;
      return undefined;
    }
    if (st.size <= t.readOffset) {
      if (now - t.lastDataAt > this.idleCloseMs) {
        // Idle: close. A file that went away is finished (its unterminated last line included); a visible one is
        // opened again when it grows.
        const final = !t.visible ? await this.finalLine(t, handle) : undefined;
        await this.release(t);
        return final;
      }
      return undefined;
    }
    const splitter = new LineSplitter({ startOffset: t.readOffset, maxLineBytes: this.maxLineBytes });
    let pos = t.readOffset;
    let lines: LineRecord[] = [];
    while (lines.length === 0) {
      const buf = Buffer.allocUnsafe(this.chunkBytes);
      const { bytesRead } = await handle.read(buf, 0, this.chunkBytes, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      lines = splitter.push(buf.subarray(0, bytesRead));
    }
    if (lines.length === 0) {
      if (!t.visible && now - t.lastDataAt > this.idleCloseMs) return this.finalLine(t, handle);
      return undefined;
    }
    // Still this source's content? A copytruncate between the last check and this read, with the file grown past
    // our offset again, would otherwise hand out the new content cut at the old offset. Checked after the read, so
    // a truncation during it is caught too; the next scan continues in the rotated copy.
    if (firstLineOf(await readHead(handle))?.fingerprint !== t.identity.fingerprint) {
      await this.release(t);
      this.lastScan = 0;
      return undefined;
    }
    t.size = Math.max(t.size, st.size);
    t.lastDataAt = now;
    return this.emit(t, lines);
  }

  /** The unterminated last line of a file that went away. */
  private async finalLine(t: Tracked, handle: FileHandle): Promise<TailChunk | undefined> {
    const st = await handle.stat();
    if (st.size <= t.readOffset) return undefined;
    const splitter = new LineSplitter({ startOffset: t.readOffset, maxLineBytes: this.maxLineBytes });
    for (let pos = t.readOffset; pos < st.size; ) {
      const buf = Buffer.allocUnsafe(Math.min(this.chunkBytes, st.size - pos));
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      splitter.push(buf.subarray(0, bytesRead));
    }
    const lines = splitter.flush();
    return lines.length > 0 ? this.emit(t, lines) : undefined;
  }

  private openGz(t: Tracked): void {
    const gz: GzReader = {
      iterator: gunzipFile(t.path, t.readOffset, (d) => (gz.damage = d)),
      splitter: new LineSplitter({ startOffset: t.readOffset, maxLineBytes: this.maxLineBytes }),
    };
    t.gz = gz;
  }

  private async readGz(t: Tracked, gz: GzReader): Promise<TailChunk | undefined> {
    let lines: LineRecord[] = [];
    try {
      while (lines.length === 0) {
        const r = await gz.iterator.next();
        if (r.done) {
          lines = gz.splitter.flush();
          t.done = true;
          break;
        }
        lines = gz.splitter.push(r.value);
      }
    } catch (e) {
      this.options.logger?.error({ path: t.path, offset: t.readOffset, err: (e as Error).message }, 'cannot read rotated log file; it is skipped from here');
      t.done = true;
    }
    const damage = gz.damage;
    if (damage) {
      // Everything readable is shipped (the cut last line as a reject) and the file is checkpointed as done.
      const err = damagedInputError(t.path, damage);
      this.options.logger?.error({ code: err.code, path: t.path, decompressed: damage.decompressed, compressed: damage.compressed, size: damage.size }, err.message);
    }
    if (t.done) await this.release(t);
    if (lines.length === 0) return undefined;
    t.lastDataAt = Date.now();
    const chunk = this.emit(t, lines);
    if (damage) chunk.damaged = `line cut short where the file is damaged (${damage.reason})`;
    t.size = Math.max(t.size, t.readOffset);
    return chunk;
  }

  private emit(t: Tracked, lines: LineRecord[]): TailChunk {
    const end = lines[lines.length - 1]!.end;
    t.readOffset = end;
    return { source: { src: t.src, identity: t.identity, path: t.path }, lines, end };
  }
}

/** Size of the open file, else of the file at its path, else the last size seen. */
async function currentSize(t: Tracked): Promise<number> {
  const st = (await t.handle?.stat().catch(() => undefined)) ?? (await stat(t.path).catch(() => undefined));
  return st?.size ?? t.size;
}

function firstLineOf(head: Buffer | undefined) {
  return head ? firstLineFingerprint(head) : undefined;
}

export function checkpointKey(node: string, identity: Pick<FileIdentity, 'fingerprint'>): string {
  return `ship:${node}:${identity.fingerprint}`;
}
