/**
 * Splits a byte stream into lines while keeping exact byte offsets, so that every record can be
 * traced (and re-read) at its position in the source. Lines are zero-copy views into the chunks
 * when they fit in one; only lines spanning chunks are copied, and never more than
 * `maxLineBytes + 1` bytes of them.
 */

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

export interface LineRecord {
  /** The line's bytes without the newline and without a CR before it. At most maxLineBytes. */
  raw: Buffer;
  /** Byte offset of the line's first byte in the source. */
  offset: number;
  /** Offset just after the line's newline; for a partial line, just after its last byte. */
  end: number;
  /** The line was longer than maxLineBytes; `raw` holds only its first maxLineBytes bytes. */
  tooLong?: true;
  /** The source ended without a newline after this line: it may still be being written. */
  partial?: true;
}

export interface LineSplitterOptions {
  /** Longest line kept whole, in bytes (without the newline). Default 64 KiB. */
  maxLineBytes?: number;
  /** Offset of the first byte pushed (when resuming a file in the middle). Default 0. */
  startOffset?: number;
}

const NL = 10;
const CR = 13;

/** Incremental splitter: push chunks, get the lines they complete. Usable on any byte source. */
export class LineSplitter {
  private readonly max: number;
  /** Offset of the next byte to be pushed. */
  private offset: number;
  /** A line is being carried across chunks. */
  private carrying = false;
  private carryStart = 0;
  /** Bytes of the carried line seen so far (all of them, stored or not). */
  private carryLen = 0;
  /** Stored prefix of the carried line, at most max + 1 bytes. */
  private carryParts: Buffer[] = [];
  private carryStored = 0;
  private carryLastByte = -1;

  constructor(options: LineSplitterOptions = {}) {
    this.max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(this.max) || this.max < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${this.max}`);
    this.offset = options.startOffset ?? 0;
  }

  /** Offset just after the last complete line returned so far (where a resumed read should start). */
  get committedOffset(): number {
    return this.carrying ? this.carryStart : this.offset;
  }

  /** Feeds one chunk; returns the lines it completes (possibly none), in order. */
  push(chunk: Uint8Array): LineRecord[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: LineRecord[] = [];
    const base = this.offset;
    const len = buf.length;
    let pos = 0;
    if (this.carrying) {
      const nl = buf.indexOf(NL);
      if (nl < 0) {
        this.carry(buf, 0, len);
        this.offset += len;
        return out;
      }
      this.carry(buf, 0, nl);
      out.push(this.finishCarry(base + nl + 1, false));
      pos = nl + 1;
    }
    const max = this.max;
    for (let nl = buf.indexOf(NL, pos); nl >= 0; nl = buf.indexOf(NL, pos)) {
      let stop = nl;
      if (stop > pos && buf[stop - 1] === CR) stop--;
      if (stop - pos > max) {
        out.push({ raw: buf.subarray(pos, pos + max), offset: base + pos, end: base + nl + 1, tooLong: true });
      } else {
        out.push({ raw: buf.subarray(pos, stop), offset: base + pos, end: base + nl + 1 });
      }
      pos = nl + 1;
    }
    if (pos < len) {
      this.carrying = true;
      this.carryStart = base + pos;
      this.carry(buf, pos, len);
    }
    this.offset += len;
    return out;
  }

  /** Ends the input: returns the unterminated last line, if any, flagged `partial`. */
  flush(): LineRecord[] {
    if (!this.carrying) return [];
    return [this.finishCarry(this.offset, true)];
  }

  private carry(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.carryLen += to - from;
    this.carryLastByte = buf[to - 1] as number;
    const room = this.max + 1 - this.carryStored;
    if (room <= 0) return;
    const take = Math.min(room, to - from);
    // Copy: a view would pin the whole chunk for as long as the line is pending.
    this.carryParts.push(Buffer.from(buf.subarray(from, from + take)));
    this.carryStored += take;
  }

  private finishCarry(end: number, partial: boolean): LineRecord {
    let contentLen = this.carryLen;
    if (!partial && contentLen > 0 && this.carryLastByte === CR) contentLen--;
    const joined = this.carryParts.length === 1 ? (this.carryParts[0] as Buffer) : Buffer.concat(this.carryParts, this.carryStored);
    const rec: LineRecord = { raw: joined.subarray(0, Math.min(contentLen, this.max)), offset: this.carryStart, end };
    if (contentLen > this.max) rec.tooLong = true;
    if (partial) rec.partial = true;
    this.carrying = false;
    this.carryLen = 0;
    this.carryParts = [];
    this.carryStored = 0;
    this.carryLastByte = -1;
    return rec;
  }
}

/**
 * Reads a byte stream (a Readable, a file stream, an HTTP body) as batches of lines, one batch per
 * chunk that completes at least one line. The last line, when unterminated, comes flagged `partial`
 * unless `emitPartial` is false (a tailer then re-reads it from `offset` once it is complete).
 */
export async function* readLines(
  source: AsyncIterable<Uint8Array | string>,
  options: LineSplitterOptions & { emitPartial?: boolean } = {},
): AsyncGenerator<LineRecord[]> {
  const splitter = new LineSplitter(options);
  for await (const chunk of source) {
    const batch = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    if (batch.length > 0) yield batch;
  }
  if (options.emitPartial ?? true) {
    const last = splitter.flush();
    if (last.length > 0) yield last;
  }
}
