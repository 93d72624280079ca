/**
 * The demo's local fleet: real proxy nodes on loopback (modcast-goproxy and Athens) next to the simulated ones,
 * serving the demo catalog from an offline upstream of generated modules (module-tree.ts) with a WAN-like delay.
 * A live node is new to the fleet (no history of its own): its warm-up plan comes from its region's and the fleet's
 * forecasts, and the demand replayed against it is what its simulated twin (a node of the same region) is
 * generated to request in the next business block: the same seeded workload, continued past the history.
 */
import { join } from 'node:path';
import type { LogFormat } from '../logs/parser.js';
import { generateWorkload, type GeneratedRequest, type WorkloadOptions } from './generator.js';
import { requestPath } from './formats.js';
import type { TreeVersion } from './module-tree.js';
import { startAthensNode, startGoproxyNode, startOfflineUpstream, type LocalProcess, type LocalProxy } from './local-proxies.js';

export interface LiveNodeSpec {
  name: string;
  region: string;
  software: 'goproxy' | 'athens';
  /** The simulated node of the same region whose generated demand is replayed against this one. */
  twin: string;
  /** Format of the proxy's own access log. */
  logFormat: LogFormat;
}

export const LIVE_NODES: LiveNodeSpec[] = [
  { name: 'eu-goproxy', region: 'eu', software: 'goproxy', twin: 'eu-1', logFormat: 'jsonl' },
  { name: 'us-athens', region: 'us', software: 'athens', twin: 'us-1', logFormat: 'athens-json' },
];

/** Delay of each upstream response: what a cold fetch pays (a WAN round trip to the module source). */
export const DEMO_UPSTREAM_LATENCY_MS = 50;

export interface LiveNode {
  spec: LiveNodeSpec;
  proxy: LocalProxy;
}

export interface LocalFleet {
  upstream: LocalProcess;
  nodes: LiveNode[];
  stop(): Promise<void>;
}

/** Starts the upstream on `treeDir` and every live node with its storage and log under `dir/<name>` (kept across runs). */
export async function startLocalFleet(dir: string, treeDir: string, specs: LiveNodeSpec[] = LIVE_NODES): Promise<LocalFleet> {
  const upstream = await startOfflineUpstream(join(dir, 'upstream'), treeDir, DEMO_UPSTREAM_LATENCY_MS);
  const nodes: LiveNode[] = [];
  try {
    for (const spec of specs) {
      const start = spec.software === 'athens' ? startAthensNode : startGoproxyNode;
      nodes.push({ spec, proxy: await start(join(dir, spec.name), upstream.url) });
    }
  } catch (e) {
    await Promise.all([...nodes.map((n) => n.proxy.stop()), upstream.stop()]);
    throw e;
  }
  return { upstream, nodes, stop: async () => void (await Promise.all([...nodes.map((n) => n.proxy.stop()), upstream.stop()])) };
}

/** The kinds a replayed client fetches: a pinned `go mod download` asks for .info, .mod and .zip. */
const REPLAYED = new Set(['info', 'mod', 'zip']);

export interface WorkloadScan {
  /** Every module version the workload ever requests, with its first request time. */
  versions: TreeVersion[];
  /** Per live node: its twin's requests inside the given window, in time order. */
  demand: Map<string, GeneratedRequest[]>;
}

/**
 * One pass over the workload (history and beyond): the versions the upstream must hold, and the demand of each
 * live node's twin in `windows[name]` = [from, to).
 */
export function scanWorkload(workload: WorkloadOptions, windows: Map<string, { from: number; to: number }>, specs: LiveNodeSpec[] = LIVE_NODES): WorkloadScan {
  const first = new Map<string, TreeVersion>();
  const demand = new Map<string, GeneratedRequest[]>(specs.map((s) => [s.name, []]));
  const byTwin = new Map(specs.filter((s) => windows.has(s.name)).map((s) => [s.twin, s]));
  for (const r of generateWorkload(workload)) {
    if (r.version === '') continue;
    const key = `${r.module}@${r.version}`;
    if (!first.has(key)) first.set(key, { module: r.module, version: r.version, time: r.ts });
    const live = byTwin.get(r.node);
    const w = live && windows.get(live.name);
    if (live && w && r.ts >= w.from && r.ts < w.to && REPLAYED.has(r.kind)) demand.get(live.name)!.push(r);
  }
  return { versions: [...first.values()], demand };
}

export interface ReplayResult {
  module: string;
  version: string;
  status: number;
  ms: number;
}

/** Sends the requests to the node as a Go client would (GET, its user agent), `concurrency` at a time; times each. */
export async function replayDemand(baseUrl: string, requests: GeneratedRequest[], concurrency = 8): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      const t0 = performance.now();
      let status = 0;
      try {
        const res = await fetch(`${baseUrl}${requestPath(r)}`, { headers: { 'user-agent': 'Go-http-client/1.1' } });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0; // connection refused or reset: counted as a failed request
      }
      results.push({ module: r.module, version: r.version, status, ms: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return results;
}
