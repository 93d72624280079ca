/**
 * Reads a trace CSV file on a thread of its own: the file is read, split and parsed (readTraceCsvBatches) beside the
 * replay rather than before each batch of it, and the batches cross as columns (trace-columns.ts). On two cores the
 * replay no longer waits for parsing, which is most of reading a trace.
 *
 * The same module is the thread's code: started as a worker with READER_THREAD data, it reads and posts; imported,
 * it only exports the reading side.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { TraceRequest } from '../domain/backtest/replay.js';
import { ErrorCodes, ModcastError, isModcastError, type ErrorCode } from '../errors.js';
import { ColumnDecoder, ColumnEncoder, batchBuffers, type ColumnBatch } from './trace-columns.js';
import { readTraceCsvBatches, type TraceCsvOptions } from './trace-csv.js';

/** Batches posted and not yet taken by the replay: the thread waits beyond this (memory stays a few batches). */
const MAX_IN_FLIGHT = 8;
const READER_THREAD = 'modcast-trace-csv-reader';

interface ThreadData {
  role: typeof READER_THREAD;
  path: string;
  defaultNode?: string;
  maxBadLines?: number;
}

type FromThread =
  | { type: 'batch'; batch: ColumnBatch }
  | { type: 'bad'; line: number; reason: string }
  | { type: 'error'; code: ErrorCode; message: string }
  | { type: 'end' };

/**
 * readTraceCsvBatches of a file, parsed on a worker thread. Bad lines reach options.onBadLine in order; the reader's
 * errors (a missing file, too many bad lines) are thrown here as they would be there. Ending the iteration early
 * stops the thread.
 */
export async function* readTraceCsvFileInThread(path: string, options: TraceCsvOptions = {}): AsyncGenerator<TraceRequest[]> {
  const data: ThreadData = { role: READER_THREAD, path, defaultNode: options.defaultNode, maxBadLines: options.maxBadLines };
  const worker = startThread(data);
  const inbox: FromThread[] = [];
  let failure: unknown = null;
  let exited = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: FromThread) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (e) => {
    failure ??= e;
    notify();
  });
  worker.on('exit', (code) => {
    exited = true;
    if (code !== 0) failure ??= new Error(`the trace reader thread exited with code ${code}`);
    notify();
  });
  const decoder = new ColumnDecoder();
  try {
    for (let next = 0; ; ) {
      while (next === inbox.length) {
        if (failure) throw failure;
        if (exited) throw new Error('the trace reader thread ended before the end of the trace');
        inbox.length = next = 0;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const m = inbox[next++]!;
      if (m.type === 'batch') {
        // Taken: the thread may read on while the replay works through this one.
        worker.postMessage('taken');
        yield decoder.decode(m.batch);
      } else if (m.type === 'bad') options.onBadLine?.(m.line, m.reason);
      else if (m.type === 'error') throw new ModcastError(m.code, m.message);
      else return;
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * This module on a worker thread. Run from TypeScript source (through tsx, as in development and tests), the thread
 * first registers the same loader; compiled, it loads the JavaScript directly.
 */
function startThread(data: ThreadData): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL(self), { workerData: data });
  // Resolved here: the thread's own code is evaluated, with nothing to resolve a package name from but the working
  // directory, which need not be the project's.
  const loader = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(self)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** The thread's side: parse, post each batch as columns, and wait while MAX_IN_FLIGHT are untaken. */
async function readOnThread(data: ThreadData): Promise<void> {
  const port = parentPort!;
  let inFlight = 0;
  let room: (() => void) | null = null;
  port.on('message', () => {
    inFlight--;
    room?.();
    room = null;
  });
  const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  const encoder = new ColumnEncoder();
  try {
    const batches = readTraceCsvBatches(data.path, {
      defaultNode: data.defaultNode,
      maxBadLines: data.maxBadLines,
      onBadLine: (line, reason) => post({ type: 'bad', line, reason }),
    });
    for await (const requests of batches) {
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (room = resolve));
      const batch = encoder.encode(requests);
      inFlight++;
      post({ type: 'batch', batch }, batchBuffers(batch));
    }
    post({ type: 'end' });
  } catch (e) {
    post({ type: 'error', code: isModcastError(e) ? e.code : ErrorCodes.INTERNAL, message: e instanceof Error ? e.message : String(e) });
  }
  port.close();
}

if (!isMainThread && (workerData as ThreadData | null)?.role === READER_THREAD) void readOnThread(workerData as ThreadData);
