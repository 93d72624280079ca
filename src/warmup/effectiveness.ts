/**
 * Did a warm-up help? Joins a run's warmed versions with the node's access events after the run:
 * - used: warmed versions requested by clients within the window (hits on warmed items), and how those
 *   requests were answered (hit/miss as the proxy logged it);
 * - latency: what a cold (miss) and a warm (hit) request cost on this node in the window, and what requests
 *   on warmed versions cost — the logs' own cold-vs-warm comparison;
 * - waste: warmed versions nobody asked for, with the bytes the warm-up transferred for them and the upstream
 *   bytes the node pulled for them (largest zip+mod+info seen for the version, when known).
 * The window starts when the run finished (so the warm-up's own requests never count as use) and ends
 * `windowHours` after the planned demand start (default 24 h).
 */
import type { Store } from '../store/client.js';
import { readRunWindowUsage } from '../store/queries/effectiveness.js';
import { readWarmupTraffic, type WarmupTrafficDay, type WarmupTrafficQuery } from '../store/queries/warmup-events.js';
import { readRun, runItems } from '../store/queries/warmups.js';
import { ModcastError, ErrorCodes } from '../errors.js';

export interface Effectiveness {
  runId: string;
  node: string;
  window: { from: string; to: string };
  warmedVersions: number;
  usedVersions: number;
  /** usedVersions / warmedVersions (0 when nothing was warmed). */
  useRate: number;
  requestsOnWarmed: number;
  hitsOnWarmed: number;
  missesOnWarmed: number;
  /** Mean latency of client requests on warmed versions, ms (null without such requests or without durations). */
  warmedRequestMs: number | null;
  /** Mean latency of all cache misses / hits on the node in the window, ms: the logs' cold vs warm cost. */
  coldRequestMs: number | null;
  warmRequestMs: number | null;
  wastedVersions: number;
  /** Bytes the warm-up transferred for versions nobody requested. */
  wastedTransferBytes: number;
  /** Bytes the node pulled from upstream for versions nobody requested (known sizes only). */
  wastedUpstreamBytes: number;
  unused: { module: string; version: string }[];
}

export interface EffectivenessOptions {
  windowHours?: number;
  /** At most this many unused versions listed. */
  listUnused?: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v));

export async function measureEffectiveness(store: Store, runId: string, opts: EffectivenessOptions = {}): Promise<Effectiveness> {
  const run = await readRun(store, runId);
  if (!run) throw new ModcastError(ErrorCodes.NOT_FOUND, `no warm-up run ${runId}`);
  const from = run.finishedAt ?? run.createdAt;
  const to = Math.max(from, run.plannedFor) + (opts.windowHours ?? 24) * 3_600_000;
  const items = (await runItems(store, runId)).filter((i) => i.status === 'ok' && i.version !== '');
  const transfer = new Map<string, number>();
  for (const i of items) transfer.set(`${i.module}@${i.version}`, (transfer.get(`${i.module}@${i.version}`) ?? 0) + Number(i.bytes));
  const modules = [...new Set(items.map((i) => i.module))];
  const params = { node: run.node, from, to, modules };

  const { used, latency, sizes } = await readRunWindowUsage(store, params);

  const usage = new Map(used.map((u) => [`${u.module}@${u.version}`, u]));
  const upstreamSize = new Map(sizes.map((s) => [`${s.module}@${s.version}`, Number(s.bytes)]));
  let requests = 0;
  let hits = 0;
  let misses = 0;
  let sumMs = 0;
  let timed = 0;
  const unused: { module: string; version: string }[] = [];
  let wastedTransfer = 0;
  let wastedUpstream = 0;
  for (const [key, bytes] of transfer) {
    const u = usage.get(key);
    if (u && Number(u.requests) > 0) {
      requests += Number(u.requests);
      hits += Number(u.hits);
      misses += Number(u.misses);
      sumMs += Number(u.sum_ms);
      timed += Number(u.timed);
    } else {
      const at = key.lastIndexOf('@');
      unused.push({ module: key.slice(0, at), version: key.slice(at + 1) });
      wastedTransfer += bytes;
      wastedUpstream += upstreamSize.get(key) ?? 0;
    }
  }
  const warmed = transfer.size;
  return {
    runId,
    node: run.node,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    warmedVersions: warmed,
    usedVersions: warmed - unused.length,
    useRate: warmed === 0 ? 0 : (warmed - unused.length) / warmed,
    requestsOnWarmed: requests,
    hitsOnWarmed: hits,
    missesOnWarmed: misses,
    warmedRequestMs: timed > 0 ? sumMs / timed : null,
    coldRequestMs: num(latency[0]?.cold),
    warmRequestMs: num(latency[0]?.warm),
    wastedVersions: unused.length,
    wastedTransferBytes: wastedTransfer,
    wastedUpstreamBytes: wastedUpstream,
    unused: unused.slice(0, opts.listUnused ?? 50),
  };
}

export interface WarmupTraffic {
  window: { from: string; to: string; useWithinHours: number };
  /** Per UTC day and node, from the proxies' own logs (see readWarmupTraffic). */
  days: (Omit<WarmupTrafficDay, 'day'> & { day: string })[];
  totals: Omit<WarmupTrafficDay, 'day' | 'node'> & { useRate: number };
}

/**
 * What warm-ups cost the nodes (requests and bytes as the proxies logged them) and how many warmed versions clients
 * then asked for: the accounting side of warm-up traffic kept apart from demand (warmup_events). Unlike
 * measureEffectiveness, it needs no run record: it counts every warm-up fetch a node's log holds, whoever sent it.
 */
export async function measureWarmupTraffic(store: Store, q: Omit<WarmupTrafficQuery, 'windowHours'> & { windowHours?: number }): Promise<WarmupTraffic> {
  const windowHours = q.windowHours ?? 24;
  const rows = await readWarmupTraffic(store, { ...q, windowHours });
  const totals = { requests: 0, bytes: 0, warmedVersions: 0, usedVersions: 0, demandRequests: 0, demandHits: 0 };
  for (const r of rows) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r[k];
  return {
    window: { from: q.from.toISOString(), to: q.to.toISOString(), useWithinHours: windowHours },
    days: rows.map((r) => ({ ...r, day: new Date(r.day).toISOString() })),
    totals: { ...totals, useRate: totals.warmedVersions === 0 ? 0 : totals.usedVersions / totals.warmedVersions },
  };
}
