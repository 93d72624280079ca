/**
 * Writes a generated workload as one access log per node, in that node's log format, streaming
 * (bounded memory whatever the size). A small share of malformed lines is mixed in, as real logs have.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import type { LogFormat } from '../logs/parser.js';
import { generateWorkload, type WorkloadOptions } from './generator.js';
import { rng } from '../domain/random.js';
import { renderLine } from './formats.js';

export interface NodeLogSpec {
  node: string;
  format: LogFormat;
  gzip?: boolean;
}

export interface WrittenLog {
  node: string;
  region: string;
  file: string;
  format: LogFormat;
  lines: number;
  malformed: number;
}

const MALFORMED = [
  'GET /github.com/broken HTTP/1.1" 200',
  '\u0000\u0001garbage',
  '127.0.0.1 - - [32/Foo/2026:99:99:99 +0000] "GET / HTTP/1.1" 200 1',
];

export async function writeWorkloadLogs(
  workload: WorkloadOptions,
  dir: string,
  specs: NodeLogSpec[],
  malformedRate = 0.001,
): Promise<WrittenLog[]> {
  mkdirSync(dir, { recursive: true });
  const rand = rng(workload.seed ^ 0x5eed);
  const outs = new Map<string, { sink: WriteStream | Gzip; file: WriteStream; log: WrittenLog }>();
  for (const n of workload.nodes) {
    const spec = specs.find((s) => s.node === n.name) ?? { node: n.name, format: 'nginx' as LogFormat };
    const path = join(dir, `${n.name}.${spec.format}.log${spec.gzip ? '.gz' : ''}`);
    const file = createWriteStream(path);
    const sink = spec.gzip ? createGzip() : file;
    if (spec.gzip) (sink as Gzip).pipe(file);
    outs.set(n.name, { sink, file, log: { node: n.name, region: n.region, file: path, format: spec.format, lines: 0, malformed: 0 } });
  }
  for (const r of generateWorkload(workload)) {
    const out = outs.get(r.node)!;
    let text = renderLine(r, out.log.format) + '\n';
    if (rand() < malformedRate) {
      text += MALFORMED[Math.floor(rand() * MALFORMED.length)]! + '\n';
      out.log.malformed++;
      out.log.lines++;
    }
    out.log.lines++;
    if (!out.sink.write(text)) await once(out.sink, 'drain');
  }
  for (const { sink, file } of outs.values()) {
    sink.end();
    await once(file, 'close');
  }
  return [...outs.values()].map((o) => o.log);
}
