/**
 * Which scheduler process acts. Three modes (config `scheduler.mode`):
 * - `single` (default; the only choice on the embedded store, where one process holds the data): always leader.
 * - `lease`: several processes sharing a ClickHouse server; a lease in `scheduler_leases` (031 migration). A
 *   candidate that sees no live lease claims term+1, waits `settleMs`, and leads if it is the earliest claimant of
 *   that term; the leader renews every ttl/3 and steps down by itself if it cannot renew before expiry. Relies on
 *   clocks agreeing within a fraction of the TTL (NTP); a brief overlap is harmless because runs are idempotent.
 * - `kafka`: several processes with a broker: the member of consumer group `<groupId>-scheduler` that is
 *   assigned partition 0 of the one-partition control topic leads; Kafka's group protocol moves it on failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Store } from '../store/client.js';
import { readLeaseHolder, writeLeaseClaim } from '../store/queries/scheduler-leases.js';
import type { KafkaClient, GroupConsumer } from '../kafka/types.js';
import { defaultHolderId } from '../lib/holder-id.js';

export interface Leadership {
  readonly mode: 'single' | 'lease' | 'kafka';
  readonly holderId: string;
  start(): Promise<void>;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export class SingleProcessLeadership implements Leadership {
  readonly mode = 'single' as const;
  constructor(readonly holderId = defaultHolderId()) {}
  async start(): Promise<void> {}
  isLeader(): boolean {
    return true;
  }
  async stop(): Promise<void> {}
}

export interface LeaseOptions {
  name?: string;
  ttlMs?: number;
  /** Wait between claiming and checking who won a term. */
  settleMs?: number;
  holderId?: string;
  logger?: Logger;
  now?: () => number;
}

export class ClickHouseLease implements Leadership {
  readonly mode = 'lease' as const;
  readonly holderId: string;
  private readonly name: string;
  private readonly ttlMs: number;
  private readonly settleMs: number;
  private readonly now: () => number;
  /** Leader until this instant (own clock), 0 when not leader. */
  private leaderUntil = 0;
  private term = 0;
  private acquiredAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store, opts: LeaseOptions = {}) {
    this.name = opts.name ?? 'scheduler';
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.settleMs = opts.settleMs ?? 1000;
    this.holderId = opts.holderId ?? defaultHolderId();
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
  }

  private readonly logger: Logger | undefined;

  isLeader(): boolean {
    // A small margin: stop acting before the lease can be taken over.
    return this.now() < this.leaderUntil - Math.min(2000, this.ttlMs / 10);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    const every = Math.max(250, Math.floor(this.ttlMs / 3));
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick()).catch((e) => this.logger?.warn({ err: (e as Error).message }, 'lease tick failed'));
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking.catch(() => undefined);
    if (this.isLeader()) {
      // Release: expire our lease now so a standby takes over at its next tick.
      await this.write(this.term, this.acquiredAt, this.now()).catch(() => undefined);
    }
    this.leaderUntil = 0;
  }

  private async write(term: number, acquiredAt: number, expiresAt: number): Promise<void> {
    await writeLeaseClaim(this.store, { name: this.name, term, holder: this.holderId, acquiredAt, expiresAt, updatedAt: this.now() });
  }

  /** The current term's holder (see readLeaseHolder). */
  current(): Promise<{ term: number; holder: string; expiresAt: number } | undefined> {
    return readLeaseHolder(this.store, this.name);
  }

  /** One round of the protocol; exposed for tests. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const cur = await this.current();
    const t = this.now();
    if (cur && cur.holder === this.holderId && cur.expiresAt > t) {
      await this.write(cur.term, this.acquiredAt || t, t + this.ttlMs);
      this.term = cur.term;
      this.leaderUntil = t + this.ttlMs;
      return;
    }
    if (cur && cur.expiresAt > t) {
      if (this.leaderUntil > 0) this.logger?.warn({ holder: cur.holder }, 'scheduler lease lost');
      this.leaderUntil = 0;
      return;
    }
    const term = (cur?.term ?? 0) + 1;
    this.acquiredAt = t;
    await this.write(term, t, t + this.ttlMs);
    await sleep(this.settleMs);
    const won = await this.current();
    if (won && won.term === term && won.holder === this.holderId) {
      this.term = term;
      this.leaderUntil = t + this.ttlMs;
      this.logger?.info({ term, holder: this.holderId }, 'scheduler lease acquired: this process leads');
    } else {
      this.leaderUntil = 0;
    }
  }
}

export interface KafkaLeadershipOptions {
  client: KafkaClient;
  topic: string;
  groupId: string;
  holderId?: string;
  logger?: Logger;
  sessionTimeoutMs?: number;
}

/** Leader = the group member assigned partition 0 of the (one-partition) control topic. */
export class KafkaLeadership implements Leadership {
  readonly mode = 'kafka' as const;
  readonly holderId: string;
  private consumer: GroupConsumer | undefined;
  private leader = false;

  constructor(private readonly opts: KafkaLeadershipOptions) {
    this.holderId = opts.holderId ?? defaultHolderId();
  }

  isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    const { client, topic, groupId, logger } = this.opts;
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.ensureTopics([{ topic, partitions: 1, replicationFactor: -1, config: { 'cleanup.policy': 'delete', 'retention.ms': String(86_400_000) } }]);
    } finally {
      await admin.disconnect();
    }
    const consumer = client.consumer({ groupId, sessionTimeoutMs: this.opts.sessionTimeoutMs ?? 10_000 });
    this.consumer = consumer;
    consumer.on({
      rebalancing: () => {
        this.leader = false;
      },
      assigned: (assignment) => {
        const was = this.leader;
        this.leader = (assignment.get(topic) ?? []).includes(0);
        if (this.leader !== was) logger?.info({ holder: this.holderId, leader: this.leader }, 'scheduler leadership changed (kafka group)');
      },
      crashed: (error, restarting) => {
        this.leader = false;
        logger?.error({ err: error.message, restarting }, 'scheduler control consumer crashed');
      },
    });
    await consumer.connect();
    await consumer.subscribe([topic], { fromBeginning: false });
    // Control messages carry nothing the scheduler needs yet: take them so the group's position advances.
    await consumer.run(async (batch, control) => {
      const last = batch.messages[batch.messages.length - 1]!;
      control.resolve(last.offset);
      await consumer.commit(batch.topic, batch.partition, last.offset + 1);
    });
  }

  async stop(): Promise<void> {
    this.leader = false;
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
