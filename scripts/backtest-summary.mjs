#!/usr/bin/env node
// Summarises backtest report.json files as a markdown table: per budget, the naive baselines, the best single
// ranker, the model ensemble, modcast (with its paired-bootstrap interval against last-24h) and the reachable oracle.
// Usage: node scripts/backtest-summary.mjs label=dir/report.json [label=dir/report.json ...]
import { readFileSync } from 'node:fs';

const pct = (x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%` : '+inf');
const lines = [
  '| trace | budget | last-24h | same-hour-last-week | best single ranker | models | modcast | modcast vs last-24h [95% CI] | reachable oracle |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.includes('=') ? arg.split('=') : [arg, arg];
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const budget of report.budgets) {
    const rows = report.rows.filter((r) => r.budget.kind === budget.kind && r.budget.value === budget.value);
    const at = (m) => rows.find((r) => r.method === m);
    const singles = rows.filter((r) => r.method.startsWith('rank:')).sort((a, b) => b.missesAvoided - a.missesAvoided);
    const m = at('modcast');
    const cell = (r) => (r ? String(r.missesAvoided) : '-');
    lines.push(`| ${label} | ${m?.budgetLabel ?? ''}${m && !m.informative ? ' (uninformative)' : ''} | ${cell(at('last-24h'))} | ${cell(at('same-hour-last-week'))} | ${singles[0] ? `${singles[0].missesAvoided} (${singles[0].method.slice(5)})` : '-'} | ${cell(at('modcast:models'))} | ${cell(m)} | ${m?.vsBaseline ? `${pct(m.vsBaseline.change)} [${pct(m.vsBaseline.low)}, ${pct(m.vsBaseline.high)}]` : '-'} | ${cell(at('oracle:reachable'))} |`);
  }
}
console.log(lines.join('\n'));
