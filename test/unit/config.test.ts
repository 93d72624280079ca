import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redactConfig } from '../../src/config.js';
import { isModcastError, ErrorCodes } from '../../src/errors.js';
import { parseDuration, formatDuration } from '../../src/domain/duration.js';

test('defaults: embedded store, no broker, loopback API', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.clickhouse.url, undefined);
  assert.deepEqual(c.kafka.brokers, []);
  assert.equal(c.api.host, '127.0.0.1');
  assert.equal(c.clickhouse.retentionDays, 90);
});

test('environment variables override the file, typed and validated', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-cfg-'));
  const file = join(dir, 'modcast.yaml');
  writeFileSync(
    file,
    [
      'api: { port: 9000 }',
      'regions: [{ name: eu, timeZone: Europe/Berlin, holidays: ["2026-12-25"] }]',
      'fleet: { nodes: [{ name: n1, region: eu, baseUrl: "http://127.0.0.1:3000" }] }',
    ].join('\n'),
  );
  const c = loadConfig({ file, env: { MODCAST_API_PORT: '9100', MODCAST_KAFKA_BROKERS: 'a:9092, b:9092', MODCAST_API_READ_AUTH: 'yes' } });
  assert.equal(c.api.port, 9100);
  assert.deepEqual(c.kafka.brokers, ['a:9092', 'b:9092']);
  assert.equal(c.api.readAuth, true);
  assert.equal(c.regions[0]!.businessHours.start, '09:00');
  assert.equal(c.fleet.nodes[0]!.pathPrefix, '/');
});

test('invalid values are reported with their path and variable, all at once', () => {
  try {
    loadConfig({
      env: { MODCAST_KAFKA_BROKERS: 'nohostport' },
      overrides: { regions: [{ name: 'x', timeZone: 'Mars/Base' }], fleet: { nodes: [{ name: 'n', region: 'y', baseUrl: 'ftp://h' }] } },
    });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isModcastError(e, ErrorCodes.CONFIG_INVALID));
    assert.match(e.message, /kafka\.brokers\.0 \(MODCAST_KAFKA_BROKERS\)|kafka\.brokers/);
    assert.match(e.message, /regions\.0\.timeZone: unknown IANA time zone/);
    assert.match(e.message, /fleet\.nodes\.0\.baseUrl/);
    assert.match(e.message, /region y is not in regions/);
  }
  assert.throws(() => loadConfig({ env: { MODCAST_API_PORT: '80x' } }), /MODCAST_API_PORT="80x" is not a number/);
  assert.throws(() => loadConfig({ file: '/nonexistent/modcast.yaml', env: {} }), /does not exist/);
});

test('cluster settings: env, validation against a server URL, node URLs', () => {
  const c = loadConfig({
    env: { MODCAST_CLICKHOUSE_URL: 'http://ch:8123', MODCAST_CLICKHOUSE_CLUSTER: 'modcast', MODCAST_CLICKHOUSE_NODES: 'http://ch1:8123,http://ch2:8123', MODCAST_CLICKHOUSE_REPLICATED: 'true' },
  });
  assert.equal(c.clickhouse.cluster, 'modcast');
  assert.equal(c.clickhouse.replicated, true);
  assert.deepEqual(c.clickhouse.nodes, ['http://ch1:8123', 'http://ch2:8123']);
  assert.equal(loadConfig({ env: {} }).clickhouse.cluster, undefined);
  assert.throws(() => loadConfig({ env: { MODCAST_CLICKHOUSE_CLUSTER: 'modcast' } }), /clickhouse\.cluster.*set clickhouse\.url/s);
  assert.throws(() => loadConfig({ env: { MODCAST_CLICKHOUSE_URL: 'http://ch:8123', MODCAST_CLICKHOUSE_CLUSTER: 'a-b; DROP' } }), /MODCAST_CLICKHOUSE_CLUSTER/);
  assert.throws(() => loadConfig({ env: { MODCAST_CLICKHOUSE_URL: 'http://ch:8123', MODCAST_CLICKHOUSE_REPLICATED: 'true' } }), /set clickhouse\.cluster/);
  assert.throws(() => loadConfig({ env: { MODCAST_CLICKHOUSE_URL: 'http://ch:8123', MODCAST_CLICKHOUSE_CLUSTER: 'c', MODCAST_CLICKHOUSE_NODES: 'ch1:8123' } }), /clickhouse\.nodes/);
});

test('redaction hides secrets', () => {
  const c = loadConfig({ env: { MODCAST_API_TOKENS: 'supersecret-token', MODCAST_CLICKHOUSE_PASSWORD: 'pw', MODCAST_HOOK_SECRET: 'hook-secret-0123456789' } });
  const text = JSON.stringify(redactConfig(c));
  assert.doesNotMatch(text, /supersecret|"pw"|hook-secret/);
});

test('durations', () => {
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  for (const bad of ['', '1', 'h', '-1h', '0h', '1.5h', '1y', '1h; DROP']) assert.equal(parseDuration(bad), undefined, bad);
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(90_000), '90s');
});

test('the shipped example configuration is valid', () => {
  const c = loadConfig({ file: 'modcast.example.yaml', env: {} });
  assert.equal(c.fleet.nodes.length, 2);
  assert.equal(c.fleet.nodes[1]!.pathPrefix, '/api/go/go-remote/');
  assert.equal(c.regions[0]!.holidays.length, 3);
});
