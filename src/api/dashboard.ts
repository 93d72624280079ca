/**
 * The built-in dashboard at `/`: static files bundled from dashboards/web by scripts/build-dashboard.mjs.
 * When the bundle is missing or older than its sources and esbuild is installed (a source checkout), it is built
 * at startup (about a second); otherwise the page answers 503 saying how to build it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fastifyStatic from '@fastify/static';
import { projectPath } from '../lib/paths.js';
import type { ApiInstance } from './context.js';
import { ModcastError, ErrorCodes } from '../errors.js';

export interface DashboardOptions {
  /** Folder of the built bundle; default dist/dashboard. */
  dir?: string;
  /** Build the bundle when missing or stale (default true). */
  build?: boolean;
}

export const DASHBOARD_SOURCE = projectPath('dashboards', 'web');
export const DASHBOARD_BUNDLE = projectPath('dist', 'dashboard');
const BUILD_SCRIPT = projectPath('scripts', 'build-dashboard.mjs');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    newest = Math.max(newest, st.isDirectory() ? newestMtime(join(dir, name)) : st.mtimeMs);
  }
  return newest;
}

function bundleIsCurrent(dir: string): boolean {
  const index = join(dir, 'index.html');
  if (!existsSync(index) || !existsSync(join(dir, 'app.js'))) return false;
  if (!existsSync(DASHBOARD_SOURCE)) return true; // installed without sources: the shipped bundle is the truth
  return statSync(join(dir, 'app.js')).mtimeMs >= newestMtime(DASHBOARD_SOURCE);
}

let pendingBuild: Promise<string | undefined> | undefined;

/** The bundle folder, built first when needed and possible; undefined when there is none. */
export async function ensureDashboardBundle(opts: DashboardOptions = {}, warn: (msg: string) => void = () => {}): Promise<string | undefined> {
  const dir = opts.dir ?? DASHBOARD_BUNDLE;
  if (bundleIsCurrent(dir) || opts.build === false || opts.dir) return existsSync(join(dir, 'index.html')) ? dir : undefined;
  pendingBuild ??= (async () => {
    try {
      const script = (await import(pathToFileURL(BUILD_SCRIPT).href)) as { buildDashboard: (o: { outDir: string }) => Promise<string> };
      return await script.buildDashboard({ outDir: dir });
    } catch (e) {
      warn(`cannot build the dashboard (${(e as Error).message}); run \`npm run build\``);
      return existsSync(join(dir, 'index.html')) ? dir : undefined;
    } finally {
      pendingBuild = undefined;
    }
  })();
  return pendingBuild;
}

export async function dashboardRoutes(app: ApiInstance, opts: DashboardOptions): Promise<void> {
  const dir = await ensureDashboardBundle(opts, (m) => app.log.warn(m));
  if (!dir) {
    app.get('/', { schema: { hide: true } }, async () => {
      throw new ModcastError(ErrorCodes.NOT_CONFIGURED, 'the dashboard bundle is missing: run `npm run build` (or `node scripts/build-dashboard.mjs`)');
    });
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: '/', wildcard: false, index: ['index.html'], cacheControl: true, maxAge: 60_000 });
}
