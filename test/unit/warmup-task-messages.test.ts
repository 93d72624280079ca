/** The warm-up task wire format: chunking, validation with readable errors, progress in offset metadata. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TASK_MAX_REQUESTS,
  decodeProgress,
  decodeResults,
  decodeTask,
  encodeProgress,
  encodeTask,
  tasksOfRun,
  type TaskRequest,
} from '../../src/warmup/task-messages.js';

const run = { runId: 'r1', node: 'n1', notAfter: 2_000_000_000_000, maxBytes: 1 << 30, issuedAt: 1_700_000_000_000 };
const requests = (n: number): TaskRequest[] =>
  Array.from({ length: n }, (_, i) => ({ module: `example.com/m${i}`, version: 'v1.0.0', endpoint: 'zip' as const, expectedBenefit: i }));

test('a run is cut into tasks of at most TASK_MAX_REQUESTS, in order, each decodable', () => {
  const all = requests(2 * TASK_MAX_REQUESTS + 7);
  const tasks = tasksOfRun(run, all);
  assert.deepEqual(tasks.map((t) => t.requests.length), [TASK_MAX_REQUESTS, TASK_MAX_REQUESTS, 7]);
  assert.deepEqual(tasks.map((t) => [t.part, t.parts]), [[0, 3], [1, 3], [2, 3]]);
  assert.deepEqual(tasks.flatMap((t) => t.requests), all);
  for (const t of tasks) assert.deepEqual(decodeTask(encodeTask(t)), t);
});

test('unreadable tasks and results are refused with what is wrong', () => {
  assert.throws(() => decodeTask(null), /warm-up task: empty message/);
  assert.throws(() => decodeTask(Buffer.from('{"v":1,')), /warm-up task: not JSON/);
  const [task] = tasksOfRun(run, requests(1));
  assert.throws(() => decodeTask(Buffer.from(JSON.stringify({ ...task, v: 2 }))), /warm-up task: v:/);
  assert.throws(() => decodeTask(Buffer.from(JSON.stringify({ ...task, requests: [{ ...task!.requests[0], endpoint: 'exec' }] }))), /requests\.0\.endpoint/);
  assert.throws(() => decodeTask(Buffer.from(JSON.stringify({ ...task, requests: [] }))), /requests/);
  assert.throws(() => decodeResults(Buffer.from(JSON.stringify({ v: 1, type: 'warmup-results', runId: 'r', node: 'n', worker: 'w', results: [{ itemId: 'x' }] }))), /results\.0\.itemId/);
});

test('task progress survives the offset metadata round trip and belongs to one task offset', () => {
  const done = Array.from({ length: TASK_MAX_REQUESTS }, (_, i) => i % 3 === 0 || i === TASK_MAX_REQUESTS - 1);
  const meta = encodeProgress(42, done);
  assert.ok(meta.length < 200, `${meta.length} characters (Kafka keeps up to 4096 by default)`);
  assert.deepEqual(decodeProgress(meta, 42, done.length), done);
  assert.equal(decodeProgress(meta, 43, done.length), undefined, 'progress of another task is ignored');
  assert.equal(decodeProgress(null, 42, 3), undefined);
  assert.equal(decodeProgress('epoch:7', 42, 3), undefined, 'foreign metadata is ignored');
  assert.deepEqual(decodeProgress(encodeProgress(0, [false, false]), 0, 2), [false, false]);
});
