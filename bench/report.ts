/**
 * Turns a results file into the Markdown table of docs/benchmarks.md ("Last figures"):
 *
 *   node --import tsx bench/report.ts [.bench-results/<timestamp>.json ...]   (default: the newest file)
 *
 * Several files (e.g. a full run plus a later re-run of some stages) are merged, later files winning per stage.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, formatMeasurement, type StageResult } from './harness.js';

interface ResultsFile {
  startedAt: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGb: number; os: string; node: string; chdb: string };
  loadAverage?: { start: number[]; end: number[] };
  runs: { stage: string; size: number; result?: StageResult; error?: string }[];
}

function targetText(r: StageResult): string {
  // Files written before `judged` existed carry `met` only when judged.
  const judged = r.target.judged ?? r.target.met !== undefined;
  if (!judged || r.target.met === undefined) return r.target.text;
  return `${r.target.met ? 'met' : '**missed**'} (${r.target.text})`;
}

export function markdown(files: { name: string; data: ResultsFile }[]): string {
  const byStage = new Map<string, ResultsFile['runs']>();
  for (const f of files) {
    const stages = new Set(f.data.runs.map((r) => r.stage));
    for (const stage of stages) byStage.set(stage, f.data.runs.filter((r) => r.stage === stage));
  }
  const lines = [
    '| stage | workload | modcast | reference (same run) | ratio | peak RSS | target |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const runs of byStage.values()) {
    const rss = runs.filter((r) => r.result).map((r) => `${r.result!.peakRssMb.toFixed(0)} MB @ ${r.size.toLocaleString('en-US')}`).join(', ');
    const main = [...runs].reverse().find((r) => r.result);
    if (!main?.result) {
      lines.push(`| ${runs[0]?.stage} | | failed: ${runs.map((r) => r.error).join('; ')} | | | | |`);
      continue;
    }
    const r = main.result;
    const extras = r.extra.filter((e) => e.unit !== 'MB').map((e) => `${formatMeasurement(e)} (${e.label})`).join('; ');
    lines.push(
      `| ${r.stage} | ${r.workload} | ${formatMeasurement(r.figure)} (${r.figure.label}) | ${formatMeasurement(r.reference)} (${r.reference.label})${extras ? `; ${extras}` : ''} | ${r.ratio} | ${rss} | ${targetText(r)} |`,
    );
  }
  const m = files[0]!.data.machine;
  const starts = files.map((f) => f.data.startedAt).sort();
  const when = starts.length === 1 ? starts[0] : `between ${starts[0]} and ${starts[starts.length - 1]} (${files.length} runs)`;
  const load = Math.max(...files.map((f) => f.data.loadAverage?.start[0] ?? NaN));
  lines.push(
    '',
    `Measured ${when} on ${m.cores} × ${m.cpu}, ${m.memoryGb} GB RAM, ${m.os}, Node ${m.node}, chDB ${m.chdb}` +
      `${Number.isFinite(load) ? `; 1-minute load average at most ${load} when a run started` : ''}.`,
  );
  return lines.join('\n');
}

function main(): void {
  let names = process.argv.slice(2);
  if (names.length === 0) {
    const newest = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).sort().pop();
    if (!newest) throw new Error(`no results in ${RESULTS_DIR}; run npm run bench first`);
    names = [join(RESULTS_DIR, newest)];
  }
  console.log(markdown(names.map((name) => ({ name, data: JSON.parse(readFileSync(name, 'utf8')) as ResultsFile }))));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
