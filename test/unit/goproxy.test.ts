import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyRequestPath, compilePathPrefixes, goproxyPath, type Classification } from '../../src/domain/goproxy.js';
import type { RequestKind } from '../../src/domain/event.js';

function ok(kind: RequestKind, module = '', version = ''): Classification {
  return { ok: true, kind, module, version };
}

function assertRejected(c: Classification, pattern: RegExp): void {
  assert.equal(c.ok, false, `expected a rejection, got ${JSON.stringify(c)}`);
  if (!c.ok) assert.match(c.reason, pattern);
}

describe('classifyRequestPath: GOPROXY endpoints', () => {
  const cases: [string, Classification][] = [
    ['/github.com/!azure/azure-sdk-for-go/@v/list', ok('list', 'github.com/Azure/azure-sdk-for-go')],
    ['/github.com/!azure/azure-sdk-for-go/@v/v68.0.0+incompatible.info', ok('info', 'github.com/Azure/azure-sdk-for-go', 'v68.0.0+incompatible')],
    ['/gopkg.in/yaml.v3/@v/v3.0.1.mod', ok('mod', 'gopkg.in/yaml.v3', 'v3.0.1')],
    ['/gopkg.in/yaml.v3/@v/v3.0.1.zip', ok('zip', 'gopkg.in/yaml.v3', 'v3.0.1')],
    ['/golang.org/x/net/@v/v0.0.0-20211112202133-69e39bad7dc2.zip', ok('zip', 'golang.org/x/net', 'v0.0.0-20211112202133-69e39bad7dc2')],
    ['/github.com/!burnt!sushi/toml/@latest', ok('latest', 'github.com/BurntSushi/toml')],
    ['/github.com/docker/docker/@v/v20.10.7+incompatible.mod', ok('mod', 'github.com/docker/docker', 'v20.10.7+incompatible')],
    ['/github.com/!azure/azure-sdk-for-go/sdk/azcore/@v/v1.16.0-beta.1.info', ok('info', 'github.com/Azure/azure-sdk-for-go/sdk/azcore', 'v1.16.0-beta.1')],
    ['/sumdb/sum.golang.org/supported', ok('sumdb')],
    ['/sumdb/sum.golang.org/latest', ok('sumdb')],
    ['/sumdb/sum.golang.org/lookup/golang.org/x/net@v0.31.0', ok('sumdb', 'golang.org/x/net', 'v0.31.0')],
    ['/sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.4.0', ok('sumdb', 'github.com/BurntSushi/toml', 'v1.4.0')],
    ['/sumdb/sum.golang.org/tile/8/0/x131/477.p/92', ok('sumdb')],
    ['/sumdb/sum.golang.org/tile/8/data/x131/477', ok('sumdb')],
    // the go command's Stat of a branch or commit: kept as the query it is
    ['/github.com/!burnt!sushi/toml/@v/master.info', ok('info', 'github.com/BurntSushi/toml', 'master')],
    ['/golang.org/x/net/@v/69e39bad7dc2.info', ok('info', 'golang.org/x/net', '69e39bad7dc2')],
    // not GOPROXY
    ['/', ok('other')],
    ['/healthz', ok('other')],
    ['/metrics', ok('other')],
    ['/catalog', ok('other')],
    ['/sumdb/sum.golang.org/unknown', ok('other')],
    ['/github.com/foo/bar', ok('other')],
  ];
  for (const [path, want] of cases) it(path, () => assert.deepEqual(classifyRequestPath(path), want));

  it('strips query strings and fragments, decodes percent-escapes, accepts absolute URLs and relative paths', () => {
    assert.deepEqual(classifyRequestPath('/golang.org/x/net/@v/list?go-get=1'), ok('list', 'golang.org/x/net'));
    assert.deepEqual(classifyRequestPath('/golang.org/x/net/@latest#frag'), ok('latest', 'golang.org/x/net'));
    assert.deepEqual(classifyRequestPath('/github.com/%21azure/azure-sdk-for-go/@v/list'), ok('list', 'github.com/Azure/azure-sdk-for-go'));
    assert.deepEqual(
      classifyRequestPath('/github.com/docker/docker/@v/v20.10.7%2Bincompatible.zip'),
      ok('zip', 'github.com/docker/docker', 'v20.10.7+incompatible'),
    );
    assert.deepEqual(classifyRequestPath('https://goproxy.internal:8443/gopkg.in/yaml.v3/@v/v3.0.1.info?x=1'), ok('info', 'gopkg.in/yaml.v3', 'v3.0.1'));
    assert.deepEqual(classifyRequestPath('gopkg.in/yaml.v3/@v/list'), ok('list', 'gopkg.in/yaml.v3'));
  });

  it('rejects GOPROXY-shaped paths with invalid modules or versions', () => {
    assertRejected(classifyRequestPath('/github.com/Azure/azure-sdk-for-go/@v/list'), /invalid escaped module path/);
    assertRejected(classifyRequestPath('/x/y/@v/list'), /missing dot/);
    assertRejected(classifyRequestPath('/github.com/Foo/../bar/@v/list'), /invalid escaped module path/);
    assertRejected(classifyRequestPath('/github.com/foo/../bar/@v/list'), /invalid path element/);
    assertRejected(classifyRequestPath('/github.com/a/b/v1/@v/v1.0.0.info'), /invalid version/);
    assertRejected(classifyRequestPath('/gopkg.in/yaml.v3/@v/v2.4.0.zip'), /should be v3, not v2/);
    assertRejected(classifyRequestPath('/github.com/foo/bar/v2/@v/v1.0.0.mod'), /should be v2, not v1/);
    assertRejected(classifyRequestPath('/golang.org/x/net/@v/master.zip'), /not a semantic version/);
    assertRejected(classifyRequestPath('/golang.org/x/net/@v/v0.31.zip'), /not a canonical version/);
    assert.deepEqual(classifyRequestPath('/golang.org/x/net/@v/v0.31.0-!r!c1.zip'), ok('zip', 'golang.org/x/net', 'v0.31.0-RC1'));
    assertRejected(classifyRequestPath('/golang.org/x/net/@v/v0.31.0-RC1.zip'), /invalid escaped version/);
    assertRejected(classifyRequestPath('/golang.org/x/net/@v/v0.31.0.ziphash'), /unknown GOPROXY endpoint/);
    assertRejected(classifyRequestPath('/golang.org/x/net/@v/'), /unknown GOPROXY endpoint/);
    assertRejected(classifyRequestPath('/sumdb/sum.golang.org/lookup/golang.org/x/net'), /malformed sumdb lookup/);
    assertRejected(classifyRequestPath('/sumdb/sum.golang.org/lookup/golang.org/x/net@latest'), /not a semantic version/);
    assertRejected(classifyRequestPath('/github.com/%E9t%C3/x/@v/list'), /invalid escaped module path/);
  });
});

describe('classifyRequestPath: mount prefixes', () => {
  it('strips the default prefixes, most specific first', () => {
    assert.deepEqual(classifyRequestPath('/go/golang.org/x/net/@v/list'), ok('list', 'golang.org/x/net'));
    assert.deepEqual(classifyRequestPath('/api/go/go-remote/github.com/!azure/azure-sdk-for-go/@v/list'), ok('list', 'github.com/Azure/azure-sdk-for-go'));
    assert.deepEqual(classifyRequestPath('/artifactory/api/go/go-virtual/gopkg.in/yaml.v3/@v/v3.0.1.zip'), ok('zip', 'gopkg.in/yaml.v3', 'v3.0.1'));
    assert.deepEqual(classifyRequestPath('api/go/go-remote/sumdb/sum.golang.org/supported'), ok('sumdb'));
    assert.deepEqual(classifyRequestPath('/api/go/go-remote/'), ok('other'));
    assert.deepEqual(classifyRequestPath('/api/system/ping'), ok('other'));
  });

  it('uses only the configured prefixes', () => {
    const rootOnly = compilePathPrefixes(['/']);
    assertRejected(classifyRequestPath('/go/golang.org/x/net/@v/list', rootOnly), /missing dot/);
    const custom = compilePathPrefixes(['/proxy/<tenant>/go/']);
    assert.deepEqual(classifyRequestPath('/proxy/acme/go/golang.org/x/net/@latest', custom), ok('latest', 'golang.org/x/net'));
    assert.deepEqual(classifyRequestPath('/golang.org/x/net/@latest', custom), ok('other'));
    assert.deepEqual(classifyRequestPath('/proxy//go/golang.org/x/net/@latest', custom), ok('other'));
  });

  it('refuses malformed prefix patterns', () => {
    assert.throws(() => compilePathPrefixes([]), /at least one/);
    assert.throws(() => compilePathPrefixes(['go/']), /must start with/);
    assert.throws(() => compilePathPrefixes(['/api/<repo/']), /malformed segment/);
  });
});

describe('goproxyPath', () => {
  it('builds escaped request paths', () => {
    assert.equal(goproxyPath('/', 'github.com/Azure/azure-sdk-for-go', '', 'list'), '/github.com/!azure/azure-sdk-for-go/@v/list');
    assert.equal(goproxyPath('/', 'github.com/BurntSushi/toml', '', 'latest'), '/github.com/!burnt!sushi/toml/@latest');
    assert.equal(goproxyPath('/go', 'gopkg.in/yaml.v3', 'v3.0.1', 'zip'), '/go/gopkg.in/yaml.v3/@v/v3.0.1.zip');
    assert.equal(
      goproxyPath('/api/go/go-remote/', 'github.com/docker/docker', 'v20.10.7+incompatible', 'mod'),
      '/api/go/go-remote/github.com/docker/docker/@v/v20.10.7+incompatible.mod',
    );
    assert.equal(goproxyPath('/', 'golang.org/x/net', 'v0.31.0-RC1', 'info'), '/golang.org/x/net/@v/v0.31.0-!r!c1.info');
    assert.equal(goproxyPath('/', 'golang.org/x/net', 'v0.31.0', 'sumdb'), '/sumdb/sum.golang.org/lookup/golang.org/x/net@v0.31.0');
    assert.equal(goproxyPath('/', 'golang.org/x/net', 'release branch', 'info'), '/golang.org/x/net/@v/release%20branch.info');
  });

  it('refuses what it cannot build safely', () => {
    assert.throws(() => goproxyPath('/', 'x/y', '', 'list'), /missing dot/);
    assert.throws(() => goproxyPath('/', 'golang.org/x/net', 'master', 'zip'), /not a semantic version/);
    assert.throws(() => goproxyPath('/', 'gopkg.in/yaml.v3', 'v2.0.0', 'mod'), /should be v3/);
    assert.throws(() => goproxyPath('/', 'golang.org/x/net', '../../etc', 'info'), /invalid version/);
    assert.throws(() => goproxyPath('/api/go/<repo>/', 'golang.org/x/net', '', 'list'), /invalid mount prefix/);
    assert.throws(() => goproxyPath('/', 'golang.org/x/net', '', 'other'), /no GOPROXY path/);
  });

  it('round-trips through classifyRequestPath (property)', () => {
    const modules = ['github.com/Azure/azure-sdk-for-go', 'gopkg.in/yaml.v3', 'golang.org/x/net', 'github.com/BurntSushi/toml', 'github.com/docker/docker', 'github.com/jackc/pgx/v5'];
    const versionFor: Record<string, string[]> = {
      'github.com/Azure/azure-sdk-for-go': ['v68.0.0+incompatible', 'v0.2.0-beta'],
      'gopkg.in/yaml.v3': ['v3.0.1', 'v3.0.0-20220521103104-8f96da9f5d5e'],
      'golang.org/x/net': ['v0.31.0', 'v0.0.0-20211112202133-69e39bad7dc2', 'v0.32.0-RC1'],
      'github.com/BurntSushi/toml': ['v1.4.0', 'v1.4.1-0.20240526193622-a339e1f7089c'],
      'github.com/docker/docker': ['v20.10.7+incompatible', 'v1.13.1'],
      'github.com/jackc/pgx/v5': ['v5.7.1'],
    };
    const prefixes = ['/', '/go/', '/api/go/go-remote/', '/artifactory/api/go/go-virtual/'];
    const kinds: RequestKind[] = ['list', 'info', 'mod', 'zip', 'latest', 'sumdb'];
    fc.assert(
      fc.property(fc.constantFrom(...modules), fc.nat(10), fc.constantFrom(...kinds), fc.constantFrom(...prefixes), (m, vi, kind, prefix) => {
        const versions = versionFor[m] as string[];
        const version = kind === 'list' || kind === 'latest' ? '' : (versions[vi % versions.length] as string);
        const path = goproxyPath(prefix, m, version, kind);
        assert.deepEqual(classifyRequestPath(path), ok(kind, m, version));
      }),
      { numRuns: 500 },
    );
  });
});
