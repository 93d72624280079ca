/**
 * Benefit vs budget per method as a standalone SVG (string building only, no dependencies): one panel per budget
 * kind (items, bytes), x = budget levels in order, y = misses avoided, one line per method.
 */
import type { MethodMetrics } from './metrics.js';
import type { BudgetKind } from './method.js';

const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4', '#b2df8a', '#fb9a99'];
const PANEL_W = 720;
const PANEL_H = 300;
const MARGIN = { left: 70, right: 190, top: 40, bottom: 50 };

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

function panel(rows: readonly MethodMetrics[], kind: BudgetKind, top: number, colors: Map<string, string>): string {
  const byMethod = new Map<string, MethodMetrics[]>();
  for (const r of rows) if (r.budget.kind === kind) byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), r]);
  const levels = [...new Map(rows.filter((r) => r.budget.kind === kind).map((r) => [r.budget.value, r.budgetLabel])).entries()].sort((a, b) => a[0] - b[0]);
  if (levels.length === 0) return '';
  const yMax = niceMax(Math.max(1, ...rows.filter((r) => r.budget.kind === kind).map((r) => r.missesAvoided)));
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
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
  for (const [method, list] of byMethod) {
    const color = colors.get(method)!;
    const pts = list
      .map((r) => [levels.findIndex(([v]) => v === r.budget.value), r.missesAvoided] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    const dash = method === 'oracle' ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"><title>${escapeXml(method)}</title></polyline>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    parts.push(`<rect x="${MARGIN.left + plotW + 20}" y="${legendY - 9}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${MARGIN.left + plotW + 38}" y="${legendY + 1}" font-size="12">${escapeXml(method)}</text>`);
    legendY += 18;
  }
  return parts.join('\n');
}

export function benefitChartSvg(rows: readonly MethodMetrics[], title = 'modcast backtest'): string {
  const methods = [...new Set(rows.map((r) => r.method))];
  const colors = new Map(methods.map((m, i) => [m, PALETTE[i % PALETTE.length]!]));
  const kinds = (['items', 'bytes'] as const).filter((k) => rows.some((r) => r.budget.kind === k));
  const height = Math.max(1, kinds.length) * PANEL_H + 30;
  const panels = kinds.map((k, i) => panel(rows, k, 30 + i * PANEL_H, colors));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL_W}" height="${height}" viewBox="0 0 ${PANEL_W} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="13" fill="#555">${escapeXml(title)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
