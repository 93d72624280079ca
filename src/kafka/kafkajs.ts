/**
 * The kafkajs implementation of src/kafka/types.ts. kafkajs (2.2.x) is the only file that imports it: its last
 * release is from 2023, so it stays replaceable.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import type {
  Kafka,
  Consumer as KjsConsumer,
  Admin as KjsAdmin,
  Producer as KjsProducer,
  LogEntry,
  SASLOptions,
  CompressionTypes as KjsCompressionTypes,
} from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import type {
  BatchHandler,
  CommittedOffset,
  ConsumerOptions,
  GroupConsumer,
  GroupConsumerEvents,
  KafkaClient,
  Producer,
  TopicAdmin,
  TopicDescription,
  TopicMessages,
  TopicSpec,
} from './types.js';

export type KafkaSettings = Pick<Config['kafka'], 'brokers' | 'clientId' | 'compression' | 'ssl' | 'sasl'>;

// kafkajs is CommonJS without named ESM exports.
const { Kafka: KafkaCtor, CompressionTypes, CompressionCodecs, ConfigResourceTypes, Partitioners, logLevel: KafkaLogLevel } = kafkajs;

// kafkajs-snappy ships no types; it exports a codec factory.
const snappyCodec = createRequire(import.meta.url)('kafkajs-snappy') as () => unknown;
(CompressionCodecs as Record<number, unknown>)[CompressionTypes.Snappy] = snappyCodec;

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy } as const;

/** kafkajs reports every retried connection error at ERROR; modcast logs the outcome itself, so they go to warn. */
function logCreator(logger: Logger) {
  const kafkaLog = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { namespace, ...extra };
      // modcast bounds kafkajs' retries on purpose and resends itself (see src/ship/producer.ts).
      if (message.startsWith('Limiting retries for the idempotent producer')) kafkaLog.debug(fields, message);
      else if (level <= KafkaLogLevel.WARN) kafkaLog.warn(fields, message);
      else if (level === KafkaLogLevel.INFO) kafkaLog.debug(fields, message);
      else kafkaLog.trace(fields, message);
    };
}

export function createKafkaClient(settings: KafkaSettings, logger: Logger): KafkaClient {
  if (settings.brokers.length === 0) {
    throw new ModcastError(ErrorCodes.BROKER_UNAVAILABLE, 'no Kafka brokers configured (kafka.brokers / MODCAST_KAFKA_BROKERS)');
  }
  const kafka = new KafkaCtor({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    ...(settings.sasl ? { sasl: { ...settings.sasl } as SASLOptions } : {}),
    connectionTimeout: 3000,
    requestTimeout: 30000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreator(logger),
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 6 },
  });
  return {
    producer: () => new KafkajsProducer(kafka, COMPRESSION[settings.compression]),
    consumer: (options) => new KafkajsGroupConsumer(kafka, options),
    admin: () => new KafkajsTopicAdmin(kafka.admin()),
  };
}

class KafkajsProducer implements Producer {
  private readonly producer: KjsProducer;

  constructor(kafka: Kafka, private readonly compression: KjsCompressionTypes) {
    // Idempotent: the broker drops a retried batch it already appended. One request in flight per producer: a failed
    // request is retried before the next goes out, so a partition's messages keep their order (the shipper runs
    // several producers on disjoint partitions for parallel requests, see src/ship/producer.ts).
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 5 },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(batches: TopicMessages[]): Promise<void> {
    const topicMessages = batches
      .filter((b) => b.messages.length > 0)
      .map((b) => ({
        topic: b.topic,
        messages: b.messages.map((m) => ({
          key: m.key,
          value: m.value,
          ...(m.partition !== undefined ? { partition: m.partition } : {}),
          ...(m.headers ? { headers: m.headers } : {}),
        })),
      }));
    if (topicMessages.length === 0) return;
    await this.producer.sendBatch({ topicMessages, acks: -1, compression: this.compression, timeout: 30000 });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer: KjsConsumer;
  private readonly admin: KjsAdmin;

  constructor(kafka: Kafka, private readonly options: ConsumerOptions) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      rebalanceTimeout: Math.max(60000, options.sessionTimeoutMs * 2),
      allowAutoTopicCreation: false,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 8 * 1024 * 1024,
      maxBytes: options.maxBytes ?? 32 * 1024 * 1024,
      minBytes: options.minBytes ?? 1,
      maxWaitTimeInMs: options.maxWaitMs ?? 1000,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 10 },
    });
    this.admin = kafka.admin();
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
  }

  subscribe(topics: string[], options: { fromBeginning: boolean }): Promise<void> {
    return this.consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
  }

  run(handler: BatchHandler, options: { partitionsConcurrently?: number } = {}): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        await handler(
          {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: Number(batch.highWatermark),
            messages: batch.messages.map((m) => ({ offset: Number(m.offset), key: m.key, value: m.value, timestamp: Number(m.timestamp) })),
          },
          {
            resolve: (offset) => payload.resolveOffset(String(offset)),
            heartbeat: () => payload.heartbeat(),
            isActive: () => payload.isRunning() && !payload.isStale(),
          },
        );
      },
    });
  }

  commit(topic: string, partition: number, nextOffset: number, metadata?: string): Promise<void> {
    return this.consumer.commitOffsets([{ topic, partition, offset: String(nextOffset), ...(metadata !== undefined ? { metadata } : {}) }]);
  }

  async committed(topic: string, partition: number): Promise<CommittedOffset> {
    const res = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
    const p = res.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    const offset = p ? Number(p.offset) : -1;
    return { offset: offset >= 0 ? offset : null, metadata: p?.metadata ?? null };
  }

  async firstOffset(topic: string, partition: number): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    const low = offsets.find((o) => o.partition === partition)?.low;
    if (low === undefined) throw new ModcastError(ErrorCodes.BROKER_UNAVAILABLE, `no offsets for ${topic} partition ${partition} in the cluster metadata`);
    return Number(low);
  }

  seek(topic: string, partition: number, offset: number): void {
    this.consumer.seek({ topic, partition, offset: String(offset) });
  }

  pause(topic: string, partition: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
  }

  resume(topic: string, partition: number): void {
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  on(events: GroupConsumerEvents): void {
    const { GROUP_JOIN, CRASH, REBALANCING } = this.consumer.events;
    if (events.assigned) {
      const cb = events.assigned;
      this.consumer.on(GROUP_JOIN, (e) => cb(new Map(Object.entries(e.payload.memberAssignment))));
    }
    if (events.crashed) {
      const cb = events.crashed;
      this.consumer.on(CRASH, (e) => cb(e.payload.error, e.payload.restart));
    }
    if (events.rebalancing) {
      const cb = events.rebalancing;
      this.consumer.on(REBALANCING, () => cb());
    }
  }

  async disconnect(): Promise<void> {
    try {
      await this.consumer.disconnect();
    } finally {
      await this.admin.disconnect();
    }
  }
}

class KafkajsTopicAdmin implements TopicAdmin {
  constructor(private readonly admin: KjsAdmin) {}

  connect(): Promise<void> {
    return this.admin.connect();
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async partitionCount(topic: string): Promise<number> {
    const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const n = meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (n === 0) throw new ModcastError(ErrorCodes.BROKER_UNAVAILABLE, `topic ${topic} has no partitions in the cluster metadata`);
    return n;
  }

  async groupLag(groupId: string, topics: string[]): Promise<number> {
    const committed = await this.admin.fetchOffsets({ groupId, topics });
    let lag = 0;
    for (const topic of topics) {
      const mine = committed.find((t) => t.topic === topic)?.partitions ?? [];
      for (const p of await this.admin.fetchTopicOffsets(topic)) {
        const at = Number(mine.find((x) => x.partition === p.partition)?.offset ?? -1);
        lag += Number(p.high) - (at >= 0 ? at : Number(p.low));
      }
    }
    return lag;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<string[]> {
    const existing = new Set(await this.admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return [];
    let created = true;
    try {
      await this.create(missing);
    } catch (e) {
      // Several processes starting together race to create the same topics: fine if they all exist now.
      const now = new Set(await this.admin.listTopics());
      if (!missing.every((s) => now.has(s.topic))) throw e;
      created = false;
    }
    await this.waitForLeaders(missing);
    return created ? missing.map((s) => s.topic) : [];
  }

  /**
   * Every partition of `specs` has a leader. kafkajs' own `waitForLeaders` throws "This server does not host this
   * topic-partition" on a fresh multi-broker cluster while the controller is still placing replicas, so the metadata
   * is polled here instead (errors while it settles are expected).
   */
  private async waitForLeaders(specs: TopicSpec[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no metadata yet';
    for (;;) {
      try {
        const meta = await this.admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
        const waiting = specs.filter((s) => {
          const parts = meta.topics.find((t) => t.name === s.topic)?.partitions ?? [];
          return parts.length < s.partitions || parts.some((p) => p.leader < 0);
        });
        if (waiting.length === 0) return;
        last = `no leader yet for ${waiting.map((s) => s.topic).join(', ')}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new ModcastError(ErrorCodes.BROKER_UNAVAILABLE, `topics created but without partition leaders after ${timeoutMs / 1000} s: ${last}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async create(missing: TopicSpec[]): Promise<void> {
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  async describe(topics: string[]): Promise<TopicDescription[]> {
    const meta = await this.admin.fetchTopicMetadata({ topics });
    const configs = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    const out: TopicDescription[] = [];
    for (const t of meta.topics) {
      const offsets = await this.admin.fetchTopicOffsets(t.name);
      const config: Record<string, string> = {};
      for (const e of configs.resources.find((r) => r.resourceName === t.name)?.configEntries ?? []) {
        if (!e.isDefault) config[e.configName] = e.configValue;
      }
      out.push({
        topic: t.name,
        config,
        partitions: t.partitions
          .map((p) => {
            const o = offsets.find((x) => x.partition === p.partitionId);
            return { partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, low: Number(o?.low ?? 0), high: Number(o?.high ?? 0) };
          })
          .sort((a, b) => a.partition - b.partition),
      });
    }
    return out;
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }
}
