/**
 * A shipper or ingestor in a child process, for the kill -9 tests. It runs the same code as `modcast ship` /
 * `modcast consume` (shipLogs / consumeToStore) from a config file, and can kill itself with SIGKILL at an exact
 * point: after the broker acknowledged the N-th batch but before its checkpoints are written (ship), or after the
 * N-th batch is stored but before its offsets are committed (consume). SIGTERM stops it gracefully; it then prints
 * its stats as one JSON line on stdout.
 *
 *   node --import tsx test/helpers/kafka-child.ts ship <config.yaml> <json: {patterns,node,region,crashAfter?}>
 *   node --import tsx test/helpers/kafka-child.ts consume <config.yaml> <json: {crashAfter?}>
 *   node --import tsx test/helpers/kafka-child.ts count <config.yaml> <json: {nodePrefix}>   (exact counts of the store)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { shipLogs } from '../../src/cli/ship.js';
import { consumeToStore } from '../../src/cli/consume.js';
import { withStore } from '../../src/cli/context.js';
import { projectPath } from '../../src/lib/paths.js';
import { queryRows, type Store } from '../../src/store/client.js';

export interface ShipChildArgs {
  patterns: string[];
  node: string;
  region: string;
  crashAfter?: number;
  batchMessages?: number;
}

export interface ConsumeChildArgs {
  crashAfter?: number;
}

export interface CountChildArgs {
  nodePrefix: string;
}

const SELF = fileURLToPath(import.meta.url);

export function spawnKafkaChild(role: 'ship', configFile: string, args: ShipChildArgs): ChildProcess;
export function spawnKafkaChild(role: 'consume', configFile: string, args: ConsumeChildArgs): ChildProcess;
export function spawnKafkaChild(role: 'count', configFile: string, args: CountChildArgs): ChildProcess;
export function spawnKafkaChild(role: string, configFile: string, args: object): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', SELF, role, configFile, JSON.stringify(args)], {
    cwd: projectPath(),
    env: { ...process.env, MODCAST_LOG_LEVEL: process.env.MODCAST_TEST_LOG_LEVEL ?? 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves with the child's exit and its last stdout line parsed as JSON (undefined after a SIGKILL). */
export function childExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stats: Record<string, number> | undefined }> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = out.trim().split('\n').at(-1);
      let stats: Record<string, number> | undefined;
      try {
        stats = last ? (JSON.parse(last) as Record<string, number>) : undefined;
      } catch {
        stats = undefined;
      }
      resolve({ code, signal, stats });
    });
  });
}

function crashAt(n: number | undefined): () => void {
  let count = 0;
  return () => {
    if (n !== undefined && ++count === n) process.kill(process.pid, 'SIGKILL');
  };
}

async function main(): Promise<void> {
  const [role, configFile, json] = process.argv.slice(2);
  const config = loadConfig({ file: configFile! });
  const ctx = { config, logger: createLogger(config.logLevel, { role }) };
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  if (role === 'ship') {
    const a = JSON.parse(json!) as ShipChildArgs;
    const stats = await shipLogs(
      ctx,
      { patterns: a.patterns, flags: { node: a.node, region: a.region, format: 'nginx', createTopics: false, pollMs: 50, idleCloseMs: 1000, ...(a.batchMessages ? { batchMessages: a.batchMessages } : {}) }, hooks: { afterAck: crashAt(a.crashAfter) } },
      stop.signal,
    );
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  } else if (role === 'consume') {
    const a = JSON.parse(json!) as ConsumeChildArgs;
    const stats = await withStore(ctx, (store) =>
      consumeToStore(ctx, store, { createTopics: false, maxWaitMs: 200 }, stop.signal, { afterInsert: crashAt(a.crashAfter) }),
    );
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  } else if (role === 'count') {
    const a = JSON.parse(json!) as CountChildArgs;
    const where = { p: `${a.nodePrefix}%` };
    const one = async (store: Store, sql: string) => Number(Object.values((await queryRows<Record<string, unknown>>(store, sql, where))[0]!)[0]);
    const counts = await withStore(ctx, async (store) => ({
      stored: await one(store, 'SELECT count() FROM access_events WHERE node LIKE {p:String}'),
      distinct: await one(store, 'SELECT uniqExact(event_id) FROM access_events WHERE node LIKE {p:String}'),
      rejected: await one(store, 'SELECT count() FROM rejected_events WHERE node LIKE {p:String}'),
      rolledUp: await one(store, 'SELECT sum(requests) FROM rollups_5m WHERE node LIKE {p:String}'),
    }));
    process.stdout.write(`${JSON.stringify(counts)}\n`);
  } else throw new Error(`unknown role ${role}`);
}

if (process.argv[1] === SELF) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
