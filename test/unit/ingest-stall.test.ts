/**
 * The ingestor's stall watchdog. A real broker cannot be made to stop fetching on demand (kafka-cluster met it once,
 * after a leader was killed), so the Kafka client here is a stand-in that assigns partitions and then delivers
 * nothing while the group has messages waiting: the ingestor must restart its consumer, and must not when nothing
 * is waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Ingestor } from '../../src/ingest/consumer.js';
import type { GroupConsumer, GroupConsumerEvents, KafkaClient, TopicAdmin } from '../../src/kafka/types.js';
import type { Store } from '../../src/store/client.js';

function standIn(waiting: number): { client: KafkaClient; consumers: number } {
  const counts = { consumers: 0 };
  const consumer = (): GroupConsumer => {
    counts.consumers++;
    let events: GroupConsumerEvents = {};
    return {
      connect: async () => undefined,
      subscribe: async () => undefined,
      // Joins and is assigned partitions, then never hands over a batch.
      run: async () => void events.assigned?.(new Map([['access', [0, 1]]])),
      commit: async () => undefined,
      committed: async () => ({ offset: null, metadata: null }),
      firstOffset: async () => 0,
      seek: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
      on: (e) => void (events = { ...events, ...e }),
      disconnect: async () => undefined,
    };
  };
  const admin = (): TopicAdmin => ({
    connect: async () => undefined,
    ensureTopics: async () => [],
    describe: async () => [],
    listTopics: async () => [],
    partitionCount: async () => 2,
    groupLag: async () => waiting,
    disconnect: async () => undefined,
  });
  const client: KafkaClient = { producer: () => ({ connect: async () => undefined, send: async () => undefined, disconnect: async () => undefined }), consumer, admin };
  return {
    client,
    get consumers() {
      return counts.consumers;
    },
  };
}

const ingestor = (client: KafkaClient) =>
  new Ingestor({
    client,
    // Never reached: no batch is ever handed over.
    store: {} as Store,
    kafka: { groupId: 'g', topics: { access: 'access', rejected: 'rejected', dlq: 'dlq', control: 'control', warmupTasks: 'tasks', warmupResults: 'results' }, sessionTimeoutMs: 6000, dedupHorizonHours: 24 },
    batchRows: 100,
    maxWaitMs: 100,
    logger: pino({ level: 'silent' }),
    stallMs: 600,
  });

test('a consumer that holds partitions but gets no batch while messages wait is restarted', async () => {
  const k = standIn(347);
  const ing = ingestor(k.client);
  await ing.start();
  const deadline = Date.now() + 10_000;
  while (k.consumers < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await ing.stop();
  assert.ok(k.consumers >= 2, `consumers made: ${k.consumers}`);
});

test('an idle consumer with nothing waiting is left alone', async () => {
  const k = standIn(0);
  const ing = ingestor(k.client);
  await ing.start();
  await new Promise((r) => setTimeout(r, 2500));
  await ing.stop();
  assert.equal(k.consumers, 1);
});
