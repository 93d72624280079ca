/** ECharts options of each panel, built from API replies. Pure: data in, option out. */
import type { EChartsCoreOption } from 'echarts/core';
import type { HeatmapReply, IngestReply, ReleasesReply, TopReply, WarmupStatsReply } from './api.js';
import { esc, hourOfWeek, num, shortLabel } from './format.js';

const PALETTE = ['#2f6fde', '#f2994a', '#27ae60', '#9b51e0', '#eb5757', '#56ccf2', '#bdbdbd'];

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
    grid: { left: 250, right: 20, top: 10, bottom: 70 },
    xAxis: {
      type: 'category',
      data: hours,
      splitArea: { show: true },
      axisLabel: { interval: 23, formatter: (v: string) => v.slice(0, 3) },
      axisTick: { interval: 23 },
    },
    yAxis: { type: 'category', data: [...d.modules].reverse().map((m) => shortLabel(m)), axisLabel: { fontSize: 11 } },
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

export function topOption(d: TopReply): EChartsCoreOption {
  if (d.items.length === 0) return emptyOption('no requests in this window');
  const items = [...d.items].reverse();
  return {
    color: [PALETTE[0], PALETTE[1]],
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 230, right: 30, top: 30, bottom: 20 },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => num(v) } },
    yAxis: { type: 'category', data: items.map((i) => shortLabel(i.key, 34)), axisLabel: { fontSize: 11 } },
    series: [
      { name: `actual (last ${d.window})`, type: 'bar', data: items.map((i) => i.actual), barGap: '10%' },
      {
        name: d.run ? `forecast (next ${d.window})` : 'forecast (no run yet)',
        type: 'bar',
        data: items.map((i) => (i.forecast === null ? null : Math.round(i.forecast * 10) / 10)),
      },
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
    yAxis: { type: 'category', data: rows.map((r) => shortLabel(`${r.module}@${r.version}`, 40)), axisLabel: { fontSize: 11 } },
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

export function ingestOption(d: IngestReply): EChartsCoreOption {
  if (d.events.length === 0 && d.rejects.length === 0) return emptyOption('nothing ingested in this window');
  return {
    color: [PALETTE[0], PALETTE[4]],
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: [
      { left: 55, right: 20, top: 30, height: '45%' },
      { left: 55, right: 20, top: '70%', bottom: 25 },
    ],
    xAxis: [
      { type: 'time', gridIndex: 0 },
      { type: 'time', gridIndex: 1 },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, name: 'events/min', axisLabel: { formatter: (v: number) => num(v) } },
      { type: 'value', gridIndex: 1, name: 'rejects/min', axisLabel: { formatter: (v: number) => num(v) } },
    ],
    series: [
      { name: 'events/min (event time)', type: 'line', showSymbol: false, areaStyle: { opacity: 0.15 }, data: d.events, xAxisIndex: 0, yAxisIndex: 0 },
      { name: 'rejects/min (received)', type: 'bar', barMaxWidth: 10, data: d.rejects, xAxisIndex: 1, yAxisIndex: 1 },
    ],
  };
}
