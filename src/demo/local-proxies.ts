/**
 * Real Go module proxies on loopback, started from the binaries the test preparation caches under .cache/
 * (scripts/go-proxy-local.sh: modcast-goproxy and its offline upstream tree; scripts/athens-local.sh: Athens).
 * Used by the demo's local fleet and by the tests: nothing here builds anything, and nothing reaches the internet
 * (every proxy fetches from the offline upstream).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, delimiter } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectPath } from '../lib/paths.js';

export const GOPROXY_BIN = projectPath('.cache', 'gobin', 'modcast-goproxy');
export const ATHENS_BIN = projectPath('.cache', 'gobin', 'athens');
export const UPSTREAM_TREE = projectPath('.cache', 'goproxy-upstream');

/** What is missing to run a local fleet (empty = all there), each with how to get it. */
export function missingForLocalFleet(env: NodeJS.ProcessEnv = process.env): string[] {
  const missing: string[] = [];
  const onPath = (cmd: string) => (env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, cmd)));
  // Athens runs the go command for every module it fetches.
  if (!onPath('go')) missing.push('the go command (install Go 1.23+ and put it on PATH)');
  if (!existsSync(GOPROXY_BIN)) missing.push('modcast-goproxy (bash scripts/go-proxy-local.sh prepare)');
  if (!existsSync(ATHENS_BIN)) missing.push('Athens (bash scripts/athens-local.sh prepare, ~2 min of CPU once)');
  return missing;
}

export interface LocalProcess {
  url: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([done, sleep(5000).then(() => child.kill('SIGKILL'))]);
  };
}

/** Runs a modcast-goproxy subcommand and waits for the address it writes to `<dir>/<name>.addr` once listening. */
export async function spawnGoproxy(args: string[], dir: string, name: string): Promise<LocalProcess> {
  mkdirSync(dir, { recursive: true });
  const addrFile = join(dir, `${name}.addr`);
  rmSync(addrFile, { force: true }); // a previous run's address (the demo keeps its nodes' directories)
  const errors: string[] = [];
  const child = spawn(GOPROXY_BIN, [...args, '-addr', '127.0.0.1:0', '-addr-file', addrFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => errors.push(s));
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  child.on('error', (e) => errors.push(e.message));
  for (let i = 0; i < 200 && !existsSync(addrFile); i++) {
    if (exited !== null) break;
    await sleep(25);
  }
  if (!existsSync(addrFile)) {
    child.kill('SIGKILL');
    throw new Error(`modcast-goproxy ${name} did not start (exit ${exited}): ${errors.join('')}`);
  }
  return { url: `http://${readFileSync(addrFile, 'utf8').trim()}`, process: child, stop: stopper(child) };
}

/** An offline upstream: a GOPROXY file tree over loopback HTTP, `latencyMs` per response (a WAN round trip). */
export function startOfflineUpstream(dir: string, tree: string, latencyMs = 0): Promise<LocalProcess> {
  return spawnGoproxy(['upstream', '-dir', tree, '-latency', `${latencyMs}ms`, '-bandwidth', '0'], dir, 'upstream');
}

export interface LocalProxy extends LocalProcess {
  /** Its access log: JSON lines (goproxy: format `jsonl`; Athens: `athens-json`). */
  accessLog: string;
  storage: string;
}

/** modcast-goproxy serving the GOPROXY protocol from `<dir>/storage`, filled from `upstreamUrl`. */
export async function startGoproxyNode(dir: string, upstreamUrl: string): Promise<LocalProxy> {
  const accessLog = join(dir, 'access.log');
  const storage = join(dir, 'storage');
  const p = await spawnGoproxy(['serve', '-storage', storage, '-upstream', upstreamUrl, '-access-log', accessLog, '-path-prefix', '/'], dir, 'proxy');
  return { ...p, accessLog, storage };
}

/** A free loopback port (Athens takes a fixed address, not port 0 plus a report of the one it got). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Athens with disk storage in `<dir>/storage` and its JSON log (one "incoming request" line per request) in
 * `<dir>/access.log`. Its go command fetches from `upstreamUrl` with no checksum database (the sumdb is not
 * reachable offline; Athens' own /sumdb/ proxy answers 502 here).
 */
export async function startAthensNode(dir: string, upstreamUrl: string): Promise<LocalProxy> {
  const storage = join(dir, 'storage');
  const accessLog = join(dir, 'access.log');
  mkdirSync(storage, { recursive: true });
  const port = await freePort();
  const out = openSync(accessLog, 'a');
  const errors: string[] = [];
  const child = spawn(ATHENS_BIN, [], {
    stdio: ['ignore', out, 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      ATHENS_PORT: `127.0.0.1:${port}`,
      ATHENS_STORAGE_TYPE: 'disk',
      ATHENS_DISK_STORAGE_ROOT: storage,
      ATHENS_GOGET_DIR: dir,
      ATHENS_LOG_FORMAT: 'json',
      ATHENS_LOG_LEVEL: 'info',
      ATHENS_GO_BINARY_ENV_VARS: `GOPROXY=${upstreamUrl};GOSUMDB=off;GONOSUMDB=*;GOTOOLCHAIN=local;GOFLAGS=-mod=mod`,
    },
  });
  closeSync(out);
  child.stderr!.setEncoding('utf8').on('data', (s: string) => errors.push(s));
  child.on('error', (e) => errors.push(e.message));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { url, process: child, stop: stopper(child), accessLog, storage };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`Athens did not start on ${url} (exit ${child.exitCode}): ${errors.join('')}${readFileSync(accessLog, 'utf8').slice(-2000)}`);
}
