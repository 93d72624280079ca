/**
 * The demo's offline upstream (src/demo/module-tree.ts) holds modules the real go command accepts: every kind of
 * path the demo catalog has (capitals, /vN, gopkg.in .vN, +incompatible) downloads from it with `go mod download`,
 * and the same version always gets the same zip (so a proxy's stored copy never disagrees with a rewritten tree).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModuleTree, type TreeVersion } from '../../src/demo/module-tree.js';
import { escapeModulePath } from '../../src/domain/module-path.js';

const T = Date.parse('2026-11-01T00:00:00Z');
const VERSIONS: TreeVersion[] = [
  { module: 'github.com/org1/Lib11', version: 'v1.2.3', time: T },
  { module: 'github.com/org1/Lib11', version: 'v1.2.4', time: T + 1000 },
  { module: 'github.com/docker/docker', version: 'v20.3.1+incompatible', time: T },
  { module: 'github.com/go-chi/chi/v5', version: 'v5.4.0', time: T },
  { module: 'gopkg.in/yaml.v3', version: 'v3.1.0', time: T },
  { module: 'github.com/org2/lib2', version: 'v0.3.9', time: T },
];

test('go mod download accepts every module version of a written tree, and zips are reproducible', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-tree-'));
  try {
    const tree = join(dir, 'tree');
    assert.deepEqual(writeModuleTree(tree, VERSIONS.slice(0, 1)), { modules: 1, versions: 1 });
    const zip = join(tree, escapeModulePath('github.com/org1/Lib11'), '@v', 'v1.2.3.zip');
    const first = readFileSync(zip);
    rmSync(tree, { recursive: true });
    assert.deepEqual(writeModuleTree(tree, VERSIONS), { modules: 5, versions: 6 });
    assert.deepEqual(readFileSync(zip), first, 'the same version, the same zip bytes');
    assert.equal(readFileSync(join(tree, 'github.com/org1/!lib11/@v/list'), 'utf8'), 'v1.2.3\nv1.2.4\n');

    const res = spawnSync('go', ['mod', 'download', '-json', ...VERSIONS.map((v) => `${v.module}@${v.version}`)], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '', HOME: dir, GOPROXY: `file://${tree}`, GOMODCACHE: join(dir, 'modcache'), GOCACHE: join(dir, 'gocache'),
        GOSUMDB: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOWORK: 'off',
      },
    });
    assert.equal(res.status, 0, res.stderr);
    const results = JSON.parse(`[${res.stdout.replace(/}\s*{/g, '},{')}]`) as { Path: string; Version: string; Sum?: string; Error?: string }[];
    assert.equal(results.length, VERSIONS.length);
    for (const r of results) assert.ok(r.Error === undefined && r.Sum?.startsWith('h1:'), `${r.Path}@${r.Version}: ${r.Error}`);
  } finally {
    spawnSync('chmod', ['-R', 'u+w', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
