/**
 * Kafka → ClickHouse end to end: `modcast ship` (its own process: tail, parse, produce) and the ingestor (this
 * process: consume, deduplicate, batch log, insert, commit — what `modcast consume` runs) move an N-line nginx log
 * into chDB through a real Apache Kafka broker; the clock runs from the moment the shipper starts shipping until
 * the ingestor has stored the last event. Reference in the same run: kafkajs alone producing the same messages
 * (the same batch messages of many events, partitions, batch size, compression, producer settings and lanes; child
 * process) and a kafkajs consumer group consuming and committing them, without decoding or inserting; both figures
 * in events/s. Target (issue 16): end to end at >= 0.5 of that reference's rate at 1M events.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { stringify } from 'yaml';
import { projectPath } from '../../src/lib/paths.js';
import { createLogger } from '../../src/lib/logger.js';
import { createKafkaClient } from '../../src/kafka/kafkajs.js';
import { ensureTopics, withAdmin } from '../../src/kafka/topics.js';
import { Ingestor } from '../../src/ingest/consumer.js';
import { startTestBroker, uniqueName } from '../../test/helpers/kafka.js';
import { spawnLogged, stopChild, until } from '../children.js';
import { CpuMeter, cpuMicrosPer, measurement, onCleanup, ownPeakRssMb, progress, rate, result, RssSampler, runStage } from '../harness.js';
import { benchConfig, openBenchStore, scalar } from '../store-setup.js';
import { nginxLog } from '../workload.js';

const TARGET_EVENTS = 1_000_000;
/** modcast's rate over the reference's, same run. */
const TARGET_RATIO = 0.5;
/** The shipper's defaults (src/ship/shipper.ts, src/ship/producer.ts), which the reference producer copies. */
const SHIP_BATCH_EVENTS = 10_000;
const SHIP_LANES = 2;

/** Events per second two fully busy cores would give at the CPU per event measured (every process counted). */
function twoCoreLimit(cpu: Record<string, number>, events: number): string {
  const perEvent = Object.values(cpu).reduce((a, b) => a + b, 0) / events;
  return perEvent > 0 ? `${(2 / perEvent / 1000).toFixed(0)}k` : 'n/a';
}

runStage(async ({ size, quick, workDir }) => {
  const loadStart = loadavg()[0]!;
  const file = nginxLog(size);
  progress('starting a Kafka broker (scripts/kafka-local.sh)');
  const broker = await startTestBroker();
  onCleanup(() => broker.stop());
  const prefix = uniqueName('bench');
  const kafka = {
    brokers: broker.brokers,
    groupId: `${prefix}-ingest`,
    replicationFactor: 1,
    sessionTimeoutMs: 10_000,
    topics: { access: `${prefix}.access`, rejected: `${prefix}.rejected`, dlq: `${prefix}.dlq` },
  };
  const logger = createLogger('error'); // broker start-up chatter (coordinator loading) is expected here
  const rss = new RssSampler();

  // --- modcast: shipper (child) → broker → ingestor (here) → chDB
  const consumeDir = join(workDir, 'consume');
  const { store, config } = await openBenchStore(consumeDir, { kafka });
  onCleanup(() => store.close());
  const client = createKafkaClient(config.kafka, logger);
  await ensureTopics(client, config.kafka);
  const ingestor = new Ingestor({ client, store, kafka: config.kafka, batchRows: config.ingest.batchRows, maxWaitMs: config.ingest.flushMs, logger });
  await ingestor.start();
  await until(() => [...ingestor.assignment.values()].flat().length > 0, 60_000, () => 'the ingestor got no partitions');

  const shipDir = join(workDir, 'ship');
  mkdirSync(shipDir, { recursive: true });
  const shipConfig = join(shipDir, 'modcast.yaml');
  writeFileSync(shipConfig, stringify({ ...benchConfig(shipDir, { kafka, logLevel: 'info' }) }));
  progress(`modcast: shipping ${size.toLocaleString()} nginx lines through ${config.kafka.partitions} partitions into chDB`);
  const shipper = await spawnLogged(
    [projectPath('src', 'cli', 'index.ts'), '--config', shipConfig, 'ship', file, '--node', 'bench', '--region', 'bench', '--format', 'nginx', '--no-create-topics'],
    join(shipDir, 'ship.log'),
  );
  rss.watch('shipper', shipper.child.pid);
  const brokerPid = broker.pid();
  const modcastCpu = new CpuMeter({ shipper: String(shipper.child.pid), ingestor: 'self', broker: brokerPid === undefined ? undefined : String(brokerPid) });
  const ingestorThread = new CpuMeter({ 'ingestor main thread': `self/task/${process.pid}` });
  const t0 = await until(() => shipper.log().includes('shipping started'), 60_000, () => `the shipper did not start:\n${shipper.log()}`);
  modcastCpu.start();
  ingestorThread.start();
  const t1 = await until(
    () => ingestor.stats.events >= size || shipper.exited(),
    600_000,
    () => `${ingestor.stats.events} of ${size} events stored`,
    10,
  );
  if (ingestor.stats.events < size) throw new Error(`the shipper exited with ${ingestor.stats.events} of ${size} events stored:\n${shipper.log()}`);
  const modcastSeconds = (t1 - t0) / 1000;
  const modcastCpuSeconds = modcastCpu.stop();
  const mainThreadCpu = ingestorThread.stop();
  progress(`modcast: ${modcastSeconds.toFixed(2)} s (${ingestor.stats.batches} insert batches); CPU µs per event: ${cpuMicrosPer(modcastCpuSeconds, size)} (${cpuMicrosPer(mainThreadCpu, size, false)})`);
  await stopChild(shipper);
  await ingestor.stop();
  const stored = await scalar(store, 'SELECT count() FROM access_events');
  const distinct = await scalar(store, 'SELECT uniqExact(event_id) FROM access_events');
  if (stored !== size || distinct !== size) throw new Error(`stored ${stored} events (${distinct} distinct), expected ${size}`);
  const modcastRss = ownPeakRssMb();

  // --- reference: kafkajs produce (child) → broker → kafkajs consumer group (here), no parsing, no insert
  const rawTopic = `${prefix}.raw`;
  await withAdmin(client, (admin) => admin.ensureTopics([{ topic: rawTopic, partitions: config.kafka.partitions, replicationFactor: 1, config: {} }]));
  const kjs = new kafkajs.Kafka({ clientId: 'bench-raw', brokers: broker.brokers, logLevel: kafkajs.logLevel.WARN });
  const consumer = kjs.consumer({ groupId: `${prefix}-raw`, sessionTimeout: 10_000, minBytes: 1024 * 1024, maxWaitTimeInMs: config.ingest.flushMs });
  onCleanup(() => consumer.disconnect());
  let consumed = 0;
  let assigned = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (assigned = true));
  await consumer.connect();
  await consumer.subscribe({ topic: rawTopic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 2,
    eachBatch: async ({ batch, resolveOffset }) => {
      const last = batch.messages[batch.messages.length - 1];
      if (!last) return;
      consumed += batch.messages.length;
      resolveOffset(last.offset);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
    },
  });
  await until(() => assigned, 60_000, () => 'the reference consumer joined no group');
  progress('reference: kafkajs produce + consume of the same messages');
  const producer = await spawnLogged(
    [projectPath('bench', 'kafka-raw-producer.ts'), file, broker.brokers.join(','), rawTopic, String(config.kafka.partitions), String(SHIP_BATCH_EVENTS), String(SHIP_LANES)],
    join(workDir, 'raw-producer.log'),
  );
  const refCpu = new CpuMeter({ producer: String(producer.child.pid), consumer: 'self', broker: brokerPid === undefined ? undefined : String(brokerPid) });
  const r0 = await until(() => producer.log().includes('producing') || producer.exited(), 300_000, () => 'the reference producer did not start');
  refCpu.start();
  const announced = /producing (\d+) messages (\d+) events/.exec(producer.log());
  if (!announced) throw new Error(`the reference producer failed:\n${producer.log()}`);
  const [rawMessages, rawEvents] = [Number(announced[1]), Number(announced[2])];
  if (rawEvents !== size) throw new Error(`the reference producer encoded ${rawEvents} events, expected ${size}`);
  const r1 = await until(() => consumed >= rawMessages || (producer.exited() && !producer.log().includes('done')), 600_000, () => `${consumed} of ${rawMessages} messages consumed`, 10);
  if (consumed < rawMessages) throw new Error(`the reference producer failed:\n${producer.log()}`);
  const refSeconds = (r1 - r0) / 1000;
  const refCpuSeconds = refCpu.stop();
  progress(`reference: ${refSeconds.toFixed(2)} s; CPU µs per event: ${cpuMicrosPer(refCpuSeconds, size)}`);
  await stopChild(producer);
  const detail = rss.stop();

  return result({
    stage: 'kafka',
    size,
    workload: `${size.toLocaleString()} nginx lines: modcast ship → Kafka (${config.kafka.partitions} partitions, ${config.kafka.compression}) → ingestor → chDB, committed`,
    figure: measurement('shipper + ingestor, end to end', rate(size, modcastSeconds), 'events/s'),
    reference: measurement('kafkajs produce + consume, same messages', rate(size, refSeconds), 'events/s'),
    extra: [],
    peakRssMb: Math.max(modcastRss, detail['shipper'] ?? 0),
    rssDetailMb: { ingestor: Math.round(modcastRss), ...detail },
    seconds: modcastSeconds,
    notes: [
      `${stored} events stored exactly once (${distinct} distinct ids)`,
      `${ingestor.stats.batches} insert batches, ${ingestor.stats.duplicates} resent lines dropped`,
      `reference: ${rawMessages} Kafka messages for ${rawEvents} events (${(rawEvents / rawMessages).toFixed(0)} per message)`,
      `CPU µs per event (kernel counters, while the clock ran) — modcast: ${cpuMicrosPer(modcastCpuSeconds, size)} (${cpuMicrosPer(mainThreadCpu, size, false)}); reference: ${cpuMicrosPer(refCpuSeconds, size)}`,
      `2-core limit: all processes' CPU per event spread perfectly over 2 cores would allow ${twoCoreLimit(modcastCpuSeconds, size)} events/s for modcast, ${twoCoreLimit(refCpuSeconds, size)} for the reference`,
      `load average (1 min) ${loadStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
    ],
    target: `>= ${TARGET_RATIO} of kafkajs producing + consuming the same messages, end to end at ${TARGET_EVENTS / 1e6}M events`,
    meets: ({ ratio }) => ratio >= TARGET_RATIO,
    targetSize: TARGET_EVENTS,
    quick,
  });
});
