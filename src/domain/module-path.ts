/**
 * Go module paths and versions, following golang.org/x/mod/module and golang.org/x/mod/semver:
 * path validation (module.CheckPath), the GOPROXY case-encoding (module.EscapePath/UnescapePath,
 * EscapeVersion/UnescapeVersion), semantic versions, pseudo-versions and the major-version rules
 * that tie a version to its module path. Pure functions, no I/O; invalid input yields a reason,
 * never an exception (except the escape functions, whose input callers have already validated).
 */

/** A validation result that carries its reason instead of throwing. */
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only: module paths and escaped versions never contain other runes)

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
/** Characters of the first path element (the "domain"): lowercase, digits, '-' and '.'. */
function firstElemCharOK(c: number): boolean {
  return c === 45 /* - */ || c === 46 /* . */ || isDigit(c) || isLower(c);
}
/** Characters of any module path element: letters, digits and `-._~`. Note: no '+'. */
function modulePathCharOK(c: number): boolean {
  return c === 45 || c === 46 || c === 95 /* _ */ || c === 126 /* ~ */ || isDigit(c) || isLower(c) || isUpper(c);
}
/** ASCII characters Go allows in file names (what a version must be to name a cache file). */
const FILE_NAME_PUNCT = new Set('!#$%&()+,-.=@[]^_{}~ '.split('').map((ch) => ch.charCodeAt(0)));
function fileNameCharOK(c: number): boolean {
  return isDigit(c) || isLower(c) || isUpper(c) || FILE_NAME_PUNCT.has(c);
}

function quoteChar(c: number): string {
  return JSON.stringify(String.fromCharCode(c));
}

/** Reserved device names on Windows; Go rejects them (case-insensitively) before the first dot. */
const WINDOWS_RESERVED = new Set([
  'CON', 'PRN', 'AUX', 'NUL',
  'COM1', 'COM2', 'COM3', 'COM4', 'COM5', 'COM6', 'COM7', 'COM8', 'COM9',
  'LPT1', 'LPT2', 'LPT3', 'LPT4', 'LPT5', 'LPT6', 'LPT7', 'LPT8', 'LPT9',
]);

type ElemKind = 'module' | 'file';

/** module.checkElem: one element of a module path ('module') or a version used as a file name ('file'). */
function checkElem(elem: string, kind: ElemKind): string | undefined {
  if (elem === '') return 'empty path element';
  let allDots = true;
  for (let i = 0; i < elem.length; i++) {
    if (elem.charCodeAt(i) !== 46) {
      allDots = false;
      break;
    }
  }
  if (allDots) return `invalid path element ${JSON.stringify(elem)}`;
  if (kind === 'module' && elem.charCodeAt(0) === 46) return 'leading dot in path element';
  if (elem.charCodeAt(elem.length - 1) === 46) return 'trailing dot in path element';
  for (let i = 0; i < elem.length; i++) {
    const c = elem.charCodeAt(i);
    const ok = kind === 'module' ? modulePathCharOK(c) : c < 128 && fileNameCharOK(c);
    if (!ok) return `invalid char ${quoteChar(c)}`;
  }
  const dot = elem.indexOf('.');
  const shortLen = dot >= 0 ? dot : elem.length;
  // Reserved names are 3 or 4 characters long; skip the lookup for everything else.
  if (shortLen === 3 || shortLen === 4) {
    const short = elem.slice(0, shortLen);
    if (WINDOWS_RESERVED.has(short.toUpperCase())) {
      return `${JSON.stringify(short)} disallowed as path element component on Windows`;
    }
  }
  if (kind === 'module') {
    // Windows short names (PROGRA~1) would alias other paths.
    const tilde = elem.lastIndexOf('~', shortLen - 1);
    if (tilde >= 0 && tilde < shortLen - 1 && /^[0-9]+$/.test(elem.slice(tilde + 1, shortLen))) {
      return 'trailing tilde and digits in path element';
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Module paths

/** The major-version part of a module path: '' (v0/v1), '/vN' or, for gopkg.in, '.vN' (maybe '-unstable'). */
export interface PathMajorSplit {
  prefix: string;
  pathMajor: string;
}

/**
 * module.SplitPathVersion: splits `github.com/a/b/v2` into prefix and `/v2`.
 * Returns undefined when the path ends in a malformed major suffix (`/v1`, `/v0`, `/v02`, `/v2.0`,
 * or a gopkg.in path without `.vN`).
 */
export function splitPathMajor(path: string): PathMajorSplit | undefined {
  if (path.startsWith('gopkg.in/')) return splitGopkgIn(path);
  let i = path.length;
  let dot = false;
  while (i > 0) {
    const c = path.charCodeAt(i - 1);
    if (!isDigit(c) && c !== 46) break;
    if (c === 46) dot = true;
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== 'v' || path[i - 2] !== '/') {
    return { prefix: path, pathMajor: '' };
  }
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === '0' || pathMajor === '/v1') return undefined;
  return { prefix: path.slice(0, i - 2), pathMajor };
}

function splitGopkgIn(path: string): PathMajorSplit | undefined {
  let i = path.length;
  if (path.endsWith('-unstable')) i -= '-unstable'.length;
  while (i > 0 && isDigit(path.charCodeAt(i - 1))) i--;
  if (i <= 1 || path[i - 1] !== 'v' || path[i - 2] !== '.') return undefined;
  const pathMajor = path.slice(i - 2);
  // gopkg.in allows .v0 (unlike /v0 elsewhere) but not leading zeros such as .v01.
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) return undefined;
  return { prefix: path.slice(0, i - 2), pathMajor };
}

/**
 * module.CheckPath: undefined when `path` is a valid module path, otherwise the reason.
 * Rules: ASCII letters, digits and `-._~` only; non-empty elements without leading/trailing dots;
 * first element lowercase, with a dot and no leading dash; no Windows-reserved names or short
 * names; a well-formed major-version suffix (`/vN`, N >= 2, or gopkg.in's `.vN`).
 */
export function checkModulePath(path: string): string | undefined {
  const reason = checkModulePathRules(path);
  return reason === undefined ? undefined : `malformed module path ${JSON.stringify(path)}: ${reason}`;
}

function checkModulePathRules(path: string): string | undefined {
  if (path === '') return 'empty string';
  if (path.charCodeAt(0) === 45) return 'leading dash';
  if (path.includes('//')) return 'double slash';
  if (path.charCodeAt(path.length - 1) === 47) return 'trailing slash';
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const elem = slash < 0 ? path.slice(start) : path.slice(start, slash);
    // A leading slash gives an empty first element; Go reports it as such before "leading slash".
    const r = checkElem(elem, 'module');
    if (r !== undefined) return r;
    if (slash < 0) break;
    start = slash + 1;
  }
  let firstEnd = path.indexOf('/');
  if (firstEnd < 0) firstEnd = path.length;
  const first = path.slice(0, firstEnd);
  if (!first.includes('.')) return 'missing dot in first path element';
  for (let i = 0; i < first.length; i++) {
    const c = first.charCodeAt(i);
    if (!firstElemCharOK(c)) return `invalid char ${quoteChar(c)} in first path element`;
  }
  if (splitPathMajor(path) === undefined) return 'invalid version';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Case-encoding (GOPROXY protocol: 'A' travels as '!a' so that case-insensitive file systems work)

function escapeCase(s: string): string {
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    if (isUpper(s.charCodeAt(i))) {
      upper = true;
      break;
    }
  }
  if (!upper) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += isUpper(c) ? '!' + String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** Inverse of escapeCase; undefined when `!` is not followed by a lowercase letter, or on raw capitals / non-ASCII. */
function unescapeCase(s: string): string | undefined {
  if (s.indexOf('!') < 0) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128 || isUpper(c)) return undefined;
    }
    return s;
  }
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || isUpper(c)) return undefined;
    if (c === 33 /* ! */) {
      const n = s.charCodeAt(i + 1);
      if (!isLower(n)) return undefined;
      out += String.fromCharCode(n - 32);
      i++;
    } else {
      out += s[i];
    }
  }
  return out;
}

function escapeChecked(s: string, reason: string | undefined): string {
  if (reason !== undefined) throw new TypeError(reason);
  return escapeCase(s);
}

function unescapeChecked(escaped: string, what: string, check: (decoded: string) => string | undefined): Checked<string> {
  const decoded = unescapeCase(escaped);
  if (decoded === undefined) return { ok: false, reason: `invalid escaped ${what} ${JSON.stringify(escaped)}` };
  const reason = check(decoded);
  if (reason !== undefined) return { ok: false, reason: `invalid escaped ${what} ${JSON.stringify(escaped)}: ${reason}` };
  return { ok: true, value: decoded };
}

/** module.EscapePath. Throws TypeError when `path` is not a valid module path (validate first). */
export function escapeModulePath(path: string): string {
  return escapeChecked(path, checkModulePath(path));
}

/** module.UnescapePath: decodes `github.com/!azure/x` to `github.com/Azure/x` and validates the result. */
export function unescapeModulePath(escaped: string): Checked<string> {
  return unescapeChecked(escaped, 'module path', checkModulePathRules);
}

/** undefined when `v` may appear in a GOPROXY URL as a version (module.EscapeVersion's check). */
export function checkVersionElement(v: string): string | undefined {
  const r = checkElem(v, 'file');
  if (r !== undefined) return `invalid version ${JSON.stringify(v)}: ${r}`;
  if (v.includes('!')) return `invalid version ${JSON.stringify(v)}: contains '!'`;
  return undefined;
}

/** module.EscapeVersion. Throws TypeError when `v` cannot be a version element. */
export function escapeVersion(v: string): string {
  return escapeChecked(v, checkVersionElement(v));
}

/** module.UnescapeVersion. */
export function unescapeVersion(escaped: string): Checked<string> {
  return unescapeChecked(escaped, 'version', (v) => checkElem(v, 'file'));
}

// ---------------------------------------------------------------------------------------------
// Semantic versions (golang.org/x/mod/semver: a leading 'v', shorthands v1 and v1.2 allowed)

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
  /** Without the leading '-'; '' when none. */
  prerelease: string;
  /** Without the leading '+'; '' when none. */
  build: string;
  /** Build metadata is exactly `incompatible` (a v2+ module without go.mod). */
  incompatible: boolean;
  /** vMAJOR.MINOR.PATCH spelled in full, with build metadata either absent or `+incompatible`. */
  canonical: boolean;
}

/** Digit strings kept as strings so comparisons stay exact beyond 2^53. */
interface RawVersion {
  major: string;
  minor: string;
  patch: string;
  prerelease: string;
  build: string;
  short: boolean;
}

/** Parses a decimal without leading zeros starting at `i`; returns the index after it, or -1. */
function scanNumber(v: string, i: number): number {
  const start = i;
  while (i < v.length && isDigit(v.charCodeAt(i))) i++;
  if (i === start) return -1;
  if (v.charCodeAt(start) === 48 && i - start > 1) return -1;
  return i;
}

function isIdentChar(c: number): boolean {
  return isDigit(c) || isLower(c) || isUpper(c) || c === 45;
}

/** Dot-separated non-empty identifiers of [0-9A-Za-z-]; numeric ones without leading zeros when `strictNumbers`. */
function validIdentifiers(s: string, strictNumbers: boolean): boolean {
  if (s === '') return false;
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || s.charCodeAt(i) === 46) {
      if (i === start) return false;
      if (strictNumbers && i - start > 1 && s.charCodeAt(start) === 48) {
        let numeric = true;
        for (let j = start; j < i; j++) if (!isDigit(s.charCodeAt(j))) numeric = false;
        if (numeric) return false;
      }
      start = i + 1;
    } else if (!isIdentChar(s.charCodeAt(i))) {
      return false;
    }
  }
  return true;
}

function parseRaw(v: string): RawVersion | undefined {
  if (v.length < 2 || v.charCodeAt(0) !== 118 /* v */) return undefined;
  let i = scanNumber(v, 1);
  if (i < 0) return undefined;
  const major = v.slice(1, i);
  if (i === v.length) return { major, minor: '0', patch: '0', prerelease: '', build: '', short: true };
  if (v[i] !== '.') return undefined;
  let j = scanNumber(v, i + 1);
  if (j < 0) return undefined;
  const minor = v.slice(i + 1, j);
  if (j === v.length) return { major, minor, patch: '0', prerelease: '', build: '', short: true };
  if (v[j] !== '.') return undefined;
  i = scanNumber(v, j + 1);
  if (i < 0) return undefined;
  const patch = v.slice(j + 1, i);
  let prerelease = '';
  let build = '';
  const plus = v.indexOf('+', i);
  const preEnd = plus < 0 ? v.length : plus;
  if (i < preEnd) {
    if (v[i] !== '-') return undefined;
    prerelease = v.slice(i + 1, preEnd);
    if (!validIdentifiers(prerelease, true)) return undefined;
  }
  if (plus >= 0) {
    build = v.slice(plus + 1);
    if (!validIdentifiers(build, false)) return undefined;
  }
  return { major, minor, patch, prerelease, build, short: false };
}

/** Parses a Go semantic version (`v1.2.3-pre+build`, or the shorthands `v1`, `v1.2`); undefined if invalid. */
export function parseVersion(v: string): ParsedVersion | undefined {
  const r = parseRaw(v);
  if (r === undefined) return undefined;
  return {
    major: Number(r.major),
    minor: Number(r.minor),
    patch: Number(r.patch),
    prerelease: r.prerelease,
    build: r.build,
    incompatible: r.build === 'incompatible',
    canonical: !r.short && (r.build === '' || r.build === 'incompatible'),
  };
}

/** semver.IsValid. */
export function isValidVersion(v: string): boolean {
  return parseRaw(v) !== undefined;
}

/** A version as modules publish it: full vX.Y.Z, optional prerelease, build only `+incompatible`. */
export function isCanonicalVersion(v: string): boolean {
  const r = parseRaw(v);
  return r !== undefined && !r.short && (r.build === '' || r.build === 'incompatible');
}

function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isNumericIdent(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return s.length > 0;
}

/** SemVer 2.0 precedence of prereleases: none > any; numeric < alphanumeric; shorter list first on ties. */
function comparePrerelease(x: string, y: string): number {
  if (x === y) return 0;
  if (x === '') return 1;
  if (y === '') return -1;
  const xs = x.split('.');
  const ys = y.split('.');
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const a = xs[i] as string;
    const b = ys[i] as string;
    if (a === b) continue;
    const an = isNumericIdent(a);
    const bn = isNumericIdent(b);
    if (an && bn) return compareNumeric(a, b);
    if (an) return -1;
    if (bn) return 1;
    return a < b ? -1 : 1;
  }
  return xs.length === ys.length ? 0 : xs.length < ys.length ? -1 : 1;
}

/**
 * semver.Compare: -1, 0 or +1. Build metadata is ignored; an invalid version sorts below every
 * valid one and equal to other invalid ones.
 */
export function compareVersions(a: string, b: string): number {
  const x = parseRaw(a);
  const y = parseRaw(b);
  if (x === undefined) return y === undefined ? 0 : -1;
  if (y === undefined) return 1;
  return (
    compareNumeric(x.major, y.major) ||
    compareNumeric(x.minor, y.minor) ||
    compareNumeric(x.patch, y.patch) ||
    comparePrerelease(x.prerelease, y.prerelease)
  );
}

/** True for valid versions with a prerelease part (pseudo-versions included). */
export function isPrerelease(v: string): boolean {
  const r = parseRaw(v);
  return r !== undefined && r.prerelease !== '';
}

/** True for valid versions whose build metadata is `+incompatible`. */
export function isIncompatible(v: string): boolean {
  const r = parseRaw(v);
  return r !== undefined && r.build === 'incompatible';
}

/** The major version number of a valid version, undefined otherwise. */
export function majorOf(v: string): number | undefined {
  const r = parseRaw(v);
  return r === undefined ? undefined : Number(r.major);
}

// ---------------------------------------------------------------------------------------------
// Pseudo-versions: vX.0.0-yyyymmddhhmmss-rev, vX.Y.Z-pre.0.yyyymmddhhmmss-rev, vX.Y.(Z+1)-0.yyyymmddhhmmss-rev

const PSEUDO_VERSION_RE =
  /^v[0-9]+\.(?:0\.0-|[0-9]+\.[0-9]+-(?:[^+]*\.)?0\.)[0-9]{14}-[A-Za-z0-9]+(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** module.IsPseudoVersion. */
export function isPseudoVersion(v: string): boolean {
  let dashes = 0;
  for (let i = 0; i < v.length && dashes < 2; i++) if (v.charCodeAt(i) === 45) dashes++;
  return dashes >= 2 && PSEUDO_VERSION_RE.test(v) && isValidVersion(v);
}

export interface PseudoVersionParts {
  /** `vX.0.0`, `vX.Y.Z-pre.0` or `vX.Y.(Z+1)-0`. */
  base: string;
  /** yyyymmddhhmmss, UTC. */
  timestamp: string;
  /** The commit hash prefix. */
  rev: string;
  /** Build metadata without '+', '' when none. */
  build: string;
}

/** Splits a pseudo-version into its parts; undefined when `v` is not one. */
export function parsePseudoVersion(v: string): PseudoVersionParts | undefined {
  if (!isPseudoVersion(v)) return undefined;
  const plus = v.indexOf('+');
  const build = plus >= 0 ? v.slice(plus + 1) : '';
  const core = plus >= 0 ? v.slice(0, plus) : v;
  const j = core.lastIndexOf('-');
  const rev = core.slice(j + 1);
  const rest = core.slice(0, j);
  const i = rest.lastIndexOf('-');
  const dot = rest.lastIndexOf('.');
  if (dot > i) return { base: rest.slice(0, dot), timestamp: rest.slice(dot + 1), rev, build };
  return { base: rest.slice(0, i), timestamp: rest.slice(i + 1), rev, build };
}

/** The commit time a pseudo-version encodes, epoch ms UTC; undefined when not a pseudo-version or a malformed time. */
export function pseudoVersionTime(v: string): number | undefined {
  const p = parsePseudoVersion(v);
  if (p === undefined) return undefined;
  const t = p.timestamp;
  const year = Number(t.slice(0, 4));
  const month = Number(t.slice(4, 6));
  const day = Number(t.slice(6, 8));
  const hour = Number(t.slice(8, 10));
  const minute = Number(t.slice(10, 12));
  const second = Number(t.slice(12, 14));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 Feb over into March; Go's time.Parse rejects it, and so do we.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Module + version

/**
 * Whether `version` can be a version of `module` (module.Check plus cmd/go's +incompatible rule):
 * the path must be valid, the version canonical; modules without a major suffix take v0/v1, or
 * v2+ only as `+incompatible`; `/vN` modules take exactly vN and never `+incompatible`; gopkg.in
 * `.vN` takes vN (and, as Go tolerates for old pseudo-versions, v0.0.0-... for `.v1`).
 * Returns undefined when valid, else the reason.
 */
export function checkVersionForModule(module: string, version: string): string | undefined {
  return checkModulePath(module) ?? checkVersionForValidModule(module, version);
}

/** checkVersionForModule for a module path already known to be valid (e.g. just unescaped): skips re-checking it. */
export function checkVersionForValidModule(module: string, version: string): string | undefined {
  const r = parseRaw(version);
  if (r === undefined) return `${module}@${version}: not a semantic version`;
  if (r.short) return `${module}@${version}: not a canonical version (want vMAJOR.MINOR.PATCH)`;
  if (r.build !== '' && r.build !== 'incompatible') {
    return `${module}@${version}: build metadata other than +incompatible is not allowed`;
  }
  const split = splitPathMajor(module) as PathMajorSplit; // valid path => splits
  const incompatible = r.build === 'incompatible';
  let pathMajor = split.pathMajor;
  if (pathMajor.startsWith('.v') && pathMajor.endsWith('-unstable')) pathMajor = pathMajor.slice(0, -'-unstable'.length);
  if (pathMajor === '') {
    const small = r.major === '0' || r.major === '1';
    if (incompatible && small) {
      return `${module}@${version}: +incompatible suffix not allowed: major version v${r.major} is compatible`;
    }
    if (!small && !incompatible) {
      return `${module}@${version}: invalid version: should be v0 or v1, not v${r.major}`;
    }
    return undefined;
  }
  if (incompatible) {
    return `${module}@${version}: +incompatible suffix not allowed: module path includes a major version suffix`;
  }
  if (pathMajor === '.v1' && version.startsWith('v0.0.0-')) return undefined;
  const want = pathMajor.slice(2);
  if (r.major !== want) return `${module}@${version}: invalid version: should be v${want}, not v${r.major}`;
  return undefined;
}
