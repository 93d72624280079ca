/**
 * Collects items and hands them to an async sink in batches — when `maxItems` are buffered or `maxDelayMs`
 * after the first — in the background, one batch at a time and in order. `add` waits only for backpressure
 * (`maxPending` items buffered or being written), so producers keep going while the sink works.
 */
export interface BatchBufferOptions {
  maxItems?: number;
  maxDelayMs?: number;
  /** Default 4 × maxItems. */
  maxPending?: number;
}

export class BatchBuffer<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Items handed to the sink whose write has not finished. */
  private writingItems = 0;
  private failure: unknown;
  private readonly maxItems: number;
  private readonly maxDelayMs: number;
  private readonly maxPending: number;

  constructor(private readonly sink: (items: T[]) => Promise<void>, opts: BatchBufferOptions = {}) {
    this.maxItems = opts.maxItems ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 200;
    this.maxPending = opts.maxPending ?? 4 * this.maxItems;
  }

  /** Rejects with the sink's first failure; nothing is written after a failure. */
  async add(item: T): Promise<void> {
    if (this.failure) throw this.failure;
    this.buffer.push(item);
    if (this.buffer.length >= this.maxItems) this.startWrite();
    else this.timer ??= setTimeout(() => this.startWrite(), this.maxDelayMs);
    if (this.buffer.length + this.writingItems >= this.maxPending) await this.flush();
  }

  /** Writes everything buffered; resolves once the sink took it (rejects with the first failure). */
  async flush(): Promise<void> {
    this.startWrite();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  private startWrite(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const items = this.buffer;
    this.buffer = [];
    this.writingItems += items.length;
    this.writing = this.writing
      .then(() => (this.failure ? undefined : this.sink(items)))
      .catch((e: unknown) => void (this.failure ??= e))
      .finally(() => void (this.writingItems -= items.length));
  }
}
