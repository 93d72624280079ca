/**
 * Prints the hottest functions of a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile`):
 * self time and total (inclusive) time per function, so a missed target comes with its hot spot.
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--filter src/]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectPath } from '../src/lib/paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  fn: string;
  selfMs: number;
  totalMs: number;
  selfPct: number;
}

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  let where = url;
  if (url.startsWith('file://')) where = relative(projectPath(), fileURLToPath(url));
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
}

export function summarize(profile: CpuProfile): HotSpot[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + us);
    // Inclusive time: each distinct function on the stack once (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = frameName(byId.get(cur)!);
      if (seen.has(f)) continue;
      seen.add(f);
      total.set(f, (total.get(f) ?? 0) + us);
    }
  }
  return [...self.keys()]
    .map((fn) => ({
      fn,
      selfMs: (self.get(fn) ?? 0) / 1000,
      totalMs: (total.get(fn) ?? 0) / 1000,
      selfPct: (100 * (self.get(fn) ?? 0)) / Math.max(1, totalUs),
    }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: bench/profile-summary.ts <file.cpuprofile> [--top N] [--filter substring]');
    process.exit(2);
  }
  const top = Number(args[args.indexOf('--top') + 1] ?? 25) || 25;
  const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1] : undefined;
  const spots = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile).filter((s) => !filter || s.fn.includes(filter));
  console.log('self ms   self %   total ms  function');
  for (const s of spots.slice(0, top)) {
    console.log(`${s.selfMs.toFixed(0).padStart(7)}  ${s.selfPct.toFixed(1).padStart(6)}%  ${s.totalMs.toFixed(0).padStart(8)}  ${s.fn}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
