/**
 * Proxy access logs as a backtest trace, without a store or a broker: each log file is read by the ingest's own path
 * (format detection, parsers, GOPROXY classification, rejects, damaged .gz), and the requests of every file are merged
 * into one stream in time order. What `modcast trace` writes and `modcast backtest --trace` reads.
 *
 * A log is only nearly in time order: a server writes a line when a request ends, stamped with its start, so a long
 * download lands after shorter ones that started later. Each file's requests pass a reorder window; a request later
 * than that is counted as late and left out (the summary says how many), never silently.
 *
 * Memory is bounded: a file's reader waits while its queue holds `queueRows` requests.
 */
import type { TraceRequest } from '../domain/backtest/replay.js';
import type { WriteBatch } from '../store/event-writer.js';
import type { AccessEventRow } from '../store/event-rows.js';
import type { LogFormat } from '../logs/parser.js';
import type { WebPaths } from '../logs/to-event.js';
import { ingestFile } from '../ingest/file-ingest.js';
import type { BatchSink } from '../ingest/pipeline.js';

export interface LogTraceSource {
  path: string;
  node: string;
  /** Region of the node; none when the trace has no regions. */
  region?: string;
}

export interface LogTraceOptions {
  format: LogFormat | 'auto';
  pathPrefixes: readonly string[];
  /** Read web logs: every path is an item (see EventBuilderOptions.webPaths). */
  webPaths?: WebPaths;
  maxLineBytes: number;
  /** How far a file's lines may be out of time order, in ms (default 5 minutes). */
  reorderMs?: number;
  /** Requests held per file before its reader waits (default 100,000). */
  queueRows?: number;
  /** Lines parsed per batch (default 4096). */
  batchLines?: number;
}

/** What became of one file's lines. */
export interface LogTraceFileStats {
  path: string;
  node: string;
  format: LogFormat | undefined;
  lines: number;
  /** Requests written to the trace. */
  requests: number;
  /**
   * Requests answered with neither the item nor a 304 (errors, redirects): the answer held no copy of the item, so a
   * warm cache would not have served it. Demand is a 2xx or a 304.
   */
  notServed: number;
  /** modcast's own warm-up fetches: traffic, not demand. */
  warmups: number;
  /** Requests more than the reorder window out of order: left out. */
  late: number;
  /** Lines that are no request (blank, non-GOPROXY, startup lines). */
  skipped: number;
  /** Lines that could not be read (malformed, invalid module path): their reasons are in `rejects`. */
  rejected: number;
  /** The first few rejected lines: byte offset and reason. */
  rejects: { offset: number; reason: string }[];
}

const REJECTS_KEPT = 5;
const DEFAULT_REORDER_MS = 5 * 60_000;
const DEFAULT_QUEUE_ROWS = 100_000;
const OUT_BATCH = 4096;

/** One file's requests between its reader and the merge: a min-heap on time, then arrival. */
class SourceQueue {
  private readonly rows: TraceRequest[] = [];
  /** Arrival number of each row: equal times leave in the order they came. */
  private readonly seq: number[] = [];
  private arrivals = 0;
  /** Latest time pushed: requests still to come are no earlier than this less the reorder window. */
  maxSeen = -Infinity;
  ended = false;
  failure: unknown;
  private roomWaiter: (() => void) | undefined;

  constructor(readonly stats: LogTraceFileStats, private readonly capacity: number, private readonly changed: () => void) {}

  get size(): number {
    return this.rows.length;
  }

  /** The reader waits for the merge to take some. */
  get waiting(): boolean {
    return this.roomWaiter !== undefined;
  }

  /** Time of the earliest request held (Infinity when empty). */
  get minTs(): number {
    return this.rows.length > 0 ? this.rows[0]!.ts : Infinity;
  }

  push(row: TraceRequest): void {
    if (row.ts > this.maxSeen) this.maxSeen = row.ts;
    let i = this.rows.length;
    this.rows.push(row);
    this.seq.push(this.arrivals++);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): TraceRequest {
    const top = this.rows[0]!;
    const last = this.rows.length - 1;
    this.swap(0, last);
    this.rows.pop();
    this.seq.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.before(l, m)) m = l;
      if (r < last && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    if (this.roomWaiter && this.rows.length <= this.capacity / 2) {
      this.roomWaiter();
      this.roomWaiter = undefined;
    }
    return top;
  }

  /** Resolves when the merge has taken enough for the reader to go on. */
  async room(): Promise<void> {
    this.changed();
    if (this.rows.length < this.capacity) return;
    await new Promise<void>((resolve) => (this.roomWaiter = resolve));
  }

  /** Lets a waiting reader go (the merge stopped). */
  release(): void {
    this.roomWaiter?.();
    this.roomWaiter = undefined;
  }

  private before(a: number, b: number): boolean {
    const ta = this.rows[a]!.ts;
    const tb = this.rows[b]!.ts;
    return ta < tb || (ta === tb && this.seq[a]! < this.seq[b]!);
  }

  private swap(a: number, b: number): void {
    const r = this.rows[a]!;
    this.rows[a] = this.rows[b]!;
    this.rows[b] = r;
    const s = this.seq[a]!;
    this.seq[a] = this.seq[b]!;
    this.seq[b] = s;
  }
}

class MergeStopped extends Error {}

/** The trace request of a stored-event row; kinds the backtest does not warm (sumdb, other) are none. */
function requestOf(e: AccessEventRow, region: string | undefined): TraceRequest | undefined {
  if (e.kind === 'sumdb' || e.kind === 'other') return undefined;
  const r: TraceRequest = { ts: e.ts, module: e.module, version: e.version, node: e.node, bytes: e.bytes, kind: e.kind };
  return region ? { ...r, region } : r;
}

/**
 * The requests of every source merged in time order, in batches. `stats` (one entry per source, in order) is filled
 * as the files are read. A file's error (missing, damaged .gz, unknown format) is thrown once every other file is
 * merged: the requests read before it are kept.
 */
export async function* readLogTrace(sources: readonly LogTraceSource[], options: LogTraceOptions, stats: LogTraceFileStats[] = []): AsyncGenerator<TraceRequest[]> {
  const reorderMs = options.reorderMs ?? DEFAULT_REORDER_MS;
  const capacity = options.queueRows ?? DEFAULT_QUEUE_ROWS;
  let wake: (() => void) | undefined;
  const changed = () => {
    wake?.();
    wake = undefined;
  };
  let stopped = false;
  /** Time of the last request handed out: an arrival earlier than this is late. */
  let emitted = -Infinity;

  const queues = sources.map((source) => {
    const fileStats: LogTraceFileStats = {
      path: source.path, node: source.node, format: undefined, lines: 0, requests: 0, notServed: 0, warmups: 0, late: 0, skipped: 0, rejected: 0, rejects: [],
    };
    stats.push(fileStats);
    return new SourceQueue(fileStats, capacity, changed);
  });

  const readers = sources.map(async (source, k) => {
    const queue = queues[k]!;
    const s = queue.stats;
    const sink: BatchSink = {
      async write(batch: WriteBatch) {
        if (stopped) throw new MergeStopped();
        s.warmups += batch.warmups?.length ?? 0;
        for (const reject of batch.rejects) if (s.rejects.length < REJECTS_KEPT) s.rejects.push({ offset: reject.offset, reason: reject.reason });
        for (const e of batch.events) {
          if ((e.status < 200 || e.status > 299) && e.status !== 304) {
            s.notServed++;
            continue;
          }
          const r = requestOf(e, source.region);
          if (!r) s.skipped++;
          // Late: further behind its file's latest line than the window (or, after a forced merge, behind the output).
          else if (r.ts < queue.maxSeen - reorderMs || r.ts < emitted) s.late++;
          else queue.push(r);
        }
        await queue.room();
        return { alreadyStored: 0 };
      },
    };
    try {
      const res = await ingestFile(source.path, {
        writer: sink,
        node: source.node,
        region: source.region ?? '',
        format: options.format,
        pathPrefixes: options.pathPrefixes,
        ...(options.webPaths ? { webPaths: options.webPaths } : {}),
        clientSalt: '', // client hashes are not part of a trace
        maxLineBytes: options.maxLineBytes,
        batchLines: options.batchLines ?? 4096,
      });
      s.format = res.format;
      s.lines = res.lines;
      s.rejected = res.rejected;
      s.skipped += res.skipped;
    } catch (e) {
      if (!(e instanceof MergeStopped)) queue.failure = e;
    } finally {
      queue.ended = true;
      changed();
    }
  });

  try {
    let out: TraceRequest[] = [];
    for (;;) {
      // Requests no later than every open file's "still to come" bound can go: none of theirs will be earlier.
      let floor = Infinity;
      let allWaiting = true;
      for (const q of queues) {
        if (q.ended) continue;
        floor = Math.min(floor, q.maxSeen - reorderMs);
        if (!q.waiting) allWaiting = false;
      }
      let progressed = false;
      for (;;) {
        let best: SourceQueue | undefined;
        for (const q of queues) if (q.size > 0 && (best === undefined || q.minTs < best.minTs)) best = q;
        if (!best) break;
        // When every open file's reader waits for room, nothing would move: the earliest goes anyway, and an arrival
        // before it later counts as late. It takes `queueRows` requests within the window of one file.
        const forced = best.minTs > floor;
        if (forced && !allWaiting) break;
        const r = best.pop();
        if (r.ts > emitted) emitted = r.ts;
        best.stats.requests++;
        out.push(r);
        progressed = true;
        if (forced) break;
      }
      if (queues.every((q) => q.ended && q.size === 0)) break;
      if (out.length >= OUT_BATCH || (!progressed && out.length > 0)) {
        yield out;
        out = [];
        continue; // the readers ran meanwhile: look again before waiting
      }
      if (!progressed) await new Promise<void>((resolve) => (wake = resolve));
    }
    if (out.length > 0) yield out;
    // A damaged or unreadable file fails the run once the others are read, with the requests read before it kept.
    const failed = queues.find((q) => q.failure !== undefined);
    if (failed) throw failed.failure;
  } finally {
    stopped = true;
    for (const q of queues) q.release();
    await Promise.all(readers);
  }
}
