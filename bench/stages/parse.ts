/**
 * parse: N nginx combined lines from a file through modcast's ingest path up to the store (`ingestStream`: byte-offset
 * line splitting, the nginx parser, GOPROXY classification, event rows in batches, written to a counting sink),
 * against raw line splitting of the same file in Node and `wc -l`. Target: >= 500k lines/s at 1M lines.
 */
import { createReadStream } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { readLines } from '../../src/logs/lines.js';
import { NginxParser } from '../../src/logs/nginx.js';
import { ingestStream } from '../../src/ingest/pipeline.js';
import type { BatchSink } from '../../src/ingest/pipeline.js';
import type { WriteBatch } from '../../src/store/event-writer.js';
import { readLogTrace, type LogTraceFileStats } from '../../src/backtest/log-trace.js';
import { benchConfig } from '../config.js';
import { measurement, median, ownPeakRssMb, progress, rate, result, runStage, timed } from '../harness.js';
import { nginxLog } from '../workload.js';

const READ_CHUNK = 256 * 1024;
const TARGET_LINES = 1_000_000;
const TARGET_RATE = 500_000;

interface Counts {
  lines: number;
  events: number;
  rejected: number;
  skipped: number;
}

/** The reference: split the file into line views with indexOf, nothing else. */
async function rawSplit(path: string): Promise<number> {
  let lines = 0;
  let viewBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
    let pos = 0;
    for (let nl = chunk.indexOf(10, pos); nl >= 0; nl = chunk.indexOf(10, pos)) {
      viewBytes += chunk.subarray(pos, nl).length;
      lines++;
      pos = nl + 1;
    }
  }
  return viewBytes >= 0 ? lines : -1; // keeps the views from being optimised away
}

function wcLines(path: string): number {
  const res = spawnSync('wc', ['-l', path], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`wc -l failed: ${res.stderr}`);
  return Number(res.stdout.trim().split(/\s+/)[0]);
}

/** modcast's parser alone: line splitting and the nginx parser, no classification or events. */
async function parserOnly(path: string): Promise<Counts> {
  const parser = new NginxParser();
  const counts: Counts = { lines: 0, events: 0, rejected: 0, skipped: 0 };
  for await (const batch of readLines(createReadStream(path, { highWaterMark: READ_CHUNK }))) {
    for (const line of batch) {
      counts.lines++;
      const parsed = parser.parse(line.raw.toString('utf8'));
      if (parsed.ok) counts.events++;
      else if (parsed.skip) counts.skipped++;
      else counts.rejected++;
    }
  }
  return counts;
}

/**
 * modcast's ingest path (`ingestStream`: lines, parser, classification, event rows in batches) into a sink that
 * only counts, so the store's time is left out (the store stage measures it).
 */
async function ingestToSink(path: string): Promise<Counts> {
  const cfg = benchConfig(tmpdir());
  let stored = 0;
  const sink: BatchSink = {
    write: async (b: WriteBatch) => {
      stored += b.events.length;
      return { alreadyStored: 0 };
    },
  };
  const stats = await ingestStream(createReadStream(path, { highWaterMark: READ_CHUNK }), {
    writer: sink,
    node: 'bench',
    region: 'bench',
    format: 'nginx',
    pathPrefixes: cfg.ingest.pathPrefixes,
    clientSalt: 'bench-salt-0123456789',
    maxLineBytes: cfg.ingest.maxLineBytes,
    batchLines: cfg.ingest.batchRows,
    sourceId: 'bench',
    sourceName: path,
    tokenPrefix: 'bench',
  });
  if (stored !== stats.events) throw new Error(`sink got ${stored} events, ingest counted ${stats.events}`);
  return { lines: stats.lines, events: stats.events, rejected: stats.rejected, skipped: stats.skipped };
}

/** `modcast trace`'s path: the ingest path into a reorder window, requests out in time order. */
async function logTrace(path: string): Promise<LogTraceFileStats> {
  const cfg = benchConfig(tmpdir());
  const stats: LogTraceFileStats[] = [];
  const options = { format: 'nginx' as const, pathPrefixes: cfg.ingest.pathPrefixes, maxLineBytes: cfg.ingest.maxLineBytes };
  let requests = 0;
  for await (const batch of readLogTrace([{ path, node: 'bench' }], options, stats)) requests += batch.length;
  if (requests !== stats[0]!.requests) throw new Error(`modcast trace yielded ${requests} requests and counted ${stats[0]!.requests}`);
  return stats[0]!;
}

runStage(async ({ size, quick }) => {
  const file = nginxLog(size);
  const reps = quick ? 1 : 3;
  const expected = wcLines(file); // also warms the page cache for everyone
  if (expected !== size) throw new Error(`${file} has ${expected} lines, expected ${size}`);

  const runs = async <T>(name: string, fn: () => Promise<T> | T) => {
    const out = [];
    for (let i = 0; i < reps; i++) out.push(await timed(fn));
    const m = median(out, (r) => r.seconds);
    progress(`${name}: ${m.seconds.toFixed(3)} s`);
    return m;
  };
  const wc = await runs('wc -l', () => wcLines(file));
  const raw = await runs('node raw split', () => rawSplit(file));
  const parseOnly = await runs('modcast parser only', () => parserOnly(file));
  const full = await runs('modcast ingest path → events', () => ingestToSink(file));
  const trace = await runs('modcast trace → time-ordered requests', () => logTrace(file));

  const c = full.value;
  const notes = [`wc -l = raw split = modcast lines = ${size}`, `${c.events} events, ${c.rejected} rejected, ${c.skipped} skipped`];
  for (const [name, n] of [['raw split', raw.value], ['parser only', parseOnly.value.lines], ['ingest path', c.lines]] as const) {
    if (n !== size) throw new Error(`${name} counted ${n} lines, wc -l ${size}`);
  }
  if (c.events + c.rejected + c.skipped !== c.lines) throw new Error('events + rejected + skipped != lines');
  // The trace keeps the events answered 2xx/304 of the kinds a backtest warms; every other event is counted apart.
  const t = trace.value;
  if (t.lines !== size || t.requests + t.notServed + t.late + (t.skipped - c.skipped) !== c.events) {
    throw new Error(`modcast trace: ${JSON.stringify(t)} does not add up to the ingest path's ${c.events} events`);
  }
  notes.push(`modcast trace: ${t.requests} requests (${t.notServed} not served, ${t.skipped - c.skipped} checksum-database or other)`);

  return result({
    stage: 'parse',
    size,
    workload: `${size.toLocaleString()} nginx combined lines from a file (median of ${reps})`,
    figure: measurement('modcast ingest path → event rows', rate(size, full.seconds), 'lines/s'),
    reference: measurement('node raw line split', rate(size, raw.seconds), 'lines/s'),
    extra: [
      measurement('wc -l', rate(size, wc.seconds), 'lines/s'),
      measurement('modcast parser only', rate(size, parseOnly.seconds), 'lines/s'),
      measurement('modcast trace (the ingest path, then time order)', rate(size, trace.seconds), 'lines/s'),
      // Single-threaded work: on a busy machine this is the rate an idle one would show.
      measurement('modcast ingest path per CPU second', rate(size, full.cpuSeconds), 'lines/cpu-s'),
    ],
    peakRssMb: ownPeakRssMb(),
    seconds: full.seconds,
    notes,
    target: `>= ${TARGET_RATE / 1000}k lines/s at ${TARGET_LINES / 1e6}M lines`,
    meets: ({ figure }) => figure.value >= TARGET_RATE,
    targetSize: TARGET_LINES,
    quick,
  });
});
