/**
 * A real Apache Kafka broker for tests, through scripts/kafka-local.sh: its own temp directory and free loopback
 * ports. When MODCAST_TEST_KAFKA_BROKERS is set (CI may share one broker across test files) that broker is used
 * instead; tests therefore always use unique topic names and group ids. If Java or the jars are missing the
 * start fails loudly: Kafka tests are never skipped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runScript } from './run-script.js';
import { createKafkaClient } from '../../src/kafka/kafkajs.js';
import type { KafkaClient } from '../../src/kafka/types.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Config } from '../../src/config.js';


export interface TestBroker {
  brokers: string[];
  /** True for a broker given by MODCAST_TEST_KAFKA_BROKERS: it cannot be stopped by a test. */
  shared: boolean;
  /** Stops the broker, keeping its data and ports (`start` brings it back as it was). */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  stop(): Promise<void>;
  /** The broker JVM's pid while it runs (undefined for a shared broker): benchmarks read its CPU time. */
  pid(): number | undefined;
}

function script(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return runScript('kafka-local.sh', args, 'a real broker', env);
}

/** `own`: always a private broker (tests that stop and restart it). */
export async function startTestBroker(options: { own?: boolean } = {}): Promise<TestBroker> {
  const sharedList = process.env.MODCAST_TEST_KAFKA_BROKERS;
  if (sharedList && !options.own) {
    const noStop = async () => {
      throw new Error('the shared test broker (MODCAST_TEST_KAFKA_BROKERS) cannot be stopped by a test; use startTestBroker({ own: true })');
    };
    return { brokers: sharedList.split(',').map((s) => s.trim()), shared: true, halt: noStop, start: noStop, stop: async () => {}, pid: () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'modcast-kafka-'));
  let address: string;
  try {
    address = await script(['start', '--dir', dir, '--owner-pid', String(process.pid)]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  if (!/^127\.0\.0\.1:\d+$/.test(address)) throw new Error(`unexpected output of kafka-local.sh start: ${address}`);
  return {
    brokers: [address],
    shared: false,
    halt: async () => void (await script(['stop', '--dir', dir])),
    start: async () => void (await script(['start', '--dir', dir, '--owner-pid', String(process.pid)])),
    stop: async () => void (await script(['stop', '--dir', dir, '--purge'])),
    pid: () => {
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    },
  };
}

export interface TestKafkaCluster {
  brokers: string[];
  /** The node id (1-based) of each broker in `brokers` order. */
  nodeIds: number[];
  /** kill -9 of broker `id` (its data and ports stay). */
  killNode(id: number): Promise<void>;
  startNode(id: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A cluster of `nodes` combined KRaft broker+controller nodes (default 3, at -Xmx256m each); from 3 nodes on, topics
 * default to replication factor 3 and min.insync.replicas 2 (scripts/kafka-local.sh --nodes).
 */
export async function startTestKafkaCluster(nodes = 3): Promise<TestKafkaCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-kafka-cluster-'));
  const env = { ...process.env, MODCAST_KAFKA_HEAP: process.env.MODCAST_KAFKA_HEAP ?? '256m' };
  const owner = ['--dir', dir, '--owner-pid', String(process.pid)];
  let list: string;
  try {
    list = await script(['start', ...owner, '--nodes', String(nodes)], env);
  } catch (e) {
    await script(['stop', '--dir', dir, '--purge']).catch(() => {});
    throw e;
  }
  const brokers = list.split(',');
  if (brokers.length !== nodes || !brokers.every((b) => /^127\.0\.0\.1:\d+$/.test(b))) throw new Error(`unexpected output of kafka-local.sh start: ${list}`);
  return {
    brokers,
    nodeIds: brokers.map((_, i) => i + 1),
    killNode: async (id) => {
      const pid = Number(readFileSync(join(dir, `node${id}`, 'pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await sleep(50);
    },
    startNode: async (id) => void (await script(['start', ...owner, '--node', String(id)], env)),
    stop: async () => void (await script(['stop', '--dir', dir, '--purge'])),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A name no other test (in this or another process) uses: topics, groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Config overrides pointing at the broker with this test's own topics and group. */
export function kafkaOverrides(brokers: string[], prefix = uniqueName('t'), extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kafka: {
      brokers,
      groupId: `${prefix}-ingest`,
      partitions: 4,
      replicationFactor: 1,
      sessionTimeoutMs: 6000,
      topics: {
        access: `${prefix}.access`,
        rejected: `${prefix}.rejected`,
        dlq: `${prefix}.dlq`,
        control: `${prefix}.control`,
        warmupTasks: `${prefix}.warmup-tasks`,
        warmupResults: `${prefix}.warmup-results`,
      },
      ...extra,
    },
  };
}

export function testKafkaClient(kafka: Config['kafka']): KafkaClient {
  return createKafkaClient(kafka, createLogger(process.env.MODCAST_TEST_LOG_LEVEL ?? 'silent'));
}
