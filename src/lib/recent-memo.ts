import { detached } from '../domain/detached.js';

/**
 * A bounded memo for string keys that keeps what is in use: a two-way set-associative table (the way hardware
 * caches work). A key can live in one of two slots chosen by its hash; a new entry takes the first slot and moves
 * the entry there to the second, so an entry is lost only after two newer entries of its set arrived. So recently
 * or often used keys stay memoized while a flood of distinct keys costs a fixed amount of memory, unlike a table
 * cleared whenever it fills (which keeps missing as soon as the working set is larger than the table).
 *
 * The hash is computed here rather than by a Map because keys are fresh slices of fresh log lines: V8 hashes such
 * a string in the runtime on every Map lookup, which cost more than the classification it saved.
 */
export class RecentMemo<V> {
  private readonly keys: (string | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly mask: number;

  /** `slots`: a power of two; the memo holds at most that many entries. */
  constructor(slots: number) {
    if (!Number.isInteger(Math.log2(slots)) || slots < 2) throw new RangeError(`slots must be a power of two >= 2, got ${slots}`);
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.values = new Array<V | undefined>(slots).fill(undefined);
    this.mask = slots - 2; // even slot of the key's set; its partner is slot + 1
  }

  get(key: string): V | undefined {
    const slot = hashKey(key) & this.mask;
    if (this.keys[slot] === key) return this.values[slot];
    if (this.keys[slot + 1] === key) return this.values[slot + 1];
    return undefined;
  }

  set(key: string, value: V): void {
    const slot = hashKey(key) & this.mask;
    this.keys[slot + 1] = this.keys[slot];
    this.values[slot + 1] = this.values[slot];
    this.keys[slot] = detached(key);
    this.values[slot] = value;
  }
}

/** FNV-1a over the UTF-16 code units: a few ns per character, well spread for path- and address-like keys. */
function hashKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
