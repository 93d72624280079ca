/**
 * The modcast dashboard: filters (region, node, module prefix, window) in the URL hash, five panels fed by the
 * API, auto-refresh. ECharts is bundled (tree-shaken) by esbuild; no external resources, no inline scripts.
 */
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';
import { AuthNeeded, getJson, setToken } from './api.js';
import type { HeatmapReply, IngestReply, ReleasesReply, ScopesReply, TopReply, WarmupStatsReply } from './replies.js';
import { emptyOption, heatmapOption, ingestOption, releasesOption, topOption, topWindows, warmupsOption } from './charts.js';
import { bytes, ms, num, when } from './format.js';

echarts.use([BarChart, HeatmapChart, LineChart, GridComponent, LegendComponent, MarkAreaComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

const PANELS = ['heatmap', 'top', 'releases', 'warmups', 'ingest'] as const;
type Panel = (typeof PANELS)[number];

interface Filters {
  region: string;
  node: string;
  module: string;
  window: string;
  refresh: number;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const charts = {} as Record<Panel, echarts.ECharts>;
let scopes: ScopesReply | undefined;
let timer: number | undefined;
let generation = 0;

/** What tests and curious people can look at: charts, refresh count, last error. */
const state = { charts, refreshes: 0, lastError: '' as string, ready: false };
(window as unknown as { __modcast: typeof state }).__modcast = state;

function readFilters(): Filters {
  return {
    region: $<HTMLSelectElement>('f-region').value,
    node: $<HTMLSelectElement>('f-node').value,
    module: $<HTMLInputElement>('f-module').value.trim(),
    window: $<HTMLSelectElement>('f-window').value,
    refresh: Number($<HTMLSelectElement>('f-refresh').value),
  };
}

function writeHash(f: Filters): void {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== '' && v !== undefined) p.set(k, String(v));
  history.replaceState(null, '', `#${p}`);
}

function readHash(): Partial<Filters> {
  const p = new URLSearchParams(location.hash.slice(1));
  const out: Partial<Filters> = {};
  for (const k of ['region', 'node', 'module', 'window'] as const) {
    const v = p.get(k);
    if (v !== null) out[k] = v;
  }
  const r = p.get('refresh');
  if (r !== null) out.refresh = Number(r);
  return out;
}

function option(select: HTMLSelectElement, value: string, label = value): void {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  select.append(o);
}

function fillNodes(): void {
  const select = $<HTMLSelectElement>('f-node');
  const keep = select.value;
  select.replaceChildren();
  option(select, '', 'all');
  const region = $<HTMLSelectElement>('f-region').value;
  const nodes = (scopes?.regions ?? []).filter((r) => !region || r.name === region).flatMap((r) => r.nodes);
  for (const n of [...new Set(nodes)].sort()) option(select, n);
  select.value = nodes.includes(keep) ? keep : '';
}

function fillRegions(initial: Partial<Filters>): void {
  const select = $<HTMLSelectElement>('f-region');
  select.replaceChildren();
  option(select, '', 'all');
  for (const r of scopes?.regions ?? []) option(select, r.name, r.timeZone ? `${r.name} (${r.timeZone})` : r.name);
  if (initial.region && scopes?.regions.some((r) => r.name === initial.region)) select.value = initial.region;
  fillNodes();
  if (initial.node) $<HTMLSelectElement>('f-node').value = initial.node;
}

function setStatus(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function note(panel: Panel, text: string): void {
  $(`${panel}-note`).textContent = text;
}

function kpis(id: string, items: [string, string][]): void {
  $(id).replaceChildren(
    ...items.map(([value, label]) => {
      const d = document.createElement('div');
      d.className = 'kpi';
      const b = document.createElement('b');
      b.textContent = value;
      const s = document.createElement('span');
      s.textContent = label;
      d.append(b, s);
      return d;
    }),
  );
}

function draw(panel: Panel, opt: EChartsCoreOption): void {
  charts[panel].setOption(opt, { notMerge: true });
  busy(panel, false);
}

/** A panel waiting for its data says so (over its previous chart, if any) instead of staying blank. */
function busy(panel: Panel, on: boolean): void {
  $(`chart-${panel}`).setAttribute('aria-busy', String(on));
  if (on) charts[panel].showLoading('default', { text: 'loading…', fontSize: 14, color: '#2f6fde', textColor: '#5f6b7a', maskColor: 'rgba(255, 255, 255, 0.75)' });
  else charts[panel].hideLoading();
}

const zoneOf = (region: string): string => scopes?.regions.find((r) => r.name === region)?.timeZone ?? 'UTC';

type Loader = (f: Filters) => Promise<void>;

const LOADERS: Record<Panel, Loader> = {
  heatmap: async (f) => {
    const d = await getJson<HeatmapReply>('v1/stats/heatmap', { region: f.region, node: f.node, module: f.module, window: '28d', limit: 20, tz: zoneOf(f.region) });
    note('heatmap', `top ${d.modules.length} modules, ${d.weeks.toFixed(0)} weeks to ${when(d.to)}, hours in ${d.timeZone}`);
    draw('heatmap', heatmapOption(d));
  },
  top: async (f) => {
    const d = await getJson<TopReply>('v1/top', { region: f.region, node: f.node, module: f.module, window: f.window, by: 'module', limit: 15 });
    const tz = zoneOf(f.region);
    const notes = [d.run ? `forecast run of ${when(d.run.asOf)}; windows in ${tz}` : 'no forecast run yet', ...topWindows(d, tz).notes];
    note('top', notes.join('; '));
    draw('top', topOption(d, tz));
  },
  releases: async (f) => {
    const d = await getJson<ReleasesReply>('v1/stats/releases', { module: f.module, window: '7d', limit: 15 });
    note('releases', `first seen in the 7 days to ${when(d.to)}; cells: hours until a region's first request`);
    draw('releases', releasesOption(d));
  },
  warmups: async (f) => {
    const [d, ingest] = await Promise.all([
      getJson<WarmupStatsReply>('v1/stats/warmups', { region: f.region, node: f.node, window: '7d' }),
      getJson<IngestReply>('v1/stats/ingest', { region: f.region, node: f.node, window: f.window }),
    ]);
    const e = d.effectiveness ?? {};
    const metric = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : null);
    const coverage = d.totals.itemsPlanned > 0 ? `${((100 * d.totals.itemsDone) / d.totals.itemsPlanned).toFixed(0)} %` : '–';
    kpis('warmups-kpis', [
      [num(d.totals.runs), 'runs (7 days)'],
      [coverage, 'items fetched of planned'],
      [bytes(d.totals.bytes), 'bytes warmed'],
      [num(metric('hitsOnWarmed')), 'hits on warmed items'],
      [metric('useRate') === null ? '–' : `${(100 * metric('useRate')!).toFixed(0)} %`, 'warmed versions used'],
      [bytes(metric('wastedTransferBytes')), 'wasted bytes'],
      [ms(metric('coldRequestMs') ?? ingest.latency.missMs), 'cold (miss) latency'],
      [ms(metric('warmRequestMs') ?? ingest.latency.hitMs), 'warm (hit) latency'],
    ]);
    note('warmups', d.effectiveness ? '' : 'effectiveness appears once warmed items are requested');
    draw('warmups', warmupsOption(d));
  },
  ingest: async (f) => {
    const d = await getJson<IngestReply>('v1/stats/ingest', { region: f.region, node: f.node, window: f.window });
    const total = d.events.reduce((s, [, v]) => s + v * d.bucketMinutes, 0);
    const last = d.events[d.events.length - 1]?.[1];
    kpis('ingest-kpis', [
      [num(last ?? null), 'events/min (newest bucket)'],
      [num(total), `events (last ${f.window} of data)`],
      [num(d.rejects.reduce((s, [, v]) => s + v * d.bucketMinutes, 0)), `rejects (last ${f.window})`],
      [num(d.process.httpEvents), 'via HTTP since start'],
    ]);
    $('ingest-reasons').replaceChildren(
      ...d.reasons.map((r) => {
        const li = document.createElement('li');
        li.textContent = `${num(r.count)} × ${r.reason}`;
        return li;
      }),
    );
    draw('ingest', ingestOption(d));
  },
};

/** `placeholders`: on the first load and on a filter change; an automatic refresh keeps the charts as they are. */
async function refresh(placeholders = true): Promise<void> {
  const gen = ++generation;
  const f = readFilters();
  writeHash(f);
  setStatus('refreshing…');
  if (placeholders) for (const p of PANELS) busy(p, true);
  const results = await Promise.allSettled(PANELS.map((p) => LOADERS[p](f)));
  if (gen !== generation) return; // a newer refresh started meanwhile
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [[PANELS[i]!, r.reason as Error] as const] : []));
  if (failures.some(([, e]) => e instanceof AuthNeeded)) {
    for (const p of PANELS) draw(p, emptyOption('a bearer token is needed to read this API'));
    $('auth').hidden = false;
    setStatus('a bearer token is needed to read this API', true);
    return;
  }
  for (const [panel, e] of failures) draw(panel, emptyOption(`could not load: ${e.message}`));
  state.refreshes++;
  state.lastError = failures.map(([p, e]) => `${p}: ${e.message}`).join('; ');
  state.ready = true;
  const end = scopes ? `data to ${when(scopes.dataEnd)}` : '';
  setStatus(failures.length > 0 ? `updated with errors: ${state.lastError}` : `updated ${new Date().toLocaleTimeString()} · ${end}`, failures.length > 0);
}

function schedule(): void {
  if (timer !== undefined) clearInterval(timer);
  const seconds = readFilters().refresh;
  timer = seconds > 0 ? window.setInterval(() => void loadScopes().then(() => refresh(false)), seconds * 1000) : undefined;
}

async function loadScopes(): Promise<void> {
  try {
    scopes = await getJson<ScopesReply>('v1/stats/scopes', {});
  } catch (e) {
    if (!(e instanceof AuthNeeded)) throw e;
  }
}

async function start(): Promise<void> {
  for (const p of PANELS) {
    charts[p] = echarts.init($(`chart-${p}`), undefined, { renderer: 'canvas' });
    busy(p, true);
  }
  window.addEventListener('resize', () => PANELS.forEach((p) => charts[p].resize()));
  const initial = readHash();
  await loadScopes();
  fillRegions(initial);
  if (initial.module) $<HTMLInputElement>('f-module').value = initial.module;
  if (initial.window) $<HTMLSelectElement>('f-window').value = initial.window;
  if (initial.refresh !== undefined) $<HTMLSelectElement>('f-refresh').value = String(initial.refresh);

  $('f-region').addEventListener('change', () => {
    fillNodes();
    void refresh();
  });
  for (const id of ['f-node', 'f-window']) $(id).addEventListener('change', () => void refresh());
  $('f-refresh').addEventListener('change', () => {
    schedule();
    writeHash(readFilters());
  });
  let debounce: number | undefined;
  $('f-module').addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(() => void refresh(), 400);
  });
  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void refresh();
  });
  $('auth-save').addEventListener('click', () => {
    setToken($<HTMLInputElement>('auth-token').value.trim());
    $('auth').hidden = true;
    void loadScopes().then(() => {
      fillRegions(readFilters());
      return refresh();
    });
  });
  await refresh();
  schedule();
}

document.addEventListener('DOMContentLoaded', () => {
  start().catch((e: Error) => {
    state.lastError = e.message;
    setStatus(`dashboard failed: ${e.message}`, true);
  });
});
