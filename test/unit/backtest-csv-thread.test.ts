/**
 * The trace reader thread: what it yields is exactly what the CSV reader yields on the replay's own thread, bad lines
 * and errors included, and batches cross as columns that name each string once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readTraceCsvBatches } from '../../src/backtest/trace-csv.js';
import { readTraceCsvFileInThread } from '../../src/backtest/trace-csv-thread.js';
import { ColumnDecoder, ColumnEncoder } from '../../src/backtest/trace-columns.js';
import { REQUEST_KINDS } from '../../src/domain/event.js';
import type { TraceRequest } from '../../src/domain/backtest/replay.js';
import { ErrorCodes, isModcastError } from '../../src/errors.js';
import { rng } from '../../src/domain/random.js';

async function collect(batches: AsyncIterable<TraceRequest[]>): Promise<{ requests: TraceRequest[]; batches: number }> {
  const requests: TraceRequest[] = [];
  let n = 0;
  for await (const b of batches) {
    n++;
    for (const r of b) requests.push(r);
  }
  return { requests, batches: n };
}

function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-csv-thread-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('trace columns: batches decode to the requests encoded, and a string crosses only with the first batch using it', () => {
  const rand = rng(7);
  const make = (n: number): TraceRequest[] =>
    Array.from({ length: n }, (_, i) => {
      const r: TraceRequest = { ts: 1794218400000 + i, module: `example.com/m${Math.floor(rand() * 20)}`, version: rand() < 0.2 ? '' : `v1.0.${i % 4}`, node: `n${i % 3}`, bytes: Math.floor(rand() * 1e6), kind: REQUEST_KINDS[i % REQUEST_KINDS.length]! };
      return rand() < 0.5 ? { ...r, region: `r${i % 2}` } : r;
    });
  const encoder = new ColumnEncoder();
  const decoder = new ColumnDecoder();
  const first = make(500);
  const a = encoder.encode(first);
  assert.deepEqual(decoder.decode(a), first);
  const again = first.slice(0, 100).reverse();
  const b = encoder.encode(again);
  assert.deepEqual(b.strings, [], 'every string of the second batch was sent with the first');
  assert.deepEqual(decoder.decode(b), again);
  const fresh: TraceRequest[] = [{ ts: 1, module: 'example.com/new', version: 'v9.9.9', node: 'n0', bytes: 0, kind: 'zip' }];
  const c = encoder.encode(fresh);
  assert.deepEqual(c.strings, ['example.com/new', 'v9.9.9']);
  assert.deepEqual(decoder.decode(c), fresh);
});

test('trace reader thread: the same requests and bad lines as reading on the replay thread, plain and gzipped', () =>
  withDir(async (dir) => {
    const lines = ['node,ts,module,version,bytes,kind,region', '# a comment', ''];
    for (let i = 0; i < 20_000; i++) {
      const ts = 1794218400 + i * 7;
      lines.push(`node-${i % 3},${ts},example.com/m${i % 97},${i % 5 === 0 ? '' : `v1.0.${i % 4}`},${i},${i % 5 === 0 ? 'list' : 'zip'},${i % 2 ? 'eu' : ''}`);
      if (i % 997 === 0) lines.push(`node-0,not a time,example.com/x,v1.0.0,1,zip,eu`);
    }
    const text = `${lines.join('\n')}\n`;
    for (const [name, body] of [['trace.csv', text], ['trace.csv.gz', gzipSync(text)]] as const) {
      const file = join(dir, name);
      writeFileSync(file, body);
      const badHere: [number, string][] = [];
      const badThere: [number, string][] = [];
      const here = await collect(readTraceCsvBatches(file, { onBadLine: (line, reason) => badHere.push([line, reason]) }));
      const there = await collect(readTraceCsvFileInThread(file, { onBadLine: (line, reason) => badThere.push([line, reason]) }));
      assert.equal(there.requests.length, 20_000, name);
      assert.deepEqual(there.requests, here.requests, name);
      assert.deepEqual(badThere, badHere, name);
      assert.equal(badThere.length, 21, name);
      assert.ok(there.batches > 1, `${name}: ${there.batches} batches`);
    }
  }));

test('trace reader thread: a missing file and too many bad lines fail with the reader\'s named errors; stopping early ends the thread', () =>
  withDir(async (dir) => {
    await assert.rejects(collect(readTraceCsvFileInThread(join(dir, 'missing.csv'))), (e) => isModcastError(e, ErrorCodes.INPUT_NOT_FOUND) && /cannot read trace/.test(e.message));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'x,m\n'.repeat(5));
    await assert.rejects(collect(readTraceCsvFileInThread(bad, { maxBadLines: 3 })), (e) => isModcastError(e, ErrorCodes.INVALID_ARGUMENT) && /more than 3 bad lines/.test(e.message));
    const big = join(dir, 'big.csv');
    writeFileSync(big, Array.from({ length: 300_000 }, (_, i) => `${1794218400 + i},example.com/m${i % 50},v1.0.0`).join('\n'));
    let seen = 0;
    for await (const batch of readTraceCsvFileInThread(big)) {
      seen += batch.length;
      break;
    }
    assert.ok(seen > 0 && seen < 300_000, `${seen} requests before stopping`);
  }));

test('modcast backtest --trace started from another directory: the reader thread finds its loader', () =>
  withDir(async (dir) => {
    const file = join(dir, 'trace.csv');
    writeFileSync(file, Array.from({ length: 2000 }, (_, i) => `${1794218400 + i * 20},example.com/m${i % 13},v1.0.${i % 3},n${i % 2}`).join('\n'));
    const bin = fileURLToPath(new URL('../../bin/modcast.js', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'backtest', '--trace', file, '--warmup-hours', '2', '--methods', 'last-24h', '--json', '--out', join(dir, 'out')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { requests: number };
    assert.equal(report.requests, 2000);
  }));
