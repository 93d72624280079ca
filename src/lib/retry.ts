/** Retries with exponential backoff and full jitter; shared by store writes, Kafka and warm-up fetches. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Attempts in total (1 = no retry). Infinity = until `signal` aborts. */
  attempts: number;
  baseMs?: number;
  maxMs?: number;
  /** Return false to stop retrying this error at once. */
  retryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Random source in [0,1), for deterministic tests. */
  random?: () => number;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { attempts, baseMs = 200, maxMs = 10_000, retryable = () => true, onRetry, signal, random } = opts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryable(err) || signal?.aborted) throw err;
      const delay = backoffDelay(attempt, baseMs, maxMs, random);
      onRetry?.(err, attempt, delay);
      await sleep(delay, undefined, signal ? { signal } : undefined).catch(() => {
        throw err;
      });
    }
  }
}
