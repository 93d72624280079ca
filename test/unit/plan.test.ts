import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planWarmup, warmKey, sizeKey, type Demand, type NodeProfile, type PlanInput } from '../../src/domain/plan.js';
import { classifyRequestPath } from '../../src/domain/goproxy.js';

const athens: NodeProfile = { name: 'n1', software: 'athens', pathPrefix: '/', maxItems: 100, maxBytes: 1e9 };

function demand(module: string, version: string, pAny: number, extra: Partial<Demand> = {}): Demand {
  return { module, version, kind: 'zip', scope: 'node', expectedRequests: pAny * 3, pAny, ...extra };
}

function plan(partial: Partial<PlanInput> & { demand: Demand[] }) {
  return planWarmup({ node: athens, warm: new Set(), ...partial });
}

test('bundle proxies get one cheap .info request per version, with case-escaped paths', () => {
  const p = plan({ demand: [demand('github.com/BurntSushi/toml', 'v1.3.2', 0.9), demand('github.com/Azure/go-autorest', 'v14.2.0+incompatible', 0.8)] });
  assert.equal(p.items.length, 2);
  const toml = p.items.find((i) => i.module === 'github.com/BurntSushi/toml')!;
  assert.deepEqual(toml.endpoints, ['info']);
  assert.deepEqual(toml.paths, ['/github.com/!burnt!sushi/toml/@v/v1.3.2.info']);
  const azure = p.items.find((i) => i.module === 'github.com/Azure/go-autorest')!;
  assert.deepEqual(azure.paths, ['/github.com/!azure/go-autorest/@v/v14.2.0+incompatible.info']);
  // Every path classifies back to the same module and version.
  for (const item of p.items) {
    const c = classifyRequestPath(item.paths[0]!);
    assert.ok(c.ok && c.module === item.module && c.version === item.version, JSON.stringify(c));
  }
});

test('benefit uses P(any request), not the request count: a warmed version saves only the first miss', () => {
  const p = plan({
    demand: [
      demand('github.com/a/once', 'v1.0.0', 0.5, { expectedRequests: 0.7 }),
      demand('github.com/a/many', 'v1.0.0', 0.5, { expectedRequests: 40 }),
    ],
  });
  assert.equal(p.items.length, 2);
  assert.equal(p.items[0]!.expectedBenefit, p.items[1]!.expectedBenefit);
  assert.equal(p.items.find((i) => i.module === 'github.com/a/many')!.expectedRequests, 40);
});

test('versions already in the node storage are not planned again', () => {
  const p = plan({ demand: [demand('github.com/a/b', 'v1.0.0', 0.9), demand('github.com/a/c', 'v1.0.0', 0.9)], warm: new Set([warmKey('github.com/a/b', 'v1.0.0')]) });
  assert.deepEqual(p.items.map((i) => i.module), ['github.com/a/c']);
  assert.match(p.skipped.find((s) => s.module === 'github.com/a/b')!.reason, /already/);
});

test('invalid module paths and versions never become requests', () => {
  const p = plan({
    demand: [
      demand('github.com/ok/mod', 'v1.0.0', 0.9),
      demand('../../etc/passwd', 'v1.0.0', 0.9),
      demand('github.com/a/b', 'v1.0.0/../../x', 0.9),
      demand('github.com/a/b', 'master', 0.9),
      demand('github.com/a/b', 'v2.0.0', 0.9), // v2 without /v2 and not +incompatible
      demand('github.com/a/b?x=1', 'v1.0.0', 0.9),
    ],
  });
  assert.deepEqual(p.items.map((i) => `${i.module}@${i.version}`), ['github.com/ok/mod@v1.0.0']);
  assert.equal(p.skipped.length, 5);
});

test('bundle proxies never warm list/latest; per-file caches with a TTL do', () => {
  const listDemand = demand('github.com/a/b', '', 0.9, { kind: 'list' });
  assert.equal(plan({ demand: [listDemand] }).items.length, 0);
  const art: NodeProfile = { name: 'a1', software: 'artifactory', pathPrefix: '/api/go/go-remote/', maxItems: 10, maxBytes: 1e9 };
  const p = planWarmup({ node: art, warm: new Set(), demand: [listDemand, demand('github.com/a/b', 'v1.2.0', 0.9, { kind: 'any' })] });
  const list = p.items.find((i) => i.version === '')!;
  assert.deepEqual(list.paths, ['/api/go/go-remote/github.com/a/b/@v/list']);
  const files = p.items.find((i) => i.version === 'v1.2.0')!;
  assert.deepEqual(files.endpoints, ['info', 'mod', 'zip']);
});

test('per-file nodes skip only the files they already hold', () => {
  const art: NodeProfile = { name: 'a1', software: 'nexus', pathPrefix: '/', maxItems: 10, maxBytes: 1e9 };
  const p = planWarmup({
    node: art,
    warm: new Set([warmKey('github.com/a/b', 'v1.0.0', 'mod'), warmKey('github.com/a/b', 'v1.0.0', 'info')]),
    demand: [demand('github.com/a/b', 'v1.0.0', 0.9, { kind: 'any' })],
  });
  assert.deepEqual(p.items[0]!.endpoints, ['zip']);
});

test('the byte budget counts what the node pulls upstream (the zip), and greedy keeps the densest items', () => {
  const sizes = new Map<string, number>();
  sizes.set(sizeKey('github.com/big/one', 'v1.0.0', 'zip'), 900_000);
  for (const m of ['a', 'b', 'c']) sizes.set(sizeKey(`github.com/small/${m}`, 'v1.0.0', 'zip'), 100_000);
  const node = { ...athens, maxBytes: 1_000_000 };
  const p = planWarmup({
    node,
    warm: new Set(),
    sizes,
    cost: { mode: 'latency', upstreamRttMs: 100, upstreamBytesPerSec: 1e6 },
    demand: [demand('github.com/big/one', 'v1.0.0', 0.95), ...['a', 'b', 'c'].map((m) => demand(`github.com/small/${m}`, 'v1.0.0', 0.6))],
  });
  assert.deepEqual(p.items.map((i) => i.module).sort(), ['github.com/small/a', 'github.com/small/b', 'github.com/small/c']);
  assert.ok(p.totals.estimatedBytes <= node.maxBytes);
  assert.match(p.skipped.find((s) => s.module === 'github.com/big/one')!.reason, /budget/);
});

test('region predictions are spread over the region nodes; node predictions win over region ones', () => {
  const p = plan({
    scopeSize: { region: 4, fleet: 8 },
    minProbability: 0,
    demand: [demand('github.com/r/x', 'v1.0.0', 0.9375, { scope: 'region' }), demand('github.com/n/x', 'v1.0.0', 0.2), demand('github.com/n/x', 'v1.0.0', 0.99, { scope: 'fleet' })],
  });
  const r = p.items.find((i) => i.module === 'github.com/r/x')!;
  assert.ok(Math.abs(r.pAny - 0.5) < 1e-9, `1-(1-0.9375)^(1/4) = 0.5, got ${r.pAny}`);
  assert.equal(p.items.find((i) => i.module === 'github.com/n/x')!.pAny, 0.2);
});

test('module-level predictions resolve through version hints or are skipped with a reason', () => {
  const p = plan({
    demand: [demand('github.com/h/x', '', 0.8, { kind: 'any' }), demand('github.com/nohint/x', '', 0.8, { kind: 'zip' })],
    versionHints: new Map([['github.com/h/x', 'v1.4.0']]),
  });
  assert.deepEqual(p.items.map((i) => `${i.module}@${i.version}`), ['github.com/h/x@v1.4.0']);
  assert.match(p.skipped.find((s) => s.module === 'github.com/nohint/x')!.reason, /no recent version/);
});

test('property: budgets always hold, items are unique, benefit totals add up', () => {
  const mod = fc.constantFrom('github.com/a/x', 'github.com/B/y', 'gopkg.in/yaml.v3', 'golang.org/x/mod', 'bad path', 'github.com/c/z/v2');
  const ver = fc.constantFrom('v1.0.0', 'v1.2.3', 'v3.0.1', 'v2.0.0', 'v2.1.0+incompatible', '', 'latest');
  const d = fc.record({
    module: mod,
    version: ver,
    kind: fc.constantFrom('zip', 'mod', 'info', 'any', 'list', 'latest', 'bogus'),
    scope: fc.constantFrom('node', 'region', 'fleet') as fc.Arbitrary<'node' | 'region' | 'fleet'>,
    expectedRequests: fc.double({ min: 0, max: 50, noNaN: true }),
    pAny: fc.double({ min: 0, max: 1, noNaN: true }),
  });
  fc.assert(
    fc.property(
      fc.array(d, { maxLength: 40 }),
      fc.constantFrom('athens', 'goproxy', 'artifactory', 'nexus', 'generic') as fc.Arbitrary<NodeProfile['software']>,
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1000, max: 2_000_000 }),
      fc.integer({ min: 1, max: 20 }),
      (ds, software, maxItems, maxBytes, maxRequests) => {
        const p = planWarmup({ node: { name: 'n', software, pathPrefix: '/go/', maxItems, maxBytes, maxRequests }, demand: ds, warm: new Set(), scopeSize: { region: 2, fleet: 4 } });
        assert.ok(p.items.length <= maxItems);
        assert.ok(p.totals.estimatedBytes <= maxBytes);
        assert.ok(p.totals.requests <= maxRequests);
        const keys = p.items.map((i) => `${i.module}@${i.version}`);
        assert.equal(new Set(keys).size, keys.length);
        for (const i of p.items) {
          assert.equal(i.paths.length, i.endpoints.length);
          for (const path of i.paths) assert.ok(path.startsWith('/go/') && !path.includes('..'), path);
        }
        const sum = p.items.reduce((s, i) => s + i.expectedBenefit, 0);
        assert.ok(Math.abs(sum - p.totals.expectedBenefit) < 1e-6);
      },
    ),
    { numRuns: 300 },
  );
});
