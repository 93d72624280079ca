/** The ingest pipeline on a real store: every line is an event, a skip or a reject with its original bytes. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { openTestStore, count, type TestStore } from '../helpers/store.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { ingestStream, type IngestOptions } from '../../src/ingest/pipeline.js';
import { isModcastError, ErrorCodes } from '../../src/errors.js';

let t: TestStore;
before(async () => {
  t = await openTestStore();
});
after(async () => {
  await t?.cleanup();
});

const good = (i: number, path = `/github.com/!burnt!sushi/toml/@v/v1.${i}.0.zip`) =>
  `10.0.0.${i % 250} - - [25/Nov/2026:09:${String(i % 60).padStart(2, '0')}:01 +0000] "GET ${path} HTTP/1.1" 200 ${1000 + i} "-" "Go-http-client/1.1" 0.012 MISS`;

function options(prefix: string, overrides: Partial<IngestOptions> = {}): IngestOptions {
  return {
    writer: new EventWriter(t.store),
    node: 'n1',
    region: 'eu',
    format: 'auto',
    pathPrefixes: t.config.ingest.pathPrefixes,
    clientSalt: 'salt-salt-salt-salt',
    maxLineBytes: 1024,
    batchLines: 7,
    sourceId: prefix,
    sourceName: `test:${prefix}`,
    tokenPrefix: `test:${prefix}`,
    ...overrides,
  };
}

test('mixed input: events, skips and rejects with original bytes and offsets', async () => {
  const nonUtf8 = Buffer.concat([Buffer.from('10.0.0.1 - - [25/Nov/2026:09:00:01 +0000] "GET /caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('/@v/list HTTP/1.1" 200 1 "-" "-"')]);
  const lines: Buffer[] = [];
  for (let i = 0; i < 30; i++) lines.push(Buffer.from(good(i)));
  lines.push(Buffer.from(''));
  lines.push(Buffer.from(good(31, '/healthz')));
  lines.push(Buffer.from(good(32, '/github.com/Upper/Case/@v/list')));
  lines.push(Buffer.from('this is not a log line'));
  lines.push(Buffer.from('x'.repeat(5000)));
  lines.push(nonUtf8);
  lines.push(Buffer.from(good(33)));
  const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
  const stats = await ingestStream(Readable.from([body.subarray(0, 700), body.subarray(700)]), options('mixed'));
  assert.equal(stats.format, 'nginx');
  assert.equal(stats.lines, lines.length);
  assert.equal(stats.events, 31);
  assert.equal(stats.skipped, 2, 'blank line and /healthz are skipped, not rejected');
  assert.equal(stats.rejected, 4);
  assert.equal(stats.offset, body.length);
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'mixed:%'"), 31);
  const rejects = await (
    await t.store.client.query({ query: "SELECT offset, reason, raw_base64 FROM rejected_events WHERE source = 'test:mixed' ORDER BY offset", format: 'JSONEachRow' })
  ).json<{ offset: string; reason: string; raw_base64: string }>();
  assert.equal(rejects.length, 4);
  for (const r of rejects) {
    const raw = Buffer.from(r.raw_base64, 'base64');
    const offset = Number(r.offset);
    assert.deepEqual(raw, body.subarray(offset, offset + raw.length), 'original bytes kept at their offset');
    assert.ok(r.reason.length > 0);
  }
  assert.ok(rejects.some((r) => Buffer.from(r.raw_base64, 'base64').includes(Buffer.from([0xc3, 0x28, 0xff]))), 'non-UTF-8 bytes survive');
  assert.ok(rejects.some((r) => /longer than/.test(r.reason)));
});

test('the same stream ingested twice is stored once', async () => {
  const body = Array.from({ length: 50 }, (_, i) => good(i)).join('\n') + '\n';
  await ingestStream(Readable.from([body]), options('twice'));
  await ingestStream(Readable.from([body]), options('twice'));
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'twice:%'"), 50);
});

test('an undetectable format is a clear error, not silent loss', async () => {
  await assert.rejects(
    ingestStream(Readable.from(['hello\nworld\n']), options('unknown')),
    (e: unknown) => isModcastError(e, ErrorCodes.FORMAT_UNKNOWN) && /pass --format/.test((e as Error).message),
  );
});

test('format auto: blank (and whitespace-only) lines before and between the first records do not defeat detection', async () => {
  const body = '\n'.repeat(80) + '   \r\n'.repeat(20) + Array.from({ length: 40 }, (_, i) => `${good(i)}\n\n`).join('');
  const stats = await ingestStream(Readable.from([Buffer.from(body)]), options('blanks', { batchLines: 13 }));
  assert.equal(stats.format, 'nginx');
  assert.equal(stats.events, 40);
  assert.equal(stats.lines, 80 + 20 + 80);
  assert.equal(stats.rejected, 20, 'whitespace-only lines are not blank to the parser: kept as rejects, as before');
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'blanks:%'"), 40);
});

test('warm-up fetches in a proxy log (user agent modcast-warmup/…) are kept in warmup_events, never as demand', async () => {
  const warm = (i: number) =>
    `10.0.0.9 - - [25/Nov/2026:10:${String(i % 60).padStart(2, '0')}:01 +0000] "GET /github.com/!burnt!sushi/toml/@v/v1.${i}.0.zip HTTP/1.1" 200 ${1000 + i} "-" "modcast-warmup/0.1.0" 0.020 MISS`;
  const lines: string[] = [];
  for (let i = 0; i < 30; i++) lines.push(i % 3 === 0 ? warm(i) : good(i));
  const stats = await ingestStream(Readable.from([Buffer.from(lines.join('\n') + '\n')]), options('warmups'));
  assert.equal(stats.events, 20);
  assert.equal(stats.warmups, 10);
  assert.equal(stats.rejected, 0);
  assert.equal(await count(t.store, "SELECT count() FROM access_events WHERE event_id LIKE 'warmups:%'"), 20);
  assert.equal(await count(t.store, "SELECT count() FROM warmup_events WHERE event_id LIKE 'warmups:%'"), 10);
  assert.equal(await count(t.store, "SELECT countIf(cache_status = 'miss') FROM warmup_events WHERE event_id LIKE 'warmups:%'"), 10);
  // The rollups (demand, hit/miss, forecast input) hold only the clients' requests of that hour.
  assert.equal(await count(t.store, "SELECT sum(requests) FROM rollups_1h WHERE bucket = '2026-11-25 10:00:00' AND node = 'n1'"), 0);
});

test('warm-up fetches are kept apart in every format: Athens (request id), Artifactory and JSON lines (user agent, header)', async () => {
  const minute = (i: number) => String(i % 60).padStart(2, '0');
  const path = (i: number) => `golang.org/x/text/@v/v0.${i}.0.zip`;
  const formats = {
    'athens-json': (i: number, warm: boolean) =>
      `{"http-method":"GET","http-path":"/${path(i)}","http-status":"200","level":"info","msg":"incoming request","request-id":"${warm ? 'modcast-warmup-' : ''}${i}-4e5f-9a0b","time":"2026-11-25T11:${minute(i)}:01Z"}`,
    artifactory: (i: number, warm: boolean) =>
      `2026-11-25T11:${minute(i)}:01.123Z|t${i}|10.1.2.3|anonymous|GET|/api/go/go-remote/${path(i)}|200|-1|${100 + i}|14|${warm ? 'modcast-warmup/0.1.0' : 'Go-http-client/1.1'}`,
    jsonl: (i: number, warm: boolean) =>
      `{"ts":"2026-11-25T11:${minute(i)}:01Z","method":"GET","path":"/${path(i)}","status":200,"bytes":${100 + i},"user_agent":"Go-http-client/1.1"${warm ? ',"x_modcast_warmup":"1"' : ''}}`,
  } as const;
  for (const [format, line] of Object.entries(formats)) {
    const node = `warm-${format}`;
    const lines = Array.from({ length: 24 }, (_, i) => line(i, i % 4 === 0));
    const stats = await ingestStream(Readable.from([Buffer.from(lines.join('\n') + '\n')]), options(node, { node, format: format as keyof typeof formats }));
    assert.deepEqual({ events: stats.events, warmups: stats.warmups, rejected: stats.rejected }, { events: 18, warmups: 6, rejected: 0 }, format);
    const where = { node };
    assert.equal(await count(t.store, 'SELECT count() FROM access_events WHERE node = {node:String}', where), 18, format);
    assert.equal(await count(t.store, 'SELECT count() FROM warmup_events WHERE node = {node:String}', where), 6, format);
    assert.equal(await count(t.store, 'SELECT sum(requests) FROM rollups_1h WHERE node = {node:String}', where), 18, `${format}: demand only in the rollups`);
  }
});
