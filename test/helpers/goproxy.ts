/**
 * A real Go module proxy for tests: `scripts/go-proxy-local.sh prepare` builds modcast-goproxy (the
 * github.com/goproxy/goproxy handler with an access log) and the offline upstream tree once; each test then starts
 * its own upstream (loopback, injected latency, request counters) and proxy (storage in a temp dir), and drives
 * them with the real `go` command. Nothing here is a mock: if Go, the build or a process fails, the test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../../src/lib/paths.js';
import { GOPROXY_BIN, UPSTREAM_TREE, spawnGoproxy, startAthensNode, type LocalProxy } from '../../src/demo/local-proxies.js';

export const MODULE_SET_GOMOD = projectPath('test', 'fixtures', 'goproxy-modules', 'go.mod');

let prepared = false;

/** Builds the proxy and the upstream tree when missing or stale (a no-op in well under a second otherwise). */
export function prepareGoProxy(): void {
  if (prepared) return;
  const res = spawnSync('bash', [projectPath('scripts', 'go-proxy-local.sh'), 'prepare'], { encoding: 'utf8', timeout: 600_000 });
  if (res.status !== 0) {
    throw new Error(`scripts/go-proxy-local.sh prepare failed (exit ${res.status}):\n${res.stderr}\n${res.stdout}`);
  }
  if (!existsSync(GOPROXY_BIN) || !existsSync(UPSTREAM_TREE)) throw new Error('go proxy prepare left no binary or upstream tree');
  prepared = true;
}

/** The modules the fixture go.mod requires, in order. */
export function moduleSet(): { module: string; version: string }[] {
  const out: { module: string; version: string }[] = [];
  let inBlock = false;
  for (const raw of readFileSync(MODULE_SET_GOMOD, 'utf8').split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === 'require (') inBlock = true;
    else if (inBlock && line === ')') inBlock = false;
    else if (inBlock && line !== '') {
      const [module, version] = line.split(/\s+/);
      if (module && version) out.push({ module, version });
    }
  }
  return out;
}

/** Every module@version the upstream tree holds in full (info + mod + zip), with its zip size. */
export function upstreamVersions(): { module: string; version: string; zipBytes: number }[] {
  const out: { module: string; version: string; zipBytes: number }[] = [];
  const unescape = (s: string) => s.replace(/!([a-z])/g, (_m, c: string) => c.toUpperCase());
  const walk = (dir: string, rel: string[]) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === '@v') {
        for (const f of readdirSync(p)) {
          if (!f.endsWith('.zip')) continue;
          out.push({ module: unescape(rel.join('/')), version: unescape(f.slice(0, -4)), zipBytes: statSync(join(p, f)).size });
        }
      } else if (statSync(p).isDirectory()) walk(p, [...rel, name]);
    }
  };
  walk(UPSTREAM_TREE, []);
  return out.sort((a, b) => (a.module === b.module ? a.version.localeCompare(b.version) : a.module.localeCompare(b.module)));
}

export interface ServerStats {
  requests: number;
  bytes: number;
  inFlight: number;
  maxInFlight: number;
  byPath: Record<string, number>;
}

export interface RunningServer {
  url: string;
  dir: string;
  process: ChildProcess;
  stats(): Promise<ServerStats>;
  /** Zeroes the counters (peak concurrency restarts from the current in-flight count). */
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

async function startServer(args: string[], dir: string, name: string): Promise<RunningServer> {
  const p = await spawnGoproxy(args, dir, name);
  const statsUrl = `${p.url}/_modcast/stats`;
  return {
    ...p,
    dir,
    async stats() {
      return (await (await fetch(statsUrl)).json()) as ServerStats;
    },
    async resetStats() {
      await (await fetch(statsUrl, { method: 'POST' })).arrayBuffer();
    },
  };
}

export interface UpstreamOptions {
  /** Delay before each upstream response, ms (a WAN round trip). */
  latencyMs?: number;
  /** Bytes per second per response; 0 = unlimited. */
  bandwidth?: number;
}

/** The offline upstream: serves .cache/goproxy-upstream and counts what it served. */
export async function startUpstream(opts: UpstreamOptions = {}): Promise<RunningServer> {
  prepareGoProxy();
  const dir = mkdtempSync(join(tmpdir(), 'modcast-upstream-'));
  return startServer(
    ['upstream', '-dir', UPSTREAM_TREE, '-latency', `${opts.latencyMs ?? 0}ms`, '-bandwidth', String(opts.bandwidth ?? 0)],
    dir,
    'upstream',
  );
}

export interface ProxyServer extends RunningServer {
  accessLog: string;
  storage: string;
}

/** A GOPROXY server with its storage in a fresh temp dir and its access log (JSON lines) in a file. */
export async function startProxy(upstreamUrl: string, opts: { pathPrefix?: string } = {}): Promise<ProxyServer> {
  prepareGoProxy();
  const dir = mkdtempSync(join(tmpdir(), 'modcast-goproxy-'));
  const accessLog = join(dir, 'access.log');
  const storage = join(dir, 'storage');
  const s = await startServer(
    ['serve', '-storage', storage, '-upstream', upstreamUrl, '-access-log', accessLog, '-path-prefix', opts.pathPrefix ?? '/', ...logClockArgs()],
    dir,
    'proxy',
  );
  return { ...s, accessLog, storage };
}

/**
 * Under libfaketime (the suite's weekend and DST runs) this process's clock is faked and the Go proxy's is not: a Go
 * binary reads the time without libc. The proxy is then told this process's time, so the access log a test reads
 * back (warm-up first, client use after) is on the test's clock. With the real clock both agree and nothing is passed.
 */
function logClockArgs(): string[] {
  return /faketime/.test(process.env.LD_PRELOAD ?? '') ? ['-log-clock-start', new Date().toISOString()] : [];
}

export interface AccessLine {
  ts: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  duration_ms: number;
  cache_status: 'hit' | 'miss' | 'unknown';
  client_ip: string;
  user_agent: string;
}

/** Reads the proxy's access log line by line. */
export async function readAccessLog(file: string): Promise<AccessLine[]> {
  if (!existsSync(file)) return [];
  const out: AccessLine[] = [];
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim() !== '') out.push(JSON.parse(line) as AccessLine);
  return out;
}

export interface GoDownloadResult {
  elapsedMs: number;
  exitCode: number;
  stderr: string;
}

/**
 * Runs the real `go mod download` in a temp module that requires the module set, with a private GOMODCACHE,
 * against `proxyUrl`. No checksum database (offline); `-mod=mod` lets go fill go.sum.
 */
export async function goModDownload(proxyUrl: string, goMod = readFileSync(MODULE_SET_GOMOD, 'utf8')): Promise<GoDownloadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-goclient-'));
  writeFileSync(join(dir, 'go.mod'), goMod);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GOPROXY: proxyUrl,
    GOMODCACHE: join(dir, 'modcache'),
    GOCACHE: join(dir, 'gocache'),
    GOFLAGS: '-mod=mod',
    GONOSUMDB: '*',
    GOSUMDB: 'off',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
  };
  const start = performance.now();
  const child = spawn('go', ['mod', 'download'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
  const elapsedMs = performance.now() - start;
  // The module cache is read-only by design; make it removable.
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
  return { elapsedMs, exitCode, stderr };
}

/** Removes a server's temp dir (after stop). */
export function removeServerDir(s: { dir: string }): void {
  try {
    chmodSync(s.dir, 0o755);
  } catch {
    // already gone
  }
  // The go command (Athens runs it) leaves read-only module directories.
  spawnSync('chmod', ['-R', 'u+w', s.dir]);
  rmSync(s.dir, { recursive: true, force: true });
}

let athensPrepared = false;

/** Builds Athens from its module source once (scripts/athens-local.sh; a no-op once cached). */
export function prepareAthens(): void {
  if (athensPrepared) return;
  const res = spawnSync('bash', [projectPath('scripts', 'athens-local.sh'), 'prepare'], { encoding: 'utf8', timeout: 1_200_000 });
  if (res.status !== 0) throw new Error(`scripts/athens-local.sh prepare failed (exit ${res.status}):\n${res.stderr}\n${res.stdout}`);
  athensPrepared = true;
}

export interface AthensServer extends LocalProxy {
  dir: string;
}

/** Athens (disk storage and JSON access log in a fresh temp dir) fetching from `upstreamUrl`. */
export async function startAthens(upstreamUrl: string): Promise<AthensServer> {
  prepareAthens();
  const dir = mkdtempSync(join(tmpdir(), 'modcast-athens-'));
  return { ...(await startAthensNode(dir, upstreamUrl)), dir };
}
