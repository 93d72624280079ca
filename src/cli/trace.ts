/**
 * `modcast trace` — proxy access logs (any format `modcast ingest` reads, plain or .gz) into a backtest trace CSV,
 * without a store: `modcast trace eu1=eu1/access.log us1=us1/access.log.gz --out trace.csv`, then
 * `modcast backtest --trace trace.csv`. `--web` reads a web server's log instead, every path an item.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable, type Writable } from 'node:stream';
import type { Command } from 'commander';
import { contextFrom, intOption, parseNodeRegions } from './context.js';
import { parseFormat } from './ingest.js';
import { readLogTrace, type LogTraceFileStats, type LogTraceSource } from '../backtest/log-trace.js';
import { progressReporter, rate } from '../ingest/progress.js';
import type { TraceRequest } from '../domain/backtest/replay.js';
import { ModcastError, ErrorCodes } from '../errors.js';

interface TraceFlags {
  format: string;
  node: string;
  nodeRegion?: string;
  web?: boolean;
  webHost: string;
  webVersion: string;
  reorderMinutes: number;
  out?: string;
  json?: boolean;
}

const TRACE_CSV_HEADER = 'ts,module,version,node,region,bytes,kind';
/** The log path that reads stdin (plain text: `zcat access.log.gz | modcast trace -`), as for modcast ingest. */
const STDIN = '-';

/** A CSV cell: quoted only when it has to be (module paths and versions never need it; node names might). */
const NEEDS_QUOTES = /[\x22,\n\r]/; // a double quote, a comma or a line break

function cell(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One trace CSV row, the time in epoch ms (what the trace reader parses fastest). */
function traceCsvRow(r: TraceRequest): string {
  return `${r.ts},${cell(r.module)},${cell(r.version)},${cell(r.node)},${cell(r.region ?? '')},${r.bytes},${r.kind ?? ''}\n`;
}

/** `node=path` or a bare path (of the node `--node` names); `-` (at most one) is stdin. */
function parseTraceSources(args: readonly string[], defaultNode: string, regions: ReadonlyMap<string, string>): LogTraceSource[] {
  const sources = args.map((arg) => {
    const eq = arg.indexOf('=');
    // A path may hold '=' too: the part before it is a node name only when it has no path separator.
    const named = eq > 0 && !arg.slice(0, eq).includes('/');
    const node = named ? arg.slice(0, eq) : defaultNode;
    const path = named ? arg.slice(eq + 1) : arg;
    if (path === '') throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `no log file in ${JSON.stringify(arg)} (expected node=path or path)`);
    if (path !== STDIN && !existsSync(path)) throw new ModcastError(ErrorCodes.INPUT_NOT_FOUND, `log file ${path} does not exist`);
    const region = regions.get(node);
    return region ? { path, node, region } : { path, node };
  });
  if (sources.filter((s) => s.path === STDIN).length > 1) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'only one log can be read from stdin (-)');
  return sources;
}

function summaryLine(s: LogTraceFileStats): string {
  const parts = [`${s.requests.toLocaleString()} requests from ${s.lines.toLocaleString()} lines (${s.format ?? 'no format'})`];
  if (s.notServed > 0) parts.push(`${s.notServed.toLocaleString()} not served (errors, redirects)`);
  if (s.warmups > 0) parts.push(`${s.warmups.toLocaleString()} modcast warm-ups`);
  if (s.skipped > 0) parts.push(`${s.skipped.toLocaleString()} skipped`);
  if (s.rejected > 0) parts.push(`${s.rejected.toLocaleString()} rejected`);
  if (s.late > 0) parts.push(`${s.late.toLocaleString()} LATE (out of order by more than --reorder-minutes; left out)`);
  const rejects = s.rejects.map((r) => `\n    at byte ${r.offset}: ${r.reason}`).join('');
  return `  ${s.node} ${s.path}: ${parts.join(', ')}${rejects}`;
}

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('turn proxy access logs into a backtest trace CSV (merged in time order), for modcast backtest --trace')
    .argument('<logs...>', 'log files (plain or .gz), each node=path or a path of --node; - (or node=-) reads stdin')
    .option('-f, --format <format>', 'log format: auto, or as modcast ingest --format', 'auto')
    .option('-n, --node <name>', 'node of the log files given without node=', 'node')
    .option('--node-region <pairs>', 'regions of the nodes: node=region,…')
    // A flag with no value: an optional value would take the first log file for a host name.
    .option('--web', 'read web server logs: every path is an item <host><path>')
    .option('--web-host <host>', 'with --web: the host the items are named under', 'example.com')
    .option('--web-version <v>', "with --web: the items' version; empty = list requests, fresh for the backtest's --ttl-minutes", '')
    .option('--reorder-minutes <n>', "how far a log's lines may be out of time order", intOption('reorder-minutes', 0, 24 * 60), 5)
    .option('-o, --out <file>', 'trace CSV to write (.gz: gzipped); default stdout')
    .option('--json', 'print the summary as JSON')
    .action(async (logs: string[], flags: TraceFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const format = parseFormat(flags.format);
      const sources = parseTraceSources(logs, flags.node, parseNodeRegions(flags.nodeRegion));
      const webPaths = flags.web ? { host: flags.webHost, version: flags.webVersion } : undefined;
      if (webPaths && !/^[A-Za-z0-9.-]+$/.test(webPaths.host)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--web-host expects a host name, got ${JSON.stringify(webPaths.host)}`);
      const stats: LogTraceFileStats[] = [];
      const progress = progressReporter();
      const started = Date.now();
      let written = 0;
      let first: number | undefined;
      let last: number | undefined;
      async function* csv(): AsyncGenerator<string> {
        yield `${TRACE_CSV_HEADER}\n`;
        for await (const batch of readLogTrace(sources, {
          format,
          pathPrefixes: ctx.config.ingest.pathPrefixes,
          ...(webPaths ? { webPaths } : {}),
          maxLineBytes: ctx.config.ingest.maxLineBytes,
          reorderMs: flags.reorderMinutes * 60_000,
        }, stats)) {
          first ??= batch[0]!.ts;
          last = batch[batch.length - 1]!.ts;
          written += batch.length;
          let text = '';
          for (const r of batch) text += traceCsvRow(r);
          yield text;
          progress.update(`trace: ${written.toLocaleString()} requests (${rate(written, started)}), at ${new Date(last).toISOString()}`);
        }
      }
      const sink: Writable = flags.out ? createWriteStream(flags.out) : process.stdout;
      if (flags.out) await once(sink, 'open');
      if (flags.out?.endsWith('.gz')) await pipeline(Readable.from(csv()), createGzip(), sink);
      else if (flags.out) await pipeline(Readable.from(csv()), sink);
      else for await (const text of csv()) if (!process.stdout.write(text)) await once(process.stdout, 'drain');
      const summary = {
        requests: written,
        from: first === undefined ? null : new Date(first).toISOString(),
        to: last === undefined ? null : new Date(last).toISOString(),
        seconds: (Date.now() - started) / 1000,
        files: stats,
      };
      // With the CSV on stdout, the summary goes to stderr either way.
      const say = (text: string) => (flags.out ? console.log(text) : console.error(text));
      if (flags.json) say(JSON.stringify(summary, null, 2));
      else {
        progress.done(`trace: ${written.toLocaleString()} requests${first !== undefined ? ` from ${summary.from} to ${summary.to}` : ''} in ${summary.seconds.toFixed(1)}s${flags.out ? ` → ${flags.out}` : ''}`);
        say(stats.map(summaryLine).join('\n'));
      }
      if (written === 0) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `no request in ${logs.join(', ')}: ${webPaths ? 'are they access logs?' : 'are they GOPROXY access logs? (--web reads any web log)'}`);
    });
}
