/** Shared steps of the warm-up tests: ingest a proxy's access log, seed a prediction run, build a fleet config. */
import { EventWriter } from '../../src/store/event-writer.js';
import { ingestFile } from '../../src/ingest/file-ingest.js';
import type { Store } from '../../src/store/client.js';
import type { Config } from '../../src/config.js';
import type { LogFormat } from '../../src/logs/parser.js';

/** The warm-up tests' clock: a Wednesday, 10:30 in Berlin (inside region eu's business hours), whatever today is. */
export const WEDNESDAY_BERLIN_1030 = Date.parse('2026-11-25T09:30:00Z');

/** Ingests the proxy's access log (modcast-goproxy: JSON lines; Athens: `athens-json`) as `node` through the real ingest pipeline. */
export async function ingestAccessLog(store: Store, config: Config, file: string, node: string, region = 'eu', format: LogFormat | 'auto' = 'jsonl'): Promise<number> {
  const res = await ingestFile(file, {
    writer: new EventWriter(store),
    node,
    region,
    format,
    pathPrefixes: ['/'],
    clientSalt: 'test-salt-0123456789',
    maxLineBytes: config.ingest.maxLineBytes,
    batchLines: 1000,
  });
  if (res.rejected > 0) throw new Error(`${res.rejected} access log lines of ${file} were rejected`);
  return res.events;
}

/**
 * A finished prediction run whose predictions are the versions `sourceNode` served (fleet scope, any kind,
 * P(any) = pAny; `kind: 'zip'` keeps only versions whose zip was downloaded) over [at - 1h, at + windowHours (24)),
 * `at` being the test's clock (default the real now, for tests that also read the events' real timestamps).
 * Stands in for the scoring job's output with the same columns.
 */
export async function seedPredictionsFromEvents(
  store: Store,
  runId: string,
  sourceNode: string,
  opts: { pAny?: number; kind?: 'any' | 'zip'; windowHours?: number; at?: number } = {},
): Promise<number> {
  const pAny = opts.pAny ?? 0.9;
  const kind = opts.kind ?? 'any';
  const now = opts.at ?? Date.now();
  await store.client.insert({
    table: 'prediction_runs',
    format: 'JSONEachRow',
    values: [
      {
        run_id: runId, started_at: now, finished_at: now, status: 'done', as_of: Math.floor(now / 1000), horizon_hours: 24,
        step_minutes: 60, series: 0, predictions: 0, params: '{}',
      },
    ],
  });
  await store.client.command({
    query: `INSERT INTO predictions (run_id, made_at, scope, scope_id, module, version, kind, window_start, window_end,
              expected_requests, p_any_request, lower, upper, model, features)
            SELECT {run:String}, now64(3), 'fleet', 'fleet', module, version, {kind:String},
                   toDateTime({from:UInt32}), toDateTime({to:UInt32}), count(), {p:Float64}, 0, count(), 'test-fixture', '{}'
            FROM access_events WHERE node = {node:String} AND version != '' AND status = 200
              AND ({kind:String} = 'any' OR toString(kind) = {kind:String})
            GROUP BY module, version`,
    query_params: { run: runId, node: sourceNode, p: pAny, kind, from: Math.floor((now - 3_600_000) / 1000), to: Math.floor((now + (opts.windowHours ?? 24) * 3_600_000) / 1000) },
  });
  const rs = await store.client.query({ query: 'SELECT count() AS c FROM predictions WHERE run_id = {run:String}', query_params: { run: runId }, format: 'JSONEachRow' });
  return Number((await rs.json<{ c: string }>())[0]!.c);
}

export interface TestNode {
  name: string;
  baseUrl: string;
  region?: string;
  software?: 'athens' | 'goproxy' | 'artifactory' | 'nexus' | 'generic';
  maxConcurrency?: number;
  maxRequestsPerSecond?: number;
  maxBytesPerRun?: number;
  maxItemsPerRun?: number;
  hashBodies?: boolean;
  requestTimeoutMs?: number;
}

/** Config overrides (for openTestStore) whose fleet is `nodes`, all in region `eu` (Europe/Berlin). */
export function fleetOverrides(nodes: TestNode[]): Record<string, unknown> {
  return {
    regions: [{ name: 'eu', timeZone: 'Europe/Berlin' }],
    fleet: { nodes: nodes.map((n) => ({ region: 'eu', software: 'goproxy', ...n })) },
  };
}
