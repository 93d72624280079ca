/**
 * The dashboard in a real browser (Debian Chromium through playwright-core) against `startServer` on demo data:
 * the heatmap and top-N charts render with data, a filter changes them, panels show a placeholder while their data
 * load, the events line breaks over hours with no data, the page runs under its CSP without errors, and a
 * screenshot lands in .artifacts/ (git-ignored). Also the backtest's SVG chart as a browser lays it out.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testConfig } from '../helpers/store.js';
import { createLogger } from '../../src/lib/logger.js';
import { openStore, type Store } from '../../src/store/client.js';
import { migrate } from '../../src/store/migrate.js';
import { loadDemoData, DEMO_REGIONS } from '../../src/cli/demo.js';
import { runScoring } from '../../src/scoring/score.js';
import { latestBucketEnd } from '../../src/store/queries/top.js';
import { ingestAccessLog } from '../helpers/warmup.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { projectPath } from '../../src/lib/paths.js';
import { benefitChartSvg } from '../../src/domain/backtest/chart.js';
import { MetricsAccumulator, type MethodMetrics } from '../../src/domain/backtest/metrics.js';
import { REACHABLE_ORACLE, type WindowOutcome } from '../../src/domain/backtest/oracle.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = projectPath('.artifacts');
export const SCREENSHOT = join(ARTIFACTS, 'dashboard.png');

let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const HOUR = 3_600_000;
const PANELS = ['heatmap', 'top', 'releases', 'warmups', 'ingest'];
/** A module path longer than any axis label has room for: its label is shortened, its tooltip is not. */
const LONG_MODULE = 'github.com/an-organisation-with-a-long-name/a-repository-with-an-even-longer-name/v3';
/** Two hours of the last day with no data (as when a node's shipper was down): the events line must not span them. */
let gap: { from: number; to: number };

/** Empties [from, to) of the event table and both rollups, through the store as the API reads it. */
async function dropSpan(store: Store, from: number, to: number): Promise<void> {
  for (const [table, column] of [['access_events', 'ts'], ['rollups_5m', 'bucket'], ['rollups_1h', 'bucket']]) {
    await store.client.command({
      query: `ALTER TABLE ${table} DELETE WHERE ${column} >= fromUnixTimestamp64Milli({from:Int64}) AND ${column} < fromUnixTimestamp64Milli({to:Int64})
              SETTINGS mutations_sync = 2`,
      query_params: { from, to },
    });
  }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  dir = mkdtempSync(join(tmpdir(), 'modcast-e2e-'));
  const logger = createLogger('silent');
  const config = testConfig(dir, { api: { port: 0 }, regions: DEMO_REGIONS });
  const ctx = { config, logger };
  const store = await openStore(config);
  await migrate(store);
  await loadDemoData(ctx, store, { days: 14, seed: 7, modules: 120, rate: 30 });
  const end = (await latestBucketEnd(store))!.getTime();
  gap = { from: end - 10 * HOUR, to: end - 8 * HOUR };
  await dropSpan(store, gap.from, gap.to);
  const log = join(dir, 'long-module.jsonl');
  const line = (i: number) => JSON.stringify({ ts: new Date(end - 3 * HOUR + i * 60_000).toISOString(), method: 'GET', path: `/${LONG_MODULE}/@v/v3.1.${i}.zip`, status: 200, bytes: 2048, duration_ms: 30, cache_status: 'MISS', client_ip: `10.1.1.${i}` });
  writeFileSync(log, `${[1, 2, 3, 4, 5].map(line).join('\n')}\n`);
  await ingestAccessLog(store, config, log, 'eu-1', 'eu');
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

/**
 * Pixels of the events line (its blue, far from the faint area fill and the grey grid) in the canvas column at
 * time `t`, within the events grid; also the column's x, to tell "no line here" from "outside the chart".
 */
const LINE_PIXELS_JS = `([t]) => {
  const chart = window.__modcast.charts.ingest;
  const canvas = document.querySelector('#chart-ingest canvas');
  const scale = canvas.width / canvas.clientWidth;
  const [x, yTop] = chart.convertToPixel({ gridIndex: 0 }, [t, chart.getModel().getComponent('yAxis', 0).axis.scale.getExtent()[1]]);
  const [, yBottom] = chart.convertToPixel({ gridIndex: 0 }, [t, 0]);
  const column = canvas.getContext('2d').getImageData(Math.round(x * scale), Math.round(yTop * scale), 1, Math.round((yBottom - yTop) * scale)).data;
  let line = 0;
  for (let i = 0; i < column.length; i += 4) if (column[i + 3] > 0 && column[i + 2] - column[i] > 100) line++;
  return { x, line };
}`;

/** What an ECharts instance currently draws: category rows and per-series data. */
const summary = (panel: string): Promise<ChartSummary> => page.evaluate(`(${SUMMARY_JS})(${JSON.stringify(panel)})`);
const inkRatio = (panel: string, on = page): Promise<number> => on.evaluate(`(${INK_JS})(${JSON.stringify(panel)})`);
const linePixels = (t: number): Promise<{ x: number; line: number }> => page.evaluate(`(${LINE_PIXELS_JS})([${t}])`);
const refreshes = (): Promise<number> => page.evaluate('window.__modcast.refreshes');
type PageState = { __modcast?: { ready: boolean; refreshes: number } };
// Predicates as functions, not strings: a string predicate is eval'd in the page, which its CSP forbids.
const waitForRefreshAfter = (n: number) =>
  page.waitForFunction((k) => ((globalThis as PageState).__modcast?.refreshes ?? 0) > k, n, { timeout: 30_000 });
const waitForReady = (on: Page) => on.waitForFunction(() => (globalThis as PageState).__modcast?.ready === true, null, { timeout: 30_000 });

test('the dashboard renders the heatmap and top-N charts from demo data', async () => {
  await page.goto(`${server.url}/`);
  await waitForReady(page);
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
  // Each bar series names its window by weekday (a weekend window next to a weekday one explains its bars).
  const window = /^(actual|forecast) (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} \w{3} \d\d:\d\d–(Mon|Tue|Wed|Thu|Fri|Sat|Sun) /;
  assert.match(top.series[0]!.name, window);
  assert.match(top.series[1]!.name, window);
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

test('every panel shows a loading placeholder, not a blank card, until its data arrive', async () => {
  const slow = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
  slow.on('pageerror', (e) => consoleErrors.push(String(e)));
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  // The filters' scopes load first; every panel's reply is held back (by the browser, from the real server) meanwhile.
  await slow.route(/\/v1\/(?!stats\/scopes)/, async (route) => {
    await held;
    await route.continue();
  });
  try {
    await slow.goto(`${server.url}/`);
    for (const panel of PANELS) {
      await slow.waitForSelector(`#chart-${panel}[aria-busy="true"]`, { timeout: 15_000 });
      let ink = 0;
      for (let i = 0; i < 50 && ink === 0; i++) {
        ink = await inkRatio(panel, slow);
        if (ink === 0) await slow.waitForTimeout(100);
      }
      assert.ok(ink > 0, `${panel}: the placeholder is drawn while the data load`);
    }
    release();
    await waitForReady(slow);
    for (const panel of PANELS) assert.equal(await slow.getAttribute(`#chart-${panel}`, 'aria-busy'), 'false', `${panel} loaded`);
  } finally {
    release();
    await slow.close();
  }
});

test('the events line breaks over hours with no data instead of drawing across them', async () => {
  type EventsSeries = { data: [number, number | null][]; connectNulls?: boolean; markArea?: { data: [{ xAxis: number }, { xAxis: number }][] } };
  const series = (await page.evaluate(`window.__modcast.charts.ingest.getOption().series[0]`)) as EventsSeries;
  assert.notEqual(series.connectNulls, true);
  // No value inside the gap, and a break (null) right before the first bucket after it: the line cannot span it.
  // Where the break sits depends on the last non-empty 5-minute bucket before the gap (demo data is random).
  const inGap = series.data.filter(([t]) => t >= gap.from && t < gap.to);
  assert.ok(inGap.every(([, v]) => v === null), `no value inside the gap: ${JSON.stringify(inGap)}`);
  const after = series.data.findIndex(([t]) => t >= gap.to);
  const brk = series.data[after - 1];
  assert.ok(after > 0 && brk![1] === null && brk![0] >= gap.from - HOUR, `a break in the line before ${gap.to}: ${JSON.stringify(series.data.slice(Math.max(0, after - 3), after + 1))}`);
  const shaded = (series.markArea?.data ?? []).map(([a, b]) => [a.xAxis, b.xAxis]);
  assert.ok(shaded.some(([a, b]) => a! <= gap.from && b! >= gap.to), `the gap is shaded as no data: ${JSON.stringify(shaded)}`);

  // And on the canvas: the line's colour is drawn between two buckets before the gap, and nowhere in its middle.
  const i = series.data.findIndex(([t, v], k) => t < gap.from && v !== null && series.data[k + 1]?.[1] != null);
  assert.ok(i >= 0, 'a drawn segment before the gap');
  const segment = (series.data[i]![0] + series.data[i + 1]![0]) / 2;
  let before = { x: 0, line: 0 };
  for (let n = 0; n < 30 && before.line === 0; n++) {
    before = await linePixels(segment);
    if (before.line === 0) await page.waitForTimeout(100); // the line's first-draw animation
  }
  assert.ok(before.line > 0, `the line is drawn before the gap: ${JSON.stringify(before)}`);
  const middle = await linePixels((gap.from + gap.to) / 2);
  assert.ok(middle.x > before.x, 'the gap is inside the chart');
  assert.equal(middle.line, 0, 'no line across the gap');
});

/** Rows of a backtest with the methods a real run charts (baselines, oracles and the long single-ranker names). */
function backtestRows(): MethodMetrics[] {
  const outcome: WindowOutcome = {
    node: 'n1', region: 'r', start: 0, end: HOUR, requests: 10, misses: 1, missBytes: 100, bytes: 1000,
    first: new Map([['m@v1', { ts: 60_000, bytes: 100, miss: true, mutable: false, known: true }]]),
  };
  const rankers = ['last-24h', 'decay-0.5h', 'decay-168h', 'same-window-last-week', 'active-hours-week', 'blend:day+yesterday+last-week'];
  const methods = [
    'no-warmup', 'last-24h', 'same-hour-last-week', 'modcast',
    ...['fleet', 'node'].flatMap((scope) => rankers.map((r) => `rank:${r}@${scope}`)),
    'oracle', REACHABLE_ORACLE,
  ];
  const budgets = [{ kind: 'items' as const, value: 5 }, { kind: 'items' as const, value: 100 }, { kind: 'bytes' as const, value: 10 * 2 ** 20 }];
  const acc = new MetricsAccumulator(budgets, 10 * 60_000);
  for (const method of methods) for (const budget of budgets) acc.add(method, budget, outcome, method === 'no-warmup' ? [] : ['m@v1'], () => 100);
  return acc.finish();
}

test('the backtest chart: no two of the methods readers look for share a colour, and no legend entry is clipped', async () => {
  const svg = benefitChartSvg(backtestRows(), 'modcast backtest: demo workload');
  const colourOf = (method: string) => new RegExp(`stroke="(#[0-9a-f]{6})"[^>]*><title>${method}</title>`).exec(svg)?.[1];
  const fixed = ['modcast', 'last-24h', 'same-hour-last-week', 'no-warmup', 'oracle', REACHABLE_ORACLE].map((m) => [m, colourOf(m)] as const);
  assert.ok(fixed.every(([, c]) => c !== undefined), JSON.stringify(fixed));
  assert.equal(new Set(fixed.map(([, c]) => c)).size, fixed.length, `distinct colours: ${JSON.stringify(fixed)}`);
  const single = colourOf('rank:decay-0\\.5h@fleet');
  assert.ok(single && !fixed.some(([, c]) => c === single), 'single rankers are none of those colours either');

  // Laid out by the browser: every text (legend, labels, titles) inside the image.
  const chart = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  try {
    await chart.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    const boxes = (await chart.evaluate(`(() => {
      const root = document.querySelector('svg');
      const size = { width: root.width.baseVal.value, height: root.height.baseVal.value };
      return { size, texts: [...root.querySelectorAll('text')].map((t) => { const b = t.getBBox(); return { text: t.textContent, left: b.x, top: b.y, right: b.x + b.width, bottom: b.y + b.height }; }) };
    })()`)) as { size: { width: number; height: number }; texts: { text: string; left: number; top: number; right: number; bottom: number }[] };
    assert.ok(boxes.texts.some((t) => t.text === 'rank:blend:day+yesterday+last-week@node'), 'the longest legend entry is drawn');
    const clipped = boxes.texts.filter((t) => t.left < 0 || t.top < 0 || t.right > boxes.size.width || t.bottom > boxes.size.height);
    assert.deepEqual(clipped, [], `inside ${JSON.stringify(boxes.size)}`);
  } finally {
    await chart.close();
  }
});

/** The bit of the page's DOM the tooltip check reads (the test's tsconfig has no DOM types). */
type TooltipDom = {
  document: { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> };
  getComputedStyle(el: unknown): { visibility: string; opacity: string };
};

test('a shortened axis label shows the whole module path on hover', async () => {
  const n = await refreshes();
  await page.fill('#f-module', LONG_MODULE.slice(0, 40));
  await waitForRefreshAfter(n);
  const top = await summary('top');
  assert.deepEqual(top.rows, [LONG_MODULE], 'the axis keeps the full path; only its label is shortened');
  const label = (await page.evaluate(`(() => {
    const c = window.__modcast.charts.top;
    const box = document.getElementById('chart-top').getBoundingClientRect();
    return { x: box.left + 120, y: box.top + c.convertToPixel({ yAxisIndex: 0 }, ${JSON.stringify(LONG_MODULE)}) };
  })()`)) as { x: number; y: number };
  await page.mouse.move(label.x, label.y);
  // The tooltip is ECharts' own element in the chart's container; visible, with the whole path as its text.
  await page.waitForFunction(
    (name) => {
      const g = globalThis as unknown as TooltipDom;
      return [...g.document.querySelectorAll('#chart-top div')].some((d) => d.textContent === name && g.getComputedStyle(d).visibility !== 'hidden' && g.getComputedStyle(d).opacity !== '0');
    },
    LONG_MODULE,
    { timeout: 10_000 },
  );
  await page.mouse.move(0, 0);
  const m = await refreshes();
  await page.fill('#f-module', '');
  await waitForRefreshAfter(m);
});
