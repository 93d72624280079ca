/**
 * warm-up: N fetches by the warm-up executor (undici pool, token bucket, retries, bodies streamed and counted; not
 * hashed, as a node without `hashBodies` — the default) against a real Go module proxy (modcast-goproxy, the github.com/goproxy/goproxy handler, with its offline
 * upstream), each result recorded in warmup_items as a run does, against `wrk` fetching the same URLs over the
 * same number of connections. Target: >= 80% of wrk's rate at equal concurrency.
 *
 * The proxy serves the .info/.mod/.zip of every module version of its upstream tree; the N URLs cycle through them
 * with a distinct `?n=` each (the proxy ignores it), because the executor rightly never fetches one URL twice in a
 * run. The proxy is primed first, so both clients measure it serving from its storage.
 *
 * The notes give the CPU time per request of each side (client process, the executor's main thread, the proxy),
 * from the kernel's counters: on a 2-core machine the client and the proxy share the CPU, so they show where the
 * ceiling of each client is. A full run also measures the executor on a node with `hashBodies` (every body through
 * sha256), unrecorded, to show what the option costs, and undici alone (its dispatch with a handler that only
 * counts the body bytes, the same URLs and connections): the floor of any client built on undici in this process.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, request, type Dispatcher } from 'undici';
import { goproxyPath } from '../../src/domain/goproxy.js';
import { executeWarmup, itemIdOf, type WarmRequest } from '../../src/warmup/executor.js';
import { targetOf } from '../../src/warmup/fleet.js';
import { ItemRecorder, resultRow } from '../../src/warmup/records.js';
import { FleetNodeSchema } from '../../src/config.js';
import { startProxy, startUpstream, upstreamVersions } from '../../test/helpers/goproxy.js';
import { cpuSeconds, measurement, onCleanup, ownPeakRssMb, progress, rate, result, RssSampler, runStage, timed } from '../harness.js';
import { openBenchStore, scalar } from '../store-setup.js';

const TARGET_FETCHES = 20_000;
const CONNECTIONS = 8;
const ENDPOINTS = ['info', 'mod', 'zip'] as const;

/** wrk cycling through a file of paths (one per line), like the executor walks its request list. */
const WRK_SCRIPT = `
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i - 1) % #paths + 1])
end
`;

/** Runs `fn` and returns the CPU seconds each named /proc counter advanced meanwhile. */
async function cpuOf<T>(counters: Record<string, () => number>, fn: () => Promise<T> | T): Promise<{ value: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(counters).map(([k, read]) => [k, read()]));
  const value = await fn();
  return { value, cpu: Object.fromEntries(Object.entries(counters).map(([k, read]) => [k, read() - before[k]!])) };
}

function microsPer(cpu: Record<string, number>, n: number): string {
  return Object.entries(cpu)
    .map(([k, s]) => `${k} ${((s / n) * 1e6).toFixed(0)}`)
    .join(', ');
}

function runWrk(url: string, pathsFile: string, scriptFile: string, seconds: number, threads: number): { rps: number; requests: number; errors: string } {
  const res = spawnSync('wrk', [`-t${threads}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', scriptFile, url], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_PATHS: pathsFile },
  });
  if (res.error) throw new Error(`wrk could not run (${res.error.message}); install it: apt-get install -y wrk`);
  if (res.status !== 0) throw new Error(`wrk failed: ${res.stderr}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(res.stdout);
  const total = /(\d+) requests in/.exec(res.stdout);
  if (!rps || !total) throw new Error(`unexpected wrk output:\n${res.stdout}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(res.stdout);
  const socket = /Socket errors: (.*)/.exec(res.stdout);
  return { rps: Number(rps[1]), requests: Number(total[1]), errors: [non2xx ? `${non2xx[1]} non-2xx` : '', socket?.[1] ?? ''].filter(Boolean).join(', ') };
}

/** undici alone: each path dispatched on one Pool of `connections`, the body only counted, `connections` at a time. */
async function undiciCounting(origin: string, paths: readonly string[], connections: number): Promise<number> {
  const pool = new Pool(origin, { connections });
  let next = 0;
  let bytes = 0;
  const fetchOne = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => undefined,
        onResponseStart: (_c, status) => void (status !== 200 && reject(new Error(`${path}: HTTP ${status}`))),
        onResponseData: (_c, chunk) => void (bytes += chunk.length),
        onResponseEnd: () => resolve(),
        onResponseError: (_c, err) => reject(err),
      };
      pool.dispatch({ origin, path, method: 'GET' }, handler);
    });
  const loop = async () => {
    for (let i = next++; i < paths.length; i = next++) await fetchOne(paths[i]!);
  };
  try {
    await Promise.all(Array.from({ length: connections }, loop));
  } finally {
    await pool.close();
  }
  return bytes;
}

runStage(async ({ size, quick, workDir }) => {
  const rss = new RssSampler();
  const upstream = await startUpstream({ latencyMs: 0 });
  onCleanup(() => upstream.stop());
  const proxy = await startProxy(upstream.url);
  onCleanup(() => proxy.stop());
  rss.watch('goproxy', proxy.process.pid);

  const versions = upstreamVersions();
  const base = versions.flatMap((v) => ENDPOINTS.map((kind) => ({ ...v, kind, path: goproxyPath('/', v.module, v.version, kind) })));
  progress(`priming the proxy with ${base.length} URLs (${versions.length} module versions × info/mod/zip)`);
  for (const b of base) {
    const res = await request(`${proxy.url}${b.path}`);
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`priming ${b.path}: HTTP ${res.statusCode}`);
  }

  const requests: WarmRequest[] = Array.from({ length: size }, (_, n) => {
    const b = base[n % base.length]!;
    return { itemId: itemIdOf('bench', 'bench', b.module, `${b.version}#${n}`, b.kind), module: b.module, version: b.version, endpoint: b.kind, path: `${b.path}?n=${n}`, expectedBenefit: 1 };
  });
  const pathsFile = join(workDir, 'paths.txt');
  const scriptFile = join(workDir, 'cycle.lua');
  writeFileSync(pathsFile, requests.map((r) => r.path).join('\n') + '\n');
  writeFileSync(scriptFile, WRK_SCRIPT);

  const wrkSeconds = quick ? 2 : 10;
  progress(`wrk: ${CONNECTIONS} connections, 2 threads (one per core), ${wrkSeconds} s over the same ${size.toLocaleString()} URLs`);
  const proxyPid = proxy.process.pid!;
  const wrkCounters = { wrk: () => cpuSeconds('self', true), goproxy: () => cpuSeconds(String(proxyPid)) };
  const wrkRun = await cpuOf(wrkCounters, () => runWrk(proxy.url, pathsFile, scriptFile, wrkSeconds, 2));
  const wrk = wrkRun.value;
  progress(`wrk: ${wrk.rps.toFixed(0)} requests/s${wrk.errors ? ` (${wrk.errors})` : ''}; CPU µs per request: ${microsPer(wrkRun.cpu, wrk.requests)}`);
  // The executor is one Node thread: wrk on one thread is the client-side limit it competes with.
  const wrk1Run = await cpuOf(wrkCounters, () => runWrk(proxy.url, pathsFile, scriptFile, wrkSeconds, 1));
  const wrk1 = wrk1Run.value;
  progress(`wrk, 1 thread: ${wrk1.rps.toFixed(0)} requests/s; CPU µs per request: ${microsPer(wrk1Run.cpu, wrk1.requests)}`);

  const { store } = await openBenchStore(workDir);
  onCleanup(() => store.close());
  const target = targetOf(
    FleetNodeSchema.parse({ name: 'bench', region: 'bench', baseUrl: proxy.url, software: 'goproxy', maxConcurrency: CONNECTIONS, maxRequestsPerSecond: 100_000, maxBytesPerRun: 1024 ** 4 }),
    {},
  );

  const executorCounters = {
    node: () => cpuSeconds('self'),
    'node main thread': () => cpuSeconds(`self/task/${process.pid}`),
    goproxy: () => cpuSeconds(String(proxyPid)),
  };
  const executorOnlyRun = quick
    ? undefined
    : await cpuOf(executorCounters, () =>
        timed(() => executeWarmup({ target, requests: requests.map((r) => ({ ...r, path: `${r.path}&pass=1` })), onResult: () => undefined })),
      );
  const executorOnly = executorOnlyRun?.value;
  if (executorOnlyRun) progress(`executor alone (results not recorded): ${executorOnlyRun.value.seconds.toFixed(2)} s; CPU µs per fetch: ${microsPer(executorOnlyRun.cpu, size)}`);
  const hashingRun = quick
    ? undefined
    : await cpuOf(executorCounters, () =>
        timed(() => executeWarmup({ target: { ...target, hashBodies: true }, requests: requests.map((r) => ({ ...r, path: `${r.path}&pass=2` })), onResult: () => undefined })),
      );
  const undiciRun = quick
    ? undefined
    : await cpuOf(executorCounters, () => timed(() => undiciCounting(proxy.url, requests.map((r) => `${r.path}&pass=3`), CONNECTIONS)));
  if (undiciRun) progress(`undici alone (dispatch, body bytes counted): ${undiciRun.value.seconds.toFixed(2)} s; CPU µs per fetch: ${microsPer(undiciRun.cpu, size)}`);
  if (hashingRun) progress(`executor hashing every body (hashBodies), not recorded: ${hashingRun.value.seconds.toFixed(2)} s; CPU µs per fetch: ${microsPer(hashingRun.cpu, size)}`);

  progress(`executor: ${size.toLocaleString()} fetches over ${CONNECTIONS} connections, results recorded in warmup_items`);
  const recorder = new ItemRecorder(store);
  const recordedRun = await cpuOf(executorCounters, () =>
    timed(async () => {
      const summary = await executeWarmup({ target, requests, onResult: (r) => recorder.add(resultRow('bench', 'bench', r)) });
      await recorder.flush();
      return summary;
    }),
  );
  const run = recordedRun.value;
  const s = run.value;
  progress(`executor: ${run.seconds.toFixed(2)} s (${s.ok} ok, ${s.failed} failed, ${s.notFound} not found, ${(s.bytes / 1e6).toFixed(0)} MB); CPU µs per fetch: ${microsPer(recordedRun.cpu, size)}`);
  if (s.ok !== size) throw new Error(`only ${s.ok} of ${size} fetches succeeded (${s.failed} failed, ${s.notFound} not found, ${s.skipped} skipped)`);
  const recorded = await scalar(store, "SELECT count() FROM warmup_items WHERE status = 'ok'");
  if (recorded !== size) throw new Error(`${recorded} results recorded, expected ${size}`);
  const detail = rss.stop();

  return result({
    stage: 'warmup',
    size,
    workload: `${size.toLocaleString()} fetches (${versions.length} module versions × info/mod/zip, cycled) from a real Go proxy, ${CONNECTIONS} connections`,
    figure: measurement('warm-up executor + recording', rate(size, run.seconds), 'fetches/s'),
    reference: measurement(`wrk, ${CONNECTIONS} connections, 2 threads`, wrk.rps, 'requests/s'),
    extra: [
      measurement(`wrk, ${CONNECTIONS} connections, 1 thread`, wrk1.rps, 'requests/s'),
      ...(executorOnly ? [measurement('executor alone, results not recorded', rate(size, executorOnly.seconds), 'fetches/s')] : []),
      ...(hashingRun ? [measurement('executor hashing every body (hashBodies), not recorded', rate(size, hashingRun.value.seconds), 'fetches/s')] : []),
      ...(undiciRun ? [measurement('undici alone, dispatch counting body bytes', rate(size, undiciRun.value.seconds), 'requests/s')] : []),
    ],
    peakRssMb: ownPeakRssMb(),
    rssDetailMb: detail,
    seconds: run.seconds,
    notes: [
      `all ${size} fetches ok and recorded; ${(s.bytes / 1e6).toFixed(0)} MB of bodies counted (not hashed: hashBodies is off by default)`,
      `CPU µs per request — wrk 2 threads: ${microsPer(wrkRun.cpu, wrk.requests)}; wrk 1 thread: ${microsPer(wrk1Run.cpu, wrk1.requests)}; ` +
        `${executorOnlyRun ? `executor alone: ${microsPer(executorOnlyRun.cpu, size)}; ` : ''}` +
        `${hashingRun ? `executor hashing every body: ${microsPer(hashingRun.cpu, size)}; ` : ''}` +
        `${undiciRun ? `undici alone: ${microsPer(undiciRun.cpu, size)}; ` : ''}executor + recording: ${microsPer(recordedRun.cpu, size)}`,
      ...(wrk.errors ? [`wrk: ${wrk.errors}`] : []),
    ],
    target: ">= 80% of wrk's rate at equal concurrency",
    meets: ({ ratio }) => ratio >= 0.8,
    targetSize: TARGET_FETCHES,
    quick,
  });
});
