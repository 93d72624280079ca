/**
 * Fetches warm-up requests against ONE node: an undici Pool with keep-alive (connections = maxConcurrency),
 * a token bucket (maxRequestsPerSecond), a per-request timeout, retries with jittered backoff on 5xx, 429 and
 * network errors, none on 404/410 ("not found upstream") or other 4xx. Redirects are followed only within the
 * node's origin. Bodies are streamed through sha256 and counted, never held.
 *
 * Nodes are independent: run one executor per node concurrently and a dead, failing or slow node only costs
 * its own run (timeouts bound each request; a circuit opens after consecutive network failures).
 */
import { createHash } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { WarmEndpoint } from '../domain/plan.js';
import { withRetry } from '../lib/retry.js';
import { TokenBucket } from './token-bucket.js';
import type { WarmTarget } from './fleet.js';

export interface WarmRequest {
  /** Deterministic: same run, node, module, version and endpoint give the same id (see itemIdOf). */
  itemId: string;
  module: string;
  version: string;
  endpoint: WarmEndpoint;
  /** Path on the node, from the planner (validated, escaped). */
  path: string;
  expectedBenefit: number;
}

export type WarmStatus = 'ok' | 'not_found' | 'failed' | 'skipped';

export interface WarmResult extends WarmRequest {
  status: WarmStatus;
  httpStatus: number;
  bytes: number;
  latencyMs: number;
  attempts: number;
  sha256: string;
  reason: string;
  finishedAt: number;
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 200, maxMs: 5000 };

export interface ExecuteOptions {
  target: WarmTarget;
  requests: readonly WarmRequest[];
  /** Called once per request as it finishes (in completion order); awaited, so it may persist. */
  onResult: (r: WarmResult) => void | Promise<void>;
  signal?: AbortSignal;
  logger?: Logger;
  retry?: RetryPolicy;
  /** Stop starting requests once this many body bytes were received (default target.maxBytesPerRun). */
  maxBytes?: number;
  /** Consecutive network-level failures after which the node is considered down. Default 5. */
  circuitBreakAfter?: number;
  /** Injected dispatcher (tests); by default a Pool per call, closed at the end. */
  dispatcher?: Dispatcher;
  random?: () => number;
  userAgent?: string;
}

export interface ExecuteSummary {
  ok: number;
  notFound: number;
  failed: number;
  skipped: number;
  bytes: number;
  elapsedMs: number;
}

const MAX_REDIRECTS = 5;

/**
 * Process-wide single flight per URL: overlapping runs (a scheduled run and a release run on the same node, or a
 * second trigger) never fetch the same URL twice at once, and a URL fetched OK moments ago is not fetched again.
 */
const inFlight = new Map<string, Promise<FetchOutcome>>();
const recentOk = new Map<string, { at: number; outcome: FetchOutcome }>();
const RECENT_OK_MS = 10 * 60_000;
const RECENT_OK_MAX = 20_000;

function rememberOk(key: string, outcome: FetchOutcome): void {
  recentOk.delete(key);
  recentOk.set(key, { at: Date.now(), outcome });
  if (recentOk.size > RECENT_OK_MAX) recentOk.delete(recentOk.keys().next().value as string);
}

function recentlyFetched(key: string): FetchOutcome | undefined {
  const hit = recentOk.get(key);
  if (!hit) return undefined;
  if (Date.now() - hit.at > RECENT_OK_MS) {
    recentOk.delete(key);
    return undefined;
  }
  return hit.outcome;
}

/** A failure worth retrying (5xx, 429, network error, timeout). */
class RetryableError extends Error {
  constructor(message: string, readonly httpStatus: number, readonly network: boolean) {
    super(message);
  }
}

/** A final answer that is not a success (404/410, other 4xx, refused redirect). */
class FinalError extends Error {
  constructor(message: string, readonly httpStatus: number, readonly status: WarmStatus) {
    super(message);
  }
}

interface FetchOutcome {
  httpStatus: number;
  bytes: number;
  sha256: string;
}

/** Streams a body through sha256 and a byte counter; memory stays at one chunk. */
async function drain(body: AsyncIterable<Buffer>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // the connection is closed instead of reused; nothing else to do
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** One attempt: GET path (following same-origin redirects), classify the status, drain the body. */
async function fetchOnce(dispatcher: Dispatcher, target: WarmTarget, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<FetchOutcome> {
  let current = path;
  for (let hop = 0; ; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await dispatcher.request({ origin: target.origin, path: current, method: 'GET', headers, signal });
    } catch (e) {
      const err = e as Error & { code?: string };
      if (signal.aborted) throw new RetryableError(`timeout or abort: ${err.message}`, 0, true);
      throw new RetryableError(`${err.code ?? err.name}: ${err.message}`, 0, true);
    }
    const status = res.statusCode;
    if (isRedirect(status)) {
      await discard(res.body);
      const location = res.headers['location'];
      const loc = Array.isArray(location) ? location[0] : location;
      if (!loc) throw new FinalError(`redirect ${status} without Location`, status, 'failed');
      const next = new URL(loc, `${target.origin}${current}`);
      if (next.origin !== target.origin) throw new FinalError(`redirect to another origin refused (${next.origin})`, status, 'failed');
      if (hop >= MAX_REDIRECTS) throw new FinalError(`more than ${MAX_REDIRECTS} redirects`, status, 'failed');
      current = `${next.pathname}${next.search}`;
      continue;
    }
    if (status >= 200 && status < 300) {
      try {
        const { bytes, sha256 } = await drain(res.body);
        return { httpStatus: status, bytes, sha256 };
      } catch (e) {
        throw new RetryableError(`body: ${(e as Error).message}`, status, true);
      }
    }
    await discard(res.body);
    if (status === 404 || status === 410) throw new FinalError('not found upstream', status, 'not_found');
    if (status >= 500 || status === 429) throw new RetryableError(`HTTP ${status}`, status, false);
    throw new FinalError(`HTTP ${status}`, status, 'failed');
  }
}

/** Fetches every request against the target; never throws for a request's failure (it is a result). */
export async function executeWarmup(opts: ExecuteOptions): Promise<ExecuteSummary> {
  const { target, requests, onResult, logger } = opts;
  const retry = opts.retry ?? DEFAULT_RETRY;
  const maxBytes = opts.maxBytes ?? target.maxBytesPerRun;
  const circuitBreakAfter = opts.circuitBreakAfter ?? 5;
  const ownPool = opts.dispatcher === undefined;
  const dispatcher =
    opts.dispatcher ??
    new Pool(target.origin, {
      connections: target.maxConcurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: Math.min(10_000, target.requestTimeoutMs) },
      headersTimeout: target.requestTimeoutMs,
      bodyTimeout: target.requestTimeoutMs,
    });
  const bucket = new TokenBucket({ ratePerSec: target.maxRequestsPerSecond, burst: Math.max(1, Math.min(target.maxConcurrency, target.maxRequestsPerSecond)) });
  const headers: Record<string, string> = { 'user-agent': opts.userAgent ?? 'modcast-warmup/0.1', accept: '*/*' };
  if (target.auth) headers[target.auth.header.toLowerCase()] = target.auth.value;

  const summary: ExecuteSummary = { ok: 0, notFound: 0, failed: 0, skipped: 0, bytes: 0, elapsedMs: 0 };
  const started = performance.now();
  let next = 0;
  let consecutiveNetworkFailures = 0;
  let stopReason: string | undefined;

  const record = async (r: WarmResult) => {
    if (r.status === 'ok') summary.ok++;
    else if (r.status === 'not_found') summary.notFound++;
    else if (r.status === 'failed') summary.failed++;
    else summary.skipped++;
    summary.bytes += r.bytes;
    await onResult(r);
  };

  const runOne = async (req: WarmRequest): Promise<void> => {
    const t0 = performance.now();
    const key = `${target.origin}${req.path}`;
    const shared = recentlyFetched(key) ?? inFlight.get(key);
    if (shared) {
      // Another run fetched or is fetching this URL: wait for its outcome instead of a second request.
      try {
        const out = await shared;
        await record({ ...req, status: 'ok', httpStatus: out.httpStatus, bytes: 0, sha256: out.sha256, latencyMs: performance.now() - t0, attempts: 0, reason: 'fetched by an overlapping run', finishedAt: Date.now() });
        return;
      } catch {
        // the other fetch failed: try ourselves
      }
    }
    let attempts = 0;
    let settle: { resolve: (o: FetchOutcome) => void; reject: (e: unknown) => void } | undefined;
    const mine = new Promise<FetchOutcome>((resolve, reject) => (settle = { resolve, reject }));
    mine.catch(() => undefined);
    inFlight.set(key, mine);
    try {
      const out = await withRetry(
        async () => {
          attempts++;
          await bucket.take(opts.signal);
          const timeout = AbortSignal.timeout(target.requestTimeoutMs);
          const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
          return fetchOnce(dispatcher, target, req.path, headers, signal);
        },
        {
          attempts: retry.attempts,
          baseMs: retry.baseMs,
          maxMs: retry.maxMs,
          retryable: (e) => e instanceof RetryableError && !opts.signal?.aborted,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.random ? { random: opts.random } : {}),
          onRetry: (e, attempt, delayMs) =>
            logger?.debug({ node: target.name, path: req.path, attempt, delayMs, err: (e as Error).message }, 'warm-up request failed; retrying'),
        },
      );
      consecutiveNetworkFailures = 0;
      rememberOk(key, out);
      settle!.resolve(out);
      await record({ ...req, status: 'ok', httpStatus: out.httpStatus, bytes: out.bytes, sha256: out.sha256, latencyMs: performance.now() - t0, attempts, reason: '', finishedAt: Date.now() });
    } catch (e) {
      settle!.reject(e);
      const err = e as Error;
      if (e instanceof RetryableError && e.network) consecutiveNetworkFailures++;
      else consecutiveNetworkFailures = 0;
      if (consecutiveNetworkFailures >= circuitBreakAfter && stopReason === undefined) {
        stopReason = `node unreachable: ${circuitBreakAfter} consecutive network failures (last: ${err.message})`;
        logger?.warn({ node: target.name, reason: stopReason }, 'warm-up circuit open; skipping the rest of this node');
      }
      const status: WarmStatus = e instanceof FinalError ? e.status : opts.signal?.aborted ? 'skipped' : 'failed';
      const httpStatus = e instanceof FinalError || e instanceof RetryableError ? e.httpStatus : 0;
      await record({ ...req, status, httpStatus, bytes: 0, sha256: '', latencyMs: performance.now() - t0, attempts, reason: err.message, finishedAt: Date.now() });
    } finally {
      if (inFlight.get(key) === mine) inFlight.delete(key);
    }
  };

  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests.length) return;
      const req = requests[i]!;
      const skipReason = opts.signal?.aborted ? 'run aborted' : stopReason ?? (summary.bytes >= maxBytes ? `byte budget of ${maxBytes} reached` : undefined);
      if (skipReason !== undefined) {
        await record({ ...req, status: 'skipped', httpStatus: 0, bytes: 0, sha256: '', latencyMs: 0, attempts: 0, reason: skipReason, finishedAt: Date.now() });
        continue;
      }
      await runOne(req);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(target.maxConcurrency, Math.max(1, requests.length)) }, worker));
  } finally {
    if (ownPool) await dispatcher.close().catch(() => undefined);
  }
  summary.elapsedMs = performance.now() - started;
  return summary;
}

/** Deterministic item id: a resumed run recognises what it already fetched. */
export function itemIdOf(runId: string, node: string, module: string, version: string, endpoint: WarmEndpoint): string {
  return createHash('sha256').update(`${runId}\0${node}\0${module}\0${version}\0${endpoint}`).digest('hex').slice(0, 32);
}
