import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readLines, type LineRecord } from '../../src/logs/lines.js';
import { createParser, detectFormat, type ParserOptions } from '../../src/logs/detect.js';
import { EventBuilder } from '../../src/logs/to-event.js';
import { RecentMemo } from '../../src/lib/recent-memo.js';
import { toRow } from '../../src/store/event-rows.js';
import { CADDY_JSON_FIELD_MAP, JsonLinesParser, epochMsOf } from '../../src/logs/jsonl.js';
import { NginxParser } from '../../src/logs/nginx.js';
import { AthensTextParser } from '../../src/logs/athens.js';
import { ArtifactoryParser } from '../../src/logs/artifactory.js';
import { parseClfTime, parseIsoTime } from '../../src/logs/time.js';
import { compilePathPrefixes } from '../../src/domain/goproxy.js';
import type { HttpRequestRecord, LineParseResult, LogFormat } from '../../src/logs/parser.js';

const fixture = (name: string): URL => new URL(`../fixtures/logs/${name}`, import.meta.url);
const SALT = 'fixture-salt-0123456789';

async function readFixture(name: string): Promise<LineRecord[]> {
  const out: LineRecord[] = [];
  for await (const batch of readLines(createReadStream(fixture(name), { highWaterMark: 1024 }))) out.push(...batch);
  return out;
}

/** One line's fate through parser and event builder, in a compact comparable form. */
function outcome(line: LineRecord, format: LogFormat, options: ParserOptions, builder: EventBuilder, parser = createParser(format, options)): string {
  if (line.tooLong) return 'TOO LONG';
  const r = parser.parse(line.raw.toString('utf8'));
  if (!r.ok) return `${r.skip ? 'SKIPLINE' : 'FAIL'} ${r.reason}`;
  const b = builder.build(r.record, line.offset);
  if (b.type !== 'event') return `${b.type.toUpperCase()} ${b.reason}`;
  const e = b.event;
  return `${e.kind} ${e.module}@${e.version} ${e.status} ${e.bytes}B ${e.durationMs}ms ${e.cacheStatus} ${new Date(e.ts).toISOString()}${e.clientHash ? ' client' : ''}`;
}

async function checkFixture(name: string, format: LogFormat, expected: (string | RegExp)[], options: ParserOptions = {}): Promise<void> {
  const lines = await readFixture(name);
  const builder = new EventBuilder({ node: 'eu-1', region: 'eu', sourceId: `file:${name}`, clientSalt: SALT });
  const parser = createParser(format, options);
  const got = lines.map((l) => outcome(l, format, options, builder, parser));
  assert.equal(got.length, expected.length, `line count of ${name}:\n${got.join('\n')}`);
  got.forEach((g, i) => {
    const want = expected[i] as string | RegExp;
    if (typeof want === 'string') assert.equal(g, want, `${name} line ${i + 1}`);
    else assert.match(g, want, `${name} line ${i + 1}`);
  });
}

describe('nginx parser', () => {
  it('marks modcast warm-up fetches by their user agent (the second quoted field), not by a referer', () => {
    const p = createParser('nginx');
    const line = (referer: string, agent: string) =>
      `10.0.0.1 - - [25/Nov/2026:09:00:01 +0100] "GET /golang.org/x/text/@v/v0.3.0.zip HTTP/1.1" 200 10 "${referer}" "${agent}" 0.004 MISS`;
    const warm = p.parse(line('-', 'modcast-warmup/0.1.0'));
    assert.ok(warm.ok && warm.record.warmup === true);
    for (const [referer, agent] of [['modcast-warmup/0.1.0', 'Go-http-client/1.1'], ['-', 'Go-http-client/1.1 modcast-warmup/0.1.0']] as const) {
      const r = p.parse(line(referer, agent));
      assert.ok(r.ok && r.record.warmup === undefined, `${referer} / ${agent}`);
    }
  });
  it('parses the fixture: combined + request_time/cache status in either order, common, HEAD, sumdb, junk', async () => {
    await checkFixture('nginx-access.log', 'nginx', [
      'list github.com/Azure/azure-sdk-for-go@ 200 1532B 4ms hit 2026-11-25T08:00:01.000Z client',
      'info github.com/Azure/azure-sdk-for-go@v68.0.0+incompatible 200 162B 231ms miss 2026-11-25T08:00:01.000Z client',
      'mod gopkg.in/yaml.v3@v3.0.1 200 95B 1ms hit 2026-11-25T08:00:02.000Z client',
      'zip gopkg.in/yaml.v3@v3.0.1 200 104256B 12ms miss 2026-11-25T08:00:02.000Z client',
      'zip golang.org/x/net@v0.0.0-20211112202133-69e39bad7dc2 200 1469850B 532ms miss 2026-11-25T08:00:03.000Z client',
      'latest github.com/BurntSushi/toml@ 200 81B 19ms hit 2026-11-25T08:00:03.000Z client',
      'mod github.com/docker/docker@v20.10.7+incompatible 200 32B 2ms hit 2026-11-25T08:00:04.000Z client',
      'sumdb golang.org/x/net@v0.31.0 200 1043B 87ms miss 2026-11-25T08:00:04.000Z client',
      'sumdb @ 200 2944B 44ms miss 2026-11-25T08:00:04.000Z client',
      'info golang.org/x/net@v0.31.0 200 0B 1ms unknown 2026-11-25T08:00:05.000Z client',
      'SKIP not a GOPROXY request',
      'SKIP method POST',
      'list golang.org/x/net@ 200 410B 0ms unknown 2026-11-25T08:00:06.000Z client',
      /^REJECT invalid escaped module path "github.com\/Azure\/azure-sdk-for-go"$/,
      /^REJECT .*missing dot in first path element/,
      /^REJECT .*should be v2, not v1/,
      /^FAIL nginx: malformed request line "-"/,
      /^FAIL nginx: malformed request line "\\\\x16/, // TLS handshake sent to the HTTP port
      /^FAIL nginx: no \[time\] field/,
      /^REJECT invalid escaped module path "github.com\/caf\ufffd\/lib"/, // non-UTF-8 byte in the path
      'mod golang.org/x/net@v0.31.0 200 157B 3ms hit 2026-11-25T08:00:08.000Z client', // CRLF line
      'TOO LONG',
      /^FAIL nginx: unterminated quoted field/, // truncated last line, no newline
    ]);
  });

  it('keeps the raw bytes of the non-UTF-8 line', async () => {
    const lines = await readFixture('nginx-access.log');
    const latin1 = lines.find((l) => l.raw.includes(0xe9));
    assert.ok(latin1, 'fixture has a raw 0xE9 byte');
    assert.equal(latin1.raw.toString('latin1').includes('caf\u00e9'), true);
  });

  it('parses a line far longer than the splitter limit when given whole', () => {
    const ua = 'A'.repeat(200_000);
    const r = new NginxParser().parse(`10.0.0.1 - - [25/Nov/2026:09:00:01 +0000] "GET /golang.org/x/net/@v/list HTTP/1.1" 200 5 "-" "${ua}" 0.002 HIT`);
    assert.equal(r.ok, true);
  });

  const p = new NginxParser();
  const rec = (line: string): HttpRequestRecord => {
    const r = p.parse(line);
    assert.ok(r.ok, `expected ok: ${JSON.stringify(r)}`);
    return r.record;
  };

  it('reads every field', () => {
    assert.deepEqual(rec('2001:db8::1 - alice [01/Mar/2024:23:59:59 -0700] "GET /golang.org/x/net/@v/list HTTP/1.1" 304 - "https://x/" "Go-http-client/1.1" rt=1.5 ucs=REVALIDATED'), {
      ts: Date.UTC(2024, 2, 2, 6, 59, 59),
      method: 'GET',
      path: '/golang.org/x/net/@v/list',
      status: 304,
      bytes: 0,
      durationMs: 1500,
      cacheStatus: 'hit',
      clientIp: '2001:db8::1',
    });
  });

  it('handles Apache escaped quotes, HTTP/0.9 request lines and extra quoted fields', () => {
    const r = rec('10.0.0.1 - - [25/Nov/2026:09:00:01 +0530] "GET /a.b/c/@latest HTTP/1.0" 200 12 "-" "say \\"hi\\" \\\\" "10.1.1.1, 10.2.2.2" 0.010 BYPASS');
    assert.equal(r.durationMs, 10);
    assert.equal(r.cacheStatus, 'miss');
    assert.equal(r.ts, Date.UTC(2026, 10, 25, 3, 30, 1));
    assert.equal(rec('10.0.0.1 - - [25/Nov/2026:09:00:01 +0000] "GET /a.b/c/@latest" 200 12').path, '/a.b/c/@latest');
  });

  it('keeps consecutive seconds apart (time cache)', () => {
    const t1 = rec('1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET / HTTP/1.1" 200 1').ts;
    const t2 = rec('1.1.1.1 - - [25/Nov/2026:09:00:02 +0000] "GET / HTTP/1.1" 200 1').ts;
    const t1again = rec('1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET / HTTP/1.1" 200 1').ts;
    assert.equal(t2 - t1, 1000);
    assert.equal(t1again, t1);
  });

  it('fails malformed lines with a reason, never throws', () => {
    const bad: [string, RegExp][] = [
      ['', /empty line/],
      ['1.1.1.1 - - [31/Feb/2026:09:00:01 +0000] "GET / HTTP/1.1" 200 1', /invalid time/],
      ['1.1.1.1 - - [25/Foo/2026:09:00:01 +0000] "GET / HTTP/1.1" 200 1', /invalid time/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000 "GET / HTTP/1.1" 200 1', /malformed \[time\]/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET / HTTP/1.1" 999 1', /invalid status/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET / HTTP/1.1" 20x 1', /invalid status/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET / HTTP/1.1" 200 12k', /invalid byte count/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "get / HTTP/1.1" 200 1', /invalid method/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET  HTTP/1.1" 200 1', /empty request path/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000] "GET / HTTP/1.1', /unterminated "request"/],
      ['1.1.1.1 - - [25/Nov/2026:09:00:01 +0000]', /no "request" field/],
      ['\u0000\uffff\ud800', /no client address|no \[time\]/],
    ];
    for (const [line, re] of bad) {
      const r = p.parse(line);
      assert.equal(r.ok, false, line);
      if (!r.ok) assert.match(r.reason, re, line);
    }
  });
});

describe('Athens parsers', () => {
  it('athens-json: logrus, slog and GCP shapes; coloured status; other lines skipped', async () => {
    await checkFixture('athens-json.log', 'athens-json', [
      /^SKIPLINE athens-json: not a request line/,
      /^SKIPLINE athens-json: not a request line/,
      'list github.com/Azure/azure-sdk-for-go@ 200 0B 0ms unknown 2026-11-25T09:00:01.000Z',
      /^SKIPLINE/, // error logged inside a request: no http-status
      'info gopkg.in/yaml.v3@v3.0.1 200 0B 0ms unknown 2026-11-25T09:00:02.000Z',
      'zip golang.org/x/net@v0.0.0-20211112202133-69e39bad7dc2 200 0B 0ms unknown 2026-11-25T09:00:03.000Z',
      'latest github.com/BurntSushi/toml@ 200 0B 0ms unknown 2026-11-25T09:00:04.000Z',
      'mod github.com/docker/docker@v20.10.7+incompatible 200 0B 0ms unknown 2026-11-25T09:00:05.000Z',
      'sumdb gopkg.in/yaml.v3@v3.0.1 200 0B 0ms unknown 2026-11-25T09:00:05.000Z',
      'SKIP not a GOPROXY request',
      /^REJECT invalid escaped module path/,
      /^FAIL athens-json: invalid JSON/,
      /^FAIL athens-json: not a JSON object/,
    ]);
  });

  const clock = () => Date.UTC(2026, 10, 25, 9, 30);
  it('athens-text: logrus TextFormatter and the dev format (coloured too)', async () => {
    await checkFixture(
      'athens-text.log',
      'athens-text',
      [
        /^SKIPLINE/,
        'list github.com/Azure/azure-sdk-for-go@ 200 0B 0ms unknown 2026-11-25T09:00:01.000Z',
        'mod gopkg.in/yaml.v3@v3.0.1 200 0B 0ms unknown 2026-11-25T09:00:02.000Z',
        'info github.com/docker/docker@v20.10.7+incompatible 200 0B 0ms unknown 2026-11-25T09:00:03.000Z',
        /^SKIPLINE/,
        'zip golang.org/x/net@v0.31.0 200 0B 0ms unknown 2026-11-25T09:05:00.000Z',
        'latest github.com/BurntSushi/toml@ 200 0B 0ms unknown 2026-11-25T09:06:00.000Z',
        /^SKIPLINE/, // error line with unquoted "kind=Not Found"
        'sumdb @ 200 0B 0ms unknown 2026-11-25T00:07:00.000Z', // 12:07AM
        /^FAIL athens-text: malformed key=value pairs/, // truncated quoted value
        /^FAIL athens-text: neither/,
      ],
      { athensClock: clock },
    );
  });

  it('dates dev-format lines at the latest matching minute not after the clock', () => {
    const line = 'INFO[11:59PM]: incoming request\thttp-method=GET http-path=/golang.org/x/net/@v/list http-status=200 request-id=x ';
    const justAfterMidnight = new AthensTextParser({ clock: () => Date.UTC(2026, 10, 26, 0, 5) }).parse(line);
    assert.ok(justAfterMidnight.ok);
    assert.equal(justAfterMidnight.record.ts, Date.UTC(2026, 10, 25, 23, 59));
    const sameEvening = new AthensTextParser({ clock: () => Date.UTC(2026, 10, 25, 23, 59, 30) }).parse(line);
    assert.ok(sameEvening.ok);
    assert.equal(sameEvening.record.ts, Date.UTC(2026, 10, 25, 23, 59));
    // Athens in UTC+1: 11:59PM local is 22:59Z.
    const berlin = new AthensTextParser({ clock: () => Date.UTC(2026, 10, 25, 23, 30), utcOffsetMinutes: 60 }).parse(line);
    assert.ok(berlin.ok);
    assert.equal(berlin.record.ts, Date.UTC(2026, 10, 25, 22, 59));
  });

  it('unquotes Go-quoted logfmt values', () => {
    const r = new AthensTextParser().parse('time="2026-11-25T09:00:01Z" level=info msg="incoming \\"request\\"\\t" http-method=GET http-path="/golang.org/x/net/@v/list\\x21" http-status=200');
    assert.ok(r.ok);
    assert.equal(r.record.path, '/golang.org/x/net/@v/list!');
  });
});

describe('warm-up marker in every parser', () => {
  const isWarmup = (r: LineParseResult) => r.ok && r.record.warmup === true;
  const isDemand = (r: LineParseResult) => r.ok && r.record.warmup === undefined;

  it('athens: the request id the executor sends in Athens-Request-ID (Athens logs no user agent)', () => {
    const json = (id: string) =>
      `{"http-method":"GET","http-path":"/golang.org/x/text/@v/v0.3.0.zip","http-status":"200","level":"info","msg":"incoming request","request-id":"${id}","time":"2026-11-25T09:00:01Z"}`;
    const logrus = (id: string) =>
      `time="2026-11-25T09:00:01Z" level=info msg="incoming request" http-method=GET http-path=/golang.org/x/text/@v/v0.3.0.zip http-status=200 request-id=${id}`;
    const dev = (id: string) => `INFO[9:00AM]: incoming request\thttp-method=GET http-path=/golang.org/x/text/@v/v0.3.0.zip http-status=200 request-id=${id} `;
    const warm = 'modcast-warmup-3f2a0c1e-7b8d-4e5f-9a0b-1c2d3e4f5a6b';
    const athensJson = createParser('athens-json');
    const athensText = new AthensTextParser({ clock: () => Date.UTC(2026, 10, 25, 9, 30) });
    assert.ok(isWarmup(athensJson.parse(json(warm))));
    assert.ok(isWarmup(athensText.parse(logrus(warm))));
    assert.ok(isWarmup(athensText.parse(dev(warm))));
    for (const id of ['0a1b2c3d-7b8d-4e5f-9a0b-1c2d3e4f5a6b', 'x-modcast-warmup-1', '']) {
      assert.ok(isDemand(athensJson.parse(json(id))), id);
      assert.ok(isDemand(athensText.parse(logrus(id))), id);
    }
  });

  it('artifactory 7.x: the user agent (the 6.x layout has none)', () => {
    const p = new ArtifactoryParser();
    const line = (agent: string) => `2026-11-25T08:00:01.123Z|4b1b8a0b04e31b80|10.1.2.3|anonymous|GET|/api/go/go-remote/golang.org/x/net/@v/list|200|-1|1532|14|${agent}`;
    assert.ok(isWarmup(p.parse(line('modcast-warmup/0.1.0'))));
    assert.ok(isDemand(p.parse(line('Go-http-client/1.1'))));
    assert.ok(isDemand(p.parse(line('Go-http-client/1.1 modcast-warmup/0.1.0'))));
  });

  it('json lines: the user agent or the logged X-Modcast-Warmup header, in the default and the Caddy field maps', () => {
    const flat = new JsonLinesParser();
    const base = '"ts":"2026-11-25T08:00:01Z","method":"GET","path":"/golang.org/x/net/@v/list","status":200,"bytes":10';
    assert.ok(isWarmup(flat.parse(`{${base},"user_agent":"modcast-warmup/0.1.0"}`)));
    assert.ok(isWarmup(flat.parse(`{${base},"user_agent":"-","x_modcast_warmup":"1"}`)));
    assert.ok(isDemand(flat.parse(`{${base},"user_agent":"Go-http-client/1.1","x_modcast_warmup":"-"}`)));
    assert.ok(isDemand(flat.parse(`{${base}}`)));
    const caddy = new JsonLinesParser(CADDY_JSON_FIELD_MAP);
    const request = (headers: string) =>
      `{"ts":1795593601.52,"request":{"client_ip":"10.1.2.3","method":"GET","uri":"/golang.org/x/net/@v/v0.31.0.info","headers":{${headers}}},"duration":0.0009,"size":162,"status":200}`;
    assert.ok(isWarmup(caddy.parse(request('"User-Agent":["modcast-warmup/0.1.0"]'))));
    assert.ok(isWarmup(caddy.parse(request('"User-Agent":["curl/8"],"X-Modcast-Warmup":["1"]'))));
    assert.ok(isDemand(caddy.parse(request('"User-Agent":["Go-http-client/1.1"]'))));
  });
});

describe('Artifactory parser', () => {
  it('parses 7.x request.log lines', async () => {
    await checkFixture('artifactory-request.log', 'artifactory', [
      'list github.com/Azure/azure-sdk-for-go@ 200 1532B 14ms unknown 2026-11-25T08:00:01.123Z client',
      'zip gopkg.in/yaml.v3@v3.0.1 200 104256B 37ms unknown 2026-11-25T08:00:01.456Z client',
      'mod golang.org/x/net@v0.0.0-20211112202133-69e39bad7dc2 200 1442B 9ms unknown 2026-11-25T08:00:02.001Z client',
      'sumdb github.com/BurntSushi/toml@v1.4.0 200 1003B 120ms unknown 2026-11-25T08:00:02.120Z client',
      'SKIP not a GOPROXY request',
      'SKIP method PUT',
      'info github.com/docker/docker@v20.10.7+incompatible 200 162B 5ms unknown 2026-11-25T08:00:04.000Z client',
      /^REJECT invalid escaped module path "github.com\/Foo\/..\/bar"/,
      /^FAIL artifactory: request-out.log line/,
      /^FAIL artifactory: unrecognised layout \(6 fields\)/, // truncated
    ]);
  });

  it('parses the 6.x layout, in the configured time zone', async () => {
    await checkFixture('artifactory-request-legacy.log', 'artifactory', [
      'list golang.org/x/net@ 200 410B 14ms unknown 2026-11-25T08:00:01.000Z client',
      'zip github.com/Azure/azure-sdk-for-go@v68.0.0+incompatible 200 48213011B 230ms unknown 2026-11-25T08:00:02.000Z client',
      'SKIP not a GOPROXY request',
      /^FAIL artifactory: invalid date "20261325080003"/,
    ]);
    const r = new ArtifactoryParser({ legacyUtcOffsetMinutes: 60 }).parse('20261125090001|14|REQUEST|10.1.2.3|anonymous|GET|/api/go/go-remote/golang.org/x/net/@v/list|HTTP/1.1|200|410');
    assert.ok(r.ok);
    assert.equal(r.record.ts, Date.UTC(2026, 10, 25, 8, 0, 1));
  });

  it('reads -1 (unknown) lengths as 0 and rejects garbage numbers', () => {
    const p = new ArtifactoryParser();
    const ok = p.parse('2026-11-25T08:00:01.123Z|t|10.1.2.3|anonymous|GET|/api/go/r/golang.org/x/net/@v/list|200|-1|-1|3|UA|with|pipes');
    assert.ok(ok.ok);
    assert.equal(ok.record.bytes, 0);
    const bad = p.parse('2026-11-25T08:00:01.123Z|t|10.1.2.3|anonymous|GET|/x|200|-1|12x|3|UA');
    assert.equal(bad.ok, false);
  });
});

describe('JSON lines parser', () => {
  it('parses the default field map: ISO, epoch s and epoch ms times; string numbers; missing optional fields', async () => {
    await checkFixture('jsonl-access.log', 'jsonl', [
      'list github.com/Azure/azure-sdk-for-go@ 200 1532B 3.2ms hit 2026-11-25T08:00:01.250Z client',
      'zip gopkg.in/yaml.v3@v3.0.1 200 104256B 12ms miss 2026-11-25T08:00:02.000Z client',
      'info golang.org/x/net@v0.0.0-20211112202133-69e39bad7dc2 200 0B 0ms unknown 2026-11-25T08:00:03.123Z client',
      'zip github.com/docker/docker@v20.10.7+incompatible 200 0B 0ms unknown 2026-11-25T08:00:04.000Z',
      /^FAIL jsonl: invalid or missing time at "ts"/,
      /^FAIL jsonl: invalid or missing status at "status"/,
      /^FAIL jsonl: not a JSON object/,
      /^FAIL jsonl: invalid JSON/,
    ]);
  });

  it('parses Caddy access logs with the Caddy field map (nested paths, seconds durations)', async () => {
    await checkFixture(
      'caddy-access.log',
      'jsonl',
      [
        /^info golang.org\/x\/net@v0.31.0 200 162B 0.92967\d*ms unknown 2026-11-25T08:00:01.524Z client$/,
        /^zip github.com\/BurntSushi\/toml@v1.4.0 200 58113B 21.3\d*ms unknown 2026-11-25T08:00:02.001Z client$/,
      ],
      { jsonFields: CADDY_JSON_FIELD_MAP },
    );
  });

  it('converts epoch numbers by magnitude', () => {
    const ms = Date.UTC(2026, 10, 25, 8, 0, 1);
    assert.equal(epochMsOf(ms / 1000), ms);
    assert.equal(epochMsOf(ms), ms);
    assert.equal(epochMsOf(ms * 1000), ms);
    assert.equal(epochMsOf(ms * 1e6), ms);
    assert.equal(epochMsOf(String(ms)), ms);
    assert.equal(epochMsOf('2026-11-25T09:00:01+01:00'), ms);
    assert.equal(epochMsOf(-1), undefined);
    assert.equal(epochMsOf({}), undefined);
  });

  it('applies the duration unit and refuses an incomplete field map', () => {
    const p = new JsonLinesParser({ ts: 't', method: 'm', path: 'p', status: 's', bytes: 'b', durationMs: 'd', durationUnit: 'us' });
    const r = p.parse('{"t":1795593601,"m":"GET","p":"/a.b/c/@latest","s":200,"b":1,"d":2500}');
    assert.ok(r.ok);
    assert.equal(r.record.durationMs, 2.5);
    assert.throws(() => new JsonLinesParser({ ts: 't', method: 'm', path: '', status: 's', bytes: 'b' }), /"path" is required/);
  });
});

describe('timestamps', () => {
  it('parses CLF and ISO times by hand, matching Date', () => {
    assert.equal(parseClfTime('29/Feb/2024:12:34:56 +0100'), Date.parse('2024-02-29T12:34:56+01:00'));
    assert.equal(parseClfTime('29/Feb/2023:12:34:56 +0100'), undefined);
    assert.equal(parseClfTime('01/Jan/1970:00:00:00 +0000'), 0);
    for (const s of ['2026-11-25T09:00:01Z', '2026-11-25T09:00:01.5Z', '2026-11-25T09:00:01.123456789-05:30', '2000-02-29T23:59:59.999+14:00']) {
      assert.equal(parseIsoTime(s), Date.parse(s), s);
    }
    assert.equal(parseIsoTime('2026-11-25 09:00:01,250'), Date.UTC(2026, 10, 25, 9, 0, 1, 250));
    assert.equal(parseIsoTime('2026-11-25T09:00:01', 60), Date.UTC(2026, 10, 25, 8, 0, 1));
    for (const s of ['2026-11-25', '2026-13-01T00:00:00Z', '2026-11-25T09:00:01.Z', '2026-11-25T09:00:01+1', 'yesterday at noon ok']) {
      assert.equal(parseIsoTime(s), undefined, s);
    }
  });
});

describe('detectFormat', () => {
  const sample = (name: string): string[] =>
    readFileSync(fixture(name), 'latin1')
      .split('\n')
      .filter((l) => l.length < 10_000);

  it('recognises every fixture', () => {
    assert.equal(detectFormat(sample('nginx-access.log')), 'nginx');
    assert.equal(detectFormat(sample('athens-json.log')), 'athens-json');
    assert.equal(detectFormat(sample('athens-text.log')), 'athens-text');
    assert.equal(detectFormat(sample('artifactory-request.log')), 'artifactory');
    assert.equal(detectFormat(sample('artifactory-request-legacy.log')), 'artifactory');
    assert.equal(detectFormat(sample('jsonl-access.log').slice(0, 4)), 'jsonl');
    // The whole fixture: half its lines are deliberately broken, and no other format reads any.
    assert.equal(detectFormat(sample('jsonl-access.log')), 'jsonl');
    assert.equal(detectFormat(sample('caddy-access.log'), { jsonFields: CADDY_JSON_FIELD_MAP }), 'jsonl');
  });

  it('gives up without a majority', () => {
    assert.equal(detectFormat([]), undefined);
    assert.equal(detectFormat(['', '  ']), undefined);
    assert.equal(detectFormat(['hello', 'world', '{"a":1}']), undefined);
    assert.equal(detectFormat(sample('caddy-access.log')), undefined); // Caddy lines do not fit the default JSON field map
    const mixed = [...sample('nginx-access.log').slice(0, 2), 'junk', 'junk', 'junk'];
    assert.equal(detectFormat(mixed), undefined);
    // Half nginx, half Artifactory: two formats, no majority.
    assert.equal(detectFormat([...sample('nginx-access.log').slice(0, 2), ...sample('artifactory-request.log').slice(0, 2)]), undefined);
  });
});

describe('EventBuilder', () => {
  const record: HttpRequestRecord = {
    ts: Date.UTC(2026, 10, 25, 8, 0, 1),
    method: 'GET',
    path: '/api/go/go-remote/github.com/!azure/azure-sdk-for-go/@v/v68.0.0+incompatible.zip',
    status: 200,
    bytes: 12,
    durationMs: 3,
    cacheStatus: 'miss',
    clientIp: '10.1.2.3',
  };
  const opts = { node: 'eu-1', region: 'eu', sourceId: 'eu-1:/var/log/nginx/access.log', clientSalt: SALT };

  it('builds the event with a deterministic id and a salted client hash', () => {
    const b = new EventBuilder(opts);
    const r = b.build(record, 4096);
    assert.equal(r.type, 'event');
    if (r.type !== 'event') return;
    const expectedHash = createHash('sha256').update(SALT + '10.1.2.3').digest('hex').slice(0, 16);
    assert.deepEqual(r.event, {
      id: 'eu-1:/var/log/nginx/access.log:4096',
      ts: record.ts,
      node: 'eu-1',
      region: 'eu',
      module: 'github.com/Azure/azure-sdk-for-go',
      version: 'v68.0.0+incompatible',
      kind: 'zip',
      status: 200,
      bytes: 12,
      durationMs: 3,
      cacheStatus: 'miss',
      clientHash: expectedHash,
    });
    assert.deepEqual(b.build(record, 4096), r, 'same input, same event');
  });

  it('hashes per salt, never exposes the address, and leaves it empty when unknown', () => {
    const a = new EventBuilder(opts);
    const other = new EventBuilder({ ...opts, clientSalt: 'another-salt-abcdefgh' });
    assert.notEqual(a.clientHash('10.1.2.3'), other.clientHash('10.1.2.3'));
    assert.equal(a.clientHash('10.1.2.3'), a.clientHash('10.1.2.3'));
    assert.match(a.clientHash('10.1.2.3'), /^[0-9a-f]{16}$/);
    assert.equal(a.clientHash(''), '');
    assert.equal(a.clientHash('-'), '');
    for (let i = 0; i < 10_000; i++) a.clientHash(`10.0.${i >> 8}.${i & 255}`); // cache stays bounded and correct
    assert.equal(a.clientHash('10.1.2.3'), createHash('sha256').update(SALT + '10.1.2.3').digest('hex').slice(0, 16));
  });

  it('skips non-fetch methods and non-GOPROXY paths; rejects invalid modules and times', () => {
    const b = new EventBuilder(opts);
    assert.deepEqual(b.build({ ...record, method: 'PUT' }, 0), { type: 'skip', reason: 'method PUT' });
    assert.equal(b.build({ ...record, method: 'HEAD' }, 0).type, 'event');
    assert.deepEqual(b.build({ ...record, path: '/api/system/ping' }, 0), { type: 'skip', reason: 'not a GOPROXY request' });
    const bad = b.build({ ...record, path: '/github.com/Azure/x/@v/list' }, 0);
    assert.equal(bad.type, 'reject');
    assert.equal(b.build({ ...record, ts: Number.NaN }, 0).type, 'reject');
  });

  it('uses the configured prefixes (plain or compiled)', () => {
    const onlyRoot = new EventBuilder({ ...opts, pathPrefixes: ['/'] });
    assert.equal(onlyRoot.build(record, 0).type, 'reject');
    const compiled = new EventBuilder({ ...opts, pathPrefixes: compilePathPrefixes(['/api/go/<repo>/']) });
    assert.equal(compiled.build(record, 0).type, 'event');
  });

  it('buildRow gives the row of build, and the same skips and rejections', () => {
    const b = new EventBuilder(opts);
    const variants: HttpRequestRecord[] = [
      record,
      { ...record, method: 'PUT' },
      { ...record, path: '/api/system/ping' },
      { ...record, path: '/github.com/Azure/x/@v/list' },
      { ...record, ts: Number.NaN },
      { ...record, path: '/sumdb/sum.golang.org/lookup/github.com/!azure/x@v1.2.3', clientIp: '' },
      // A warm-up fetch keeps its flag on both paths (the row is what the ingest routes to warmup_events).
      { ...record, warmup: true },
    ];
    // Twice: the second round is answered from the memo.
    for (const round of [1, 2]) {
      for (const [i, r] of variants.entries()) {
        const built = b.build(r, i);
        const row = b.buildRow(r, i);
        assert.deepEqual(row, built.type === 'event' ? toRow(built.event) : built, `variant ${i}, round ${round}`);
      }
    }
  });

  it('classifies correctly through a flood of distinct paths (bounded memo)', () => {
    const b = new EventBuilder(opts);
    const hot = b.buildRow(record, 0);
    for (let i = 0; i < 200_000; i++) {
      const r = b.buildRow({ ...record, path: `/github.com/org/lib${i}/@v/v1.0.${i}.info` }, i);
      assert.ok(!('type' in r) && r.module === `github.com/org/lib${i}` && r.version === `v1.0.${i}`);
      if (i % 1000 === 0) assert.deepEqual(b.buildRow(record, 0), hot);
    }
  });
});

describe('RecentMemo', () => {
  it('keeps the two newest keys of a set and forgets older ones', () => {
    const memo = new RecentMemo<number>(2); // one set of two slots: every key collides
    memo.set('a', 1);
    memo.set('b', 2);
    assert.equal(memo.get('a'), 1);
    assert.equal(memo.get('b'), 2);
    memo.set('c', 3);
    assert.equal(memo.get('a'), undefined, 'the oldest of the set is evicted');
    assert.equal(memo.get('b'), 2);
    assert.equal(memo.get('c'), 3);
  });

  it('holds a working set smaller than its size and stays bounded beyond it', () => {
    const memo = new RecentMemo<string>(1024);
    for (let i = 0; i < 300; i++) memo.set(`/path/${i}`, `v${i}`);
    let hits = 0;
    for (let i = 0; i < 300; i++) if (memo.get(`/path/${i}`) === `v${i}`) hits++;
    assert.ok(hits >= 270, `${hits} of 300 kept`); // a few sets may take three of them
    for (let i = 0; i < 100_000; i++) memo.set(`/flood/${i}`, 'x');
    for (let i = 0; i < 100_000; i += 997) {
      const v = memo.get(`/flood/${i}`);
      assert.ok(v === undefined || v === 'x');
    }
    assert.throws(() => new RecentMemo(1000), RangeError);
  });
});

describe('parsers never throw', () => {
  it('survive arbitrary input', () => {
    const parsers = (['nginx', 'athens-text', 'athens-json', 'artifactory', 'jsonl'] as const).map((f) => createParser(f));
    const seeds = [
      '{"http-status":{},"time":"2026-11-25T09:00:01Z"}',
      '{"ts":"2026-11-25T09:00:01Z","method":"GET","path":{"x":1},"status":200,"bytes":1}',
      'time="x" level=info http-status=',
      'time=" level=info',
      'INFO[99:99PM]: incoming request\thttp-status=200',
      '||||||||||',
      '2026-11-25T08:00:01.123Z|||||||||||',
      '1.1.1.1 - - [',
      'null',
      '[]',
    ];
    let rng = 12345;
    const rand = () => ((rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const inputs = [...seeds];
    for (let i = 0; i < 3000; i++) {
      const base = seeds[i % seeds.length] as string;
      const cut = Math.floor(rand() * base.length);
      inputs.push(base.slice(0, cut) + String.fromCharCode(Math.floor(rand() * 0x3000)) + base.slice(cut));
    }
    for (const p of parsers) {
      for (const s of inputs) {
        const r: LineParseResult = p.parse(s);
        assert.equal(typeof r.ok, 'boolean');
      }
    }
  });
});
