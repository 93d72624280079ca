/**
 * A realistic, seeded GOPROXY workload for demos, tests, backtests and benchmarks.
 *
 * What it models, because forecasts live or die on it:
 * - business-hours seasonality in each node's own time zone (weekday days busy, nights and weekends quiet);
 * - Zipf-like module popularity over a catalog of real and synthetic module paths;
 * - new releases: a module publishes a version, demand shifts to it and spreads region by region with a lag;
 * - CI bursts: a team's whole dependency set fetched at once on one node (cold builds);
 * - the go command's request shape per module fetch (list/@latest sometimes, .info, .mod, mostly .zip, sumdb lookups),
 *   and per-node cache state (first fetch a miss with upstream latency, later fetches hits).
 * Pure (no I/O): yields requests in time order, hour by hour, so memory stays bounded by one hour of traffic.
 */
import { rng } from '../domain/random.js';
import type { AccessEvent, RequestKind } from '../domain/event.js';

export interface WorkloadNode {
  name: string;
  region: string;
  timeZone: string;
}

export interface WorkloadOptions {
  seed: number;
  /** Start, epoch ms (rounded down to the hour). */
  start: number;
  days: number;
  nodes: WorkloadNode[];
  /** Catalog size (distinct modules). */
  modules: number;
  /** Mean module fetches per node per busy business hour (each fetch is 2–5 requests). */
  fetchesPerBusyHour: number;
  /** Expected new releases per module per 30 days (popular modules release more). */
  releasesPerMonth: number;
  /** Probability per node per business hour of a CI burst. */
  ciBurstProbability: number;
}

/** A generated request: an access event before parsing gives it an id and hashes its client address. */
export type GeneratedRequest = Omit<AccessEvent, 'id' | 'clientHash'> & { clientIp: string };

export const DEMO_NODES: WorkloadNode[] = [
  { name: 'eu-1', region: 'eu', timeZone: 'Europe/Berlin' },
  { name: 'eu-2', region: 'eu', timeZone: 'Europe/Berlin' },
  { name: 'us-1', region: 'us', timeZone: 'America/New_York' },
  { name: 'ap-1', region: 'ap', timeZone: 'Asia/Tokyo' },
];

export function defaultWorkload(overrides: Partial<WorkloadOptions> = {}): WorkloadOptions {
  return {
    seed: 42,
    start: Date.UTC(2026, 10, 9, 0, 0, 0),
    days: 14,
    nodes: DEMO_NODES,
    modules: 400,
    fetchesPerBusyHour: 120,
    releasesPerMonth: 1.5,
    ciBurstProbability: 0.08,
    ...overrides,
  };
}

/** Well-known module paths (with capitals and major suffixes) mixed into the synthetic catalog. */
const REAL_MODULES = [
  'github.com/stretchr/testify', 'golang.org/x/net', 'golang.org/x/sys', 'golang.org/x/text', 'google.golang.org/grpc',
  'google.golang.org/protobuf', 'github.com/google/uuid', 'gopkg.in/yaml.v3', 'github.com/spf13/cobra', 'github.com/spf13/pflag',
  'github.com/sirupsen/logrus', 'github.com/pkg/errors', 'github.com/BurntSushi/toml', 'github.com/Azure/azure-sdk-for-go',
  'github.com/Azure/go-autorest', 'github.com/aws/aws-sdk-go-v2', 'github.com/prometheus/client_golang', 'go.uber.org/zap',
  'github.com/gin-gonic/gin', 'github.com/go-chi/chi/v5', 'github.com/jackc/pgx/v5', 'github.com/redis/go-redis/v9',
  'k8s.io/client-go', 'k8s.io/apimachinery', 'sigs.k8s.io/controller-runtime', 'github.com/docker/docker',
  'github.com/golang/protobuf', 'github.com/json-iterator/go', 'github.com/Masterminds/semver/v3', 'github.com/DataDog/datadog-go',
];
/** Modules whose versions are +incompatible (v2+ without a /vN module path). */
const INCOMPATIBLE = new Set(['github.com/docker/docker']);

function poisson(lambda: number, rand: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

interface ModuleState {
  path: string;
  weight: number;
  versions: string[];
  /** Release time (epoch ms) of each version, same index. */
  releasedAt: number[];
  zipBytes: number;
  major: number;
  minor: number;
  patch: number;
  releaseRatePerHour: number;
}

const HOUR = 3_600_000;

function initialVersion(path: string, rand: () => number): { major: number; minor: number; patch: number } {
  const suffix = /\/v(\d+)$/.exec(path) ?? /\.v(\d+)$/.exec(path);
  const major = suffix ? Number(suffix[1]) : INCOMPATIBLE.has(path) ? 20 : rand() < 0.2 ? 0 : 1;
  return { major, minor: Math.floor(rand() * 20), patch: Math.floor(rand() * 10) };
}

function versionString(m: { path: string; major: number; minor: number; patch: number }): string {
  return `v${m.major}.${m.minor}.${m.patch}${INCOMPATIBLE.has(m.path) ? '+incompatible' : ''}`;
}

function buildCatalog(opts: WorkloadOptions, rand: () => number): ModuleState[] {
  const paths: string[] = [];
  for (const p of REAL_MODULES) if (paths.length < opts.modules) paths.push(p);
  for (let i = 0; paths.length < opts.modules; i++) {
    const org = `org${i % 97}`;
    paths.push(i % 11 === 0 ? `github.com/${org}/Lib${i}` : `github.com/${org}/lib${i}`);
  }
  // Shuffle so popularity rank is not catalog order, deterministically; well-known modules stay among the
  // most popular, as they are in real fleets.
  const head = Math.min(paths.length, REAL_MODULES.length * 2);
  const shuffle = (from: number, to: number) => {
    for (let i = to - 1; i > from; i--) {
      const j = from + Math.floor(rand() * (i - from + 1));
      [paths[i], paths[j]] = [paths[j]!, paths[i]!];
    }
  };
  shuffle(0, head);
  shuffle(head, paths.length);
  return paths.map((path, rank) => {
    const v = initialVersion(path, rand);
    const weight = 1 / Math.pow(rank + 1, 1.07);
    const history: string[] = [];
    const releasedAt: number[] = [];
    // A few older versions still in use, released before the workload starts.
    const older = 1 + Math.floor(rand() * 3);
    let cur = { path, ...v };
    for (let k = 0; k < older; k++) {
      history.push(versionString(cur));
      releasedAt.push(opts.start - (older - k) * 20 * 24 * HOUR);
      cur = { ...cur, patch: cur.patch + 1 };
    }
    const popularity = Math.min(1, weight * 8);
    return {
      path,
      weight,
      versions: history,
      releasedAt,
      zipBytes: Math.round(20_000 * Math.exp(rand() * 6)),
      major: cur.major,
      minor: cur.minor,
      patch: cur.patch,
      releaseRatePerHour: (opts.releasesPerMonth * (0.3 + popularity)) / (30 * 24),
    };
  });
}

/** Local hour-of-week and busy-ness of a UTC instant in a time zone. */
function localClock(tz: string): (ts: number) => { dow: number; hour: number } {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
  const days: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
  return (ts) => {
    const parts = fmt.formatToParts(ts);
    const dow = days[parts.find((p) => p.type === 'weekday')!.value]!;
    const hour = Number(parts.find((p) => p.type === 'hour')!.value);
    return { dow, hour };
  };
}

export function businessIntensity(dow: number, hour: number): number {
  const weekend = dow >= 6;
  const day = hour >= 9 && hour < 18;
  const shoulder = (hour >= 7 && hour < 9) || (hour >= 18 && hour < 21);
  const base = day ? 1 : shoulder ? 0.35 : 0.06;
  return weekend ? base * 0.15 : base * (hour === 12 ? 0.7 : 1);
}

function sampleWeighted(cum: Float64Array, total: number, rand: () => number): number {
  const x = rand() * total;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Which version a client fetches: mostly the newest it "knows"; a release reaches regions with a lag. */
function pickVersion(m: ModuleState, ts: number, regionLagHours: number, rand: () => number): string {
  let newest = 0;
  for (let i = m.versions.length - 1; i >= 0; i--) {
    if (m.releasedAt[i]! + regionLagHours * HOUR <= ts) {
      newest = i;
      break;
    }
  }
  const r = rand();
  if (r < 0.7 || newest === 0) return m.versions[newest]!;
  return m.versions[Math.max(0, newest - 1 - Math.floor(rand() * 2))]!;
}

export function* generateWorkload(options: WorkloadOptions): Generator<GeneratedRequest> {
  const rand = rng(options.seed);
  const catalog = buildCatalog(options, rand);
  const cum = new Float64Array(catalog.length);
  let total = 0;
  catalog.forEach((m, i) => {
    total += m.weight;
    cum[i] = total;
  });
  const clocks = new Map(options.nodes.map((n) => [n.name, localClock(n.timeZone)]));
  const regions = [...new Set(options.nodes.map((n) => n.region))];
  const regionLag = new Map(regions.map((r, i) => [r, i * 5]));
  // Per node: cache of (module@version/kind) -> expiry (immutable endpoints never expire).
  const caches = new Map(options.nodes.map((n) => [n.name, new Map<string, number>()]));
  // Teams per node: dependency sets rebuilt in CI bursts.
  const teams = new Map(
    options.nodes.map((n) => [n.name, Array.from({ length: 4 }, () => Array.from({ length: 25 }, () => sampleWeighted(cum, total, rand)))]),
  );
  const start = Math.floor(options.start / HOUR) * HOUR;
  const hours = Math.round(options.days * 24);

  for (let h = 0; h < hours; h++) {
    const hourStart = start + h * HOUR;
    for (const m of catalog) {
      if (rand() < m.releaseRatePerHour) {
        m.patch += 1;
        if (rand() < 0.2) {
          m.minor += 1;
          m.patch = 0;
        }
        m.versions.push(versionString(m));
        m.releasedAt.push(hourStart + Math.floor(rand() * HOUR));
      }
    }
    const batch: GeneratedRequest[] = [];
    for (const node of options.nodes) {
      const { dow, hour } = clocks.get(node.name)!(hourStart + HOUR / 2);
      const lambda = options.fetchesPerBusyHour * businessIntensity(dow, hour);
      const fetches = poisson(lambda, rand);
      const lag = regionLag.get(node.region)!;
      const client = (k: number) => `10.${regions.indexOf(node.region)}.${options.nodes.indexOf(node)}.${k % 250}`;
      for (let f = 0; f < fetches; f++) {
        const m = catalog[sampleWeighted(cum, total, rand)]!;
        const ts = hourStart + Math.floor(rand() * HOUR);
        const version = pickVersion(m, ts, lag, rand);
        if (version === m.versions[m.versions.length - 1] && m.releasedAt[m.versions.length - 1]! > ts) continue;
        emitFetch(batch, caches.get(node.name)!, node, m, version, ts, client(Math.floor(rand() * 60)), rand);
      }
      if (businessIntensity(dow, hour) >= 0.35 && rand() < options.ciBurstProbability) {
        const team = teams.get(node.name)![Math.floor(rand() * 4)]!;
        const at = hourStart + Math.floor(rand() * (HOUR - 120_000));
        const ip = client(200 + Math.floor(rand() * 40));
        for (const idx of team) {
          const m = catalog[idx]!;
          emitFetch(batch, caches.get(node.name)!, node, m, pickVersion(m, at, lag, rand), at + Math.floor(rand() * 90_000), ip, rand);
        }
      }
    }
    batch.sort((a, b) => a.ts - b.ts);
    yield* batch;
  }
}

const MUTABLE_TTL_MS = 5 * 60_000;

function emitFetch(
  out: GeneratedRequest[],
  cache: Map<string, number>,
  node: WorkloadNode,
  m: ModuleState,
  version: string,
  ts: number,
  clientIp: string,
  rand: () => number,
): void {
  const push = (kind: RequestKind, v: string, bytes: number, at: number) => {
    const key = `${m.path}@${v}/${kind}`;
    const expiry = cache.get(key);
    const hit = expiry !== undefined && expiry > at;
    if (!hit) cache.set(key, kind === 'list' || kind === 'latest' ? at + MUTABLE_TTL_MS : Number.POSITIVE_INFINITY);
    const upstream = kind === 'zip' ? 300 + bytes / 20_000 : 120;
    out.push({
      ts: at,
      node: node.name,
      region: node.region,
      module: m.path,
      version: v,
      kind,
      status: 200,
      bytes,
      durationMs: Math.round((hit ? 2 + rand() * 15 : upstream * (0.7 + rand() * 0.8)) * 10) / 10,
      cacheStatus: hit ? 'hit' : 'miss',
      clientIp,
    });
  };
  let at = ts;
  const r = rand();
  if (r < 0.12) push('list', '', 40 * m.versions.length, at++);
  else if (r < 0.17) push('latest', '', 90, at++);
  push('info', version, 80, at++);
  push('mod', version, 300 + Math.floor(rand() * 1500), at++);
  if (rand() < 0.85) push('zip', version, m.zipBytes, at++);
  if (rand() < 0.25) push('sumdb', version, 300, at++);
}
