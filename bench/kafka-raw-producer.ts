/**
 * The Kafka stage's reference producer (a child process, like the shipper): kafkajs alone producing the messages
 * the shipper would produce for the same log — the same batch messages (schema v2: events of one source and
 * partition together, the same caps), explicit partitions, batch size, compression, idempotent producers and the
 * same parallelism (one producer per lane, lane = partition mod lanes, one request in flight each) — encoded
 * before the clock starts, so it measures the broker and the client library only.
 *
 *   node --import tsx bench/kafka-raw-producer.ts <log> <brokers> <topic> <partitions> <batchEvents> <lanes>
 * Prints `producing <messages> messages <events> events` when it starts sending and `done` when every batch is
 * acknowledged.
 */
import { createReadStream } from 'node:fs';
import kafkajs from 'kafkajs';
import { readLines } from '../src/logs/lines.js';
import { NginxParser } from '../src/logs/nginx.js';
import { EventBuilder } from '../src/logs/to-event.js';
import { KeyPartitioner } from '../src/kafka/partitioner.js';
import { OutgoingBatch } from '../src/ship/shipper.js';

const { Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;
const [file, brokers, topic, partitionArg, batchArg, lanesArg] = process.argv.slice(2);
if (!file || !brokers || !topic || !partitionArg || !batchArg || !lanesArg) {
  console.error('usage: kafka-raw-producer.ts <log> <brokers> <topic> <partitions> <batchEvents> <lanes>');
  process.exit(2);
}
const batchEvents = Number(batchArg);
const lanes = Number(lanesArg);
const BATCH_BYTES = 1024 * 1024; // the shipper's default batchBytes

const src = 'bench-raw';
const parser = new NginxParser();
const builder = new EventBuilder({ node: 'bench', region: 'bench', sourceId: src, clientSalt: 'bench-salt-0123456789' });
const partitioner = new KeyPartitioner(Number(partitionArg));
// Cut as the shipper cuts them (its OutgoingBatch, the same caps per message and per batch).
const batches: OutgoingBatch[] = [];
let batch = new OutgoingBatch();
let events = 0;
for await (const lines of readLines(createReadStream(file, { highWaterMark: 256 * 1024 }))) {
  for (const line of lines) {
    const parsed = parser.parse(line.raw.toString('utf8'));
    if (!parsed.ok) continue;
    const built = builder.build(parsed.record, line.offset);
    if (built.type !== 'event') continue;
    batch.addEvent(partitioner.partition(built.event.module), src, built.event, line.offset);
    events++;
    if (batch.records >= batchEvents || batch.bytes >= BATCH_BYTES) {
      batch.seal();
      batches.push(batch);
      batch = new OutgoingBatch();
    }
  }
}
batch.seal();
batches.push(batch);
const messages = batches.reduce((n, b) => n + [...b.access.values()].reduce((m, list) => m + list.length, 0), 0);

// The same producer settings as src/kafka/kafkajs.ts (idempotent, one request in flight, acks=all, gzip).
const kafka = new Kafka({ clientId: 'bench-raw', brokers: brokers.split(','), logLevel: logLevel.WARN });
const producers = Array.from({ length: lanes }, () =>
  kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner }),
);
await Promise.all(producers.map((p) => p.connect()));
console.log(`producing ${messages} messages ${events} events`);
await Promise.all(
  producers.map(async (producer, lane) => {
    for (const b of batches) {
      const mine = [...b.access].filter(([partition]) => partition % lanes === lane).flatMap(([, list]) => list);
      if (mine.length > 0) await producer.sendBatch({ topicMessages: [{ topic, messages: mine }], acks: -1, compression: CompressionTypes.GZIP, timeout: 30000 });
    }
  }),
);
console.log('done');
await Promise.all(producers.map((p) => p.disconnect()));
