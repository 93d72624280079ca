/**
 * GOPROXY request classification: which module, version and endpoint a request path asks for
 * (https://go.dev/ref/mod#goprivate-proxy-protocol), behind configurable mount prefixes, and the
 * inverse for building request paths. Pure; never throws on untrusted input.
 */
import type { RequestKind } from './event.js';
import {
  checkVersionForModule,
  checkVersionForValidModule,
  escapeModulePath,
  escapeVersion,
  isCanonicalVersion,
  unescapeModulePath,
  unescapeVersion,
} from './module-path.js';

export type Classification =
  | { ok: true; kind: RequestKind; module: string; version: string }
  | { ok: false; reason: string };

/**
 * Mount prefixes a proxy may serve GOPROXY under. `<name>` matches exactly one path segment,
 * e.g. Artifactory's `/api/go/<repo>/`. Requests outside every GOPROXY shape are kind `other`.
 */
export const DEFAULT_PATH_PREFIXES: readonly string[] = ['/', '/go/', '/api/go/<repo>/', '/artifactory/api/go/<repo>/'];

/** Compiled prefix patterns; build once with compilePathPrefixes and reuse. */
export interface PathPrefixes {
  readonly patterns: readonly string[];
  /** Per pattern, its segments; null marks a one-segment wildcard. Most specific first. */
  readonly compiled: readonly (readonly (string | null)[])[];
}

/** Validates and compiles prefix patterns. Throws TypeError on a malformed pattern (configuration error). */
export function compilePathPrefixes(patterns: readonly string[]): PathPrefixes {
  if (patterns.length === 0) throw new TypeError('at least one path prefix is required (use "/" for the root)');
  const compiled = patterns.map((p) => {
    if (!p.startsWith('/')) throw new TypeError(`path prefix ${JSON.stringify(p)} must start with "/"`);
    const segs = p.split('/').filter((s) => s !== '');
    return segs.map((s) => {
      if (/^<[A-Za-z0-9_-]+>$/.test(s)) return null;
      if (/[<>?#]/.test(s)) throw new TypeError(`path prefix ${JSON.stringify(p)} has a malformed segment ${JSON.stringify(s)}`);
      return s;
    });
  });
  // More segments first, so `/api/go/<repo>/` wins over `/`. Sort is stable for equal lengths.
  const order = compiled.map((c, i) => i).sort((a, b) => (compiled[b]?.length ?? 0) - (compiled[a]?.length ?? 0));
  return { patterns: order.map((i) => patterns[i] as string), compiled: order.map((i) => compiled[i] as (string | null)[]) };
}

const DEFAULT_COMPILED = compilePathPrefixes(DEFAULT_PATH_PREFIXES);

const OTHER: Classification = Object.freeze({ ok: true, kind: 'other', module: '', version: '' }) as Classification;

/** Removes scheme://host, query and fragment, and percent-decodes; returns the path. */
function normalizePath(raw: string): string {
  let p = raw;
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  const h = p.indexOf('#');
  if (h >= 0) p = p.slice(0, h);
  if (p.startsWith('http://') || p.startsWith('https://')) {
    const slash = p.indexOf('/', p.indexOf('//') + 2);
    p = slash < 0 ? '/' : p.slice(slash);
  }
  if (p.indexOf('%') >= 0) {
    try {
      p = decodeURIComponent(p);
    } catch {
      // Malformed escapes stay as they are; a GOPROXY-shaped path then fails module validation.
    }
  }
  // Artifactory logs relative URLs without the leading slash.
  if (!p.startsWith('/')) p = '/' + p;
  return p;
}

/** Returns the index just after the matched prefix, or -1. `p` starts with '/'. */
function matchPrefix(p: string, segs: readonly (string | null)[]): number {
  let pos = 1;
  for (const seg of segs) {
    const slash = p.indexOf('/', pos);
    if (slash < 0) return -1;
    if (slash === pos) return -1; // empty segment
    if (seg !== null && (slash - pos !== seg.length || !p.startsWith(seg, pos))) return -1;
    pos = slash + 1;
  }
  return pos;
}

/**
 * Classifies a request path as logged (query string, percent-escapes, mount prefix and all).
 * GOPROXY-shaped paths with an invalid module or version are `{ ok: false, reason }`; anything
 * not GOPROXY-shaped (health checks, UI, other repositories) is kind `other`.
 */
export function classifyRequestPath(rawPath: string, prefixes: PathPrefixes = DEFAULT_COMPILED): Classification {
  const p = normalizePath(rawPath);
  let rejection: Classification | undefined;
  for (const segs of prefixes.compiled) {
    const start = matchPrefix(p, segs);
    if (start < 0) continue;
    const c = classifyRest(p.slice(start));
    if (c.ok && c.kind === 'other') continue;
    if (c.ok) return c;
    rejection ??= c;
  }
  return rejection ?? OTHER;
}

function reject(reason: string): Classification {
  return { ok: false, reason };
}

function moduleOnly(kind: RequestKind, escapedModule: string): Classification {
  const m = unescapeModulePath(escapedModule);
  if (!m.ok) return reject(m.reason);
  return { ok: true, kind, module: m.value, version: '' };
}

/**
 * Module and version from escaped parts. `allowQuery`: `.info` also answers queries such as
 * `master` or a commit hash (the go command's Stat), so a non-canonical but file-safe version is kept.
 */
function moduleAndVersion(kind: RequestKind, escapedModule: string, escapedVersion: string, allowQuery: boolean): Classification {
  const m = unescapeModulePath(escapedModule);
  if (!m.ok) return reject(m.reason);
  const v = unescapeVersion(escapedVersion);
  if (!v.ok) return reject(v.reason);
  if (!(allowQuery && !isCanonicalVersion(v.value))) {
    const r = checkVersionForValidModule(m.value, v.value); // unescapeModulePath validated the path
    if (r !== undefined) return reject(r);
  }
  return { ok: true, kind, module: m.value, version: v.value };
}

const VERSION_FILE_KINDS: Readonly<Record<string, RequestKind>> = { info: 'info', mod: 'mod', zip: 'zip' };

/** Classifies the part of the path after the mount prefix (no leading slash). */
function classifyRest(rest: string): Classification {
  if (rest.startsWith('sumdb/')) return classifySumdb(rest.slice(6));
  const at = rest.indexOf('/@v/');
  if (at >= 0) {
    const escapedModule = rest.slice(0, at);
    const file = rest.slice(at + 4);
    if (file === 'list') return moduleOnly('list', escapedModule);
    const dot = file.lastIndexOf('.');
    const kind = dot > 0 ? VERSION_FILE_KINDS[file.slice(dot + 1)] : undefined;
    if (kind === undefined || file.includes('/')) {
      return reject(`unknown GOPROXY endpoint ${JSON.stringify('@v/' + file)}`);
    }
    return moduleAndVersion(kind, escapedModule, file.slice(0, dot), kind === 'info');
  }
  if (rest.endsWith('/@latest')) return moduleOnly('latest', rest.slice(0, -'/@latest'.length));
  return OTHER;
}

/** `/sumdb/<name>/{supported,latest,lookup/<module>@<version>,tile/...}`. */
function classifySumdb(afterSumdb: string): Classification {
  const slash = afterSumdb.indexOf('/');
  if (slash <= 0) return OTHER;
  const op = afterSumdb.slice(slash + 1);
  if (op === 'supported' || op === 'latest' || op.startsWith('tile/')) {
    return { ok: true, kind: 'sumdb', module: '', version: '' };
  }
  if (op.startsWith('lookup/')) {
    const target = op.slice(7);
    const at = target.lastIndexOf('@');
    if (at <= 0) return reject(`malformed sumdb lookup ${JSON.stringify(target)}: want <module>@<version>`);
    return moduleAndVersion('sumdb', target.slice(0, at), target.slice(at + 1), false);
  }
  return OTHER;
}

/** Characters that may stand unescaped in a request path built here (beyond letters and digits). */
const PATH_SAFE = new Set('-._~!+@/'.split(''));

function encodePathChars(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    out += alnum || PATH_SAFE.has(ch) ? ch : encodeURIComponent(ch);
  }
  return out;
}

/**
 * Builds the request path for one GOPROXY fetch: `<prefix><escaped module>/@v/<escaped version>.zip`
 * and so on; `sumdb` builds a lookup on `sumdbName`. `prefix` is a concrete mount prefix such as
 * `/` or `/api/go/go-remote/` (no `<name>` wildcards). Throws TypeError on an invalid module,
 * version or kind: callers plan warm-ups from validated events.
 */
export function goproxyPath(
  prefix: string,
  module: string,
  version: string,
  kind: RequestKind,
  sumdbName = 'sum.golang.org',
): string {
  if (!prefix.startsWith('/') || /[<>?#]/.test(prefix)) throw new TypeError(`invalid mount prefix ${JSON.stringify(prefix)}`);
  const base = prefix.endsWith('/') ? prefix : prefix + '/';
  const mod = escapeModulePath(module);
  const versioned = (): string => {
    const isQuery = kind === 'info' && !isCanonicalVersion(version);
    if (!isQuery) {
      const r = checkVersionForModule(module, version);
      if (r !== undefined) throw new TypeError(r);
    }
    return encodePathChars(escapeVersion(version));
  };
  switch (kind) {
    case 'list':
      return `${base}${mod}/@v/list`;
    case 'latest':
      return `${base}${mod}/@latest`;
    case 'info':
    case 'mod':
    case 'zip':
      return `${base}${mod}/@v/${versioned()}.${kind}`;
    case 'sumdb':
      if (!/^[a-z0-9.-]+$/.test(sumdbName)) throw new TypeError(`invalid checksum database name ${JSON.stringify(sumdbName)}`);
      return `${base}sumdb/${sumdbName}/lookup/${mod}@${versioned()}`;
    default:
      throw new TypeError(`no GOPROXY path for request kind ${JSON.stringify(kind)}`);
  }
}
