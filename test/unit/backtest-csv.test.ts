import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { parseTraceTime, readTraceCsv, readTraceCsvBatches, splitCsvLine } from '../../src/backtest/trace-csv.js';
import { parseBudgets, parseBytes, buildMethods } from '../../src/backtest/runner.js';
import { DEFAULT_BACKTEST, runBacktest, type TraceRequest } from '../../src/domain/backtest/replay.js';
import { lastDayTopK } from '../../src/domain/backtest/baselines.js';
import { runCli } from '../helpers/cli.js';

async function all(it: AsyncIterable<TraceRequest>): Promise<TraceRequest[]> {
  const out: TraceRequest[] = [];
  for await (const r of it) out.push(r);
  return out;
}

const stream = (text: string) => Readable.from([text]);

test('times: ISO 8601, epoch seconds (with fractions) and epoch milliseconds', () => {
  assert.equal(parseTraceTime('2026-11-09T10:00:00Z'), Date.UTC(2026, 10, 9, 10));
  assert.equal(parseTraceTime('2026-11-09 10:00:00Z'), Date.UTC(2026, 10, 9, 10));
  assert.equal(parseTraceTime('1794218400'), 1794218400_000);
  assert.equal(parseTraceTime('1794218400.5'), 1794218400_500);
  assert.equal(parseTraceTime('1794218400123'), 1794218400123);
  assert.ok(Number.isNaN(parseTraceTime('yesterday')));
  assert.deepEqual(splitCsvLine('a,"b,c","say ""hi"""'), ['a', 'b,c', 'say "hi"']);
});

test('header rows name the columns in any order, with kind and region', async () => {
  const rows = await all(
    readTraceCsv(stream('node,ts,module,version,bytes,kind,region\nn1,2026-11-09T10:00:00Z,example.com/m,v1.0.0,123,mod,eu\nn2,1794218400,example.com/m,,0,list,us\n')),
  );
  assert.deepEqual(rows, [
    { ts: Date.UTC(2026, 10, 9, 10), module: 'example.com/m', version: 'v1.0.0', node: 'n1', bytes: 123, kind: 'mod', region: 'eu' },
    { ts: 1794218400_000, module: 'example.com/m', version: '', node: 'n2', bytes: 0, kind: 'list', region: 'us' },
  ]);
});

test('header-less rows: optional version, node and bytes by position; a version means a download', async () => {
  const rows = await all(
    readTraceCsv(
      stream(
        [
          '1794218400,example.com/a',
          '1794218401,example.com/a,v1.2.3',
          '1794218402,example.com/a,v1.2.3,node-7',
          '1794218403,example.com/a,v1.2.3,node-7,4096',
          '1794218404,example.com/a,,node-7,55',
          '1794218405,example.com/a,node-9',
        ].join('\n'),
      ),
      { defaultNode: 'solo' },
    ),
  );
  assert.deepEqual(
    rows.map((r) => [r.version, r.node, r.bytes, r.kind]),
    [
      ['', 'solo', 0, 'list'],
      ['v1.2.3', 'solo', 0, 'zip'],
      ['v1.2.3', 'node-7', 0, 'zip'],
      ['v1.2.3', 'node-7', 4096, 'zip'],
      ['', 'node-7', 55, 'list'],
      ['', 'node-9', 0, 'list'],
    ],
  );
});

test('bad lines are reported and skipped, too many fail; a gzipped file is read as a stream', async () => {
  const bad: number[] = [];
  const rows = await all(readTraceCsv(stream('1794218400,m\nnot-a-time,m\n1794218401,\n# comment\n\n1794218402,m,v1.0.0,n,-5\n1794218403,m\n'), { onBadLine: (l) => bad.push(l) }));
  assert.equal(rows.length, 2);
  assert.deepEqual(bad, [2, 3, 6]);
  await assert.rejects(all(readTraceCsv(stream('x,m\n'.repeat(5)), { maxBadLines: 3 })), /more than 3 bad lines/);
  const dir = mkdtempSync(join(tmpdir(), 'modcast-csv-'));
  try {
    const file = join(dir, 'trace.csv.gz');
    writeFileSync(file, gzipSync('ts,module,version\n2026-11-09T10:00:00Z,example.com/z,v0.1.0\n'));
    assert.deepEqual((await all(readTraceCsv(file))).map((r) => r.module), ['example.com/z']);
    await assert.rejects(all(readTraceCsv(join(dir, 'missing.csv'))), /MODCAST_ERR|cannot read trace/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CSV read in batches replays exactly as read one request at a time', async () => {
  // Three days on two nodes, with a comment, a blank line and a bad line among them.
  const lines = ['ts,module,version,node,bytes,kind', '# a comment', ''];
  const t0 = Date.UTC(2026, 0, 5);
  for (let i = 0; i < 3 * 24 * 12; i++) {
    const ts = t0 + i * 5 * 60_000;
    lines.push(`${ts},example.com/m${i % 7},v1.0.${i % 3},node-${i % 2},${100 + i},zip`);
    if (i % 5 === 0) lines.push(`${ts + 1},example.com/m${i % 4},,node-${i % 2},10,list`);
    if (i === 100) lines.push('not a time,example.com/x,v1.0.0,node-0,1,zip');
  }
  const text = `${lines.join('\n')}\n`;
  const batches = await all((async function* () {
    for await (const b of readTraceCsvBatches(stream(text))) yield* b;
  })());
  assert.deepEqual(batches, await all(readTraceCsv(stream(text))));
  const options = { ...DEFAULT_BACKTEST, methods: [lastDayTopK], warmupHours: 24 };
  const one = await runBacktest(readTraceCsv(stream(text)), options);
  const batched = await runBacktest({ batches: readTraceCsvBatches(stream(text)) }, options);
  assert.ok(one.windows > 40 && one.requests === batches.length);
  assert.deepEqual(batched, one);
});

test('budgets, byte sizes and method names parse, with readable errors', () => {
  assert.deepEqual(parseBudgets('5, 20', '1MiB'), [
    { kind: 'items', value: 5 },
    { kind: 'items', value: 20 },
    { kind: 'bytes', value: 1024 * 1024 },
  ]);
  assert.equal(parseBytes('1.5GB'), 1_500_000_000);
  assert.throws(() => parseBytes('ten'), /not a byte size/);
  assert.throws(() => parseBudgets('0', undefined), /positive integer/);
  assert.deepEqual(buildMethods(['last-24h', 'modcast:tsb']).map((m) => m.name), ['last-24h', 'modcast:tsb']);
  assert.throws(() => buildMethods(['magic']), /unknown backtest method/);
});

test('modcast backtest --trace: the CLI replays a CSV and writes the table, JSON and SVG', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-bt-cli-'));
  try {
    // Three days, two nodes, a handful of modules with a daily rhythm and a release on day 3.
    const lines = ['ts,module,version,node,bytes'];
    const t0 = Date.UTC(2026, 10, 9);
    for (let h = 0; h < 72; h++) {
      for (let k = 0; k < 6; k++) {
        const ts = new Date(t0 + h * 3_600_000 + k * 300_000).toISOString();
        const module = `example.com/m${(h * 7 + k) % 9}`;
        const version = h >= 50 && k === 0 ? 'v1.1.0' : 'v1.0.0';
        lines.push(`${ts},${module},${version},${k % 2 ? 'a' : 'b'},${1000 + k}`);
      }
    }
    const trace = join(dir, 'trace.csv');
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const out = join(dir, 'out');
    const res = await runCli(['--data-dir', dir, 'backtest', '--trace', trace, '--warmup-hours', '24', '--methods', 'no-warmup,last-24h,modcast', '--budget-items', '2,5', '--out', out]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /oracle\s+5 items/);
    assert.ok(existsSync(join(out, 'benefit.svg')) && existsSync(join(out, 'table.txt')));
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { requests: number; methods: string[] };
    assert.equal(report.requests, 72 * 6);
    assert.deepEqual(report.methods, ['no-warmup', 'last-24h', 'modcast', 'oracle', 'oracle:reachable']);
    assert.match(res.stdout, /vs last-24h \[95% CI\]/);
    // Every row has a version: no word about the TTL rule of versionless rows.
    assert.doesNotMatch(res.stdout, /versionless rows/);
    // A trace shorter than the warm-up history is refused by name instead of printing an empty table.
    const short = await runCli(['--data-dir', dir, 'backtest', '--trace', trace, '--warmup-hours', '100', '--methods', 'last-24h', '--out', out]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /MODCAST_ERR_INVALID_ARGUMENT: the trace spans 71\.\d h, but the first decision comes 100 h after its start/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
