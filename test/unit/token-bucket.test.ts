import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/warmup/token-bucket.js';

/** A virtual clock: sleeping advances time, so tests are exact and instant. */
function virtualClock() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      t += ms;
      await Promise.resolve();
    },
    advance: (ms: number) => (t += ms),
  };
}

test('a full bucket allows a burst, then refills at the rate', () => {
  const c = virtualClock();
  const b = new TokenBucket({ ratePerSec: 10, burst: 3, now: c.now, sleep: c.sleep });
  assert.equal(b.tryTake(), true);
  assert.equal(b.tryTake(), true);
  assert.equal(b.tryTake(), true);
  assert.equal(b.tryTake(), false);
  c.advance(99);
  assert.equal(b.tryTake(), false, 'not a whole token after 99 ms at 10/s');
  c.advance(1);
  assert.equal(b.tryTake(), true);
  c.advance(10_000);
  let n = 0;
  while (b.tryTake()) n++;
  assert.equal(n, 3, 'never more than the burst, however long idle');
});

test('take() waits: N takes from an empty bucket span (N-burst)/rate seconds, in arrival order', async () => {
  const c = virtualClock();
  const b = new TokenBucket({ ratePerSec: 20, burst: 5, now: c.now, sleep: c.sleep });
  const order: number[] = [];
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: 25 }, (_, i) =>
      b.take().then(() => {
        order.push(i);
        times.push(c.now());
      }),
    ),
  );
  assert.deepEqual(order, Array.from({ length: 25 }, (_, i) => i));
  // 5 immediately, then 20 more at 20/s: the last lands at ~1000 ms (ceil'd sleeps may add a ms each).
  const last = times[times.length - 1]!;
  assert.ok(last >= 1000 && last <= 1030, `last token at ${last} ms`);
  // In any window of 1 s, at most burst + rate tokens.
  for (const t0 of times) assert.ok(times.filter((t) => t >= t0 && t < t0 + 1000).length <= 25);
});

test('an aborted waiter rejects and does not block the ones behind it', async () => {
  const c = virtualClock();
  const b = new TokenBucket({ ratePerSec: 1, burst: 1, now: c.now, sleep: c.sleep });
  await b.take();
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(b.take(ac.signal), { name: 'AbortError' });
  await b.take();
  assert.ok(c.now() >= 1000);
});

test('rejects a non-positive rate', () => {
  assert.throws(() => new TokenBucket({ ratePerSec: 0 }), RangeError);
});

test('takeNow takes an available token at once, but never ahead of a waiter', async () => {
  const c = virtualClock();
  const b = new TokenBucket({ ratePerSec: 10, burst: 2, now: c.now, sleep: c.sleep });
  assert.equal(b.takeNow(), true);
  assert.equal(b.takeNow(), true);
  assert.equal(b.takeNow(), false, 'empty');
  const waiter = b.take();
  c.advance(1000); // tokens are back, but the waiter came first
  assert.equal(b.takeNow(), false, 'a waiter is queued');
  await waiter;
  await Promise.resolve();
  assert.equal(b.takeNow(), true, 'once the queue is empty, available tokens are taken at once');
});
