/**
 * The small Kafka surface modcast uses. Everything outside src/kafka talks to these interfaces only, so the
 * client library (kafkajs today, see kafkajs.ts) can be replaced without touching the shipper or the ingestor.
 * Offsets are plain numbers: a partition would need 2^53 messages to overflow them.
 */

export interface OutgoingMessage {
  /** Partitioning key: messages with the same key land in the same partition, in send order. */
  key: string | null;
  /** Explicit partition (the key then only labels the message). */
  partition?: number;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

export interface Producer {
  connect(): Promise<void>;
  /**
   * Resolves once every message is acknowledged by all in-sync replicas (acks=all). Idempotent: the client's own
   * retries never duplicate or reorder a partition's messages. Rejects when the client gives up; what was acked
   * of the batch by then may already be in the log (callers resend, consumers deduplicate).
   */
  send(batches: TopicMessages[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumedMessage {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Producer (or log-append) time, epoch ms. */
  timestamp: number;
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  /** In offset order; never empty. */
  messages: ConsumedMessage[];
  /** Offset the next produced message will get: lag = highWatermark - next offset to process. */
  highWatermark: number;
}

export interface BatchControl {
  /** Marks messages up to `offset` as taken locally, so fetching moves past them. Not a commit. */
  resolve(offset: number): void;
  /** Keeps the group membership alive during long work; throws when a rebalance took the partition away. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or this batch was made stale by a rebalance or seek. */
  isActive(): boolean;
}

export type BatchHandler = (batch: PartitionBatch, control: BatchControl) => Promise<void>;

export interface CommittedOffset {
  /** Next offset to consume, or null when the group never committed on this partition. */
  offset: number | null;
  metadata: string | null;
}

export interface GroupConsumerEvents {
  /** The member is about to rejoin the group: whatever it owned may move to another member. */
  rebalancing?: () => void;
  /** The group formed a new generation; `assignment` is what this member now owns. */
  assigned?: (assignment: Map<string, number[]>) => void;
  /** The client gave up (non-retriable error); `restarting` tells whether it rejoins by itself. */
  crashed?: (error: Error, restarting: boolean) => void;
}

/** A member of a consumer group. Offsets are committed explicitly only (no auto-commit). */
export interface GroupConsumer {
  connect(): Promise<void>;
  subscribe(topics: string[], options: { fromBeginning: boolean }): Promise<void>;
  /** Starts fetching; returns once running. Batches of one partition are handed over one at a time, in order. */
  run(handler: BatchHandler, options?: { partitionsConcurrently?: number }): Promise<void>;
  /**
   * Commits `nextOffset` (the first offset not yet processed) with optional metadata. Fenced by the group
   * generation: it fails when this member no longer belongs to the current generation.
   */
  commit(topic: string, partition: number, nextOffset: number, metadata?: string): Promise<void>;
  committed(topic: string, partition: number): Promise<CommittedOffset>;
  /** The partition's first offset still in the log (retention deletes older messages). */
  firstOffset(topic: string, partition: number): Promise<number>;
  /** Moves this member's fetch position; batches in progress become stale. */
  seek(topic: string, partition: number, offset: number): void;
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  on(events: GroupConsumerEvents): void;
  /** Stops after the batches in progress return, leaves the group, closes connections. */
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** -1 = the broker's default.replication.factor. */
  replicationFactor: number;
  /** Topic-level configs, e.g. { 'retention.ms': '604800000' }. */
  config: Record<string, string>;
}

export interface TopicDescription {
  topic: string;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[]; low: number; high: number }[];
  config: Record<string, string>;
}

export interface TopicAdmin {
  connect(): Promise<void>;
  /** Creates the topics that do not exist; returns the names created. Existing topics are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<string[]>;
  describe(topics: string[]): Promise<TopicDescription[]>;
  listTopics(): Promise<string[]>;
  /** The topic's current partition count (from the cluster metadata). */
  partitionCount(topic: string): Promise<number>;
  /** Messages in `topics` after the group's committed offsets (all of them where it never committed). */
  groupLag(groupId: string, topics: string[]): Promise<number>;
  disconnect(): Promise<void>;
}

export interface KafkaClient {
  producer(): Producer;
  consumer(options: ConsumerOptions): GroupConsumer;
  admin(): TopicAdmin;
}

export interface ConsumerOptions {
  groupId: string;
  sessionTimeoutMs: number;
  /** Upper bound of one fetch response per partition; bounds memory with maxBytes. */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** The broker holds a fetch until this many bytes are available or maxWaitMs passed: bigger inserts. */
  minBytes?: number;
  maxWaitMs?: number;
}
