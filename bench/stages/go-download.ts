/**
 * go-download: what a warm proxy node saves a build. The real `go mod download` of the test module set
 * (test/fixtures/goproxy-modules/go.mod: 35 modules and their module graph, from the offline upstream with a
 * WAN-like delay per response) through a fresh node (cold: every file fetched upstream) and again, with an empty
 * client cache, through the same node (warm: everything from its storage), for modcast-goproxy and Athens.
 * `size` = repetitions, each on fresh nodes; the median is reported. Figure: warm seconds through Athens; reference:
 * cold seconds through Athens; goproxy's pair and the upstream requests are in `extra` and the notes.
 */
import type { Measurement } from '../harness.js';
import { median, measurement, onCleanup, ownPeakRssMb, progress, result, runStage } from '../harness.js';
import { goModDownload, removeServerDir, startAthens, startProxy, startUpstream } from '../../test/helpers/goproxy.js';

const UPSTREAM_LATENCY_MS = 50;

interface Pair {
  cold: number;
  warm: number;
  coldUpstream: number;
  warmUpstream: number;
}

async function coldAndWarm(software: 'goproxy' | 'athens', upstream: Awaited<ReturnType<typeof startUpstream>>): Promise<Pair> {
  const node = software === 'athens' ? await startAthens(upstream.url) : await startProxy(upstream.url);
  try {
    await upstream.resetStats();
    const cold = await goModDownload(node.url);
    if (cold.exitCode !== 0) throw new Error(`cold go mod download through ${software} failed: ${cold.stderr}`);
    const coldUpstream = (await upstream.stats()).requests;
    await upstream.resetStats();
    const warm = await goModDownload(node.url);
    if (warm.exitCode !== 0) throw new Error(`warm go mod download through ${software} failed: ${warm.stderr}`);
    const warmUpstream = (await upstream.stats()).requests;
    return { cold: cold.elapsedMs / 1000, warm: warm.elapsedMs / 1000, coldUpstream, warmUpstream };
  } finally {
    await node.stop();
    removeServerDir(node);
  }
}

runStage(async ({ size, quick }) => {
  const upstream = await startUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  onCleanup(async () => {
    await upstream.stop();
    removeServerDir(upstream);
  });
  const runs: Record<'goproxy' | 'athens', Pair[]> = { goproxy: [], athens: [] };
  for (let i = 0; i < size; i++) {
    for (const software of ['goproxy', 'athens'] as const) {
      const pair = await coldAndWarm(software, upstream);
      progress(`${software} run ${i + 1}: cold ${pair.cold.toFixed(1)} s (${pair.coldUpstream} upstream requests), warm ${pair.warm.toFixed(1)} s (${pair.warmUpstream})`);
      runs[software].push(pair);
    }
  }
  const med = (software: 'goproxy' | 'athens', key: 'cold' | 'warm') => median(runs[software], (p) => p[key])[key];
  const extra: Measurement[] = [
    measurement('goproxy warm', med('goproxy', 'warm'), 's', 'lower'),
    measurement('goproxy cold', med('goproxy', 'cold'), 's', 'lower'),
  ];
  const started = runs.athens.length + runs.goproxy.length;
  return result({
    stage: 'go-download',
    size,
    workload: `go mod download of the test module set, upstream ${UPSTREAM_LATENCY_MS} ms/response, median of ${size}`,
    figure: measurement('Athens warm', med('athens', 'warm'), 's', 'lower'),
    reference: measurement('Athens cold', med('athens', 'cold'), 's', 'lower'),
    extra,
    peakRssMb: ownPeakRssMb(), // the stage process; the proxies and the go command are not sampled
    seconds: [...runs.athens, ...runs.goproxy].reduce((s, p) => s + p.cold + p.warm, 0),
    notes: [
      `${started} cold/warm pairs; upstream requests cold/warm: ` +
        (['goproxy', 'athens'] as const).map((s) => `${s} ${runs[s].map((p) => `${p.coldUpstream}/${p.warmUpstream}`).join(', ')}`).join('; '),
    ],
    target: 'warm < cold, 0 upstream requests when warm',
    meets: () => (['goproxy', 'athens'] as const).every((s) => runs[s].every((p) => p.warmUpstream === 0 && p.warm < p.cold)),
    targetSize: 1,
    quick,
  });
});
