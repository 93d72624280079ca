/**
 * Real ClickHouse server nodes for tests, through scripts/clickhouse-local.sh (the engine of chDB's npm package run
 * as a server): a temp directory, free loopback ports, stopped with the test process even after kill -9. A node that
 * cannot start fails the test loudly, with the tail of its logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from './run-script.js';


export interface TestClickHouse {
  /** HTTP URL of each node, node 1 first. */
  urls: string[];
  /** `remote_servers` name (one shard per node), when started with `cluster`. */
  cluster?: string;
  dir: string;
  /** Stops node `i` (1-based), keeping its data and port. */
  haltNode(i: number): Promise<void>;
  startNode(i: number): Promise<void>;
  /** Stops every node and deletes the directory. */
  stop(): Promise<void>;
}

function script(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return runScript('clickhouse-local.sh', args, 'a real ClickHouse server', env);
}

/**
 * `timezone`: the server's time zone. Tests default to one far from UTC with a 45-minute offset, so that SQL which
 * silently relies on the server's zone (as chDB in a UTC process would hide) shows up as wrong buckets.
 */
export async function startTestClickHouse(options: { nodes?: number; cluster?: string; timezone?: string } = {}): Promise<TestClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-ch-'));
  const owner = ['--dir', dir, '--owner-pid', String(process.pid)];
  const env = { ...process.env, MODCAST_CLICKHOUSE_TIMEZONE: options.timezone ?? process.env.MODCAST_TEST_CLICKHOUSE_TIMEZONE ?? 'Asia/Kathmandu' };
  let out: string;
  try {
    out = await script(['start', ...owner, '--nodes', String(options.nodes ?? 1), ...(options.cluster ? ['--cluster', options.cluster] : [])], env);
  } catch (e) {
    await script(['stop', '--dir', dir, '--purge']).catch(() => {});
    throw e;
  }
  const urls = out.split('\n').filter((l) => l.length > 0);
  if (urls.length !== (options.nodes ?? 1) || !urls.every((u) => /^http:\/\/127\.0\.0\.1:\d+$/.test(u))) {
    throw new Error(`unexpected output of clickhouse-local.sh start: ${out}`);
  }
  return {
    urls,
    ...(options.cluster ? { cluster: options.cluster } : {}),
    dir,
    haltNode: async (i) => void (await script(['stop', '--dir', dir, '--node', String(i)])),
    startNode: async (i) => void (await script(['start', ...owner, '--node', String(i)], env)),
    stop: async () => {
      await script(['stop', '--dir', dir, '--purge']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one statement over HTTP and returns the body (for checks outside the modcast client). */
export async function chQuery(url: string, sql: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', body: sql });
  const body = await res.text();
  if (!res.ok) throw new Error(`ClickHouse at ${url} answered ${res.status}: ${body}`);
  return body;
}
