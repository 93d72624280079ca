#!/usr/bin/env node
// Bundles the dashboard (dashboards/web: TypeScript + Apache ECharts) into static files with esbuild:
// dist/dashboard/{index.html, app.js, style.css}. No CDN: everything the page needs is in the bundle.
// Run by `npm run build`; `modcast serve` also calls buildDashboard() when the bundle is missing or stale.
import { build } from 'esbuild';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_DIR = join(ROOT, 'dashboards', 'web');
export const OUT_DIR = join(ROOT, 'dist', 'dashboard');
const STATIC_FILES = ['index.html', 'style.css'];

/** Builds into a temporary sibling and renames it into place, so concurrent builds never serve half a bundle. */
export async function buildDashboard({ outDir = OUT_DIR, minify = true } = {}) {
  mkdirSync(dirname(outDir), { recursive: true });
  const tmp = mkdtempSync(`${outDir}.tmp-`);
  chmodSync(tmp, 0o755);
  try {
    await build({
      entryPoints: [join(SOURCE_DIR, 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2020'],
      minify,
      sourcemap: false,
      legalComments: 'external',
      outfile: join(tmp, 'app.js'),
      logLevel: 'warning',
    });
    for (const f of STATIC_FILES) cpSync(join(SOURCE_DIR, f), join(tmp, f));
    const old = `${outDir}.old-${process.pid}`;
    if (existsSync(outDir)) renameSync(outDir, old);
    try {
      renameSync(tmp, outDir);
    } catch (e) {
      // Another process put its bundle in place first: theirs is as good as ours.
      if (!existsSync(outDir)) throw e;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return outDir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const out = await buildDashboard();
  console.log(`dashboard built in ${Date.now() - started} ms: ${out}`);
}
