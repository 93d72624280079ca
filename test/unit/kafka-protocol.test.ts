/**
 * The pure parts of the Kafka path: message schemas v1 and v2 (batches), the partitioner, owner epochs and the
 * replay chain of recorded batches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { replayChain, nextEpoch, epochMetadata } from '../../src/ingest/batch-log.js';
import { AccessBatchBuilder, decodeAccessEvent, decodeAccessMessage, decodeRejected, encodeAccessEvent, encodeRejected } from '../../src/kafka/messages.js';
import { KeyPartitioner, murmur2, partitionOf } from '../../src/kafka/partitioner.js';
import type { AccessEvent } from '../../src/domain/event.js';

const event: AccessEvent = {
  id: 'abc123:42',
  ts: 1795600000123,
  node: 'eu-1',
  region: 'eu',
  module: 'github.com/Azure/azure-sdk-for-go',
  version: 'v1.2.3',
  kind: 'zip',
  status: 200,
  bytes: 12345,
  durationMs: 12.5,
  cacheStatus: 'miss',
  clientHash: 'ffee',
};

test('an access event survives encode/decode with its source position', () => {
  const d = decodeAccessEvent(encodeAccessEvent(event, { src: 'abc123', off: 42 }));
  assert.ok(d.ok);
  assert.equal(d.src, 'abc123');
  assert.equal(d.off, 42);
  assert.deepEqual(d.value, {
    event_id: 'abc123:42', ts: event.ts, node: 'eu-1', region: 'eu', module: event.module, version: 'v1.2.3', kind: 'zip',
    status: 200, bytes: 12345, duration_ms: 12.5, cache_status: 'miss', client_hash: 'ffee',
  });
});

test('a rejected line keeps its exact bytes, including invalid UTF-8', () => {
  const raw = Buffer.from([0x66, 0xff, 0xfe, 0x00, 0x0a]);
  const d = decodeRejected(encodeRejected({ source: '/var/log/a.log', node: 'n', offset: 7, reason: 'bad', raw, receivedAt: 5 }, 's1'));
  assert.ok(d.ok);
  assert.deepEqual(Buffer.from(d.value.raw_base64, 'base64'), raw);
  assert.equal(d.value.offset, 7);
  assert.equal(d.src, 's1');
});

test('unreadable messages are errors, never exceptions', () => {
  const good = JSON.parse(encodeAccessEvent(event, { src: 's', off: 1 }).toString()) as Record<string, unknown>;
  const cases: [Buffer | null, RegExp][] = [
    [null, /empty/],
    [Buffer.from('not json'), /not JSON/],
    [Buffer.from('[1]'), /not a JSON object/],
    [Buffer.from(JSON.stringify({ ...good, v: 2 })), /schema version 2/],
    [Buffer.from(JSON.stringify({ ...good, kind: 'upload' })), /unknown kind/],
    [Buffer.from(JSON.stringify({ ...good, off: -1 })), /off must be a non-negative number/],
    [Buffer.from(JSON.stringify({ ...good, module: 7 })), /module must be a string/],
    [Buffer.from(JSON.stringify({ ...good, status: 1.5 })), /invalid status/],
  ];
  for (const [value, error] of cases) {
    const d = decodeAccessEvent(value);
    assert.equal(d.ok, false);
    if (!d.ok) assert.match(d.error, error);
  }
});

test('each new owner of a partition takes the next epoch from the committed metadata', () => {
  assert.equal(nextEpoch(null), 1);
  assert.equal(nextEpoch('something else'), 1);
  assert.equal(nextEpoch(epochMetadata(1)), 2);
  assert.equal(nextEpoch(epochMetadata(41)), 42);
});

test('replay chain: follows recorded ranges from the committed offset, highest epoch first, ignoring orphans', () => {
  const ranges = [
    { from: 0, to: 99, epoch: 1 },
    { from: 100, to: 199, epoch: 1 }, // orphan: recorded by epoch 1 after it lost the partition
    { from: 100, to: 149, epoch: 2 },
    { from: 150, to: 180, epoch: 2 },
    { from: 300, to: 399, epoch: 2 }, // not reachable from the chain
  ];
  assert.deepEqual(replayChain(ranges, 100), [
    { from: 100, to: 149, epoch: 2 },
    { from: 150, to: 180, epoch: 2 },
  ]);
  assert.deepEqual(replayChain(ranges, 0).map((r) => r.from), [0, 100, 150]);
  assert.deepEqual(replayChain(ranges, 181), []);
  assert.deepEqual(replayChain([], 5), []);
});

const row = (e: AccessEvent) => ({
  event_id: e.id, ts: e.ts, node: e.node, region: e.region, module: e.module, version: e.version, kind: e.kind,
  status: e.status, bytes: e.bytes, duration_ms: e.durationMs, cache_status: e.cacheStatus, client_hash: e.clientHash,
});

function batchOf(src: string, offsets: number[]): { value: Buffer; events: AccessEvent[] } {
  const builder = new AccessBatchBuilder(src, 'eu-1', 'eu');
  const events = offsets.map((off, i) => ({ ...event, id: `${src}:${off}`, ts: event.ts + i, version: `v1.0.${i}`, module: i % 2 ? 'golang.org/x/text' : 'ünïcode.example/mod' }));
  events.forEach((e, i) => builder.add(e, offsets[i]!));
  assert.equal(builder.size, offsets.length);
  assert.ok(builder.bytes > 0);
  return { value: builder.take(), events };
}

test('a batch message (v2) carries many events of one source, in order, each with its position and id', () => {
  const { value, events } = batchOf('abc123', [0, 180, 377]);
  const d = decodeAccessMessage(value);
  assert.ok(d.ok);
  assert.deepEqual(d.events.map((x) => [x.src, x.off]), [['abc123', 0], ['abc123', 180], ['abc123', 377]]);
  assert.deepEqual(d.events.map((x) => x.value), events.map(row));
});

test('a warm-up fetch travels as an 11th field and comes back marked; the other events are unchanged', () => {
  const builder = new AccessBatchBuilder('abc123', 'eu-1', 'eu');
  builder.add({ ...event, id: 'abc123:0' }, 0);
  builder.add({ ...event, id: 'abc123:90', warmup: true }, 90);
  const value = builder.take();
  const e = (JSON.parse(value.toString()) as { e: unknown[][] }).e;
  assert.deepEqual(e.map((f) => f.length), [10, 11]);
  const d = decodeAccessMessage(value);
  assert.ok(d.ok);
  assert.deepEqual(d.events.map((x) => x.value.warmup), [undefined, true]);
  const bad = JSON.parse(value.toString()) as { e: unknown[][] };
  bad.e[1]![10] = 2;
  assert.equal(decodeAccessMessage(Buffer.from(JSON.stringify(bad))).ok, false);
});

test('a builder starts over after take, and refuses an event of another source or offset', () => {
  const builder = new AccessBatchBuilder('abc123', 'eu-1', 'eu');
  builder.add({ ...event, id: 'abc123:5' }, 5);
  builder.take();
  assert.equal(builder.size, 0);
  assert.equal(builder.bytes, 0);
  assert.throws(() => builder.add({ ...event, id: 'other:5' }, 5), /does not belong/);
  assert.throws(() => builder.add({ ...event, id: 'abc123:5' }, 6), /does not belong/);
  assert.throws(() => builder.add({ ...event, id: 'abc123:5', node: 'us-1' }, 5), /does not belong/);
});

test('the ingestor still reads single-event v1 messages (shippers from before batches)', () => {
  const d = decodeAccessMessage(encodeAccessEvent(event, { src: 'abc123', off: 42 }));
  assert.ok(d.ok);
  assert.equal(d.events.length, 1);
  assert.deepEqual(d.events[0], { src: 'abc123', off: 42, value: row(event) });
});

test('a batch message with one bad event is unreadable as a whole', () => {
  const good = JSON.parse(batchOf('s', [1, 2]).value.toString()) as { e: unknown[][] };
  const withEvent = (i: number, patch: (e: unknown[]) => unknown) =>
    Buffer.from(JSON.stringify({ ...good, e: good.e.map((e, j) => (j === i ? patch([...e]) : e)) }));
  const cases: [Buffer, RegExp][] = [
    [Buffer.from(JSON.stringify({ ...good, v: 3 })), /schema version 3/],
    [Buffer.from(JSON.stringify({ ...good, e: [] })), /non-empty array/],
    [Buffer.from(JSON.stringify({ ...good, src: 5 })), /src must be a string/],
    [withEvent(1, (e) => e.slice(0, 9)), /event 1: not an array of 10/],
    [withEvent(1, () => 'x'), /event 1: not an array/],
    [withEvent(0, (e) => ((e[0] = -1), e)), /event 0: .*non-negative/],
    [withEvent(1, (e) => ((e[2] = 7), e)), /event 1: module/],
    [withEvent(1, (e) => ((e[4] = 'upload'), e)), /event 1: unknown kind/],
    [withEvent(1, (e) => ((e[8] = 'warm'), e)), /event 1: unknown cache status/],
    [withEvent(0, (e) => ((e[5] = 1000), e)), /event 0: invalid status/],
    [withEvent(0, (e) => ((e[2] = ''), e)), /event 0: empty module/],
    [Buffer.from('{"v":2,"src":"s"'), /not JSON/],
  ];
  for (const [value, error] of cases) {
    const d = decodeAccessMessage(value);
    assert.equal(d.ok, false, error.source);
    if (!d.ok) assert.match(d.error, error);
  }
});

test("murmur2 and the partition of a key are those of kafkajs' default partitioner (Kafka's Java one)", () => {
  // kafkajs' own implementation (64-bit Long arithmetic), as the reference.
  const reference = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string) => number;
  const keys = ['', 'a', 'ab', 'abc', 'abcd', 'github.com/Azure/azure-sdk-for-go', 'golang.org/x/text', 'ünïcode.example/ℳ𝒪𝒟'];
  for (let i = 0; i < 2000; i++) keys.push(`example.com/m${i}/${'x'.repeat(i % 7)}`);
  for (const k of keys) {
    assert.equal(murmur2(k), reference(k), k);
    for (const n of [1, 3, 6, 7]) assert.equal(partitionOf(k, n), (reference(k) & 0x7fffffff) % n, k);
  }
  const p = new KeyPartitioner(6, 10);
  assert.deepEqual(keys.slice(0, 50).map((k) => p.partition(k)), keys.slice(0, 50).map((k) => partitionOf(k, 6)));
  p.setPartitions(4);
  assert.equal(p.partitions, 4);
  assert.deepEqual(keys.slice(0, 50).map((k) => p.partition(k)), keys.slice(0, 50).map((k) => partitionOf(k, 4)));
});
