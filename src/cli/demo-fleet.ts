/**
 * The demo's whole loop on real local proxy nodes (src/demo/local-fleet.ts): a modcast-goproxy node in region eu
 * and an Athens node in region us, new to the fleet. After scoring, the scheduler warms each of them at its warm
 * time before its region's next business block (the injected clock set to that instant); then the block's first
 * hours of demand are replayed against them, their own access logs are ingested, and what the warm-up did is
 * measured (coverage, hits on warmed items, cold vs warm latency). The dashboard's warm-up panel reads the same.
 * Needs the go command and the proxy binaries the test preparation caches; without them the demo says so.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import type { CommandContext } from './context.js';
import type { Store } from '../store/client.js';
import type { WorkloadOptions } from '../demo/generator.js';
import { LIVE_NODES, replayDemand, scanWorkload, startLocalFleet, type LocalFleet, type ReplayResult } from '../demo/local-fleet.js';
import { writeModuleTree } from '../demo/module-tree.js';
import { nextBusinessBlock, HOUR_MS, MINUTE_MS, type BusinessBlock, type RegionCalendar } from '../domain/calendar.js';
import { scheduledRunId } from '../domain/warm-schedule.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { readRun, runItems } from '../store/queries/warmups.js';
import { ingestFile } from '../ingest/file-ingest.js';
import { EventWriter } from '../store/event-writer.js';
import { CheckpointStore } from '../lib/checkpoint.js';
import { clientSalt } from '../lib/salt.js';
import { measureEffectiveness } from '../warmup/effectiveness.js';

/** Hours of each block's demand replayed (the morning: enough to see warm and cold requests, quick to run). */
const REPLAY_HOURS = 2;
/** Warm-up budget of a live node per run: the demo's items fetch in seconds, as a real node's would in minutes. */
const LIVE_MAX_ITEMS = 150;

export interface DemoFleet {
  fleet: LocalFleet;
  /** The live nodes as `fleet.nodes` config. */
  nodes: Record<string, unknown>[];
  blocks: Map<string, BusinessBlock>;
  demand: ReturnType<typeof scanWorkload>['demand'];
}

/**
 * Writes the offline upstream of the workload's modules (history and the blocks to replay) and starts the live
 * nodes. `now` is the demo's clock: each live node's block is its region's next business block after it.
 */
export async function startDemoFleet(config: Config, workload: WorkloadOptions, now: number): Promise<DemoFleet> {
  const blocks = new Map<string, BusinessBlock>();
  const windows = new Map<string, { from: number; to: number }>();
  for (const spec of LIVE_NODES) {
    const cal = config.regions.find((r) => r.name === spec.region) as RegionCalendar | undefined;
    const block = cal && nextBusinessBlock(cal, now);
    if (!block) continue;
    blocks.set(spec.name, block);
    windows.set(spec.name, { from: block.start, to: Math.min(block.end, block.start + REPLAY_HOURS * HOUR_MS) });
  }
  const until = Math.max(...[...windows.values()].map((w) => w.to));
  const t0 = Date.now();
  const scan = scanWorkload({ ...workload, days: Math.ceil((until - workload.start) / HOUR_MS) / 24 }, windows);
  const tree = join(config.dataDir, 'demo', `upstream-${workload.seed}-${workload.modules}`);
  const written = writeModuleTree(tree, scan.versions);
  const fleet = await startLocalFleet(join(config.dataDir, 'demo', 'fleet'), tree);
  console.log(
    `local fleet: ${fleet.nodes.map((n) => `${n.spec.name} (${n.spec.software}, ${n.proxy.url})`).join(', ')}; ` +
      `upstream ${fleet.upstream.url} serving ${written.versions.toLocaleString()} versions of ${written.modules} modules ` +
      `(${((Date.now() - t0) / 1000).toFixed(1)}s)`,
  );
  const nodes = fleet.nodes.map((n) => ({
    name: n.spec.name,
    region: n.spec.region,
    baseUrl: n.proxy.url,
    software: n.spec.software,
    maxItemsPerRun: LIVE_MAX_ITEMS,
  }));
  return { fleet, nodes, blocks, demand: scan.demand };
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const mean = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const ms = (v: number | null) => (v === null ? '–' : `${v.toFixed(v < 10 ? 1 : 0)} ms`);

/** Client-side view of a replay: requests on warmed versions against the rest. */
function replaySummary(results: ReplayResult[], warmed: Set<string>): string {
  const onWarmed = results.filter((r) => warmed.has(`${r.module}@${r.version}`));
  const others = results.filter((r) => !warmed.has(`${r.module}@${r.version}`));
  const failed = results.filter((r) => r.status !== 200).length;
  return (
    `${results.length} requests: ${onWarmed.length} on warmed versions (mean ${ms(mean(onWarmed.map((r) => r.ms)))}), ` +
    `${others.length} on the others (mean ${ms(mean(others.map((r) => r.ms)))}); ${failed} not 200`
  );
}

/** The loop: warm each live node before its block, replay the block's demand, ingest the nodes' logs, measure. */
export async function runDemoLoop(ctx: CommandContext, store: Store, demo: DemoFleet): Promise<void> {
  const { config, logger } = ctx;
  const { leadMinutes } = config.scheduler;
  const writer = new EventWriter(store, { logger });
  const checkpoints = new CheckpointStore(join(config.dataDir, 'checkpoints'));
  for (const node of demo.fleet.nodes) {
    const { spec, proxy } = node;
    const block = demo.blocks.get(spec.name);
    if (!block) continue;
    const region = config.regions.find((r) => r.name === spec.region)!;
    const warmAt = block.start - leadMinutes * MINUTE_MS;
    // A scheduler of this region only, its clock at the warm time: exactly what the hosted scheduler's minute tick
    // does at that instant (other regions' blocks are not due then and are left to the real-time scheduler).
    const scheduler = createScheduler({
      config: { ...config, regions: [region], fleet: { nodes: config.fleet.nodes.filter((n) => n.region === spec.region) } },
      store,
      logger,
      now: () => warmAt,
    });
    const runId = scheduledRunId(spec.region, spec.name, block);
    const local = (t: number) => new Date(t).toLocaleString('en-GB', { timeZone: region.timeZone, dateStyle: 'medium', timeStyle: 'short' });
    console.log(`\n${spec.name}: the scheduler warms it at ${local(warmAt)} ${region.timeZone}, ${leadMinutes} min before ${spec.region}'s business block`);
    const before = await readRun(store, runId);
    const started = Date.now();
    await scheduler.tick(warmAt);
    await scheduler.idle();
    await scheduler.stop();
    const run = await readRun(store, runId);
    if (!run) {
      console.log(`  no warm-up run was started (see the log above)`);
      continue;
    }
    const took = before ? 'from an earlier demo start' : `took ${seconds(started)}`;
    console.log(`  run ${runId} (${took}): ${run.status}, ${run.itemsDone} of ${run.itemsPlanned} items fetched; ${run.message}`);
    if (before) {
      // Its block's demand was replayed then; again, it would find everything warm and say nothing new.
      console.log(`  its block's demand was replayed at that start`);
    } else {
      const warmed = new Set((await runItems(store, runId)).filter((i) => i.status === 'ok').map((i) => `${i.module}@${i.version}`));
      // Logs with whole seconds (Athens, nginx) date a request in the run's last second before the run's end, and
      // effectiveness counts use from the run's end on: the replay starts in the next second.
      await sleep(1000 - (Date.now() % 1000));
      const t0 = Date.now();
      const replayed = await replayDemand(proxy.url, demo.demand.get(spec.name) ?? []);
      console.log(
        `  replayed ${spec.twin}'s demand of the block's first ${REPLAY_HOURS} h against it in ${seconds(t0)}: ${replaySummary(replayed, warmed)}`,
      );
    }
    // What the node logged since the last start (this replay, or the serving scheduler's warm-ups) joins the store.
    const res = await ingestFile(proxy.accessLog, {
      writer, node: spec.name, region: spec.region, format: spec.logFormat, pathPrefixes: config.ingest.pathPrefixes,
      clientSalt: clientSalt(config), maxLineBytes: config.ingest.maxLineBytes, batchLines: config.ingest.batchRows, checkpoints,
    });
    const eff = await measureEffectiveness(store, runId);
    const latency = spec.software === 'athens'
      ? 'Athens logs no cache status or duration: cold vs warm is the client-side figure above'
      : `cold (miss) ${ms(eff.coldRequestMs)} vs warm (hit) ${ms(eff.warmRequestMs)}`;
    console.log(
      `  from its own log (${res.events.toLocaleString()} new events): ${eff.usedVersions} of ${eff.warmedVersions} warmed versions requested, ` +
        `${eff.requestsOnWarmed} requests on them, ${eff.hitsOnWarmed} logged as hits; ${latency}`,
    );
  }
}
