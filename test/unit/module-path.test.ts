import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkModulePath,
  checkVersionForModule,
  compareVersions,
  escapeModulePath,
  escapeVersion,
  isCanonicalVersion,
  isIncompatible,
  isPrerelease,
  isPseudoVersion,
  isValidVersion,
  majorOf,
  parsePseudoVersion,
  parseVersion,
  pseudoVersionTime,
  splitPathMajor,
  unescapeModulePath,
  unescapeVersion,
} from '../../src/domain/module-path.js';

describe('checkModulePath (module.CheckPath)', () => {
  const valid = [
    'github.com/Azure/azure-sdk-for-go',
    'github.com/Azure/azure-sdk-for-go/sdk/azcore',
    'gopkg.in/yaml.v3',
    'gopkg.in/check.v1',
    'gopkg.in/yaml.v0', // Go accepts .v0 for gopkg.in (unlike /v0 elsewhere)
    'gopkg.in/src-d/go-git.v4',
    'gopkg.in/x.v2-unstable',
    'golang.org/x/net',
    'github.com/BurntSushi/toml',
    'github.com/docker/docker',
    'github.com/jackc/pgx/v5',
    'go.uber.org/zap',
    'example.com/a~b/c_d.e-f',
    'k8s.io/client-go',
  ];
  for (const p of valid) it(`accepts ${p}`, () => assert.equal(checkModulePath(p), undefined));

  const invalid: [string, string][] = [
    ['github.com/Foo/../bar', 'invalid path element ".."'],
    ['x/y', 'missing dot in first path element'],
    ['localhost/mod', 'missing dot in first path element'],
    ['github.com/a/b/v1', 'invalid version'],
    ['github.com/a/b/v0', 'invalid version'],
    ['github.com/a/b/v02', 'invalid version'],
    ['github.com/a/b/v2.0', 'invalid version'],
    ['gopkg.in/yaml', 'invalid version'],
    ['gopkg.in/yaml.v01', 'invalid version'],
    ['Github.com/a', "invalid char \"G\" in first path element"],
    ['git_hub.com/a', 'invalid char "_" in first path element'],
    ['', 'empty string'],
    ['/github.com/a', 'empty path element'],
    ['github.com/a/', 'trailing slash'],
    ['github.com//a', 'double slash'],
    ['-github.com/a', 'leading dash'],
    ['github.com/.a', 'leading dot in path element'],
    ['github.com/a.', 'trailing dot in path element'],
    ['github.com/con', 'disallowed as path element component on Windows'],
    ['github.com/a/COM1.txt', 'disallowed as path element component on Windows'],
    ['github.com/PROGRA~1', 'trailing tilde and digits'],
    ['github.com/a+b', 'invalid char "+"'],
    ['github.com/a b', 'invalid char " "'],
    ['github.com/café', 'invalid char'],
    ['github.com/a@v1', 'invalid char "@"'],
  ];
  for (const [p, reason] of invalid) {
    it(`rejects ${JSON.stringify(p)} (${reason})`, () => {
      const r = checkModulePath(p);
      assert.ok(r !== undefined, 'expected a reason');
      assert.ok(r.includes(reason), `reason ${JSON.stringify(r)} should mention ${JSON.stringify(reason)}`);
    });
  }

  it('splits the major-version suffix', () => {
    assert.deepEqual(splitPathMajor('github.com/jackc/pgx/v5'), { prefix: 'github.com/jackc/pgx', pathMajor: '/v5' });
    assert.deepEqual(splitPathMajor('gopkg.in/yaml.v3'), { prefix: 'gopkg.in/yaml', pathMajor: '.v3' });
    assert.deepEqual(splitPathMajor('gopkg.in/x.v2-unstable'), { prefix: 'gopkg.in/x', pathMajor: '.v2-unstable' });
    assert.deepEqual(splitPathMajor('golang.org/x/net'), { prefix: 'golang.org/x/net', pathMajor: '' });
    assert.equal(splitPathMajor('github.com/a/b/v1'), undefined);
  });
});

describe('case-encoding (module.EscapePath / UnescapePath / EscapeVersion / UnescapeVersion)', () => {
  it('escapes capitals as ! + lowercase', () => {
    assert.equal(escapeModulePath('github.com/Azure/azure-sdk-for-go'), 'github.com/!azure/azure-sdk-for-go');
    assert.equal(escapeModulePath('github.com/BurntSushi/toml'), 'github.com/!burnt!sushi/toml');
    assert.equal(escapeModulePath('golang.org/x/net'), 'golang.org/x/net');
    assert.equal(escapeVersion('v1.0.0-RC1'), 'v1.0.0-!r!c1');
    assert.equal(escapeVersion('v20.10.7+incompatible'), 'v20.10.7+incompatible');
  });

  it('refuses to escape what is not a module path or version', () => {
    assert.throws(() => escapeModulePath('x/y'), /missing dot/);
    assert.throws(() => escapeModulePath('github.com/a!b/c'), /invalid char "!"/);
    assert.throws(() => escapeVersion('v1.0.0/../x'), /invalid char "\/"/);
    assert.throws(() => escapeVersion('v1!0'), /contains '!'/);
  });

  it('unescapes and validates', () => {
    assert.deepEqual(unescapeModulePath('github.com/!azure/azure-sdk-for-go'), { ok: true, value: 'github.com/Azure/azure-sdk-for-go' });
    assert.deepEqual(unescapeModulePath('github.com/!burnt!sushi/toml'), { ok: true, value: 'github.com/BurntSushi/toml' });
    assert.deepEqual(unescapeVersion('v1.0.0-!r!c1'), { ok: true, value: 'v1.0.0-RC1' });
    assert.deepEqual(unescapeVersion('master'), { ok: true, value: 'master' });
  });

  const badEscapes = [
    'github.com/Azure/azure-sdk-for-go', // raw capital: an escaped path never has one
    'github.com/!Azure/x', // ! must precede a lowercase letter
    'github.com/!/x',
    'github.com/!1abc/x',
    'github.com/abc!',
    'github.com/caf\u00e9/x',
    '!github.com/x', // decodes to a capital in the first element
    'x/y',
  ];
  for (const e of badEscapes) {
    it(`rejects escaped path ${JSON.stringify(e)}`, () => {
      const r = unescapeModulePath(e);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /invalid escaped module path/);
    });
  }

  it('rejects bad escaped versions', () => {
    for (const v of ['v1.0.0-RC1', 'v1.0.0-!', 'v1.0.0-!R', '', '..', 'v1.', 'a/b', 'con']) {
      assert.equal(unescapeVersion(v).ok, false, v);
    }
  });

  const segment = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_~-]{0,8}[A-Za-z0-9]$/);
  const domain = fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/), fc.constantFrom('com', 'org', 'io', 'in', 'dev'));
  const modulePath = fc
    .tuple(domain, fc.array(segment, { minLength: 0, maxLength: 4 }), fc.option(fc.integer({ min: 2, max: 40 })))
    .map(([[host, tld], segs, major]) => [`${host}.${tld}`, ...segs].join('/') + (major === null ? '' : `/v${major}`))
    .filter((p) => checkModulePath(p) === undefined);

  it('round-trips escape/unescape for valid module paths (property)', () => {
    fc.assert(
      fc.property(modulePath, (p) => {
        const escaped = escapeModulePath(p);
        assert.equal(/[A-Z]/.test(escaped), false);
        assert.deepEqual(unescapeModulePath(escaped), { ok: true, value: p });
      }),
      { numRuns: 2000 },
    );
  });

  it('has one encoding per path: whatever unescapes, re-escapes to itself (property)', () => {
    const escapedish = fc.stringMatching(/^[a-z0-9.!\/A-Z_~-]{1,30}$/);
    fc.assert(
      fc.property(escapedish, (s) => {
        const r = unescapeModulePath(s);
        if (r.ok) assert.equal(escapeModulePath(r.value), s);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips versions (property)', () => {
    const version = fc.stringMatching(/^v[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[A-Za-z0-9.]{1,12})?$/).filter((v) => checkVersionElementOk(v));
    fc.assert(
      fc.property(version, (v) => {
        assert.deepEqual(unescapeVersion(escapeVersion(v)), { ok: true, value: v });
      }),
      { numRuns: 2000 },
    );
  });
});

function checkVersionElementOk(v: string): boolean {
  try {
    escapeVersion(v);
    return true;
  } catch {
    return false;
  }
}

describe('semantic versions', () => {
  it('parses the parts', () => {
    assert.deepEqual(parseVersion('v1.2.3-rc.1+build.5'), {
      major: 1, minor: 2, patch: 3, prerelease: 'rc.1', build: 'build.5', incompatible: false, canonical: false,
    });
    assert.deepEqual(parseVersion('v20.10.7+incompatible'), {
      major: 20, minor: 10, patch: 7, prerelease: '', build: 'incompatible', incompatible: true, canonical: true,
    });
    assert.deepEqual(parseVersion('v1'), { major: 1, minor: 0, patch: 0, prerelease: '', build: '', incompatible: false, canonical: false });
    assert.equal(parseVersion('v1.2')?.minor, 2);
  });

  it('rejects what semver rejects', () => {
    for (const v of ['1.0.0', 'v', 'v01.0.0', 'v1.01.0', 'v1.0.0-01', 'v1.0.0-', 'v1.0.0+', 'v1.0.0-a..b', 'v1-pre', 'v1.2-pre', 'v1.0.0-a_b', 'v1.0.0.0', 'V1.0.0', 'master']) {
      assert.equal(isValidVersion(v), false, v);
      assert.equal(parseVersion(v), undefined, v);
    }
    for (const v of ['v0.0.0', 'v1.0.0-0', 'v1.0.0-0a', 'v1.0.0+001', 'v1.0.0-x-y.z']) assert.equal(isValidVersion(v), true, v);
  });

  it('knows canonical module versions', () => {
    assert.equal(isCanonicalVersion('v1.2.3'), true);
    assert.equal(isCanonicalVersion('v2.0.0+incompatible'), true);
    assert.equal(isCanonicalVersion('v1.2'), false);
    assert.equal(isCanonicalVersion('v1.2.3+meta'), false);
  });

  it('orders by semver precedence', () => {
    const ordered = [
      'v0.0.0-20191109021931-daa7c04131f5',
      'v0.1.0',
      'v1.0.0-alpha',
      'v1.0.0-alpha.1',
      'v1.0.0-alpha.beta',
      'v1.0.0-beta',
      'v1.0.0-beta.2',
      'v1.0.0-beta.11',
      'v1.0.0-rc.1',
      'v1.0.0',
      'v1.0.1',
      'v1.10.0',
      'v2.0.0+incompatible',
      'v20.10.7+incompatible',
      'v99999999999999999998.0.0',
      'v99999999999999999999.0.0',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        assert.equal(compareVersions(ordered[i] as string, ordered[j] as string), Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}`);
      }
    }
    assert.equal(compareVersions('v1.0.0+a', 'v1.0.0+b'), 0);
    assert.equal(compareVersions('v1', 'v1.0.0'), 0);
    assert.equal(compareVersions('junk', 'v0.0.0'), -1);
    assert.equal(compareVersions('junk', 'other junk'), 0);
  });

  const versionArb = fc.oneof(
    fc
      .tuple(
        fc.nat(30),
        fc.nat(30),
        fc.nat(30),
        fc.option(fc.array(fc.oneof(fc.nat(20).map(String), fc.stringMatching(/^[a-zA-Z-][a-zA-Z0-9-]{0,5}$/)), { minLength: 1, maxLength: 3 })),
        fc.option(fc.constantFrom('incompatible', 'build.1')),
      )
      .map(([a, b, c, pre, build]) => `v${a}.${b}.${c}${pre === null ? '' : '-' + pre.join('.')}${build === null ? '' : '+' + build}`),
    fc.string({ maxLength: 8 }),
  );

  it('is antisymmetric, reflexive and transitive (property)', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        assert.equal(compareVersions(a, a), 0);
        assert.equal(compareVersions(a, b), -compareVersions(b, a) || 0);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) assert.ok(compareVersions(a, c) <= 0);
      }),
      { numRuns: 3000 },
    );
  });

  it('reports prerelease, +incompatible and major', () => {
    assert.equal(isPrerelease('v1.0.0-rc.1'), true);
    assert.equal(isPrerelease('v0.0.0-20191109021931-daa7c04131f5'), true);
    assert.equal(isPrerelease('v1.0.0'), false);
    assert.equal(isIncompatible('v20.10.7+incompatible'), true);
    assert.equal(isIncompatible('v1.0.0'), false);
    assert.equal(majorOf('v20.10.7+incompatible'), 20);
    assert.equal(majorOf('v0.31.0'), 0);
    assert.equal(majorOf('junk'), undefined);
  });
});

describe('pseudo-versions', () => {
  const t = Date.UTC(2019, 10, 9, 2, 19, 31);
  const forms: [string, string][] = [
    ['v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0'], // no earlier tag
    ['v1.2.4-0.20191109021931-daa7c04131f5', 'v1.2.4-0'], // after release v1.2.3
    ['v1.2.3-pre.0.20191109021931-daa7c04131f5', 'v1.2.3-pre.0'], // after prerelease v1.2.3-pre
    ['v2.0.0-20191109021931-daa7c04131f5+incompatible', 'v2.0.0'],
  ];
  for (const [v, base] of forms) {
    it(`recognises ${v}`, () => {
      assert.equal(isPseudoVersion(v), true);
      assert.equal(pseudoVersionTime(v), t);
      assert.equal(parsePseudoVersion(v)?.base, base);
      assert.equal(parsePseudoVersion(v)?.rev, 'daa7c04131f5');
    });
  }
  it('rejects look-alikes', () => {
    for (const v of [
      'v1.2.3',
      'v1.2.3-20191109021931-daa7c04131f5', // form 1 needs vX.0.0
      'v0.0.0-2019110902193-daa7c04131f5', // 13-digit time
      'v0.0.0-20191109021931-', // no revision
      'v0.0.0-20191109021931-daa7c041_1f5',
    ]) {
      assert.equal(isPseudoVersion(v), false, v);
      assert.equal(pseudoVersionTime(v), undefined, v);
    }
  });
  it('rejects impossible times', () => {
    assert.equal(isPseudoVersion('v0.0.0-20191309021931-daa7c04131f5'), true);
    assert.equal(pseudoVersionTime('v0.0.0-20191309021931-daa7c04131f5'), undefined);
    assert.equal(pseudoVersionTime('v0.0.0-20190231000000-daa7c04131f5'), undefined);
  });
});

describe('checkVersionForModule', () => {
  const cases: [string, string, string | undefined][] = [
    ['github.com/BurntSushi/toml', 'v1.4.0', undefined],
    ['golang.org/x/net', 'v0.0.0-20211112202133-69e39bad7dc2', undefined],
    ['github.com/docker/docker', 'v20.10.7+incompatible', undefined],
    ['github.com/docker/docker', 'v20.10.7', 'should be v0 or v1, not v20'],
    ['github.com/docker/docker', 'v1.13.1+incompatible', 'major version v1 is compatible'],
    ['github.com/jackc/pgx/v5', 'v5.7.1', undefined],
    ['github.com/jackc/pgx/v5', 'v4.18.3', 'should be v5, not v4'],
    ['github.com/jackc/pgx/v5', 'v5.0.0+incompatible', 'includes a major version suffix'],
    ['gopkg.in/yaml.v3', 'v3.0.1', undefined],
    ['gopkg.in/yaml.v3', 'v2.4.0', 'should be v3, not v2'],
    ['gopkg.in/check.v1', 'v0.0.0-20201130134442-10cb98267c6c', undefined], // Go tolerates this old pseudo-version bug
    ['gopkg.in/yaml.v0', 'v0.1.0', undefined],
    ['github.com/a/b', 'v1.2', 'not a canonical version'],
    ['github.com/a/b', 'v1.2.0+meta', 'build metadata'],
    ['github.com/a/b', 'latest', 'not a semantic version'],
    ['x/y', 'v1.0.0', 'missing dot'],
  ];
  for (const [m, v, reason] of cases) {
    it(`${m}@${v} -> ${reason ?? 'ok'}`, () => {
      const r = checkVersionForModule(m, v);
      if (reason === undefined) assert.equal(r, undefined);
      else assert.ok(r?.includes(reason), `got ${r}`);
    });
  }
});
