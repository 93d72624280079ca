/**
 * Fetches warm-up requests against ONE node: an undici Pool with keep-alive (connections = maxConcurrency),
 * a token bucket (maxRequestsPerSecond), a per-request timeout, retries with jittered backoff on 5xx, 429 and
 * network errors, none on 404/410 ("not found upstream") or other 4xx. Redirects are followed only to GOPROXY
 * protocol paths under the node's mount on its origin (the auth header goes with them). Bodies are streamed and
 * counted, never held; they go through sha256 only on a node configured with `hashBodies` (the hash is for an
 * operator comparing what nodes serve; nothing in modcast checks it, and it was the largest share of a fetch's CPU).
 *
 * Per request the work is kept to what the contract needs (one handler object on undici's dispatch interface,
 * one timer, one map lookup for the single flight): with bodies of ~100 KB from a local proxy, undici's HTTP/1.1
 * path with the socket reads (and sha256 on a hashing node) is then most of the CPU time: the executor with its
 * recording reaches 0.8–0.97 of undici's own rate on the same URLs (docs/benchmarks.md, warm-up).
 *
 * Nodes are independent: run one executor per node concurrently and a dead, failing or slow node only costs
 * its own run (timeouts bound each request; a circuit opens after consecutive network failures).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { WarmEndpoint } from '../domain/plan.js';
import { projectPath } from '../lib/paths.js';
import { ATHENS_REQUEST_ID_HEADER, WARMUP_AGENT_PREFIX, WARMUP_HEADER, WARMUP_REQUEST_ID_PREFIX } from '../logs/record.js';
import { withRetry, type RetryOptions } from '../lib/retry.js';
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
}

/**
 * How a proxy's access log tells warm-up fetches from demand: this user agent (in the combined log format), the header
 * X-Modcast-Warmup (for proxies that log a chosen header) and, per request, an Athens request id (Athens logs neither
 * of the others); see src/logs/record.ts. modcast's own fetches must not come back as forecast input.
 */
export const WARMUP_USER_AGENT = `${WARMUP_AGENT_PREFIX}${(JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version}`;

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
 * One map holds both the fetches in flight and the recent successes, so a request costs one lookup and one insert.
 */
class Flight {
  /** Set once the fetch succeeded (then `at` is when). */
  outcome: FetchOutcome | undefined;
  at = 0;
  private ended = false;
  /** Requests of other runs waiting for this fetch to end. */
  private waiters: ((o: FetchOutcome | undefined) => void)[] | undefined;

  /** The outcome once this fetch ends; undefined when it failed (the caller then fetches itself). */
  join(): Promise<FetchOutcome | undefined> {
    if (this.ended) return Promise.resolve(this.outcome);
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  end(outcome: FetchOutcome | undefined): void {
    this.ended = true;
    this.outcome = outcome;
    this.at = Date.now();
    if (this.waiters) for (const w of this.waiters) w(outcome);
    this.waiters = undefined;
  }
}

const flights = new Map<string, Flight>();
const RECENT_OK_MS = 10 * 60_000;
const RECENT_OK_MAX = 20_000;
/** Evicting in steps of this many (oldest first) keeps the map's cost per request flat. */
const EVICT_STEP = 2_000;

/** The fetch of `key` in flight or done OK recently, if any. */
function currentFlight(key: string): Flight | undefined {
  const f = flights.get(key);
  if (f?.outcome && Date.now() - f.at > RECENT_OK_MS) {
    flights.delete(key);
    return undefined;
  }
  return f;
}

function startFlight(key: string): Flight {
  const f = new Flight();
  flights.set(key, f);
  if (flights.size > RECENT_OK_MAX + EVICT_STEP) {
    let n = 0;
    for (const [k, old] of flights) {
      if (n++ >= EVICT_STEP) break;
      if (old.outcome) flights.delete(k);
    }
  }
  return f;
}

function endFlight(key: string, f: Flight, outcome: FetchOutcome | undefined): void {
  // A failed fetch is forgotten (the next run tries again); a successful one is remembered for RECENT_OK_MS.
  if (!outcome && flights.get(key) === f) flights.delete(key);
  f.end(outcome);
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

/** Bytes of a non-2xx body read (and dropped) to keep the connection reusable; beyond it the connection is closed. */
const DISCARD_LIMIT = 64 * 1024;

interface Response {
  httpStatus: number;
  location: string | undefined;
  bytes: number;
  sha256: string;
}

/**
 * One request on the dispatcher's own handler interface: a 2xx body goes chunk by chunk through a byte counter
 * (and sha256 when asked) as undici hands it over (no stream objects, no promise per chunk; memory stays at one
 * chunk), any other body is dropped. Settles once, with the response or a RetryableError (network error, timeout, run aborted).
 */
class ResponseDigest implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private location: string | undefined;
  /** A 2xx answer: its body is counted (and hashed when asked). */
  private ok = false;
  private hash: Hash | undefined;
  private bytes = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly settle: (err: RetryableError | undefined, res: Response | undefined) => void,
    timeoutMs: number,
    private readonly hashBody: boolean,
  ) {
    this.timer = setTimeout(() => this.abort(`timeout after ${timeoutMs} ms`), timeoutMs);
  }

  /** Fails the request now and tells undici to drop it (at once, or as soon as it is started). */
  abort(reason: string): void {
    this.finish(new RetryableError(reason, this.status, true), undefined);
    this.controller?.abort(new Error(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('request ended before it started'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.status = statusCode;
    if (statusCode < 300) {
      this.ok = true;
      if (this.hashBody) this.hash = createHash('sha256');
    } else if (isRedirect(statusCode)) {
      const location = headers['location'];
      this.location = Array.isArray(location) ? location[0] : location;
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.ok) this.hash?.update(chunk);
    else if (this.bytes > DISCARD_LIMIT && !this.settled) {
      // The status is all we need; the rest of the body is not worth reading.
      this.finish(undefined, { httpStatus: this.status, location: this.location, bytes: 0, sha256: '' });
      controller.abort(new Error('error body not read'));
    }
  }

  onResponseEnd(): void {
    this.finish(undefined, { httpStatus: this.status, location: this.location, bytes: this.ok ? this.bytes : 0, sha256: this.hash ? this.hash.digest('hex') : '' });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    const where = this.status >= 200 && this.status < 300 ? 'body: ' : '';
    this.finish(new RetryableError(`${where}${err.code ?? err.name}: ${err.message}`, this.status, true), undefined);
  }

  private finish(err: RetryableError | undefined, res: Response | undefined): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.settle(err, res);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/**
 * Requests of one executor: each runs under a timeout of its own, and aborting the run (its signal) aborts every
 * request in flight through one listener rather than a signal per request.
 */
class Requests {
  private readonly active = new Set<ResponseDigest>();
  private abortReason: string | undefined;
  private readonly onAbort = () => this.abortAll('run aborted');

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly target: WarmTarget,
    private readonly headers: Record<string, string>,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal?.aborted) this.abortReason = 'run aborted';
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Stops listening to the run's signal (which may outlive the run). */
  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  get(path: string, timeoutMs: number): Promise<Response> {
    if (this.abortReason !== undefined) return Promise.reject(new RetryableError(this.abortReason, 0, true));
    return new Promise<Response>((resolve, reject) => {
      const handler = new ResponseDigest((err, res) => {
        this.active.delete(handler);
        if (err) reject(err);
        else resolve(res!);
      }, timeoutMs, this.target.hashBodies);
      this.active.add(handler);
      try {
        const headers = { ...this.headers, [ATHENS_REQUEST_ID_HEADER]: `${WARMUP_REQUEST_ID_PREFIX}${randomUUID()}` };
        this.dispatcher.dispatch({ origin: this.target.origin, path, method: 'GET', headers }, handler);
      } catch (e) {
        handler.onResponseError(undefined as never, e as Error);
      }
    });
  }

  abortAll(reason: string): void {
    this.abortReason = reason;
    for (const handler of this.active) handler.abort(reason);
  }
}

/** What may follow the mount: `<module>/@v/list`, `<module>/@v/<version>.info|.mod|.zip`, `<module>/@latest`, `sumdb/…`. */
const PROTOCOL_PATH = /^(?:[^@/]+(?:\/[^@/]+)*\/(?:@v\/(?:list|[^/]+\.(?:info|mod|zip))|@latest)|sumdb\/[^?#]+)$/;

/** A redirect target the executor follows: a GOPROXY protocol path under the node's mount, nothing hidden in escapes. */
export function redirectAllowed(mountPrefix: string, pathname: string): boolean {
  if (!pathname.startsWith(mountPrefix)) return false;
  const rest = pathname.slice(mountPrefix.length);
  // URL() already resolved dot segments; encoded slashes or backslashes could still move a path on the server.
  if (/%2f|%5c|%2e|\\|(^|\/)\.\.?(\/|$)/i.test(rest)) return false;
  return PROTOCOL_PATH.test(rest);
}

/** One attempt: GET path (following same-origin redirects, all within one timeout), classify the status. */
async function fetchOnce(requests: Requests, target: WarmTarget, path: string): Promise<FetchOutcome> {
  const deadline = performance.now() + target.requestTimeoutMs;
  let current = path;
  for (let hop = 0; ; hop++) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new RetryableError(`timeout after ${target.requestTimeoutMs} ms (redirects)`, 0, true);
    const res = await requests.get(current, remaining);
    const status = res.httpStatus;
    if (status >= 200 && status < 300) return { httpStatus: status, bytes: res.bytes, sha256: res.sha256 };
    if (isRedirect(status)) {
      if (!res.location) throw new FinalError(`redirect ${status} without Location`, status, 'failed');
      const next = new URL(res.location, `${target.origin}${current}`);
      if (next.origin !== target.origin) throw new FinalError(`redirect to another origin refused (${next.origin})`, status, 'failed');
      // Same origin is not enough: the node's auth header must not be carried to its admin or other routes.
      if (!redirectAllowed(target.mountPrefix, next.pathname))
        throw new FinalError(`redirect outside the node's GOPROXY paths refused (${next.pathname.slice(0, 200)})`, status, 'failed');
      if (hop >= MAX_REDIRECTS) throw new FinalError(`more than ${MAX_REDIRECTS} redirects`, status, 'failed');
      current = `${next.pathname}${next.search}`;
      continue;
    }
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
  const headers: Record<string, string> = { 'user-agent': WARMUP_USER_AGENT, [WARMUP_HEADER]: '1', accept: '*/*' };
  if (target.auth) headers[target.auth.header.toLowerCase()] = target.auth.value;

  const http = new Requests(dispatcher, target, headers, opts.signal);
  const summary: ExecuteSummary = { ok: 0, notFound: 0, failed: 0, skipped: 0, bytes: 0, elapsedMs: 0 };
  const started = performance.now();
  let next = 0;
  let consecutiveNetworkFailures = 0;
  let stopReason: string | undefined;

  /** Counts a result and hands it over; a promise only when onResult returned one (nothing to wait for otherwise). */
  const record = (r: WarmResult): void | Promise<void> => {
    if (r.status === 'ok') summary.ok++;
    else if (r.status === 'not_found') summary.notFound++;
    else if (r.status === 'failed') summary.failed++;
    else summary.skipped++;
    summary.bytes += r.bytes;
    return onResult(r);
  };

  const retryOptions: RetryOptions = {
    attempts: retry.attempts,
    baseMs: retry.baseMs,
    maxMs: retry.maxMs,
    retryable: (e) => e instanceof RetryableError && !opts.signal?.aborted,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  };
  // onRetry only logs at debug level: without it no options object is made per request.
  const retryOptionsFor = (path: string): RetryOptions =>
    logger?.isLevelEnabled('debug')
      ? {
          ...retryOptions,
          onRetry: (e, attempt, delayMs) =>
            logger.debug({ node: target.name, path, attempt, delayMs, err: (e as Error).message }, 'warm-up request failed; retrying'),
        }
      : retryOptions;

  const runOne = async (req: WarmRequest): Promise<void> => {
    const t0 = performance.now();
    const key = `${target.origin}${req.path}`;
    const shared = currentFlight(key);
    if (shared) {
      // Another run fetched or is fetching this URL: wait for its outcome instead of a second request.
      const out = await shared.join();
      if (out) {
        await record({ ...req, status: 'ok', httpStatus: out.httpStatus, bytes: 0, sha256: out.sha256, latencyMs: performance.now() - t0, attempts: 0, reason: 'fetched by an overlapping run', finishedAt: Date.now() });
        return;
      }
      // the other fetch failed: try ourselves
    }
    let attempts = 0;
    const flight = startFlight(key);
    let out: FetchOutcome;
    try {
      out = await withRetry(async () => {
        attempts++;
        if (!bucket.takeNow()) await bucket.take(opts.signal);
        return fetchOnce(http, target, req.path);
      }, retryOptionsFor(req.path));
    } catch (e) {
      endFlight(key, flight, undefined);
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
      return;
    }
    consecutiveNetworkFailures = 0;
    endFlight(key, flight, out);
    await record({ ...req, status: 'ok', httpStatus: out.httpStatus, bytes: out.bytes, sha256: out.sha256, latencyMs: performance.now() - t0, attempts, reason: '', finishedAt: Date.now() });
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
    http.close();
    if (ownPool) await dispatcher.close().catch(() => undefined);
  }
  summary.elapsedMs = performance.now() - started;
  return summary;
}

/** Deterministic item id: a resumed run recognises what it already fetched. */
export function itemIdOf(runId: string, node: string, module: string, version: string, endpoint: WarmEndpoint): string {
  return createHash('sha256').update(`${runId}\0${node}\0${module}\0${version}\0${endpoint}`).digest('hex').slice(0, 32);
}
