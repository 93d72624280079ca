/**
 * Warm-up targets: ONLY the nodes configured in `fleet.nodes`. A target's URL is its configured origin; request
 * paths come from the planner (validated module/version, built by goproxyPath) under the node's mount prefix.
 */
import type { Config, FleetNodeConfig } from '../config.js';
import type { NodeProfile, WarmEndpoint } from '../domain/plan.js';
import { ModcastError, ErrorCodes } from '../errors.js';

export interface WarmTarget {
  name: string;
  region: string;
  software: FleetNodeConfig['software'];
  /** scheme://host:port — requests never leave it (redirects to another origin are refused). */
  origin: string;
  /** Path prefix the GOPROXY protocol is served under: the base URL's path joined with pathPrefix. */
  mountPrefix: string;
  fills?: WarmEndpoint[];
  /** Header name and value to send, when the node needs auth (the value is never logged). */
  auth?: { header: string; value: string };
  maxConcurrency: number;
  maxRequestsPerSecond: number;
  maxBytesPerRun: number;
  maxItemsPerRun: number;
  requestTimeoutMs: number;
  /** Hash each fetched body (sha256 in the result); when false the result's sha256 is ''. */
  hashBodies: boolean;
}

function joinPrefix(basePath: string, pathPrefix: string): string {
  const base = basePath.replace(/\/+$/, '');
  const prefix = pathPrefix.startsWith('/') ? pathPrefix : `/${pathPrefix}`;
  const joined = `${base}${prefix}`;
  return joined.endsWith('/') ? joined : `${joined}/`;
}

export function targetOf(node: FleetNodeConfig, env: NodeJS.ProcessEnv = process.env): WarmTarget {
  const url = new URL(node.baseUrl);
  let auth: WarmTarget['auth'];
  if (node.tokenEnv) {
    const token = env[node.tokenEnv];
    if (!token) {
      throw new ModcastError(ErrorCodes.CONFIG_INVALID, `node ${node.name}: environment variable ${node.tokenEnv} (its token) is not set`);
    }
    auth = { header: node.authHeader, value: node.authHeader.toLowerCase() === 'authorization' ? `Bearer ${token}` : token };
  }
  return {
    name: node.name,
    region: node.region,
    software: node.software,
    origin: url.origin,
    mountPrefix: joinPrefix(url.pathname, node.pathPrefix),
    ...(node.fills ? { fills: [...node.fills] } : {}),
    ...(auth ? { auth } : {}),
    maxConcurrency: node.maxConcurrency,
    maxRequestsPerSecond: node.maxRequestsPerSecond,
    maxBytesPerRun: node.maxBytesPerRun,
    maxItemsPerRun: node.maxItemsPerRun,
    requestTimeoutMs: node.requestTimeoutMs,
    hashBodies: node.hashBodies,
  };
}

/** All configured nodes as targets (tokens resolved from the environment). */
export function fleetTargets(config: Pick<Config, 'fleet'>, env: NodeJS.ProcessEnv = process.env): WarmTarget[] {
  return config.fleet.nodes.map((n) => targetOf(n, env));
}

/** The configured node of that name; anything else is refused. */
/** The error for a fleet without nodes: warm-ups need to know where to fetch. */
export function noNodesError(): ModcastError {
  return new ModcastError(
    ErrorCodes.NODE_UNKNOWN,
    'no fleet nodes configured: add fleet.nodes (name, region, baseUrl of each proxy) and regions to the config file (-c modcast.yaml)',
  );
}

export function findTarget(config: Pick<Config, 'fleet'>, name: string, env: NodeJS.ProcessEnv = process.env): WarmTarget {
  const node = config.fleet.nodes.find((n) => n.name === name);
  if (!node) {
    if (config.fleet.nodes.length === 0) throw noNodesError();
    const known = config.fleet.nodes.map((n) => n.name).join(', ') || '(none configured)';
    throw new ModcastError(ErrorCodes.NODE_UNKNOWN, `unknown node ${JSON.stringify(name)}; configured nodes: ${known}`);
  }
  return targetOf(node, env);
}

/** The planner's view of a target. */
export function nodeProfile(t: WarmTarget): NodeProfile {
  return {
    name: t.name,
    software: t.software,
    pathPrefix: t.mountPrefix,
    ...(t.fills ? { fills: t.fills } : {}),
    maxItems: t.maxItemsPerRun,
    maxBytes: t.maxBytesPerRun,
  };
}
