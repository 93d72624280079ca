/**
 * What the replay has seen so far, as methods may use it at a decision: per item and node, sparse hourly counts
 * (hour index, count) appended in time order; per node, hourly totals. Typed arrays, no per-request objects.
 */
import { HOUR_MS } from '../calendar.js';
import { isMutableKind, itemKey } from './cache-sim.js';
import type { RequestKind } from '../event.js';
import { DECAYED_ROW, DecayedCounts, F_LAST24, FEATURES, addWindowCount } from '../forecast/rankers.js';
import { detached } from '../detached.js';

/** Window features per item in TraceHistory.addFleetWindows: F_LAST24 to the last feature. */
export const WINDOW_ROW = FEATURES - F_LAST24;

/** Numbers per item in an hour's list (HourList): its id, its fleet-wide fetches in the hour, the nodes that fetched it. */
const HOUR_ROW = 3;

/**
 * The items fetched in one hour, HOUR_ROW numbers each in one typed array (a fraction of the memory of arrays of
 * numbers: at 10M requests, millions of entries over the history's hours). Grows while its hour is the newest.
 */
interface HourList {
  rows: Int32Array<ArrayBuffer>;
  /** Items in the list. */
  length: number;
}

/** `a` when it has room for `need` numbers, else a copy at least twice as long (growing lists in amortised O(1)). */
function roomFor(a: Int32Array<ArrayBuffer>, need: number): Int32Array<ArrayBuffer> {
  if (need <= a.length) return a;
  const grown = new Int32Array(Math.max(need, 2 * a.length));
  grown.set(a);
  return grown;
}

/** Numbers per point of a PointList: hour, count, running total. */
const POINT_STRIDE = 3;

/**
 * Growable list of (hour, count) with non-decreasing hours and running totals, so a window's sum is a difference of
 * two totals found by bisection rather than a scan over its points. Counts are whole fetches: totals are exact.
 *
 * The three numbers of a point sit side by side in one array (POINT_STRIDE each): a look-up reads one cache line
 * rather than three arrays', and a list is one typed array rather than three (the backtest keeps one per item and
 * node, and per item fleet-wide: hundreds of thousands).
 */
export class PointList {
  /**
   * Point i at POINT_STRIDE * i: its hour, its count, and the running total (counts of every point up to and including
   * it since the list began, dropped points too). Whole fetches of one item on one node (or fleet-wide) stay far below
   * 2^31.
   */
  private data = new Int32Array(4 * POINT_STRIDE);
  length = 0;
  /** Counts of the points dropped so far: the total before index 0. */
  private dropped = 0;

  hourAt(i: number): number {
    return this.data[i * POINT_STRIDE]!;
  }

  countAt(i: number): number {
    return this.data[i * POINT_STRIDE + 1]!;
  }

  private totalAt(i: number): number {
    return i >= 0 ? this.data[i * POINT_STRIDE + 2]! : this.dropped;
  }

  add(hour: number, count = 1): void {
    const d = this.data;
    const last = (this.length - 1) * POINT_STRIDE;
    if (last >= 0 && d[last] === hour) {
      d[last + 1] = d[last + 1]! + count;
      d[last + 2] = d[last + 2]! + count;
      return;
    }
    const o = this.length * POINT_STRIDE;
    this.data = roomFor(d, o + POINT_STRIDE);
    this.data[o] = hour;
    this.data[o + 1] = count;
    this.data[o + 2] = (last >= 0 ? d[last + 2]! : this.dropped) + count;
    this.length++;
  }

  /** Index of the first point at or after `hour`, searched in [lo, hi). */
  indexOf(hour: number, lo = 0, hi = this.length): number {
    const d = this.data;
    // The newest points are asked for most: a range ending after the last point needs no bisection.
    if (hi > lo && d[(hi - 1) * POINT_STRIDE]! < hour) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (d[mid * POINT_STRIDE]! < hour) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Σ counts of the points with index in [i, j). */
  between(i: number, j: number): number {
    return j > i ? this.totalAt(j - 1) - this.totalAt(i - 1) : 0;
  }

  /** Σ counts with from ≤ hour < to. */
  sum(from: number, to: number): number {
    const j = this.indexOf(to);
    return this.between(this.indexOf(from, 0, j), j);
  }

  /** Adds counts with from ≤ hour < from + out.length into out[hour - from]. */
  scatter(out: Float64Array, from: number): void {
    const d = this.data;
    const to = from + out.length;
    for (let i = this.length - 1; i >= 0; i--) {
      const h = d[i * POINT_STRIDE]!;
      if (h < from) break;
      if (h < to) out[h - from] = out[h - from]! + d[i * POINT_STRIDE + 1]!;
    }
  }

  /** Drops points before `hour` (bounded memory over long traces). */
  dropBefore(hour: number): void {
    const k = this.indexOf(hour);
    if (k === 0) return;
    this.dropped = this.totalAt(k - 1);
    this.data.copyWithin(0, k * POINT_STRIDE, this.length * POINT_STRIDE);
    this.length -= k;
  }
}

/** One item's history on one node: hourly fetch counts, and what folding requests and recency need. */
export class NodeSeries extends PointList {
  constructor(
    /** The node's index in TraceHistory.nodeNames. */
    readonly node: number,
    /** Decayed fetch counts at exact fetch times (the ranker pool's recency features). */
    readonly decay: DecayedCounts = new DecayedCounts(),
  ) {
    super();
  }

  /** Time of the last request, to fold a go command's .info/.mod/.zip into one fetch. */
  lastTs = -Infinity;

  /**
   * Mutable items only: the exact time of every request on this node, oldest first. A warmed list or @latest answer
   * is fresh for minutes, not the hour its count falls in, so whether warming it helped is a question of exact times.
   * (Here rather than in a per-item map: the series is looked up for every request anyway.)
   */
  times: number[] | undefined = undefined;
}

export interface ItemHistory {
  key: string;
  module: string;
  version: string;
  mutable: boolean;
  /** First request anywhere, epoch ms, and the node that made it. */
  firstTs: number;
  firstNode: string;
  /** Largest response seen (the item's cached size). */
  bytes: number;
  /**
   * Per node hourly counts of fetches (requests of one client session, see FETCH_GAP_MS, count once), with the last
   * request time and decayed counts: one look-up per request.
   */
  nodes: Map<string, NodeSeries>;
  /** Hourly fetch counts over every node (their sum): the ranker pool bounds an item's window counts by them. */
  fleet: PointList;
  /**
   * Decayed fetch counts over every node: equal to the sum of the nodes', an upper bound the ranker pool skips by.
   * Its counts sit in the item's packed row (TraceHistory.rowChunks).
   */
  fleetDecay: DecayedCounts;
  /** Dense index in order of first appearance (the order of `TraceHistory.items`). */
  id: number;
  /** Slot in the hour list of its newest fleet hour (see TraceHistory.fetchCountsDuring). */
  hourSlot: number;
  /** Time of the last fetch anywhere. */
  lastFetchTs: number;
}

/**
 * Requests of one item on one node closer than this are one fetch: the go command asks for .info, .mod and .zip
 * in a row, and counting three would make every forecast three times too sure that "someone will ask".
 */
export const FETCH_GAP_MS = 10_000;

/** Items per chunk of packed rows (a power of two): chunks never move, so the items' views into them stay valid. */
export const ROW_CHUNK_SHIFT = 12;
const ROW_CHUNK_ITEMS = 1 << ROW_CHUNK_SHIFT;
/** Packed row of an item: its fleet-wide DecayedCounts row, then these. */
export const ROW_LAST_FETCH = DECAYED_ROW;
/**
 * Versions only (0 for list/@latest items and rows without a version): bit i set when node i (index in nodeNames,
 * below MASKED_NODES) fetched it. With caches that keep every version, an item held by every deciding node is skipped
 * without reading its objects, and whether a node holds it is read here.
 */
export const ROW_VERSION_NODES = DECAYED_ROW + 1;
const ROW_LENGTH = DECAYED_ROW + 2;
/** Nodes a ROW_VERSION_NODES mask can name (bits of a 32-bit integer, sign bit unused). */
export const MASKED_NODES = 31;

/** Where item `id`'s packed row starts in its chunk, `rowChunks[id >> ROW_CHUNK_SHIFT]`. */
export function rowOffset(id: number): number {
  return packedOffset(id, ROW_LENGTH);
}

/** Where row i of packed rows of `stride` numbers starts in its chunk (ROW_CHUNK_ITEMS rows per chunk). */
function packedOffset(i: number, stride: number): number {
  return (i & (ROW_CHUNK_ITEMS - 1)) * stride;
}

/** The chunk of packed rows of `stride` numbers that holds row i, added when row i starts a new one (rows come in order). */
function packedChunk(chunks: Float64Array[], i: number, stride: number): Float64Array {
  const c = i >> ROW_CHUNK_SHIFT;
  if (c === chunks.length) chunks.push(new Float64Array(ROW_CHUNK_ITEMS * stride));
  return chunks[c]!;
}

export class TraceHistory {
  readonly items = new Map<string, ItemHistory>();
  /** Items by id. */
  readonly byId: ItemHistory[] = [];
  /** Nodes in order of first fetch (a NodeSeries names its node by index here). */
  readonly nodeNames: string[] = [];
  private readonly nodeIndex = new Map<string, number>();
  /**
   * Every item's fleet-wide decayed counts, last fetch and version nodes, packed by id (ROW_LENGTH numbers each, in
   * chunks of ROW_CHUNK_ITEMS): the ranker pool's per-decision bound reads these for every candidate, and reading
   * them in sequence rather than through each item's objects is most of what the bound costs.
   */
  readonly rowChunks: Float64Array[] = [];
  /**
   * The node series' DecayedCounts rows, packed in chunks of ROW_CHUNK_ITEMS: hundreds of thousands of series would
   * otherwise each own a typed array (its object and buffer, about 250 bytes beside 56 of counts).
   */
  private readonly seriesRowChunks: Float64Array[] = [];
  private seriesRows = 0;
  /**
   * Per hour index (from `hourBase`), the items fetched in that hour with their fleet-wide fetches and the nodes that
   * fetched them there (what the fleet's active-hours features sum).
   */
  private readonly hours: HourList[] = [];
  /** Scratch per item id for fetchCountsDuring (all zero between calls). */
  private tally = new Float64Array(0);
  private hourBase = 0;
  /** Versions of each module, in order of first appearance. */
  readonly byModule = new Map<string, ItemHistory[]>();
  /**
   * The item of each module and version: how a request finds its item. A look-up by module, then version, hashes two
   * fields as the reader cut them; a look-up in `items` would first build their joined key, a new string per request
   * to copy and hash. A module with one item maps to it directly, not to a map of one (on logs where every path is a
   * module, nearly all are).
   */
  private readonly byModuleVersion = new Map<string, ItemHistory | Map<string, ItemHistory>>();
  /** Per node hourly request totals. */
  readonly nodeTotals = new Map<string, PointList>();
  readonly nodeRegion = new Map<string, string>();
  private maxBytes = 0;

  constructor(
    /** Hour 0 of the history's hour indices (epoch ms, hour aligned). */
    readonly origin: number,
    readonly defaultBytes: number,
  ) {}

  hourOf(ts: number): number {
    return Math.floor((ts - this.origin) / HOUR_MS);
  }

  add(ts: number, module: string, version: string, kind: RequestKind, node: string, region: string, bytes: number): ItemHistory {
    const mutable = isMutableKind(kind);
    const v = mutable ? '' : version;
    let item = this.itemOf(module, v);
    if (!item) {
      const key = itemKey(module, v);
      const id = this.byId.length;
      // Strings kept for the whole run are copies: a field sliced out of a parser's input (a CSV reader's chunk)
      // would otherwise keep that whole chunk alive (at 2.5M requests, 100 MB of chunks held by items' names).
      item = { key: detached(key), module: detached(module), version: detached(v), mutable, firstTs: ts, firstNode: this.nodeNames[this.nodeIndexOf(node)]!, bytes: 0, nodes: new Map(), fleet: new PointList(), fleetDecay: new DecayedCounts(packedChunk(this.rowChunks, id, ROW_LENGTH), rowOffset(id)), id, hourSlot: -1, lastFetchTs: ts };
      this.items.set(item.key, item);
      this.byId.push(item);
      const versions = this.byModule.get(module);
      if (versions) versions.push(item);
      else this.byModule.set(item.module, [item]);
      const known = this.byModuleVersion.get(module);
      if (known === undefined) this.byModuleVersion.set(item.module, item);
      else if (known instanceof Map) known.set(item.version, item);
      else this.byModuleVersion.set(item.module, new Map([[known.version, known], [item.version, item]]));
    }
    if (bytes > item.bytes) item.bytes = bytes;
    if (bytes > this.maxBytes) this.maxBytes = bytes;
    const hour = this.hourOf(ts);
    let series = item.nodes.get(node);
    if (!series) {
      const index = this.nodeIndexOf(node);
      series = new NodeSeries(index, this.nextSeriesDecay());
      if (mutable) series.times = [];
      item.nodes.set(this.nodeNames[index]!, series);
      if (v !== '' && index < MASKED_NODES) this.setRow(item.id, ROW_VERSION_NODES, this.rowAt(item.id, ROW_VERSION_NODES) | (1 << index));
    }
    series.times?.push(ts);
    const last = series.lastTs;
    series.lastTs = ts;
    if (ts - last < FETCH_GAP_MS) return item;
    const nodePoints = series.length;
    series.add(hour);
    const points = item.fleet.length;
    item.fleet.add(hour);
    this.fetchedIn(hour, item, item.fleet.length > points, series.length > nodePoints);
    series.decay.add(ts);
    item.fleetDecay.add(ts);
    item.lastFetchTs = ts;
    this.setRow(item.id, ROW_LAST_FETCH, ts);
    let totals = this.nodeTotals.get(node);
    if (!totals) {
      totals = new PointList();
      this.nodeTotals.set(this.nodeNames[series.node]!, totals);
      this.nodeRegion.set(this.nodeNames[series.node]!, detached(region));
    }
    totals.add(hour);
    return item;
  }

  /** The item of this module and version ('' for list/@latest), if seen. */
  private itemOf(module: string, version: string): ItemHistory | undefined {
    const known = this.byModuleVersion.get(module);
    if (known === undefined || known instanceof Map) return known?.get(version);
    return known.version === version ? known : undefined;
  }

  /** Fresh decayed counts for a new node series, in the next row of the packed series rows. */
  private nextSeriesDecay(): DecayedCounts {
    const i = this.seriesRows++;
    return new DecayedCounts(packedChunk(this.seriesRowChunks, i, DECAYED_ROW), packedOffset(i, DECAYED_ROW));
  }

  /** The node's index in nodeNames, adding it (under its own copy of the name) when new. */
  private nodeIndexOf(node: string): number {
    let index = this.nodeIndex.get(node);
    if (index === undefined) {
      index = this.nodeNames.length;
      node = detached(node);
      this.nodeIndex.set(node, index);
      this.nodeNames.push(node);
    }
    return index;
  }

  /** The ROW_VERSION_NODES bits of these nodes; 0 (matching no item) when one has no bit (never fetched, or too many nodes). */
  versionMaskOf(nodes: readonly string[]): number {
    let bits = 0;
    for (const node of nodes) {
      const i = this.nodeIndex.get(node);
      if (i === undefined || i >= MASKED_NODES) return 0;
      bits |= 1 << i;
    }
    return bits;
  }

  /** Did every node of `mask` (versionMaskOf) fetch this version? Never for mask 0 or a list/@latest item. */
  fetchedByAll(id: number, mask: number): boolean {
    return mask !== 0 && (this.rowAt(id, ROW_VERSION_NODES) & mask) === mask;
  }

  private rowAt(id: number, field: number): number {
    return this.rowChunks[id >> ROW_CHUNK_SHIFT]![rowOffset(id) + field]!;
  }

  private setRow(id: number, field: number, value: number): void {
    this.rowChunks[id >> ROW_CHUNK_SHIFT]![rowOffset(id) + field] = value;
  }

  /**
   * A fetch of the item in `hour`: the first there (a new fleet point, and the node's first there too) joins the
   * hour's list, a later one counts, and a node's first in the hour (a new point of its series) counts that node.
   */
  private fetchedIn(hour: number, item: ItemHistory, first: boolean, nodeFirst: boolean): void {
    const i = hour - this.hourBase;
    if (i < 0) return; // before the pruned history: no window reaches it
    while (this.hours.length <= i) {
      // The hour before is over (fetches come in time order): its list keeps only what it holds.
      const done = this.hours[this.hours.length - 1];
      if (done) done.rows = done.rows.slice(0, done.length * HOUR_ROW);
      this.hours.push({ rows: new Int32Array(64 * HOUR_ROW), length: 0 });
    }
    const list = this.hours[i]!;
    if (first) {
      item.hourSlot = list.length++;
      list.rows = roomFor(list.rows, list.length * HOUR_ROW);
      const o = item.hourSlot * HOUR_ROW;
      list.rows[o] = item.id;
      list.rows[o + 1] = 1;
      list.rows[o + 2] = 1;
      return;
    }
    const o = item.hourSlot * HOUR_ROW;
    list.rows[o + 1] = list.rows[o + 1]! + 1;
    if (nodeFirst) list.rows[o + 2] = list.rows[o + 2]! + 1;
  }

  /**
   * Every item with a fetch in hours [from, to) and its fleet-wide fetches there (the sum of its hourly counts in the
   * range): ids[i] fetched counts[i] times, each item once, in no particular order. What a count over that window
   * ranks, read from the hour lists rather than by walking every item ever seen, as typed arrays rather than an
   * object per item (tens of thousands per decision).
   */
  fetchCountsDuring(from: number, to: number): { ids: Int32Array; counts: Float64Array } {
    const lo = Math.max(0, from - this.hourBase);
    const hi = Math.min(this.hours.length, to - this.hourBase);
    if (this.tally.length < this.byId.length) this.tally = new Float64Array(Math.max(this.byId.length, 2 * this.tally.length));
    const tally = this.tally;
    let ids = new Int32Array(256);
    let n = 0;
    for (let i = lo; i < hi; i++) {
      const { rows, length } = this.hours[i]!;
      for (let o = 0; o < length * HOUR_ROW; o += HOUR_ROW) {
        const id = rows[o]!;
        if (tally[id] === 0) {
          // counts are whole fetches, at least one: a zero tally is an item not met yet
          ids = roomFor(ids, n + 1);
          ids[n++] = id;
        }
        tally[id] = tally[id]! + rows[o + 1]!;
      }
    }
    const counts = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      counts[i] = tally[ids[i]!]!;
      tally[ids[i]!] = 0;
    }
    return { ids: ids.subarray(0, n), counts };
  }

  /**
   * The fleet-wide window features (rankers.ts: last 24 h, the same window yesterday and last week, active hours) at
   * hour h for every item fetched in the week before it, added into out at id * WINDOW_ROW + (feature - F_LAST24), in
   * one pass over a week of hour lists: exactly what the fleet scope sums over the item's nodes (windowFeatures of
   * each node's points), active hours as node-hours.
   */
  addFleetWindows(h: number, w: number, out: Float64Array): void {
    for (let hour = Math.max(h - 168, this.hourBase); hour < h; hour++) {
      const i = hour - this.hourBase;
      if (i >= this.hours.length) break;
      const { rows, length } = this.hours[i]!;
      for (let o = 0; o < length * HOUR_ROW; o += HOUR_ROW) addWindowCount(out, rows[o]! * WINDOW_ROW - F_LAST24, h - hour, rows[o + 1]!, w, rows[o + 2]!);
    }
  }

  /** The item's cached size as known now: its largest response, else the default. */
  sizeOf(item: ItemHistory | undefined): number {
    return item && item.bytes > 0 ? item.bytes : this.defaultBytes;
  }

  /** Was the item requested on the node in [from, to)? Exact for mutable items, by whole hours otherwise. */
  requestedIn(item: ItemHistory, node: string, from: number, to: number): boolean {
    const points = item.nodes.get(node);
    if (points === undefined) return false;
    const times = points.times;
    if (times) {
      for (let i = times.length - 1; i >= 0 && times[i]! >= from; i--) if (times[i]! < to) return true;
      return false;
    }
    return points.sum(this.hourOf(from), this.hourOf(to - 1) + 1) > 0;
  }

  /** Forgets hourly points and request times older than `hour` (items keep their first-seen time and size). */
  prune(hour: number): void {
    const before = this.origin + hour * HOUR_MS;
    for (const item of this.items.values()) {
      // First seen since: every point and time is, nothing to drop (most items, without reading their series).
      if (item.firstTs >= before) continue;
      for (const p of item.nodes.values()) {
        p.dropBefore(hour);
        if (p.times) dropTimesBefore(p.times, before);
      }
      item.fleet.dropBefore(hour);
    }
    for (const p of this.nodeTotals.values()) p.dropBefore(hour);
    if (hour > this.hourBase) {
      this.hours.splice(0, Math.min(this.hours.length, hour - this.hourBase));
      this.hourBase = hour;
    }
  }
}

/** Drops the times before `ts` from a list in time order. */
function dropTimesBefore(times: number[], ts: number): void {
  let k = 0;
  while (k < times.length && times[k]! < ts) k++;
  if (k > 0) times.splice(0, k);
}
