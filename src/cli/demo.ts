/**
 * `modcast demo` — what a newcomer runs first: generates two weeks of realistic traffic for a four-node,
 * three-region fleet as real access logs, ingests them into the embedded store, scores forecasts and prints
 * what is hot. With --serve it then keeps running as `modcast serve` (API + dashboard) on the same store.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { clockOf, contextFrom, intOption, type CommandContext } from './context.js';
import { openStore, type Store } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { EventWriter } from '../store/event-writer.js';
import { CheckpointStore } from '../lib/checkpoint.js';
import { ingestFile } from '../ingest/file-ingest.js';
import { clientSalt } from '../lib/salt.js';
import { progressReporter } from '../ingest/progress.js';
import { defaultWorkload, type WorkloadOptions } from '../demo/generator.js';
import { missingForLocalFleet } from '../demo/local-proxies.js';
import { runDemoLoop, startDemoFleet, type DemoFleet } from './demo-fleet.js';
import { writeWorkloadLogs, type NodeLogSpec } from '../demo/write-logs.js';
import { storeStats } from '../store/queries/top.js';
import { truncateEventTables } from '../store/queries/access-events.js';
import { runTop, renderTop } from './top.js';
import { runScoring } from '../scoring/score.js';
import { startServer, shutdownSignal } from './serve.js';

interface DemoFlags {
  days: number;
  seed: number;
  modules: number;
  rate: number;
  reset?: boolean;
  serve?: boolean;
  fleet?: boolean;
  host?: string;
  port?: number;
}

/** One log format per node, to show format detection on a mixed fleet. */
const DEMO_FORMATS: NodeLogSpec[] = [
  { node: 'eu-1', format: 'nginx' },
  { node: 'eu-2', format: 'nginx', gzip: true },
  { node: 'us-1', format: 'athens-json' },
  { node: 'ap-1', format: 'artifactory' },
];

/** The demo fleet as configuration: regions with business hours and nodes, used when no config names any. */
export const DEMO_REGIONS = [
  { name: 'eu', timeZone: 'Europe/Berlin' },
  { name: 'us', timeZone: 'America/New_York' },
  { name: 'ap', timeZone: 'Asia/Tokyo' },
];

/** Where the demo keeps the options of the workload it generated (the local fleet continues that workload). */
const workloadFile = (config: CommandContext['config']) => join(config.dataDir, 'demo', 'workload.json');

/** Generates and ingests the demo history unless the store holds events; returns the workload of the history stored, when known. */
export async function loadDemoData(ctx: CommandContext, store: Store, flags: DemoFlags): Promise<WorkloadOptions | undefined> {
  const { config, logger } = ctx;
  const existing = (await storeStats(store)).events;
  if (existing > 0 && !flags.reset) {
    console.log(`the store already holds ${existing.toLocaleString()} events; skipping generation (use --reset to regenerate)`);
    const file = workloadFile(config);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WorkloadOptions) : undefined;
  }
  if (flags.reset) {
    await truncateEventTables(store);
  }
  const hour = 3_600_000;
  const end = Math.floor(clockOf(ctx)() / hour) * hour;
  const workload = defaultWorkload({
    seed: flags.seed,
    days: flags.days,
    start: end - flags.days * 24 * hour,
    modules: flags.modules,
    fetchesPerBusyHour: flags.rate,
  });
  const dir = join(config.dataDir, 'demo', `logs-${flags.seed}-${end}`);
  const t0 = Date.now();
  const logs = await writeWorkloadLogs(workload, dir, DEMO_FORMATS);
  writeFileSync(workloadFile(config), JSON.stringify(workload));
  console.log(`generated ${logs.reduce((a, l) => a + l.lines, 0).toLocaleString()} log lines for ${logs.length} nodes in ${((Date.now() - t0) / 1000).toFixed(1)}s -> ${dir}`);
  const writer = new EventWriter(store, { logger });
  const checkpoints = new CheckpointStore(join(config.dataDir, 'checkpoints'));
  const progress = progressReporter();
  for (const log of logs) {
    const res = await ingestFile(log.file, {
      writer,
      node: log.node,
      region: log.region,
      format: 'auto',
      pathPrefixes: config.ingest.pathPrefixes,
      clientSalt: clientSalt(config),
      maxLineBytes: config.ingest.maxLineBytes,
      batchLines: config.ingest.batchRows,
      checkpoints,
      onProgress: (s) => progress.update(`ingest ${log.node}: ${s.lines.toLocaleString()} lines`),
    });
    progress.done(
      `ingested ${log.node} (${res.format}): ${res.events.toLocaleString()} events, ${res.rejected} rejected, ${res.skipped} skipped`,
    );
  }
  return workload;
}

/** Starts the local fleet when this machine can run it, else says why not; undefined = the demo runs without it. */
async function maybeStartFleet(ctx: CommandContext, workload: WorkloadOptions | undefined, flags: DemoFlags): Promise<DemoFleet | undefined> {
  const wanted = flags.fleet !== false;
  const missing = wanted ? missingForLocalFleet() : [];
  const without = 'the demo shows the simulated fleet only: no warm-ups (the warm-up panel stays empty)';
  if (!wanted) console.log(`\nlocal fleet: off (--no-fleet); ${without}`);
  else if (missing.length > 0) console.log(`\nlocal fleet: not started, missing ${missing.join('; ')}; ${without}. \`npm test\` prepares all of it`);
  else if (!workload) console.log(`\nlocal fleet: not started, the store's demo history predates it (run with --reset); ${without}`);
  else {
    try {
      return await startDemoFleet(ctx.config, workload, clockOf(ctx)());
    } catch (e) {
      console.log(`\nlocal fleet: failed to start (${(e as Error).message.split('\n')[0]}); ${without}`);
    }
  }
  return undefined;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a realistic fleet workload, ingest it into the embedded store, score it and show what is hot')
    .option('--days <n>', 'days of traffic', intOption('days', 1, 60), 14)
    .option('--seed <n>', 'random seed', intOption('seed', 0), 42)
    .option('--modules <n>', 'catalog size', intOption('modules', 10, 1_000_000), 400)
    .option('--rate <n>', 'module fetches per node per busy hour', intOption('rate', 1, 1_000_000), 120)
    .option('--reset', 'empty the event tables first')
    .option('--serve', 'keep running as `modcast serve` (API + dashboard) afterwards')
    .option('--no-fleet', 'do not start the local proxy nodes (goproxy, Athens) nor warm them')
    .option('--host <host>', 'with --serve: listen address (default 127.0.0.1, $MODCAST_API_HOST)')
    .option('-p, --port <port>', 'with --serve: listen port (default 8080, $MODCAST_API_PORT; 0 = any free port)', intOption('port', 0, 65535))
    .action(async (flags: DemoFlags, cmd: Command) => {
      const api = { ...(flags.host !== undefined ? { host: flags.host } : {}), ...(flags.port !== undefined ? { port: flags.port } : {}) };
      const overrides = { regions: DEMO_REGIONS, ...(Object.keys(api).length > 0 ? { api } : {}) };
      let ctx = contextFrom(cmd, overrides);
      const store = await openStore(ctx.config);
      let handedOver = false;
      let demo: DemoFleet | undefined;
      try {
        await migrate(store);
        const workload = await loadDemoData(ctx, store, flags);
        demo = await maybeStartFleet(ctx, workload, flags);
        // The live nodes are the configured fleet: what the scheduler warms, here and once serving.
        if (demo) ctx = { ...contextFrom(cmd, { ...overrides, fleet: { nodes: demo.nodes } }), clock: clockOf(ctx) };
        const scored = await runScoring({ store, config: ctx.config, logger: ctx.logger, clock: clockOf(ctx) });
        console.log(
          `scored ${scored.items.toLocaleString()} module-versions into ${scored.predictions.toLocaleString()} predictions ` +
            `in ${scored.seconds.toFixed(1)}s (run ${scored.runId})`,
        );
        console.log('');
        console.log(renderTop(await runTop(store, { window: 86_400_000, by: 'module', limit: 15 }), 'module'));
        if (demo) await runDemoLoop(ctx, store, demo);
        if (flags.serve) {
          // The embedded store admits one process: the server takes over this one's store.
          const server = await startServer(ctx, { store });
          handedOver = true;
          console.log(`\nmodcast: dashboard ${server.url}/  API docs ${server.url}/docs  (Ctrl-C to stop)`);
          await shutdownSignal(ctx.logger);
          await server.close();
        }
      } finally {
        if (!handedOver) await store.close();
        await demo?.fleet.stop();
      }
    });
}
