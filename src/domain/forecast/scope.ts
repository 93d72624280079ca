/**
 * The scopes of a scoring run and its windows: the regions (configured or seen), each with its calendar, its
 * hour-of-week traffic shape and its share of the fleet; the nodes of each region with their smoothed traffic shares;
 * the fleet; and the windows predicted (hourly steps and the horizon for every scope, plus each region's next
 * business-hours block). Built from the history's hourly totals, before any item is forecast.
 */
import { HOUR_MS, currentOrNextBusinessBlock, defaultCalendar, hourOfWeekGrid, type RegionCalendar } from '../calendar.js';
import { slidingWindows, windowSpan, type ForecastWindow, type WindowSpan } from '../windows.js';
import { weekShape } from './series.js';
import { RELEASE_CURVE_HOURS } from './release.js';
import type { ItemForecaster, ScopeGrid } from './item.js';

export interface HistoryRange {
  /** First hour of history (epoch ms, hour aligned); index 0 of every series. */
  origin: number;
  /** End of history, exclusive (epoch ms, hour aligned); index `hours` is the first forecast hour. */
  asOf: number;
  hours: number;
}

export interface ScopeTotals {
  /** Per region, requests per history hour. */
  regionHours: Map<string, Float64Array>;
  /** Per node: its region and requests over the history. */
  nodes: Map<string, { region: string; total: number }>;
}

/** The fleet as configured: region calendars and nodes (scored even before they have traffic). */
export interface FleetLayout {
  calendars: RegionCalendar[];
  nodes: { name: string; region: string }[];
}

export interface Scope {
  regions: string[];
  regionIndex: Map<string, number>;
  calendars: RegionCalendar[];
  grids: ScopeGrid[];
  fleet: { how: Uint8Array; shape: Float64Array };
  /** Per region index: its nodes, each with its share of the region's traffic and its index among all nodes. */
  nodes: { name: string; share: number; index: number }[][];
  nodeIndex: Map<string, number>;
  /**
   * First history hour with any traffic: a store younger than the history window has no data before it, which
   * is not zero demand (series start there, shapes are measured from there).
   */
  dataStart: number;
}

/** The run's scopes from the history's totals, with hour-of-week grids `gridHours` long (history and horizon). */
export function buildScope(o: FleetLayout, range: HistoryRange, totals: ScopeTotals, gridHours: number): Scope {
  const configured = new Map(o.calendars.map((c) => [c.name, c]));
  const regions = [...new Set([...configured.keys(), ...totals.regionHours.keys(), ...o.nodes.map((n) => n.region)])].sort();
  const regionIndex = new Map(regions.map((r, i) => [r, i]));
  const calendars = regions.map((r) => configured.get(r) ?? defaultCalendar(r));
  const fleetTotals = new Float64Array(range.hours);
  const regionTotal = regions.map((r) => {
    const hours = totals.regionHours.get(r);
    let s = 0;
    if (hours) for (let i = 0; i < hours.length; i++) {
      s += hours[i]!;
      fleetTotals[i] = fleetTotals[i]! + hours[i]!;
    }
    return s;
  });
  const fleetTotal = regionTotal.reduce((a, b) => a + b, 0);
  let dataStart = fleetTotals.findIndex((x) => x > 0);
  if (dataStart < 0) dataStart = 0;
  const shapeOf = (hours: Float64Array, how: Uint8Array): Float64Array => weekShape(hours.subarray(dataStart), how.subarray(dataStart));
  const grids: ScopeGrid[] = regions.map((region, r) => {
    const how = hourOfWeekGrid(range.origin, gridHours, calendars[r]!.timeZone);
    const hours = totals.regionHours.get(region) ?? new Float64Array(range.hours);
    return { name: region, how, shape: shapeOf(hours, how), share: fleetTotal > 0 ? regionTotal[r]! / fleetTotal : 1 / regions.length };
  });
  const fleetHow = hourOfWeekGrid(range.origin, gridHours, 'UTC');
  // Node shares within a region, smoothed so a configured node without traffic yet still gets a part.
  const members = regions.map(() => new Map<string, number>());
  for (const [name, n] of totals.nodes) members[regionIndex.get(n.region)!]!.set(name, n.total);
  for (const n of o.nodes) {
    const m = members[regionIndex.get(n.region)!]!;
    if (!m.has(n.name)) m.set(n.name, 0);
  }
  const nodeIndex = new Map<string, number>();
  const nodes = members.map((m) => {
    const sum = [...m.values()].reduce((a, b) => a + b, 0);
    const eps = Math.max(1, (sum / Math.max(1, m.size)) * 0.1);
    return [...m.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, total]) => {
        nodeIndex.set(name, nodeIndex.size);
        return { name, share: (total + eps) / (sum + eps * m.size), index: nodeIndex.size - 1 };
      });
  });
  return { regions, regionIndex, calendars, grids, fleet: { how: fleetHow, shape: shapeOf(fleetTotals, fleetHow) }, nodes, nodeIndex, dataStart };
}

/** Windows of the run: steps and horizon for every scope, plus each region's next business block (its region only). */
export interface RunWindows {
  common: { w: ForecastWindow; span: WindowSpan }[];
  business: ({ w: ForecastWindow; span: WindowSpan } | null)[];
}

const MAX_BUSINESS_AHEAD_MS = 14 * 24 * HOUR_MS;

/** Hours from `asOf` to the end of the latest of the regions' next business blocks (within 14 days); 0 without one. */
export function hoursToNextBusinessBlocks(o: FleetLayout, asOf: number): number {
  const calendars = [...o.calendars];
  for (const n of o.nodes) if (!calendars.some((c) => c.name === n.region)) calendars.push(defaultCalendar(n.region));
  let end = asOf;
  for (const cal of calendars) {
    const b = currentOrNextBusinessBlock(cal, asOf);
    if (b && b.start - asOf <= MAX_BUSINESS_AHEAD_MS) end = Math.max(end, b.end);
  }
  return Math.ceil((end - asOf) / HOUR_MS);
}

export function buildWindows(o: { horizonHours: number; stepMinutes: number }, asOf: number, scope: Scope): RunWindows {
  const common = slidingWindows({ from: asOf, horizonHours: o.horizonHours, stepMinutes: o.stepMinutes }).map((w) => ({ w, span: windowSpan(asOf, w) }));
  const business = scope.calendars.map((cal) => {
    const b = currentOrNextBusinessBlock(cal, asOf);
    if (!b || b.start - asOf > MAX_BUSINESS_AHEAD_MS) return null;
    const w: ForecastWindow = { start: Math.max(asOf, b.start), end: b.end, kind: 'business', region: cal.name };
    return { w, span: windowSpan(asOf, w) };
  });
  return { common, business };
}

/** A version first fetched well after the data starts, less than an adoption curve ago: a release seen happening. */
export function isYoung(row: { version: string; firstHour: number }, range: HistoryRange, o: { releaseGraceHours: number }, dataStart: number): boolean {
  return row.version !== '' && row.firstHour >= dataStart + o.releaseGraceHours && range.hours - row.firstHour < RELEASE_CURVE_HOURS;
}

/** One item's history: per region sorted hour indices and fetch counts, node fetches, requests. */
export interface ItemHistory {
  regions: string[];
  hours: number[][];
  counts: number[][];
  /** Per region: [node, fetches] pairs. */
  nodes: [string, number][][];
  /** Per region: requests (all kinds), for the request/fetch ratio. */
  requests: number[];
}

/** Writes a chunk row's points into the forecaster; fills per-region and per-node fetches and request/fetch ratios. */
export function fillSeries(f: ItemForecaster, row: ItemHistory, scope: Scope, counts: Float64Array, ratio: Float64Array, nodeCounts: Float64Array): void {
  f.reset();
  counts.fill(0);
  ratio.fill(1);
  nodeCounts.fill(0);
  let allFetches = 0;
  let allRequests = 0;
  for (let j = 0; j < row.regions.length; j++) {
    const r = scope.regionIndex.get(row.regions[j]!);
    if (r === undefined) continue;
    f.addPoints(r, row.hours[j]!, row.counts[j]!);
    const fetches = f.regionTotal(r);
    counts[r] = fetches;
    ratio[r] = fetches > 0 ? Math.max(1, row.requests[j]! / fetches) : 1;
    allFetches += fetches;
    allRequests += row.requests[j]!;
    for (const [node, c] of row.nodes[j]!) {
      const i = scope.nodeIndex.get(node);
      if (i !== undefined) nodeCounts[i] = c;
    }
  }
  ratio[scope.regions.length] = allFetches > 0 ? Math.max(1, allRequests / allFetches) : 1;
}

