/**
 * Which partition of `modcast.access` a module's events go to: murmur2(module) mod partition count, the mapping
 * of Kafka's (Java) default partitioner and of kafkajs' DefaultPartitioner for a keyed message. The shipper
 * computes it itself because one message now carries many events (all of one partition); computing the same
 * partition as a message keyed by module keeps a module where shippers before the batch format put it, so lines
 * resent after an upgrade meet their first copies in the same partition (see docs/kafka.md).
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (32-bit, signed result) of the key's UTF-8 bytes. */
export function murmur2(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition a message keyed `key` lands in with Kafka's default partitioner. */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** partitionOf with a memo: a log names far fewer modules than it has lines. Cleared when the count changes. */
export class KeyPartitioner {
  private readonly memo = new Map<string, number>();

  constructor(
    private count: number,
    private readonly maxEntries = 200_000,
  ) {}

  get partitions(): number {
    return this.count;
  }

  /** Adopts a new partition count (partitions were added): keys move, as they would for a keyed producer. */
  setPartitions(count: number): void {
    if (count === this.count) return;
    this.count = count;
    this.memo.clear();
  }

  partition(key: string): number {
    let p = this.memo.get(key);
    if (p === undefined) {
      if (this.memo.size >= this.maxEntries) this.memo.clear();
      p = partitionOf(key, this.count);
      this.memo.set(key, p);
    }
    return p;
  }
}
