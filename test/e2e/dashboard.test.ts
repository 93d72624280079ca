/**
 * The dashboard in a real browser (Debian Chromium through playwright-core) against `startServer` on demo data:
 * the heatmap and top-N charts render with data, a filter changes them, the page runs under its CSP without
 * errors, and a screenshot lands in .artifacts/ (git-ignored).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testConfig } from '../helpers/store.js';
import { createLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { loadDemoData, DEMO_REGIONS } from '../../src/cli/demo.js';
import { runScoring } from '../../src/scoring/score.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { projectPath } from '../../src/lib/paths.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = projectPath('.artifacts');
export const SCREENSHOT = join(ARTIFACTS, 'dashboard.png');

let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  dir = mkdtempSync(join(tmpdir(), 'modcast-e2e-'));
  const logger = createLogger('silent');
  const config = testConfig(dir, { api: { port: 0 }, regions: DEMO_REGIONS });
  const ctx = { config, logger };
  const store = await openStore(config);
  await migrate(store);
  await loadDemoData(ctx, store, { days: 14, seed: 7, modules: 120, rate: 30 });
  await runScoring({ store, config, logger });
  server = await startServer(ctx, { store, scheduler: false });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface ChartSummary {
  rows: string[];
  series: { name: string; points: number; nonZero: number; sum: number }[];
}

/**
 * Browser-side code is passed as source text: the test runs through tsx, whose transform would add helpers
 * (and the test's tsconfig has no DOM types) that do not exist in the page.
 */
const SUMMARY_JS = `(panel) => {
  const opt = window.__modcast.charts[panel].getOption();
  const value = (d) => (Array.isArray(d) ? Number(d[2] ?? d[1] ?? 0) : Number(d ?? 0));
  return {
    rows: (opt.yAxis && opt.yAxis[0] && opt.yAxis[0].data) || [],
    series: (opt.series || []).map((s) => ({
      name: String(s.name ?? ''),
      points: (s.data || []).length,
      nonZero: (s.data || []).filter((d) => value(d) > 0).length,
      sum: (s.data || []).reduce((a, d) => a + (Number.isFinite(value(d)) ? value(d) : 0), 0),
    })),
  };
}`;

/** Share of the canvas pixels that are not background: a drawn chart is far from blank. */
const INK_JS = `(panel) => {
  const canvas = document.querySelector('#chart-' + panel + ' canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) ink++;
  return ink / (data.length / 4);
}`;

/** What an ECharts instance currently draws: category rows and per-series data. */
const summary = (panel: string): Promise<ChartSummary> => page.evaluate(`(${SUMMARY_JS})(${JSON.stringify(panel)})`);
const inkRatio = (panel: string): Promise<number> => page.evaluate(`(${INK_JS})(${JSON.stringify(panel)})`);
const refreshes = (): Promise<number> => page.evaluate('window.__modcast.refreshes');
type PageState = { __modcast?: { ready: boolean; refreshes: number } };
// Predicates as functions, not strings: a string predicate is eval'd in the page, which its CSP forbids.
const waitForRefreshAfter = (n: number) =>
  page.waitForFunction((k) => ((globalThis as PageState).__modcast?.refreshes ?? 0) > k, n, { timeout: 30_000 });

test('the dashboard renders the heatmap and top-N charts from demo data', async () => {
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => (globalThis as PageState).__modcast?.ready === true, null, { timeout: 30_000 });
  const state = await page.evaluate('window.__modcast.lastError');
  assert.equal(state, '', 'every panel loaded');

  const heat = await summary('heatmap');
  assert.equal(heat.rows.length, 20, 'top 20 modules');
  assert.ok(heat.series[0]!.nonZero > 500, `heatmap cells: ${JSON.stringify(heat.series)}`);
  assert.ok((await inkRatio('heatmap')) > 0.2, 'the heatmap canvas is drawn');

  const top = await summary('top');
  assert.equal(top.rows.length, 15);
  assert.ok(top.series[0]!.nonZero === 15, `actual bars: ${JSON.stringify(top.series)}`);
  assert.ok(top.series[1]!.nonZero > 0, 'forecast bars from the scoring run');
  assert.ok((await inkRatio('top')) > 0.03, 'the top-N canvas is drawn');

  const releases = await summary('releases');
  assert.ok((releases.series[0]?.points ?? 0) > 0, 'release spread cells');
  const ingest = await summary('ingest');
  assert.ok(ingest.series[0]!.nonZero > 10, 'ingest events per minute');
});

test('a region filter changes the charts and the URL', async () => {
  const heatBefore = await summary('heatmap');
  const topBefore = await summary('top');
  const n = await refreshes();
  await page.selectOption('#f-region', 'ap');
  await waitForRefreshAfter(n);
  const heatAfter = await summary('heatmap');
  const topAfter = await summary('top');
  assert.ok(heatAfter.series[0]!.sum < heatBefore.series[0]!.sum, `one region has fewer requests: ${heatAfter.series[0]!.sum} vs ${heatBefore.series[0]!.sum}`);
  assert.ok(heatAfter.series[0]!.nonZero > 0);
  assert.notDeepEqual(topAfter, topBefore);
  assert.ok(topAfter.series[0]!.sum < topBefore.series[0]!.sum);
  assert.match(page.url(), /region=ap/);
  const note = await page.textContent('#heatmap-note');
  assert.match(note ?? '', /Asia\/Tokyo/, 'hours of week in the region\'s time zone');

  // A module prefix narrows the top-N list to matching modules.
  const m = await refreshes();
  await page.selectOption('#f-region', '');
  await page.fill('#f-module', 'github.com/org1');
  await waitForRefreshAfter(m + 1);
  const filtered = await summary('top');
  assert.ok(filtered.rows.length > 0);
  assert.ok(filtered.rows.every((r) => r.includes('org1')), JSON.stringify(filtered.rows));

  await page.fill('#f-module', '');
  const k = await refreshes();
  await waitForRefreshAfter(k);
  await page.waitForTimeout(600); // let chart animations settle for the screenshot
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT));
  assert.deepEqual(consoleErrors, [], 'no script errors or CSP violations');
});
