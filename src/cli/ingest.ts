/** `modcast ingest` — files (plain, .gz) or stdin into the store, without a broker; resumable. */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { contextFrom, withStore, intOption } from './context.js';
import { EventWriter } from '../store/event-writer.js';
import { CheckpointStore } from '../lib/checkpoint.js';
import { ingestFile } from '../ingest/file-ingest.js';
import { clientSalt } from '../lib/salt.js';
import { progressReporter, rate } from '../ingest/progress.js';
import { LOG_FORMATS, type LogFormat, type JsonFieldMap } from '../logs/parser.js';
import { ModcastError, ErrorCodes, isModcastError } from '../errors.js';

interface IngestFlags {
  format: string;
  node: string;
  region: string;
  jsonFields?: string;
  batchLines?: number;
  resume: boolean;
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('ingest access logs from files (plain or .gz) or stdin (-) into the store, resumable')
    .argument('<files...>', 'log files, or - for stdin')
    .option('-f, --format <format>', `auto | ${LOG_FORMATS.join(' | ')}`, 'auto')
    .requiredOption('-n, --node <name>', 'proxy node the logs come from')
    .requiredOption('-r, --region <name>', 'region of that node')
    .option('--json-fields <file>', 'JSON file with the field map of a jsonl log')
    .option('--batch-lines <n>', 'lines per insert batch', intOption('batch-lines', 1, 1_000_000))
    .option('--no-resume', 'ignore checkpoints and read files from the start (dedup still drops stored batches)')
    .action(async (files: string[], flags: IngestFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const format = parseFormat(flags.format);
      const jsonFields = flags.jsonFields ? (JSON.parse(readFileSync(flags.jsonFields, 'utf8')) as JsonFieldMap) : undefined;
      await withStore(ctx, async (store) => {
        const writer = new EventWriter(store, { logger: ctx.logger });
        const checkpoints = flags.resume ? new CheckpointStore(join(ctx.config.dataDir, 'checkpoints')) : undefined;
        const progress = progressReporter();
        const started = Date.now();
        let total = { lines: 0, events: 0, alreadyStored: 0, rejected: 0, skipped: 0 };
        const damaged: ModcastError[] = [];
        for (const file of files) {
          const res = await ingestFile(file, {
            writer,
            node: flags.node,
            region: flags.region,
            format,
            ...(jsonFields ? { jsonFields } : {}),
            pathPrefixes: ctx.config.ingest.pathPrefixes,
            clientSalt: clientSalt(ctx.config),
            maxLineBytes: ctx.config.ingest.maxLineBytes,
            batchLines: flags.batchLines ?? ctx.config.ingest.batchRows,
            ...(checkpoints ? { checkpoints } : {}),
            warn: (m) => ctx.logger.warn(m),
            onProgress: (s, size) => {
              const pct = size ? ` ${((100 * s.offset) / Math.max(1, size)).toFixed(0)}%` : '';
              progress.update(
                `ingest ${file}:${pct} ${(total.lines + s.lines).toLocaleString()} lines, ${(total.events + s.events).toLocaleString()} events ` +
                  `(${rate(total.events + s.events, started)}), ${total.rejected + s.rejected} rejected`,
              );
            },
          }).catch((e: unknown) => {
            // One damaged file does not stop the others; the command still fails at the end and names it.
            if (!isModcastError(e, ErrorCodes.INPUT_DAMAGED)) throw e;
            damaged.push(e);
            ctx.logger.error({ file, code: e.code }, e.message);
            return undefined;
          });
          if (!res) continue;
          total = {
            lines: total.lines + res.lines,
            events: total.events + res.events,
            alreadyStored: total.alreadyStored + res.alreadyStored,
            rejected: total.rejected + res.rejected,
            skipped: total.skipped + res.skipped,
          };
          ctx.logger.info({ file, ...res }, 'file ingested');
        }
        const secs = (Date.now() - started) / 1000;
        progress.done(
          `ingested ${total.events.toLocaleString()} events from ${total.lines.toLocaleString()} lines in ${secs.toFixed(1)}s ` +
            `(${rate(total.events, started)}); ${total.rejected} rejected, ${total.skipped} skipped (non-GOPROXY/blank)` +
            (total.alreadyStored > 0 ? `; ${total.alreadyStored} already stored (shipped or ingested before)` : ''),
        );
        if (damaged.length === 1) throw damaged[0];
        if (damaged.length > 1)
          throw new ModcastError(ErrorCodes.INPUT_DAMAGED, `${damaged.length} inputs are damaged: ${damaged.map((e) => e.message).join('; ')}`);
      });
    });
}

export function parseFormat(value: string): LogFormat | 'auto' {
  if (value === 'auto' || (LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat | 'auto';
  throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `unknown --format ${JSON.stringify(value)}; expected auto, ${LOG_FORMATS.join(', ')}`);
}
