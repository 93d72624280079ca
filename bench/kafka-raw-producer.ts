/**
 * The Kafka stage's reference producer (a child process, like the shipper): kafkajs alone producing the messages
 * the shipper would produce for the same log — same encoding, keys, batch size, compression and producer settings —
 * encoded before the clock starts, so it measures the broker and the client library only.
 *
 *   node --import tsx bench/kafka-raw-producer.ts <log> <brokers> <topic> <batchMessages>
 * Prints `producing` when it starts sending and `done` when every batch is acknowledged.
 */
import { createReadStream } from 'node:fs';
import kafkajs from 'kafkajs';
import { readLines } from '../src/logs/lines.js';
import { NginxParser } from '../src/logs/nginx.js';
import { EventBuilder } from '../src/logs/to-event.js';
import { encodeAccessEvent } from '../src/kafka/messages.js';

const { Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;
const [file, brokers, topic, batchMessages] = process.argv.slice(2);
if (!file || !brokers || !topic || !batchMessages) {
  console.error('usage: kafka-raw-producer.ts <log> <brokers> <topic> <batchMessages>');
  process.exit(2);
}

const parser = new NginxParser();
const builder = new EventBuilder({ node: 'bench', region: 'bench', sourceId: 'bench-raw', clientSalt: 'bench-salt-0123456789' });
const messages: { key: string; value: Buffer }[] = [];
for await (const lines of readLines(createReadStream(file, { highWaterMark: 256 * 1024 }))) {
  for (const line of lines) {
    const parsed = parser.parse(line.raw.toString('utf8'));
    if (!parsed.ok) continue;
    const built = builder.build(parsed.record, line.offset);
    if (built.type === 'event') messages.push({ key: built.event.module, value: encodeAccessEvent(built.event, { src: 'bench-raw', off: line.offset }) });
  }
}

// The same producer settings as src/kafka/kafkajs.ts (idempotent, one request in flight, acks=all, gzip).
const kafka = new Kafka({ clientId: 'bench-raw', brokers: brokers.split(','), logLevel: logLevel.WARN });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
console.log(`producing ${messages.length}`);
const size = Number(batchMessages);
for (let i = 0; i < messages.length; i += size) {
  await producer.sendBatch({ topicMessages: [{ topic, messages: messages.slice(i, i + size) }], acks: -1, compression: CompressionTypes.GZIP, timeout: 30000 });
}
console.log('done');
await producer.disconnect();
