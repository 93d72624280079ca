/**
 * The ClickHouse lease (scheduler.mode = lease) on a real store: of several candidates exactly one leads, it keeps
 * the lease by renewing, and when it stops (or stops renewing) another one takes over.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestStore, type TestStore } from '../helpers/store.js';
import { ClickHouseLease } from '../../src/scheduler/leader.js';

let ts: TestStore;
before(async () => {
  ts = await openTestStore();
});
after(async () => {
  await ts?.cleanup();
});

test('one leader among candidates that claim at the same moment; a standby takes over when it stops', async () => {
  const candidates = ['a', 'b', 'c'].map((h) => new ClickHouseLease(ts.store, { name: 'race', holderId: h, ttlMs: 3000, settleMs: 100 }));
  await Promise.all(candidates.map((c) => c.tick()));
  const leaders = candidates.filter((c) => c.isLeader());
  assert.equal(leaders.length, 1, `leaders: ${leaders.map((l) => l.holderId)}`);
  const leader = leaders[0]!;
  assert.equal((await leader.current())!.holder, leader.holderId);

  // Renewals keep it; the others stay followers.
  for (let i = 0; i < 3; i++) await Promise.all(candidates.map((c) => c.tick()));
  assert.deepEqual(candidates.filter((c) => c.isLeader()), [leader]);

  // The leader stops (releases): the next round elects someone else, in a higher term.
  const term = (await leader.current())!.term;
  await leader.stop();
  const rest = candidates.filter((c) => c !== leader);
  await Promise.all(rest.map((c) => c.tick()));
  const next = rest.filter((c) => c.isLeader());
  assert.equal(next.length, 1);
  assert.ok((await next[0]!.current())!.term > term);
});

test('a leader that stops renewing loses the lease after its TTL', async () => {
  const a = new ClickHouseLease(ts.store, { name: 'ttl', holderId: 'a', ttlMs: 1000, settleMs: 50 });
  const b = new ClickHouseLease(ts.store, { name: 'ttl', holderId: 'b', ttlMs: 1000, settleMs: 50 });
  await a.tick();
  await b.tick();
  assert.equal(a.isLeader(), true);
  assert.equal(b.isLeader(), false);
  await sleep(1100); // a is paused (no renewals): its lease expires
  assert.equal(a.isLeader(), false, 'a steps down by itself at expiry');
  await b.tick();
  assert.equal(b.isLeader(), true);
  await a.tick();
  assert.equal(a.isLeader(), false, 'a sees b holding the lease');
});
