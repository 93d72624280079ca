/** ECharts options of each panel, built from API replies. Pure: data in, option out. */
import type { EChartsCoreOption } from 'echarts/core';
import type { HeatmapReply, IngestReply, ReleasesReply, TopReply, WarmupStatsReply } from './replies.js';
import { esc, hourOfWeek, num, shortLabel, span, weekendShare } from './format.js';

const BLUE = '#2f6fde';
const ORANGE = '#f2994a';
const RED = '#eb5757';
const PALETTE = [BLUE, ORANGE, '#27ae60', '#9b51e0', RED, '#56ccf2', '#bdbdbd'];

/**
 * A category axis of long names (module paths): the data keep the full name, the label shows its end, and
 * hovering the label shows the whole name.
 */
function namesAxis(names: string[], max?: number) {
  return {
    type: 'category',
    data: names,
    axisLabel: { fontSize: 11, formatter: (v: string) => shortLabel(v, max) },
    tooltip: { show: true, formatter: (p: { value: string }) => esc(p.value) },
  };
}

/** A chart with nothing to draw says so, instead of showing empty axes. */
export function emptyOption(text: string): EChartsCoreOption {
  return {
    title: { text, left: 'center', top: 'middle', textStyle: { color: '#8a96a3', fontSize: 14, fontWeight: 'normal' } },
    series: [],
  };
}

export function heatmapOption(d: HeatmapReply): EChartsCoreOption {
  if (d.modules.length === 0) return emptyOption('no requests in this window');
  // Colour scale up to the 95th percentile: one very hot module would otherwise wash out every other row.
  const sorted = d.cells.map((c) => c[2]).sort((a, b) => a - b);
  const max = sorted[Math.floor(0.95 * (sorted.length - 1))] ?? 0;
  const hours = Array.from({ length: 168 }, (_, h) => hourOfWeek(h));
  // Hottest module on top: the y axis runs bottom-up, so reverse the ranks.
  const n = d.modules.length;
  return {
    color: PALETTE,
    tooltip: {
      position: 'top',
      formatter: (p: { data: [number, number, number] }) =>
        `${esc(d.modules[n - 1 - p.data[1]] ?? '')}<br>${hourOfWeek(p.data[0])} (${esc(d.timeZone)}): <b>${num(p.data[2])}</b> requests/week`,
    },
    grid: { left: 250, right: 20, top: 10, bottom: 85 },
    xAxis: {
      type: 'category',
      data: hours,
      splitArea: { show: true },
      axisLabel: { interval: 23, formatter: (v: string) => v.slice(0, 3) },
      axisTick: { interval: 23 },
    },
    yAxis: namesAxis([...d.modules].reverse()),
    visualMap: {
      min: 0,
      max: Math.max(1, max),
      calculable: true,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 200,
      inRange: { color: ['#f3f7fd', '#9cc2f7', '#2f6fde', '#0b2e73'] },
    },
    series: [
      {
        name: 'requests per week',
        type: 'heatmap',
        data: d.cells.map(([h, m, v]) => [h, n - 1 - m, v]),
        emphasis: { itemStyle: { borderColor: '#333', borderWidth: 1 } },
        progressive: 0,
      },
    ],
  };
}

/** Both windows of the top-N panel by weekday, and what a reader comparing their bars should know. */
export function topWindows(d: TopReply, timeZone = 'UTC'): { actual: string; forecast: string; notes: string[] } {
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  const [aFrom, aTo, fFrom, fTo] = [ms(d.actualFrom), ms(d.actualTo), ms(d.forecastFrom), ms(d.forecastTo)];
  const notes: string[] = [];
  const weekend = (from: number, to: number) => weekendShare(from, to, timeZone) > 0.5;
  const named = (what: string, from: number | null, to: number | null) =>
    from === null || to === null ? what : `${what} ${span(from, to, timeZone)}${weekend(from, to) ? ' (weekend)' : ''}`;
  if (aFrom !== null && aTo !== null && fFrom !== null && fTo !== null) {
    const [aWeekend, fWeekend] = [weekend(aFrom, aTo), weekend(fFrom, fTo)];
    if (fWeekend && !aWeekend) notes.push('the forecast window is mostly a weekend, the actual one weekdays: expect shorter forecast bars');
    if (aWeekend && !fWeekend) notes.push('the actual window is mostly a weekend, the forecast one weekdays: expect longer forecast bars');
    if (fTo - fFrom < aTo - aFrom) notes.push(`the forecast covers ${Math.round((fTo - fFrom) / 3_600_000)} h of the ${d.window} window (the run's horizon)`);
  }
  return {
    actual: named('actual', aFrom, aTo),
    forecast: d.run ? named('forecast', fFrom, fTo) : 'forecast (no run yet)',
    notes,
  };
}

export function topOption(d: TopReply, timeZone = 'UTC'): EChartsCoreOption {
  if (d.items.length === 0) return emptyOption('no requests in this window');
  const items = [...d.items].reverse();
  const windows = topWindows(d, timeZone);
  return {
    color: [BLUE, ORANGE],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 230, right: 30, top: 30, bottom: 20 },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => num(v) } },
    yAxis: namesAxis(items.map((i) => i.key), 34),
    series: [
      { name: windows.actual, type: 'bar', data: items.map((i) => i.actual), barGap: '10%' },
      { name: windows.forecast, type: 'bar', data: items.map((i) => (i.forecast === null ? null : Math.round(i.forecast * 10) / 10)) },
    ],
  };
}

export function releasesOption(d: ReleasesReply): EChartsCoreOption {
  if (d.releases.length === 0) return emptyOption('no new versions first seen in this window');
  const rows = [...d.releases].reverse();
  const cells: [number, number, number, number][] = [];
  rows.forEach((r, y) => {
    for (const reg of r.regions) cells.push([d.regions.indexOf(reg.region), y, Math.round(reg.lagHours * 10) / 10, reg.requests]);
  });
  const maxLag = cells.reduce((m, c) => Math.max(m, c[2]), 0);
  return {
    tooltip: {
      formatter: (p: { data: [number, number, number, number] }) => {
        const r = rows[p.data[1]];
        return `${esc(r ? `${r.module}@${r.version}` : '')}<br>${esc(d.regions[p.data[0]] ?? '')}: first request +${p.data[2]} h after the first anywhere, ${num(p.data[3])} requests`;
      },
    },
    grid: { left: 250, right: 20, top: 10, bottom: 80 },
    xAxis: { type: 'category', data: d.regions, splitArea: { show: true } },
    yAxis: namesAxis(rows.map((r) => `${r.module}@${r.version}`), 40),
    visualMap: {
      min: 0,
      max: Math.max(1, maxLag),
      calculable: true,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      text: ['later', 'first'],
      inRange: { color: ['#27ae60', '#f2c94c', '#eb5757'] },
      dimension: 2,
    },
    series: [
      {
        name: 'hours after first seen',
        type: 'heatmap',
        data: cells,
        label: { show: true, formatter: (p: { data: number[] }) => `+${p.data[2]}h`, fontSize: 10 },
      },
    ],
  };
}

export function warmupsOption(d: WarmupStatsReply): EChartsCoreOption {
  if (d.days.length === 0) return emptyOption('no warm-up runs in this window');
  const days = [...new Set(d.days.map((x) => x.day.slice(0, 10)))].sort();
  const statuses = [...new Set(d.days.map((x) => x.status))].sort();
  return {
    color: PALETTE,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 50, right: 50, top: 30, bottom: 30 },
    xAxis: { type: 'category', data: days },
    yAxis: [
      { type: 'value', name: 'items', axisLabel: { formatter: (v: number) => num(v) } },
      { type: 'value', name: 'runs', splitLine: { show: false } },
    ],
    series: [
      { name: 'items fetched', type: 'bar', stack: 'items', data: days.map((day) => sumWhere(d, day, (x) => x.itemsDone)) },
      { name: 'items failed', type: 'bar', stack: 'items', data: days.map((day) => sumWhere(d, day, (x) => x.itemsFailed)) },
      ...statuses.map((s) => ({
        name: `runs ${s}`,
        type: 'line',
        yAxisIndex: 1,
        data: days.map((day) => sumWhere(d, day, (x) => (x.status === s ? x.runs : 0))),
      })),
    ],
  };
}

function sumWhere(d: WarmupStatsReply, day: string, pick: (x: WarmupStatsReply['days'][number]) => number): number {
  return d.days.filter((x) => x.day.startsWith(day)).reduce((s, x) => s + pick(x), 0);
}

/** Missing buckets shorter than this are quiet minutes (zero events); from this long on, a span with no data. */
const GAP_MS = 30 * 60_000;

/**
 * The events line with its gaps: missing buckets are zeros when few (a quiet spell), but a run of them lasting
 * GAP_MS or more is a span with no data, drawn as a break in the line (a null) instead of interpolated across.
 */
export function withGaps(points: readonly [number, number][], stepMs: number): { line: [number, number | null][]; gaps: [number, number][] } {
  const line: [number, number | null][] = [];
  const gaps: [number, number][] = [];
  let prev: number | undefined;
  for (const [t, v] of points) {
    if (prev !== undefined && t - prev > stepMs) {
      if (t - prev - stepMs >= GAP_MS) {
        line.push([prev + stepMs, null]);
        gaps.push([prev + stepMs, t]);
      } else for (let q = prev + stepMs; q < t; q += stepMs) line.push([q, 0]);
    }
    line.push([t, v]);
    prev = t;
  }
  return { line, gaps };
}

const TITLE_STYLE = { fontSize: 12, fontWeight: 'normal', color: '#5f6b7a' };

/**
 * Two time bases, so two x axes, each titled with what it is: events by event time (ending at the newest data,
 * which may be long ago for replayed logs), rejects by the time they were received (ending now).
 */
export function ingestOption(d: IngestReply): EChartsCoreOption {
  if (d.events.length === 0 && d.rejects.length === 0) return emptyOption('nothing ingested in this window');
  const axis = (gridIndex: number, from: string, to: string) => ({ type: 'time', gridIndex, min: Date.parse(from), max: Date.parse(to) });
  const events = withGaps(d.events, d.bucketMinutes * 60_000);
  return {
    color: [BLUE, RED],
    tooltip: { trigger: 'axis' },
    title: [
      { text: 'events per minute, by event time, to the newest data (shaded: none for 30 min or more)', left: 50, top: 0, textStyle: TITLE_STYLE },
      { text: 'rejects per minute, by time received (to now)', left: 50, top: '62%', textStyle: TITLE_STYLE },
    ],
    grid: [
      { left: 55, right: 20, top: 28, height: '42%' },
      { left: 55, right: 20, top: '70%', bottom: 25 },
    ],
    xAxis: [axis(0, d.from, d.to), axis(1, d.rejectsFrom, d.rejectsTo)],
    yAxis: [
      { type: 'value', gridIndex: 0, axisLabel: { formatter: (v: number) => num(v) } },
      { type: 'value', gridIndex: 1, splitNumber: 2, axisLabel: { formatter: (v: number) => num(v) } },
    ],
    series: [
      {
        name: 'events/min',
        type: 'line',
        showSymbol: false,
        connectNulls: false,
        areaStyle: { opacity: 0.15 },
        data: events.line,
        markArea: {
          silent: true,
          itemStyle: { color: 'rgba(138, 150, 163, 0.15)' },
          // Titled once above the chart: a label per span crowds a quiet night's many short ones.
          data: events.gaps.map(([from, to]) => [{ xAxis: from }, { xAxis: to }]),
        },
        xAxisIndex: 0,
        yAxisIndex: 0,
      },
      { name: 'rejects/min', type: 'bar', barMaxWidth: 10, data: d.rejects, xAxisIndex: 1, yAxisIndex: 1 },
    ],
  };
}
