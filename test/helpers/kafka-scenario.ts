/** One Kafka test's own topics, group and running parts on a shared broker and store. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { withAdmin, ensureTopics } from '../../src/kafka/topics.js';
import { shipLogs } from '../../src/cli/ship.js';
import { Ingestor, type IngestorHooks } from '../../src/ingest/consumer.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import type { Config } from '../../src/config.js';
import type { KafkaClient } from '../../src/kafka/types.js';
import type { ShipperStats } from '../../src/ship/shipper.js';
import { kafkaOverrides, testKafkaClient, uniqueName, type TestBroker } from './kafka.js';
import { count, sameStore, testConfig, type TestStore } from './store.js';
import { waitFor, type GrowingLog } from './kafka-logs.js';
import { spawnKafkaChild, childExit } from './kafka-child.js';
import assert from 'node:assert/strict';

const logger = createLogger(process.env.MODCAST_TEST_LOG_LEVEL ?? 'silent');

export const nodesLike = (prefix: string) => ({ prefix: `${prefix}%` });

/**
 * One test's own topics and group on the shared broker and store, plus what it started: stopped after the test
 * whatever happened (a kafkajs client left running would keep the process alive).
 */
export class KafkaScenario {
  readonly config: Config;
  readonly client: KafkaClient;
  readonly ingestors: Ingestor[] = [];
  readonly shipping: Promise<ShipperStats>[] = [];
  /** Per shipped log (node name), lines the broker acknowledged so far. */
  private readonly ackedLines = new Map<string, number>();
  private readonly stopShipping = new AbortController();

  constructor(
    broker: Pick<TestBroker, 'brokers'>,
    private readonly ts: TestStore,
    prefix: string,
    kafka: Record<string, unknown> = {},
  ) {
    this.config = testConfig(ts.dir, { ...sameStore(ts.config), ...kafkaOverrides(broker.brokers, uniqueName(prefix), kafka) });
    this.client = testKafkaClient(this.config.kafka);
  }

  static async create(
    t: { after: (fn: () => Promise<void>) => void },
    broker: Pick<TestBroker, 'brokers'>,
    ts: TestStore,
    prefix: string,
    kafka: Record<string, unknown> = {},
  ): Promise<KafkaScenario> {
    const s = new KafkaScenario(broker, ts, prefix, kafka);
    t.after(async () => void (await s.stop()));
    await ensureTopics(s.client, s.config.kafka);
    return s;
  }

  ship(log: GrowingLog): void {
    this.shipFiles(`${log.path}*`, log.node.name, log.node.region);
  }

  /** Ships the files matching `pattern` as node `node` (nginx format). */
  shipFiles(pattern: string, node: string, region: string): void {
    this.ackedLines.set(node, 0);
    const afterAck = ({ lines }: { lines: number }) => void this.ackedLines.set(node, this.ackedLines.get(node)! + lines);
    this.shipping.push(
      shipLogs(
        { config: this.config, logger },
        { patterns: [pattern], flags: { node, region, format: 'nginx', createTopics: false, pollMs: 50, idleCloseMs: 1000 }, hooks: { afterAck } },
        this.stopShipping.signal,
      ),
    );
  }

  /** Lines of `log` the broker acknowledged (a batch message carries many, so messages no longer count lines). */
  shipped(log: GrowingLog): number {
    return this.ackedLines.get(log.node.name) ?? 0;
  }

  async ingest(batchRows = 2000, hooks?: IngestorHooks, log: Logger = logger): Promise<Ingestor> {
    const ingestor = new Ingestor({ client: this.client, store: this.ts.store, kafka: this.config.kafka, batchRows, maxWaitMs: 200, logger: log, ...(hooks ? { hooks } : {}) });
    this.ingestors.push(ingestor);
    await ingestor.start();
    return ingestor;
  }

  /** A config file for a child process (kafka-child.ts) on these topics, with its own data directory. */
  configFile(dataDir: string, ingest: { batchRows?: number } = {}): string {
    const { kafka, privacy } = this.config;
    const file = join(dataDir, 'modcast.yaml');
    const pick = { brokers: kafka.brokers, groupId: kafka.groupId, topics: kafka.topics, partitions: kafka.partitions, replicationFactor: kafka.replicationFactor, sessionTimeoutMs: kafka.sessionTimeoutMs };
    writeFileSync(file, stringify({ dataDir, logLevel: 'error', privacy, kafka: pick, ingest, ...sameStore(this.config) }));
    return file;
  }

  /**
   * The ingestor in a child process (its own store connection) kills itself with SIGKILL after storing its 3rd batch
   * and before committing it; `log` grows by 5000 lines before and 2000 after; a restarted child consumes everything and
   * stops on SIGTERM. Returns the restarted child's stats (it must have replayed the uncommitted range).
   */
  async crashIngestorAndReplay(log: GrowingLog, dataDir: string): Promise<Record<string, number> | undefined> {
    const configFile = this.configFile(dataDir, { batchRows: 700 });
    this.ship(log);
    log.append(5000);
    const first = await childExit(spawnKafkaChild('consume', configFile, { crashAfter: 3 }));
    assert.equal(first.signal, 'SIGKILL', 'killed itself after storing its 3rd batch, before committing it');
    log.append(2000);
    const second = spawnKafkaChild('consume', configFile, {});
    const secondExit = childExit(second);
    await waitFor('all lines produced and consumed', async () => this.shipped(log) === log.lines && (await this.groupLag()) === 0, 90_000, async () => ({
      shipped: this.shipped(log),
      lines: log.lines,
      lag: await this.groupLag(),
    }));
    second.kill('SIGTERM');
    const end = await secondExit;
    assert.equal(end.code, 0, 'graceful stop on SIGTERM');
    assert.ok((end.stats?.replayed ?? 0) >= 1, `the restarted ingestor replayed the uncommitted batch (${JSON.stringify(end.stats)})`);
    await this.stop();
    return end.stats;
  }

  groupLag(): Promise<number> {
    const { groupId, topics } = this.config.kafka;
    return withAdmin(this.client, (a) => a.groupLag(groupId, [topics.access, topics.rejected]));
  }

  /** Stops shippers (drained) and ingestors (gracefully); returns the shippers' stats. Idempotent. */
  async stop(): Promise<ShipperStats[]> {
    this.stopShipping.abort();
    const shipped = await Promise.all(this.shipping);
    await Promise.all(this.ingestors.splice(0).map((i) => i.stop()));
    return shipped;
  }

  async state(nodePrefix: string): Promise<Record<string, unknown>> {
    const where = nodesLike(nodePrefix);
    return {
      stored: await count(this.ts.store, 'SELECT count() FROM access_events WHERE node LIKE {prefix:String}', where),
      rejected: await count(this.ts.store, 'SELECT count() FROM rejected_events WHERE node LIKE {prefix:String}', where),
      groupLag: await this.groupLag().catch((e: Error) => e.message),
      shipped: Object.fromEntries(this.ackedLines),
      ingestors: this.ingestors.map((i) => ({ ...i.stats, assignment: Object.fromEntries(i.assignment) })),
      // Last: the recorded ranges per partition (`from-to@epoch`), where a gap or an overlap shows what went wrong.
      ranges: await this.recordedRanges().catch((e: Error) => e.message),
    };
  }

  private async recordedRanges(): Promise<Record<string, string>> {
    const rs = await this.ts.store.client.query({
      query: `SELECT topic, partition, arrayStringConcat(groupArray(concat(toString(from_offset), '-', toString(to_offset), '@', toString(epoch))), ' ') AS ranges
              FROM (SELECT * FROM ingest_batches WHERE consumer_group = {group:String} ORDER BY from_offset, epoch) GROUP BY topic, partition ORDER BY topic, partition`,
      query_params: { group: this.config.kafka.groupId },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ topic: string; partition: number; ranges: string }>();
    return Object.fromEntries(rows.map((r) => [`${r.topic.endsWith('.rejected') ? 'rejected' : 'access'}/${r.partition}`, r.ranges]));
  }
}

