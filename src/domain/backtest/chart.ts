/**
 * Benefit vs budget per method as a standalone SVG (string building only, no dependencies): one panel per budget
 * kind (items, bytes), x = budget levels in order, y = misses avoided, one line per method.
 */
import type { MethodMetrics } from './metrics.js';
import { REACHABLE_ORACLE } from './oracle.js';
import type { BudgetKind } from './method.js';

/** Methods every reader looks for get a fixed, distinct style; single rankers and models are thin muted lines. */
const STYLES: Record<string, { color: string; width: number; dash?: string }> = {
  modcast: { color: '#1f5fbf', width: 3.5 },
  'last-24h': { color: '#d95f02', width: 2.5 },
  'same-hour-last-week': { color: '#7570b3', width: 2.5 },
  'no-warmup': { color: '#b0b0b0', width: 2, dash: '2 3' },
  oracle: { color: '#111111', width: 2, dash: '7 4' },
  [REACHABLE_ORACLE]: { color: '#555555', width: 2, dash: '3 3' },
};
/** No greys: grey is no-warm-up's and the oracles'. */
const MUTED = ['#8fb9a8', '#e4a9a0', '#a9b6d8', '#d7b5d8', '#b8d39a', '#e6cf8a', '#c9b29b', '#9ecae1', '#fdae6b', '#bcbddc'];
const PLOT_W = 520;
const PLOT_H = 210;
const MARGIN = { left: 70, top: 40, bottom: 50, legendGap: 20 };
const LEGEND_ROW = 16;
/** Width of a legend label (sans-serif at 12 px averages well under 7 px a character). */
const labelWidth = (s: string): number => 24 + 7 * s.length;

function styleOf(method: string, i: number): { color: string; width: number; dash?: string } {
  return STYLES[method] ?? { color: MUTED[i % MUTED.length]!, width: 1.5 };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function panel(rows: readonly MethodMetrics[], kind: BudgetKind, top: number, styles: Map<string, ReturnType<typeof styleOf>>): string {
  const byMethod = new Map<string, MethodMetrics[]>();
  for (const r of rows) if (r.budget.kind === kind) byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), r]);
  const levels = [...new Map(rows.filter((r) => r.budget.kind === kind).map((r) => [r.budget.value, r.budgetLabel])).entries()].sort((a, b) => a[0] - b[0]);
  if (levels.length === 0) return '';
  const yMax = niceMax(Math.max(1, ...rows.filter((r) => r.budget.kind === kind).map((r) => r.missesAvoided)));
  const plotW = PLOT_W;
  const plotH = PLOT_H;
  const x = (i: number): number => MARGIN.left + (levels.length === 1 ? plotW / 2 : (i / (levels.length - 1)) * plotW);
  const y = (v: number): number => top + MARGIN.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${MARGIN.left}" y="${top + 24}" font-size="15" font-weight="bold">Misses avoided vs budget (${kind === 'items' ? 'items' : 'bytes'} per node per decision)</text>`);
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${y(v) + 4}" font-size="11" text-anchor="end">${Math.round(v)}</text>`);
  }
  levels.forEach(([, label], i) => {
    parts.push(`<text x="${x(i)}" y="${top + MARGIN.top + plotH + 18}" font-size="11" text-anchor="middle">${escapeXml(label)}</text>`);
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${y(0)}" y2="${y(yMax)}" stroke="#333"/>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  let legendY = top + MARGIN.top;
  // Muted lines first, so the methods every reader looks for are drawn on top.
  const order = [...byMethod.entries()].sort((a, b) => Number(a[0] in STYLES) - Number(b[0] in STYLES));
  for (const [method, list] of order) {
    const { color, width, dash: dashArray } = styles.get(method)!;
    const pts = list
      .map((r) => [levels.findIndex(([v]) => v === r.budget.value), r.missesAvoided] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    const dash = dashArray ? ` stroke-dasharray="${dashArray}"` : '';
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="${width}"${dash} points="${pts.join(' ')}"><title>${escapeXml(method)}</title></polyline>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
  }
  // The legend in method order, one row each, never clipped: the panel is as tall and the image as wide as it needs.
  // Each key is a stretch of the method's own line, dashes included: the greys (no-warm-up, the oracles) differ by them.
  for (const method of byMethod.keys()) {
    const { color, dash } = styles.get(method)!;
    const x0 = MARGIN.left + plotW + MARGIN.legendGap;
    parts.push(`<line x1="${x0}" x2="${x0 + 14}" y1="${legendY - 3}" y2="${legendY - 3}" stroke="${color}" stroke-width="3"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    parts.push(`<text x="${x0 + 18}" y="${legendY + 1}" font-size="12">${escapeXml(method)}</text>`);
    legendY += LEGEND_ROW;
  }
  return parts.join('\n');
}

/** Height of a panel: the plot, or the legend when it is longer. */
function panelHeight(methods: number): number {
  return MARGIN.top + Math.max(PLOT_H + MARGIN.bottom, methods * LEGEND_ROW + 20);
}

export function benefitChartSvg(rows: readonly MethodMetrics[], title = 'modcast backtest'): string {
  const methods = [...new Set(rows.map((r) => r.method))];
  let muted = 0;
  const styles = new Map(methods.map((m) => [m, styleOf(m, m in STYLES ? 0 : muted++)]));
  const kinds = (['items', 'bytes'] as const).filter((k) => rows.some((r) => r.budget.kind === k));
  const panelH = panelHeight(methods.length);
  const height = Math.max(1, kinds.length) * panelH + 30;
  const width = MARGIN.left + PLOT_W + MARGIN.legendGap + Math.max(120, ...methods.map(labelWidth)) + 10;
  const panels = kinds.map((k, i) => panel(rows, k, 30 + i * panelH, styles));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="13" fill="#555">${escapeXml(title)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
