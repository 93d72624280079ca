/**
 * Budgeted warm-up planning: which (module, version, endpoints) to fetch on one proxy node before predicted demand.
 *
 * Model (documented in README "Warm-up"):
 * - A proxy's storage fills per *unit*. For Athens and goproxy a unit is a whole version: a miss on `.info`,
 *   `.mod` or `.zip` makes the proxy fetch all three from upstream and store them ("bundle"); `@v/list` and
 *   `@latest` are always asked upstream and never served from storage, so warming them is useless there.
 *   Artifactory, Nexus and plain HTTP caches store each file on its own ("per-file"), and also cache list/latest
 *   for a metadata TTL, so warming those just before business hours saves the first client the upstream trip.
 * - A warmed unit saves exactly the first request that would have missed (later ones hit anyway), so the
 *   expected cold requests avoided are P(at least one request in the window) — `p_any_request` of the
 *   prediction — not the expected request count.
 * - Cost of a cold request: latency (upstream round trips + transfer at the upstream bandwidth, or the
 *   penalty observed in the node's logs) or bytes (what the first client waits for over the WAN).
 * - Budgets per run: items, requests, and bytes the node pulls into storage (for a bundle node a 300-byte
 *   `.info` request pulls the whole zip upstream, so the budget counts the zip).
 * - Selection: greedy by benefit density, where an item's size is its largest share of any budget
 *   (bytes/maxBytes, requests/maxRequests, 1/maxItems). A multi-dimensional knapsack heuristic: within a few
 *   percent of optimal for many small items, exact order is deterministic (ties by module, version).
 *
 * Every item's module path and version are validated, and request paths are built only by `goproxyPath`.
 */
import { goproxyPath } from './goproxy.js';
import { checkModulePath, checkVersionForModule, isCanonicalVersion } from './module-path.js';

export const WARM_ENDPOINTS = ['list', 'info', 'mod', 'zip', 'latest', 'sumdb'] as const;
export type WarmEndpoint = (typeof WARM_ENDPOINTS)[number];

export type ProxySoftware = 'athens' | 'goproxy' | 'artifactory' | 'nexus' | 'generic';
export type PredictionScope = 'node' | 'region' | 'fleet';

/** One predicted demand, as read from `predictions` (kind: info | mod | zip | list | latest | sumdb | any). */
export interface Demand {
  module: string;
  /** '' = module level (list/latest, or a version to resolve through `versionHints`). */
  version: string;
  kind: string;
  scope: PredictionScope;
  expectedRequests: number;
  /** P(at least one request in the window), 0..1. */
  pAny: number;
}

export interface NodeProfile {
  name: string;
  software: ProxySoftware;
  /** Concrete GOPROXY mount prefix on the node, e.g. `/` or `/api/go/go-remote/`. */
  pathPrefix: string;
  /** Endpoints whose fetch fills the node's cache; default per software (see `defaultFills`). */
  fills?: readonly WarmEndpoint[];
  maxItems: number;
  maxBytes: number;
  /** Requests per run; default: unlimited beyond maxItems × endpoints. */
  maxRequests?: number;
}

export interface CostModel {
  /** 'latency': benefit in ms of client wait avoided; 'bytes': in bytes clients would have waited for. */
  mode: 'latency' | 'bytes';
  /** Upstream round trip a cold request pays per upstream fetch, ms. */
  upstreamRttMs: number;
  /** Upstream transfer rate, bytes/s. */
  upstreamBytesPerSec: number;
  /** Size assumed for a zip/mod/info/list response when nothing better is known. */
  defaultBytes: Record<'zip' | 'mod' | 'info' | 'list' | 'latest' | 'sumdb', number>;
}

export const DEFAULT_COST_MODEL: CostModel = {
  mode: 'latency',
  upstreamRttMs: 150,
  upstreamBytesPerSec: 10 * 1024 * 1024,
  defaultBytes: { zip: 256 * 1024, mod: 1024, info: 200, list: 400, latest: 200, sumdb: 500 },
};

export interface PlanInput {
  node: NodeProfile;
  demand: readonly Demand[];
  /** What the node already holds, as `warmKey(...)` strings (from its recent successful requests and warm-ups). */
  warm: ReadonlySet<string>;
  /** Known sizes, `sizeKey(module, version, endpoint)` -> bytes (from the node's logs or upstream). */
  sizes?: ReadonlyMap<string, number>;
  /** Observed cold-minus-warm latency for a module@version on this node, ms (overrides the latency model). */
  observedPenaltyMs?: ReadonlyMap<string, number>;
  /** Module -> version to warm when the prediction is module level (the most requested recent version). */
  versionHints?: ReadonlyMap<string, string>;
  /** How many nodes share a region / the fleet: a region prediction is spread over its nodes. */
  scopeSize?: { region: number; fleet: number };
  cost?: Partial<CostModel>;
  /** Items less likely than this to be requested are not worth a fetch. Default 0.05. */
  minProbability?: number;
  /** Also warm the checksum database lookup when the node caches it. */
  warmSumdb?: boolean;
  sumdbName?: string;
}

export interface PlanItem {
  module: string;
  /** '' for list/latest items. */
  version: string;
  /** Requests to make, in order, and their paths on the node (same order). */
  endpoints: WarmEndpoint[];
  paths: string[];
  /** P(at least one request) used for the benefit. */
  pAny: number;
  expectedRequests: number;
  /** Expected cold requests avoided × cost per cold request (ms or bytes, per the cost model). */
  expectedBenefit: number;
  /** Bytes the node pulls into storage by this warm-up (budget unit). */
  estimatedBytes: number;
  scope: PredictionScope;
  reason: string;
}

export interface SkippedDemand {
  module: string;
  version: string;
  reason: string;
}

export interface WarmupPlan {
  node: string;
  costMode: CostModel['mode'];
  items: PlanItem[];
  skipped: SkippedDemand[];
  totals: { items: number; requests: number; estimatedBytes: number; expectedBenefit: number };
  budget: { maxItems: number; maxBytes: number; maxRequests: number };
}

/** Skip reasons grouped (numbers blanked to N, a leading "<path>: " dropped), most frequent first. */
export function skipReasonCounts(skipped: readonly SkippedDemand[]): [reason: string, count: number][] {
  const counts = new Map<string, number>();
  for (const s of skipped) {
    const r = s.reason.replace(/^.*?: (?=[a-z])/, '').replace(/[\d.]+/g, 'N');
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** Why a plan has nothing to warm: the planner's note (no predictions for the window), else what was skipped most; '' when neither says. */
export function emptyPlanReason(plan: WarmupPlan, note?: string): string {
  if (note) return note;
  const [top] = skipReasonCounts(plan.skipped);
  return top ? `${plan.skipped.length} predicted items skipped (${top[1]}× ${top[0]})` : '';
}

type StorageModel = 'bundle' | 'per-file';

const VERSION_FILES = ['info', 'mod', 'zip'] as const;

/** How a proxy's storage fills: Athens and goproxy store a version whole on any of its files. */
export function storageModel(software: ProxySoftware): StorageModel {
  return software === 'athens' || software === 'goproxy' ? 'bundle' : 'per-file';
}

/** Endpoints whose fetch fills the cache, per software, when the node config names none. */
export function defaultFills(software: ProxySoftware): WarmEndpoint[] {
  switch (software) {
    case 'athens':
    case 'goproxy':
      return ['info', 'mod', 'zip'];
    case 'artifactory':
    case 'nexus':
      return ['list', 'info', 'mod', 'zip', 'latest'];
    case 'generic':
      return ['info', 'mod', 'zip'];
  }
}

/** Key of what a node holds: a whole version on bundle nodes, one file on per-file nodes. */
export function warmKey(module: string, version: string, endpoint?: WarmEndpoint): string {
  return endpoint === undefined ? `${module}@${version}` : `${endpoint}:${module}@${version}`;
}

export function sizeKey(module: string, version: string, endpoint: WarmEndpoint): string {
  return `${endpoint}:${module}@${version}`;
}

const SCOPE_RANK: Record<PredictionScope, number> = { node: 0, region: 1, fleet: 2 };

/** Spreads a region/fleet prediction over its nodes: P(node sees ≥1) = 1-(1-p)^(1/n), requests / n. */
function perNode(d: Demand, scopeSize: { region: number; fleet: number }): { pAny: number; expected: number } {
  const n = d.scope === 'node' ? 1 : Math.max(1, d.scope === 'region' ? scopeSize.region : scopeSize.fleet);
  const p = Math.min(1, Math.max(0, d.pAny));
  return { pAny: n === 1 ? p : 1 - Math.pow(1 - p, 1 / n), expected: Math.max(0, d.expectedRequests) / n };
}

interface UnitDemand {
  module: string;
  version: string;
  /** Per endpoint the most specific prediction's per-node probability and expected count. */
  byEndpoint: Map<WarmEndpoint, { pAny: number; expected: number; scope: PredictionScope }>;
}

function endpointsOfKind(kind: string, version: string): WarmEndpoint[] {
  switch (kind) {
    case 'list':
    case 'latest':
      return [kind];
    case 'info':
    case 'mod':
    case 'zip':
    case 'sumdb':
      return [kind];
    case 'any':
      return version === '' ? ['list'] : ['info', 'mod', 'zip'];
    default:
      return [];
  }
}

/** Groups demand per (module, version), keeping per endpoint the most specific scope's numbers. */
function collectUnits(input: PlanInput, skipped: SkippedDemand[]): Map<string, UnitDemand> {
  const scopeSize = input.scopeSize ?? { region: 1, fleet: 1 };
  const units = new Map<string, UnitDemand>();
  for (const d of input.demand) {
    const pathReason = checkModulePath(d.module);
    if (pathReason !== undefined) {
      skipped.push({ module: d.module, version: d.version, reason: pathReason });
      continue;
    }
    let version = d.version;
    // A module-level 'any' is a download of its hinted version when one is known, else a list request.
    if (version === '' && d.kind === 'any') version = input.versionHints?.get(d.module) ?? '';
    const endpoints = endpointsOfKind(d.kind, version);
    if (endpoints.length === 0) {
      skipped.push({ module: d.module, version, reason: `unknown request kind ${JSON.stringify(d.kind)}` });
      continue;
    }
    const needsVersion = endpoints.some((e) => e !== 'list' && e !== 'latest');
    if (version === '' && needsVersion) {
      const hint = input.versionHints?.get(d.module);
      if (hint === undefined) {
        skipped.push({ module: d.module, version, reason: 'module-level prediction and no recent version to warm' });
        continue;
      }
      version = hint;
    }
    if (needsVersion) {
      const r = isCanonicalVersion(version) ? checkVersionForModule(d.module, version) : `${d.module}@${version}: not a canonical version`;
      if (r !== undefined) {
        skipped.push({ module: d.module, version, reason: r });
        continue;
      }
    }
    const v = needsVersion ? version : '';
    const key = `${d.module}@${v}`;
    let unit = units.get(key);
    if (!unit) units.set(key, (unit = { module: d.module, version: v, byEndpoint: new Map() }));
    const share = perNode(d, scopeSize);
    for (const e of endpoints) {
      const cur = unit.byEndpoint.get(e);
      const better =
        !cur || SCOPE_RANK[d.scope] < SCOPE_RANK[cur.scope] || (SCOPE_RANK[d.scope] === SCOPE_RANK[cur.scope] && share.pAny > cur.pAny);
      if (better) unit.byEndpoint.set(e, { pAny: share.pAny, expected: share.expected, scope: d.scope });
    }
  }
  return units;
}

interface Candidate extends PlanItem {
  requests: number;
  density: number;
}

function sizeOf(input: PlanInput, cost: CostModel, module: string, version: string, e: WarmEndpoint): number {
  return input.sizes?.get(sizeKey(module, version, e)) ?? cost.defaultBytes[e];
}

function coldCost(cost: CostModel, upstreamFetches: number, bytes: number, observedMs: number | undefined): number {
  if (cost.mode === 'bytes') return bytes;
  return observedMs ?? upstreamFetches * cost.upstreamRttMs + (bytes / cost.upstreamBytesPerSec) * 1000;
}

/** The candidate for one unit on a bundle node: one cheap request (`.info`) stores info+mod+zip. */
function bundleCandidate(input: PlanInput, cost: CostModel, unit: UnitDemand, minP: number, skipped: SkippedDemand[]): Candidate | undefined {
  const { module, version } = unit;
  if (input.warm.has(warmKey(module, version))) {
    skipped.push({ module, version, reason: 'already in the node storage' });
    return undefined;
  }
  // The first request of any of the three files fills all three: the unit is as likely as its likeliest file.
  let best: { pAny: number; expected: number; scope: PredictionScope } | undefined;
  let expected = 0;
  for (const e of VERSION_FILES) {
    const d = unit.byEndpoint.get(e);
    if (!d) continue;
    expected = Math.max(expected, d.expected);
    if (!best || d.pAny > best.pAny) best = d;
  }
  if (!best || best.pAny < minP) {
    skipped.push({ module, version, reason: best ? `p_any ${best.pAny.toFixed(3)} below ${minP}` : 'no version-file demand' });
    return undefined;
  }
  const bytes = VERSION_FILES.reduce((s, e) => s + sizeOf(input, cost, module, version, e), 0);
  const benefit = best.pAny * coldCost(cost, VERSION_FILES.length, bytes, input.observedPenaltyMs?.get(warmKey(module, version)));
  const endpoints: WarmEndpoint[] = ['info'];
  if (input.warmSumdb && (input.node.fills ?? []).includes('sumdb')) endpoints.push('sumdb');
  return {
    module,
    version,
    endpoints,
    paths: [],
    pAny: best.pAny,
    expectedRequests: expected,
    expectedBenefit: benefit,
    estimatedBytes: bytes,
    scope: best.scope,
    requests: endpoints.length,
    density: 0,
    reason: `p_any ${best.pAny.toFixed(2)} (${best.scope}); .info stores info+mod+zip on ${input.node.software}`,
  };
}

/** The candidate for one unit on a per-file node: each cacheable, predicted, not-yet-held endpoint. */
function perFileCandidate(input: PlanInput, cost: CostModel, unit: UnitDemand, fills: ReadonlySet<WarmEndpoint>, minP: number, skipped: SkippedDemand[]): Candidate | undefined {
  const { module, version } = unit;
  const endpoints: WarmEndpoint[] = [];
  let benefit = 0;
  let bytes = 0;
  let pAny = 0;
  let expected = 0;
  let scope: PredictionScope = 'fleet';
  const order: WarmEndpoint[] = version === '' ? ['list', 'latest'] : ['info', 'mod', 'zip', 'sumdb'];
  for (const e of order) {
    const d = e === 'sumdb' && input.warmSumdb ? unit.byEndpoint.get('zip') ?? unit.byEndpoint.get('sumdb') : unit.byEndpoint.get(e);
    if (!d || !fills.has(e) || d.pAny < minP) continue;
    if (e !== 'list' && e !== 'latest' && input.warm.has(warmKey(module, version, e))) continue;
    const size = sizeOf(input, cost, module, version, e);
    endpoints.push(e);
    bytes += size;
    benefit += d.pAny * coldCost(cost, 1, size, undefined);
    pAny = Math.max(pAny, d.pAny);
    expected = Math.max(expected, d.expected);
    if (SCOPE_RANK[d.scope] < SCOPE_RANK[scope]) scope = d.scope;
  }
  if (endpoints.length === 0) {
    skipped.push({ module, version, reason: 'nothing cacheable, predicted and not already held' });
    return undefined;
  }
  return {
    module,
    version,
    endpoints,
    paths: [],
    pAny,
    expectedRequests: expected,
    expectedBenefit: benefit,
    estimatedBytes: bytes,
    scope,
    requests: endpoints.length,
    density: 0,
    reason: `p_any ${pAny.toFixed(2)} (${scope}); ${endpoints.join('+')} cached per file on ${input.node.software}`,
  };
}

/** Builds the dry-run plan for one node. Pure and deterministic. */
export function planWarmup(input: PlanInput): WarmupPlan {
  const cost: CostModel = { ...DEFAULT_COST_MODEL, ...input.cost, defaultBytes: { ...DEFAULT_COST_MODEL.defaultBytes, ...input.cost?.defaultBytes } };
  const minP = input.minProbability ?? 0.05;
  const node = input.node;
  const fills = new Set<WarmEndpoint>(node.fills ?? defaultFills(node.software));
  const model = storageModel(node.software);
  const maxRequests = node.maxRequests ?? Number.MAX_SAFE_INTEGER;
  const skipped: SkippedDemand[] = [];

  const candidates: Candidate[] = [];
  for (const unit of collectUnits(input, skipped).values()) {
    const c =
      model === 'bundle' && unit.version !== ''
        ? bundleCandidate(input, cost, unit, minP, skipped)
        : model === 'bundle'
          ? (skipped.push({ module: unit.module, version: '', reason: `${node.software} never serves list/latest from storage` }), undefined)
          : perFileCandidate(input, cost, unit, fills, minP, skipped);
    if (!c) continue;
    try {
      c.paths = c.endpoints.map((e) => goproxyPath(node.pathPrefix, c.module, c.version, e, input.sumdbName));
    } catch (e) {
      skipped.push({ module: c.module, version: c.version, reason: (e as Error).message });
      continue;
    }
    const share = Math.max(c.estimatedBytes / node.maxBytes, c.requests / maxRequests, 1 / node.maxItems);
    c.density = c.expectedBenefit / share;
    candidates.push(c);
  }

  candidates.sort(
    (a, b) => b.density - a.density || b.expectedBenefit - a.expectedBenefit || a.module.localeCompare(b.module) || a.version.localeCompare(b.version),
  );
  const items: PlanItem[] = [];
  let bytes = 0;
  let requests = 0;
  let benefit = 0;
  for (const c of candidates) {
    const fits = items.length < node.maxItems && bytes + c.estimatedBytes <= node.maxBytes && requests + c.requests <= maxRequests;
    if (!fits) {
      skipped.push({ module: c.module, version: c.version, reason: 'over the run budget' });
      continue;
    }
    const { requests: r, density: _density, ...item } = c;
    items.push(item);
    bytes += c.estimatedBytes;
    requests += r;
    benefit += c.expectedBenefit;
  }
  return {
    node: node.name,
    costMode: cost.mode,
    items,
    skipped,
    totals: { items: items.length, requests, estimatedBytes: bytes, expectedBenefit: benefit },
    budget: { maxItems: node.maxItems, maxBytes: node.maxBytes, maxRequests },
  };
}
