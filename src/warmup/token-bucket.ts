/**
 * Token-bucket rate limit for warm-up requests: `ratePerSec` tokens refill continuously up to `burst`;
 * each request takes one. Waiters are served in arrival order, so a burst of workers cannot starve one.
 * The clock and sleep are injectable for tests.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface TokenBucketOptions {
  ratePerSec: number;
  /** Bucket size; default max(1, ratePerSec) — at most one second of requests at once. */
  burst?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class TokenBucket {
  readonly ratePerSec: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Tail of the FIFO of waiters: each taker waits for the previous one first. */
  private queue: Promise<void> = Promise.resolve();
  /** take() calls not yet served. */
  private waiting = 0;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.ratePerSec > 0)) throw new RangeError('ratePerSec must be > 0');
    this.ratePerSec = opts.ratePerSec;
    this.burst = Math.max(1, opts.burst ?? Math.max(1, opts.ratePerSec));
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, signal ? { signal } : undefined));
    this.tokens = this.burst;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSec);
    this.last = t;
  }

  /** Takes a token without waiting; false when none is available. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Takes a token at once when one is available and nobody is waiting for one (so it never jumps the queue);
   * false otherwise, and the caller then waits its turn with take(). Lets the common case of an unthrottled
   * caller go without a promise.
   */
  takeNow(): boolean {
    return this.waiting === 0 && this.tryTake();
  }

  /** Waits for a token (in arrival order) and takes it. Rejects when `signal` aborts. */
  take(signal?: AbortSignal): Promise<void> {
    this.waiting++;
    const mine = this.queue.then(async () => {
      for (;;) {
        signal?.throwIfAborted();
        if (this.tryTake()) return;
        const waitMs = ((1 - this.tokens) / this.ratePerSec) * 1000;
        await this.sleep(Math.max(1, Math.ceil(waitMs)), signal);
      }
    });
    // The next waiter queues behind this one whether it succeeds or aborts.
    this.queue = mine.catch(() => undefined).finally(() => void this.waiting--);
    return mine;
  }
}
