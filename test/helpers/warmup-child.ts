/**
 * Child process of the crash test: runs one warm-up run against a store directory until it is killed.
 * argv[2] = JSON { dataDir, overrides, node, runId, demand }. Prints "started" once the run began.
 */
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { findTarget, nodeProfile } from '../../src/warmup/fleet.js';
import { planWarmup, type Demand } from '../../src/domain/plan.js';
import { runWarmup } from '../../src/warmup/run.js';
import { testConfig } from './store.js';

const args = JSON.parse(process.argv[2]!) as { dataDir: string; overrides: Record<string, unknown>; node: string; runId: string; demand: Demand[] };
const config = testConfig(args.dataDir, args.overrides);
const store = await openStore(config);
await migrate(store);
const target = findTarget(config, args.node);
const plan = planWarmup({ node: nodeProfile(target), demand: args.demand, warm: new Set() });
console.log('started');
await runWarmup({ store, target, runId: args.runId, plan, trigger: 'manual', plannedFor: Date.now() });
await store.close();
console.log('finished');
