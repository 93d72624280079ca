/**
 * `modcast serve` on the embedded store with Kafka brokers configured: the serving process is also the consumer
 * (chDB admits one process), readiness checks the broker, and close() stops the consumer gracefully.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, kafkaOverrides, testKafkaClient } from '../helpers/kafka.js';
import { testConfig } from '../helpers/store.js';
import { startServer } from '../../src/cli/serve.js';
import { createLogger } from '../../src/lib/logger.js';
import { withAdmin } from '../../src/kafka/topics.js';
import { encodeAccessEvent } from '../../src/kafka/messages.js';
import type { AccessEvent } from '../../src/domain/event.js';

const EVENTS = 100;

test('serve consumes modcast.access into the embedded store it holds, and reports the broker in /readyz', async () => {
  const broker = await startTestBroker();
  const dir = mkdtempSync(join(tmpdir(), 'modcast-serve-kafka-'));
  const config = testConfig(dir, { ...kafkaOverrides(broker.brokers), api: { port: 0 } });
  const server = await startServer({ config, logger: createLogger('silent') }, { scheduler: false, dashboard: false });
  const client = testKafkaClient(config.kafka);
  const producer = client.producer();
  try {
    // The consumer creates the topics when it starts; send once they exist.
    for (let i = 0; !(await withAdmin(client, (a) => a.listTopics())).includes(config.kafka.topics.access); i++) {
      assert.ok(i < 120, 'the serving process created its topics');
      await sleep(500);
    }
    await producer.connect();
    const ts = Date.UTC(2026, 10, 20, 9);
    const messages = Array.from({ length: EVENTS }, (_, i) => {
      const e: AccessEvent = {
        id: `kafka-test:${i}`, ts: ts + i * 1000, node: 'k1', region: 'eu', module: 'github.com/acme/kafka', version: 'v1.0.0',
        kind: 'zip', status: 200, bytes: 10, durationMs: 2, cacheStatus: 'hit', clientHash: '',
      };
      return { key: e.module, value: encodeAccessEvent(e, { src: 'abcdefabcdef', off: i * 100 }) };
    });
    await producer.send([{ topic: config.kafka.topics.access, messages }]);

    let actual = 0;
    for (let i = 0; i < 120 && actual < EVENTS; i++) {
      const top = (await (await fetch(`${server.url}/v1/top?window=1d`)).json()) as { items: { actual: number }[] };
      actual = top.items[0]?.actual ?? 0;
      if (actual < EVENTS) await sleep(500);
    }
    assert.equal(actual, EVENTS, 'every message became one event');
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
    assert.deepEqual(ready.checks.kafka, { ok: true });
  } finally {
    await producer.disconnect().catch(() => {});
    await server.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
