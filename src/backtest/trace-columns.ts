/**
 * Trace requests as columns over a dictionary of strings: how the reader thread (trace-csv-thread.ts) hands its
 * parsed batches to the replay. Typed arrays move between threads without a copy, and each module, version, node and
 * region string crosses once, the first time a batch uses it; after that a request is a few numbers. The replay then
 * meets the same string object for every request of a module (its hash computed once), rather than a new slice of
 * each line.
 */
import { REQUEST_KINDS, type RequestKind } from '../domain/event.js';
import { detached } from '../domain/detached.js';
import type { TraceRequest } from '../domain/backtest/replay.js';

/** A batch of requests, column by column; strings are indices into the dictionary the batches build up in order. */
export interface ColumnBatch {
  /** Strings first used by this batch: they take the next indices of the dictionary, in this order. */
  strings: string[];
  ts: Float64Array;
  bytes: Float64Array;
  module: Int32Array;
  version: Int32Array;
  node: Int32Array;
  /** -1: the row named no region. */
  region: Int32Array;
  /** Index in REQUEST_KINDS. */
  kind: Uint8Array;
}

const KIND_INDEX = new Map<RequestKind, number>(REQUEST_KINDS.map((k, i) => [k, i]));

/** The buffers a batch owns, to hand over (transfer) rather than copy. */
export function batchBuffers(b: ColumnBatch): ArrayBuffer[] {
  return [b.ts, b.bytes, b.module, b.version, b.node, b.region, b.kind].map((a) => a.buffer as ArrayBuffer);
}

/** The writing side: batches of requests to columns, growing the dictionary as new strings appear. */
export class ColumnEncoder {
  private readonly index = new Map<string, number>();
  private fresh: string[] = [];

  encode(requests: readonly TraceRequest[]): ColumnBatch {
    const n = requests.length;
    const b: ColumnBatch = {
      strings: [],
      ts: new Float64Array(n),
      bytes: new Float64Array(n),
      module: new Int32Array(n),
      version: new Int32Array(n),
      node: new Int32Array(n),
      region: new Int32Array(n),
      kind: new Uint8Array(n),
    };
    for (let i = 0; i < n; i++) {
      const r = requests[i]!;
      b.ts[i] = r.ts;
      b.bytes[i] = r.bytes;
      b.module[i] = this.idOf(r.module);
      b.version[i] = this.idOf(r.version);
      b.node[i] = this.idOf(r.node);
      b.region[i] = r.region === undefined ? -1 : this.idOf(r.region);
      b.kind[i] = KIND_INDEX.get(r.kind)!;
    }
    b.strings = this.fresh;
    this.fresh = [];
    return b;
  }

  private idOf(s: string): number {
    let id = this.index.get(s);
    if (id === undefined) {
      id = this.index.size;
      // Kept for the whole read: a copy, not a slice that would hold the reader's whole input chunk.
      const own = detached(s);
      this.index.set(own, id);
      this.fresh.push(own);
    }
    return id;
  }
}

/** The reading side: columns back to requests, every use of a string being the dictionary's one object. */
export class ColumnDecoder {
  private readonly strings: string[] = [];

  decode(b: ColumnBatch): TraceRequest[] {
    for (const s of b.strings) this.strings.push(s);
    const d = this.strings;
    const out: TraceRequest[] = new Array(b.ts.length);
    for (let i = 0; i < b.ts.length; i++) {
      const module = d[b.module[i]!]!;
      const version = d[b.version[i]!]!;
      const node = d[b.node[i]!]!;
      const kind = REQUEST_KINDS[b.kind[i]!]!;
      // The shapes the CSV reader makes (a region only when the row names one).
      out[i] = b.region[i]! < 0
        ? { ts: b.ts[i]!, module, version, node, bytes: b.bytes[i]!, kind }
        : { ts: b.ts[i]!, module, version, node, bytes: b.bytes[i]!, kind, region: d[b.region[i]!]! };
    }
    return out;
  }
}
