/** The pure parts of the Kafka path: message schema v1, owner epochs and the replay chain of recorded batches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayChain, nextEpoch, epochMetadata } from '../../src/ingest/batch-log.js';
import { decodeAccessEvent, decodeRejected, encodeAccessEvent, encodeRejected } from '../../src/kafka/messages.js';
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
