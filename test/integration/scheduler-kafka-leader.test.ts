/**
 * Scheduler leadership through a Kafka consumer group on a real broker (scheduler.mode = kafka): of two
 * scheduler processes' members exactly one is assigned the control partition and leads; when it leaves, the
 * other takes over.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, testKafkaClient, kafkaOverrides, uniqueName, type TestBroker } from '../helpers/kafka.js';
import { KafkaLeadership } from '../../src/scheduler/leader.js';
import { testConfig } from '../helpers/store.js';

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(async () => {
  await broker?.stop();
});

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('exactly one member of the scheduler group leads; the other takes over when it leaves', async () => {
  const prefix = uniqueName('lead');
  const config = testConfig('/tmp/unused', kafkaOverrides(broker.brokers, prefix));
  const topic = `${prefix}.control`;
  const groupId = `${prefix}-scheduler`;
  const members = ['a', 'b'].map(
    (h) => new KafkaLeadership({ client: testKafkaClient(config.kafka), topic, groupId, holderId: h, sessionTimeoutMs: 6000 }),
  );
  try {
    await Promise.all(members.map((m) => m.start()));
    await until(() => members.filter((m) => m.isLeader()).length === 1, 'one leader');
    // Stable: still exactly one a moment later.
    await sleep(1000);
    const leaders = members.filter((m) => m.isLeader());
    assert.equal(leaders.length, 1);
    const [leader] = leaders;
    const other = members.find((m) => m !== leader)!;
    await leader!.stop();
    assert.equal(leader!.isLeader(), false);
    await until(() => other.isLeader(), 'the standby to take over');
  } finally {
    await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
  }
});
