/**
 * POST /v1/ingest: access-log lines (any supported format, NDJSON included) from nodes that ship over HTTP.
 * The body is spooled (size-capped, gzip allowed), then goes through the same pipeline as file ingest, with
 * rejects kept in rejected_events. With an Idempotency-Key, batch tokens and event ids derive from the key and
 * the body's hash, so a client retry of the same body is stored once.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { Type } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { RoutePlugin } from '../context.js';
import { IngestQuery, IngestReply, withErrors } from '../schemas.js';
import { spoolBody, sweepSpool, SpoolBudget } from '../spool.js';
import { ModcastError, ErrorCodes } from '../../errors.js';
import { EventWriter } from '../../store/event-writer.js';
import { ingestStream } from '../../ingest/pipeline.js';
import { ingestEventsTotal, ingestRejectedTotal } from '../../lib/metrics-registry.js';
import { BoundedLru } from '../../lib/bounded-lru.js';

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;
const GZIP_ENCODINGS = new Set(['gzip', 'x-gzip']);

export const ingestRoutes: RoutePlugin = async (app, ctx) => {
  // The body reaches the handler as a stream whatever its type; `format` says how to read the lines.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  const spoolDir = ctx.config.api.spoolDir ?? join(ctx.config.dataDir, 'spool');
  const budget = new SpoolBudget(ctx.config.api.spoolMaxBytes);
  // Bodies with an Idempotency-Key stored by this process: the store drops a replay's batches, so its events are
  // not counted again (a replay after a restart is, as the counter itself restarts from zero).
  const stored = new BoundedLru<true>(10_000, 4 * 1024 * 1024);
  // Bodies of requests cut short by a crash (kill -9, OOM) are never removed by their request: swept at start and
  // then now and again (a file is orphaned once older than any live request can be).
  const orphanedAfterMs = ctx.config.api.ingestMaxSeconds * 1000 + 60_000;
  const sweep = async () => {
    const swept = await sweepSpool(spoolDir, orphanedAfterMs).catch(() => 0);
    if (swept > 0) app.log.warn({ spoolDir, files: swept }, 'removed spool files left by an earlier process');
  };
  await sweep();
  const sweeper = setInterval(() => void sweep(), orphanedAfterMs).unref();
  app.addHook('onClose', async () => clearInterval(sweeper));

  app.post(
    '/v1/ingest',
    {
      schema: {
        tags: ['ingest'],
        summary: 'ingest access-log lines over HTTP (bearer token)',
        description:
          'Body: log lines in `format` (NDJSON records for `jsonl`), optionally `Content-Encoding: gzip`. Limits: ' +
          '`api.bodyLimitBytes` as sent, `api.ingestMaxBytes` and `api.ingestMaxLines` (blank lines count) after decompression ' +
          '(413 beyond, the message names the limit), `api.ingestMaxSeconds` to receive and parse (408). Lines that cannot become ' +
          'events are kept in rejected_events; a body whose every line is rejected answers 422. Send an `Idempotency-Key` ' +
          'to make a retry of the same body safe.',
        security: [{ bearerAuth: [] }],
        querystring: IngestQuery,
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ pattern: IDEMPOTENCY_KEY.source, description: 'dedup key of this body' })),
          'content-encoding': Type.Optional(Type.String({ enum: ['identity', ...GZIP_ENCODINGS], description: 'gzip bodies are decompressed' })),
        }),
        response: withErrors({ 200: IngestReply }),
      },
      onRequest: async (req) => ctx.auth.requireToken(req),
      // Before schema validation: an unsupported encoding is 415, not a generic 400 on the header.
      preValidation: async (req) => void contentEncoding(req.headers['content-encoding']),
    },
    async (req) => {
      const q = req.query;
      const region = q.region ?? ctx.config.fleet.nodes.find((n) => n.name === q.node)?.region;
      if (!region) throw new ModcastError(ErrorCodes.NODE_UNKNOWN, `node ${q.node} is not in fleet.nodes: pass its region (?region=)`);
      const encoding = contentEncoding(req.headers['content-encoding']);
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > ctx.config.api.bodyLimitBytes)
        throw new ModcastError(ErrorCodes.PAYLOAD_TOO_LARGE, `the body exceeds ${ctx.config.api.bodyLimitBytes} bytes; split it`);
      const body = req.body as Readable | undefined;
      if (!body || typeof body.iterator !== 'function') throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'empty body: send log lines');

      // One deadline for receiving and parsing: a trickled body or a slow store does not hold a request forever.
      return withDeadline(ctx.config.api.ingestMaxSeconds, async (signal) => {
        const spooled = await spoolBody(body, {
          dir: spoolDir,
          budget,
          gzip: encoding !== 'identity',
          maxWireBytes: ctx.config.api.bodyLimitBytes,
          maxBytes: ctx.config.api.ingestMaxBytes,
          maxLines: ctx.config.api.ingestMaxLines,
          signal,
        });
        try {
          if (spooled.bytes === 0) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, 'empty body: send log lines');
          const key = req.headers['idempotency-key'];
          // Same key and same bytes = same tokens and event ids; the same key on other bytes must not collide.
          const sourceId = `http:${q.node}:${key ? `${key}:${spooled.sha256.slice(0, 16)}` : randomUUID()}`;
          const stats = await ingestStream(createReadStream(spooled.path, { highWaterMark: 256 * 1024, signal }), {
            writer: new EventWriter(ctx.store, { logger: req.log as unknown as Logger }),
            node: q.node,
            region,
            format: q.format,
            pathPrefixes: ctx.config.ingest.pathPrefixes,
            clientSalt: ctx.clientSalt,
            maxLineBytes: ctx.config.ingest.maxLineBytes,
            batchLines: ctx.config.ingest.batchRows,
            sourceId,
            sourceName: 'http',
            formatOption: '?format=',
            tokenPrefix: sourceId,
          });
          if (!(key && stored.get(sourceId))) {
            ingestEventsTotal.inc({ source: 'http' }, stats.events);
            ingestRejectedTotal.inc({ source: 'http' }, stats.rejected);
          }
          if (key) stored.set(sourceId, true, sourceId.length);
          if (stats.events === 0 && stats.rejected > 0)
            throw new ModcastError(
              ErrorCodes.INVALID_ARGUMENT,
              `none of the ${stats.lines} lines could be read as ${stats.format ?? q.format}: ${stats.rejected} rejected (kept in rejected_events)`,
              { statusCode: 422 },
            );
          return {
            accepted: stats.events,
            warmups: stats.warmups,
            rejected: stats.rejected,
            skipped: stats.skipped,
            lines: stats.lines,
            bytes: spooled.bytes,
            format: stats.format ?? null,
            batchToken: sourceId,
          };
        } finally {
          await spooled.remove();
        }
      });
    },
  );
};

function contentEncoding(header: string | undefined): string {
  const encoding = (header ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && !GZIP_ENCODINGS.has(encoding))
    throw new ModcastError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, `Content-Encoding ${encoding || '(empty)'} is not supported (gzip or identity)`);
  return encoding;
}

/** Runs `fn` with a signal aborted after `seconds`; whatever fails once it fired is answered as the time limit. */
async function withDeadline<T>(seconds: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new ModcastError(ErrorCodes.REQUEST_TIMEOUT, `the ingest took longer than ${seconds} s (api.ingestMaxSeconds); send smaller bodies`)),
    seconds * 1000,
  );
  try {
    return await fn(deadline.signal);
  } catch (e) {
    if (deadline.signal.aborted && !(e instanceof ModcastError)) throw deadline.signal.reason;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
