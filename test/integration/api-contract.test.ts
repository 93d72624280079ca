/** Contract: the served OpenAPI document is valid OpenAPI 3 and describes exactly the routes the app registered. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { openTestApi, type TestApi } from '../helpers/api.js';
import { routesOf } from '../../src/api/server.js';
import { HOTNESS_DOC_URL } from '../../src/api/routes/modules.js';

let api: TestApi;
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>> };

before(async () => {
  api = await openTestApi();
  const res = await api.app.inject({ url: '/docs/json' });
  assert.equal(res.statusCode, 200);
  doc = res.json();
});
after(async () => {
  await api?.close();
});

/** fastify `/v1/warmups/:id` is OpenAPI `/v1/warmups/{id}`; the module wildcard is documented as its real shape. */
function docPath(url: string): string {
  if (url === '/v1/modules/*') return HOTNESS_DOC_URL;
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

test('the document validates as OpenAPI 3 (schema and references)', async () => {
  assert.match(doc.openapi, /^3\.0\.\d$/);
  const copy = structuredClone(doc);
  await SwaggerParser.validate(copy as never);
});

test('its paths and methods are exactly the documented routes the app registered', () => {
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
  );
  const registered = new Set(
    routesOf(api.app)
      .filter((r) => !r.hidden && r.method !== 'HEAD' && r.method !== 'OPTIONS')
      .map((r) => `${r.method} ${docPath(r.url)}`),
  );
  assert.deepEqual([...documented].sort(), [...registered].sort());
  for (const must of [
    'GET /v1/forecasts', `GET ${HOTNESS_DOC_URL}`, 'GET /v1/top', 'GET /v1/warmups', 'GET /v1/warmups/{id}', 'POST /v1/warmups',
    'POST /v1/ingest', 'POST /v1/hooks/release', 'GET /healthz', 'GET /readyz', 'GET /metrics',
  ]) {
    assert.ok(documented.has(must), `${must} is documented`);
  }
});

test('every /v1 operation documents the error shape, and write routes their bearer token', () => {
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const [method, op] of Object.entries(ops)) {
      const codes = Object.keys(op.responses);
      for (const c of ['4XX', '5XX']) {
        assert.ok(codes.includes(c), `${method} ${path} documents ${c}: ${codes}`);
        assert.match(JSON.stringify(op.responses[c]), /ErrorBody/, `${method} ${path} ${c} uses ErrorBody`);
      }
      if (method === 'post' && path !== '/v1/hooks/release') assert.deepEqual(op.security, [{ bearerAuth: [] }], `${method} ${path}`);
    }
  }
  const hotness = doc.paths[HOTNESS_DOC_URL]!.get as unknown as { parameters: { in: string; name: string }[] };
  assert.ok(hotness.parameters.some((p) => p.in === 'path' && p.name === 'module'));
  assert.ok(!hotness.parameters.some((p) => p.name === '*'));
});

test('a known path with a method it does not serve is 405 with Allow; an unknown path stays 404', async () => {
  const cases: [string, string, string][] = [
    ['DELETE', '/v1/forecasts', 'GET, HEAD'],
    ['POST', '/v1/top', 'GET, HEAD'],
    ['PUT', '/v1/warmups', 'GET, HEAD, POST'],
    ['DELETE', '/v1/warmups/some-run', 'GET, HEAD'],
    ['GET', '/v1/ingest?node=eu-1', 'POST'],
    ['GET', '/v1/hooks/release', 'POST'],
    ['POST', '/v1/modules/github.com/acme/x/hotness', 'GET, HEAD'],
    ['PATCH', '/metrics', 'GET, HEAD'],
  ];
  for (const [method, url, allow] of cases) {
    const res = await api.app.inject({ method: method as 'GET', url });
    assert.equal(res.statusCode, 405, `${method} ${url}: ${res.body}`);
    assert.equal(res.headers.allow, allow, `${method} ${url}`);
    assert.equal(res.json().error, 'MODCAST_ERR_METHOD_NOT_ALLOWED');
  }
  const missing = await api.app.inject({ method: 'GET', url: '/v1/nothing-here' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error, 'MODCAST_ERR_NOT_FOUND');
});
