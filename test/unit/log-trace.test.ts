/**
 * Access logs as a backtest trace (`modcast trace`): files merged in time order through a reorder window, what is no
 * demand counted apart, web logs read path by path, damaged input named, and the CSV read back by the backtest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readLogTrace, type LogTraceFileStats, type LogTraceOptions, type LogTraceSource } from '../../src/backtest/log-trace.js';
import { readTraceCsvBatches } from '../../src/backtest/trace-csv.js';
import { webPathItem } from '../../src/domain/web-path.js';
import { DEFAULT_PATH_PREFIXES } from '../../src/domain/goproxy.js';
import type { TraceRequest } from '../../src/domain/backtest/replay.js';
import { ErrorCodes, isModcastError } from '../../src/errors.js';
import { rng } from '../../src/domain/random.js';
import { writeTruncatedGz } from '../helpers/damaged-gz.js';
import { runCli } from '../helpers/cli.js';

const T0 = Date.UTC(2026, 10, 2, 8, 0, 0); // a Monday; nothing here depends on the day
const OPTIONS: LogTraceOptions = { format: 'nginx', pathPrefixes: DEFAULT_PATH_PREFIXES, maxLineBytes: 64 * 1024 };

function clf(ts: number): string {
  const d = new Date(ts);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function line(ts: number, path: string, status = 200, opts: { method?: string; agent?: string; bytes?: number } = {}): string {
  return `10.0.0.1 - - [${clf(ts)}] "${opts.method ?? 'GET'} ${path} HTTP/1.1" ${status} ${opts.bytes ?? 100} "-" "${opts.agent ?? 'Go-http-client/1.1'}"\n`;
}

async function collect(sources: LogTraceSource[], options: Partial<LogTraceOptions> = {}): Promise<{ requests: TraceRequest[]; stats: LogTraceFileStats[] }> {
  const stats: LogTraceFileStats[] = [];
  const requests: TraceRequest[] = [];
  for await (const batch of readLogTrace(sources, { ...OPTIONS, ...options }, stats)) requests.push(...batch);
  return { requests, stats };
}

function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-log-trace-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function sortedTimes(requests: readonly TraceRequest[]): boolean {
  return requests.every((r, i) => i === 0 || requests[i - 1]!.ts <= r.ts);
}

test('log trace: files of several nodes merge in time order; a line out of order within the window is placed, one beyond it is counted late', () =>
  withDir(async (dir) => {
    const rand = rng(3);
    const a: string[] = [];
    const b: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Each log is written as requests end: a line may come up to 4 minutes after later-starting ones.
      const jitter = rand() < 0.1 ? -Math.floor(rand() * 240_000) : 0;
      a.push(line(T0 + i * 7_000 + jitter, `/example.com/a${i % 17}/@v/v1.0.${i % 3}.zip`));
      b.push(line(T0 + 3_500 + i * 7_000, `/example.com/b${i % 11}/@v/list`));
    }
    a.push(line(T0 + 2999 * 7_000 - 60 * 60_000, '/example.com/late/@v/v1.0.0.zip')); // an hour behind
    writeFileSync(join(dir, 'a.log'), a.join(''));
    writeFileSync(join(dir, 'b.log'), b.join(''));
    const { requests, stats } = await collect([
      { path: join(dir, 'a.log'), node: 'a', region: 'eu' },
      { path: join(dir, 'b.log'), node: 'b' },
    ]);
    assert.ok(sortedTimes(requests), 'in time order');
    assert.equal(requests.length, 6000);
    assert.equal(stats[0]!.late, 1);
    assert.equal(stats[0]!.requests + stats[1]!.requests, 6000);
    assert.ok(!requests.some((r) => r.module === 'example.com/late'));
    const last = requests.findLast((r) => r.node === 'a')!;
    assert.deepEqual(last, { ts: T0 + 2999 * 7_000, module: 'example.com/a7', version: 'v1.0.2', node: 'a', region: 'eu', bytes: 100, kind: 'zip' });
    assert.equal(requests.find((r) => r.node === 'b')!.kind, 'list');
    assert.equal(requests.find((r) => r.node === 'b')!.region, undefined);
  }));

test('log trace: a file with more requests inside its reorder window than its queue holds does not stall the merge', () =>
  withDir(async (dir) => {
    const lines = Array.from({ length: 5000 }, (_, i) => line(T0 + i * 1000, `/example.com/m${i % 5}/@v/v1.0.0.info`)).join('');
    writeFileSync(join(dir, 'x.log'), lines);
    writeFileSync(join(dir, 'y.log'), Array.from({ length: 50 }, (_, i) => line(T0 + 4000 * 1000 + i, '/example.com/y/@v/list')).join(''));
    const { requests, stats } = await collect(
      [{ path: join(dir, 'x.log'), node: 'x' }, { path: join(dir, 'y.log'), node: 'y' }],
      { queueRows: 64, batchLines: 16 },
    );
    assert.equal(requests.length, 5050);
    assert.ok(sortedTimes(requests));
    assert.equal(stats[0]!.late + stats[1]!.late, 0);
  }));

test('log trace: errors, redirects, warm-ups, other methods and non-GOPROXY paths are no demand, and each is counted', () =>
  withDir(async (dir) => {
    const text = [
      line(T0, '/example.com/ok/@v/v1.0.0.zip'),
      line(T0 + 1000, '/example.com/ok/@v/v1.9.9.zip', 404),
      line(T0 + 1500, '/example.com/ok/@v/v1.0.0.zip', 302),
      line(T0 + 1600, '/example.com/ok/@v/v1.0.0.zip', 206),
      line(T0 + 2000, '/example.com/ok/@v/v1.0.0.zip', 200, { agent: 'modcast-warmup/1.0' }),
      line(T0 + 3000, '/example.com/ok/@v/v1.0.0.zip', 200, { method: 'POST' }),
      line(T0 + 4000, '/healthz'),
      line(T0 + 5000, '/sumdb/sum.golang.org/lookup/example.com/ok@v1.0.0'),
      'not a log line\n',
      line(T0 + 6000, '/example.com/ok/@latest', 304, { bytes: 0 }),
    ].join('');
    writeFileSync(join(dir, 'p.log'), text);
    const { requests, stats } = await collect([{ path: join(dir, 'p.log'), node: 'p' }]);
    assert.deepEqual(requests.map((r) => [r.version, r.kind]), [['v1.0.0', 'zip'], ['v1.0.0', 'zip'], ['', 'latest']]);
    const s = stats[0]!;
    assert.equal(s.format, 'nginx');
    assert.equal(s.lines, 10);
    assert.equal(s.notServed, 2, 'the 404 and the redirect');
    assert.equal(s.warmups, 1);
    assert.equal(s.rejected, 1);
    assert.match(s.rejects[0]!.reason, /nginx:/);
    assert.equal(s.skipped, 3, 'the POST, /healthz and the checksum database lookup');
  }));

test('web paths: the query and fragment go, a URL keeps its path, other characters become _', () => {
  assert.equal(webPathItem('/a/b.html?x=1#top', 'example.com'), 'example.com/a/b.html');
  assert.equal(webPathItem('http://other.host:8080/x/y z', 'example.com'), 'example.com/x/y_z');
  assert.equal(webPathItem('https://other.host', 'h'), 'h/');
  assert.equal(webPathItem('/~user/a,b"c', 'h'), 'h/~user/a_b_c');
  assert.equal(webPathItem('x', 'h'), 'h/x');
});

test('log trace --web: every path is an item of the version given, with the web log\'s own format detected', () =>
  withDir(async (dir) => {
    const text = [line(T0, '/index.html?utm=1'), line(T0 + 1000, '/images/logo.png'), line(T0 + 2000, '/missing', 404)].join('');
    writeFileSync(join(dir, 'w.log'), text);
    const lists = await collect([{ path: join(dir, 'w.log'), node: 'w' }], { format: 'auto', webPaths: { host: 'site.test', version: '' } });
    assert.deepEqual(lists.requests.map((r) => [r.module, r.version, r.kind]), [['site.test/index.html', '', 'list'], ['site.test/images/logo.png', '', 'list']]);
    assert.equal(lists.stats[0]!.notServed, 1);
    const versions = await collect([{ path: join(dir, 'w.log'), node: 'w' }], { webPaths: { host: 'site.test', version: 'v1.0.0' } });
    assert.deepEqual(versions.requests.map((r) => [r.version, r.kind]), [['v1.0.0', 'zip'], ['v1.0.0', 'zip']]);
  }));

test('log trace: a damaged .gz keeps what it holds and fails with INPUT_DAMAGED after the other files; an unknown format is named', () =>
  withDir(async (dir) => {
    const cut = await writeTruncatedGz(join(dir, 'cut.log.gz'), 4000);
    writeFileSync(join(dir, 'ok.log'), line(T0, '/example.com/ok/@v/list'));
    const stats: LogTraceFileStats[] = [];
    let read = 0;
    await assert.rejects(
      (async () => {
        for await (const batch of readLogTrace([{ path: join(dir, 'cut.log.gz'), node: 'c' }, { path: join(dir, 'ok.log'), node: 'o' }], OPTIONS, stats)) read += batch.length;
      })(),
      (e) => isModcastError(e, ErrorCodes.INPUT_DAMAGED),
    );
    assert.equal(stats[0]!.requests, cut.completeLines);
    assert.equal(stats[1]!.requests, 1);
    assert.equal(read, cut.completeLines + 1);
    writeFileSync(join(dir, 'odd.log'), 'hello\nworld\n');
    await assert.rejects(collect([{ path: join(dir, 'odd.log'), node: 'x' }], { format: 'auto' }), (e) => isModcastError(e, ErrorCodes.FORMAT_UNKNOWN));
  }));

test('modcast trace: node=path logs into a gzipped CSV the backtest reads back as the same requests, with a JSON summary', () =>
  withDir(async (dir) => {
    const log = (node: string, offset: number) =>
      Array.from({ length: 400 }, (_, i) => line(T0 + offset + i * 60_000, `/example.com/m${i % 7}/@v/v1.${i % 2}.0.mod`)).join('');
    writeFileSync(join(dir, 'eu.log'), log('eu', 0));
    writeFileSync(join(dir, 'us.log'), log('us', 30_000));
    const out = join(dir, 'trace.csv.gz');
    const run = await runCli(['trace', `eu1=${join(dir, 'eu.log')}`, `us1=${join(dir, 'us.log')}`, '--node-region', 'eu1=eu', '--out', out, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { requests: number; files: LogTraceFileStats[] };
    assert.equal(summary.requests, 800);
    assert.deepEqual(summary.files.map((f) => [f.node, f.requests, f.format]), [['eu1', 400, 'nginx'], ['us1', 400, 'nginx']]);
    assert.match(gunzipSync(readFileSync(out)).toString(), /^ts,module,version,node,region,bytes,kind\n/);
    const back: TraceRequest[] = [];
    for await (const batch of readTraceCsvBatches(out)) back.push(...batch);
    const direct = await collect([{ path: join(dir, 'eu.log'), node: 'eu1', region: 'eu' }, { path: join(dir, 'us.log'), node: 'us1' }]);
    assert.deepEqual(back, direct.requests);
    // --web takes no value: the first log after it is still a log.
    const web = await runCli(['trace', '--web', `w0=${join(dir, 'eu.log')}`, `w1=${join(dir, 'us.log')}`, '--out', join(dir, 'web.csv'), '--json']);
    assert.equal(web.code, 0, web.stderr);
    assert.deepEqual((JSON.parse(web.stdout) as { files: LogTraceFileStats[] }).files.map((f) => [f.node, f.requests]), [['w0', 400], ['w1', 400]]);
    assert.match(readFileSync(join(dir, 'web.csv'), 'utf8'), /\n\d+,example\.com\/example\.com\/m0\/_v\/v1\.0\.0\.mod,,w0,,100,list\n/);
    // A log on stdin (node=-), merged with a file, gives the same trace.
    const piped = await runCli(['trace', 'eu1=-', `us1=${join(dir, 'us.log')}`, '--node-region', 'eu1=eu', '--out', join(dir, 'piped.csv.gz'), '--json'], {}, readFileSync(join(dir, 'eu.log')));
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(gunzipSync(readFileSync(join(dir, 'piped.csv.gz'))), gunzipSync(readFileSync(out)));
    const twice = await runCli(['trace', 'a=-', 'b=-'], {}, '');
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /only one log can be read from stdin/);
    const none = await runCli(['trace', join(dir, 'missing.log')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /MODCAST_ERR_INPUT_NOT_FOUND|does not exist/);
  }));
