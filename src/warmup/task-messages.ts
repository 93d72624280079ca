/**
 * Wire format of distributed warm-ups (docs/kafka.md, "Warm-up tasks"): the scheduler's leader sends a run's
 * requests as tasks on `modcast.warmup-tasks`, keyed by node, so one node's tasks stay in one partition and one
 * worker at a time fetches against that node (its concurrency and rate limits hold fleet-wide); workers send
 * each result back on `modcast.warmup-results`, keyed by run, to the process that holds the store.
 *
 * A task names only (module, version, endpoint): the worker re-validates them, builds the path itself under ITS
 * configured node's prefix and recomputes the item id, so a forged or corrupted message can make it fetch
 * nothing but GOPROXY paths of configured nodes.
 */
import { z } from 'zod';
import { WARM_ENDPOINTS } from '../domain/plan.js';
import type { WarmResult, WarmStatus } from './executor.js';

/** Requests per task message: bounds message size (~100 B per request) and what a crashed worker redoes. */
export const TASK_MAX_REQUESTS = 500;

const TaskRequest = z.object({
  module: z.string().min(1).max(1024),
  version: z.string().max(512),
  endpoint: z.enum(WARM_ENDPOINTS),
  expectedBenefit: z.number().finite(),
});

const WarmupTaskV1 = z.object({
  v: z.literal(1),
  type: z.literal('warmup-task'),
  runId: z.string().min(1).max(512),
  node: z.string().min(1).max(256),
  part: z.number().int().min(0),
  parts: z.number().int().min(1),
  /** Epoch ms: after this instant the requests are reported `skipped` (the demand window passed). */
  notAfter: z.number().int(),
  /** The run's byte budget (the node's maxBytesPerRun when planned). */
  maxBytes: z.number().int().min(0),
  issuedAt: z.number().int(),
  requests: z.array(TaskRequest).min(1).max(TASK_MAX_REQUESTS),
});
export type WarmupTask = z.infer<typeof WarmupTaskV1>;
export type TaskRequest = z.infer<typeof TaskRequest>;

const STATUSES = ['ok', 'not_found', 'failed', 'skipped'] as const satisfies readonly WarmStatus[];

const TaskResult = z.object({
  itemId: z.string().regex(/^[0-9a-f]{32}$/),
  module: z.string().min(1).max(1024),
  version: z.string().max(512),
  endpoint: z.enum(WARM_ENDPOINTS),
  path: z.string().max(4096),
  expectedBenefit: z.number().finite(),
  status: z.enum(STATUSES),
  httpStatus: z.number().int().min(0).max(999),
  bytes: z.number().int().min(0),
  latencyMs: z.number().min(0),
  attempts: z.number().int().min(0),
  sha256: z.string().max(64),
  reason: z.string().max(2000),
  finishedAt: z.number().int(),
});

const WarmupResultsV1 = z.object({
  v: z.literal(1),
  type: z.literal('warmup-results'),
  runId: z.string().min(1).max(512),
  node: z.string().min(1).max(256),
  worker: z.string().max(256),
  results: z.array(TaskResult).min(1),
});
export type WarmupResults = z.infer<typeof WarmupResultsV1>;

/** A run's requests cut into task messages of at most TASK_MAX_REQUESTS. */
export function tasksOfRun(
  run: { runId: string; node: string; notAfter: number; maxBytes: number; issuedAt: number },
  requests: readonly TaskRequest[],
): WarmupTask[] {
  const parts = Math.max(1, Math.ceil(requests.length / TASK_MAX_REQUESTS));
  const tasks: WarmupTask[] = [];
  for (let part = 0; part * TASK_MAX_REQUESTS < requests.length; part++) {
    const slice = requests.slice(part * TASK_MAX_REQUESTS, (part + 1) * TASK_MAX_REQUESTS);
    tasks.push({ v: 1, type: 'warmup-task', ...run, part, parts, requests: slice.map(({ module, version, endpoint, expectedBenefit }) => ({ module, version, endpoint, expectedBenefit })) });
  }
  return tasks;
}

export function encodeTask(task: WarmupTask): Buffer {
  return Buffer.from(JSON.stringify(task));
}

export function encodeResults(msg: WarmupResults): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

export function resultsMessage(runId: string, node: string, worker: string, results: readonly WarmResult[]): WarmupResults {
  return { v: 1, type: 'warmup-results', runId, node, worker, results: [...results] };
}

/** Parses a task; throws an Error naming what is wrong (the caller dead-letters the original bytes). */
export function decodeTask(value: Buffer | null): WarmupTask {
  return decode(WarmupTaskV1, value, 'warm-up task');
}

export function decodeResults(value: Buffer | null): WarmupResults {
  return decode(WarmupResultsV1, value, 'warm-up results');
}

function decode<T>(schema: z.ZodType<T>, value: Buffer | null, what: string): T {
  if (value === null) throw new Error(`${what}: empty message`);
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    throw new Error(`${what}: not JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${what}: ${issue.path.join('.') || '(message)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Progress of a task inside its partition's committed offset metadata: `<task offset>:<base64 bitmap of done
 * request indexes>`. A worker taking over a partition after a crash skips the requests marked done.
 */
export function encodeProgress(taskOffset: number, done: readonly boolean[]): string {
  const bits = Buffer.alloc(Math.ceil(done.length / 8));
  done.forEach((d, i) => {
    if (d) bits[i >> 3]! |= 1 << (i & 7);
  });
  return `${taskOffset}:${bits.toString('base64')}`;
}

/** The done flags for the task at `taskOffset`, or undefined when the metadata is about another task (or none). */
export function decodeProgress(metadata: string | null, taskOffset: number, requests: number): boolean[] | undefined {
  const m = metadata ? /^(\d+):([A-Za-z0-9+/=]*)$/.exec(metadata) : null;
  if (!m || Number(m[1]) !== taskOffset) return undefined;
  const bits = Buffer.from(m[2]!, 'base64');
  return Array.from({ length: requests }, (_, i) => ((bits[i >> 3] ?? 0) & (1 << (i & 7))) !== 0);
}
