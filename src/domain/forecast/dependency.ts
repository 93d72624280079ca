/**
 * Dependency hotness: a client that fetches module M@v for the first time also fetches the go.mod of every
 * requirement in M's module graph (and the zips of those it builds). Since Go 1.17 a go.mod lists every module
 * needed to build its packages (pruned module graphs), so one level of `require` lines covers them.
 *
 * `parseGoModRequires` reads the require directives of a go.mod; `propagateHotness` turns predicted request rates
 * of parents into extra expected requests of their requirements.
 */

export interface Requirement {
  module: string;
  version: string;
  /** Marked `// indirect`. */
  indirect: boolean;
}

/** Unquotes a go.mod token: "quoted" (Go string syntax) or bare. */
function unquote(token: string): string {
  if (token.startsWith('"') && token.endsWith('"') && token.length >= 2) {
    try {
      return JSON.parse(token) as string;
    } catch {
      return token.slice(1, -1);
    }
  }
  if (token.startsWith('`') && token.endsWith('`') && token.length >= 2) return token.slice(1, -1);
  return token;
}

/** Splits a go.mod line into tokens (quotes respected) and its trailing `//` comment. */
function tokenize(line: string): { tokens: string[]; comment: string } {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && line[i + 1] === '/') return { tokens, comment: line.slice(i + 2).trim() };
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < line.length && line[j] !== c) j += line[j] === '\\' && c === '"' ? 2 : 1;
      tokens.push(line.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
      continue;
    }
    let j = i;
    while (j < line.length && !' \t\r()'.includes(line[j]!) && !(line[j] === '/' && line[j + 1] === '/')) j++;
    tokens.push(line.slice(i, j));
    i = j;
  }
  return { tokens, comment: '' };
}

function requirementFrom(tokens: string[], comment: string): Requirement | null {
  if (tokens.length < 2) return null;
  const module = unquote(tokens[0]!);
  const version = unquote(tokens[1]!);
  if (!module || !version.startsWith('v')) return null;
  return { module, version, indirect: /(^|;)\s*indirect\s*(;|$)/.test(comment) };
}

/**
 * The requirements of a go.mod, in file order, duplicates kept once. Tolerant: unknown or malformed lines are
 * skipped, never thrown on (a go.mod comes from an upstream we do not control).
 */
export function parseGoModRequires(text: string): Requirement[] {
  const out: Requirement[] = [];
  const seen = new Set<string>();
  let block: string | null = null;
  const push = (r: Requirement | null): void => {
    if (!r) return;
    const key = `${r.module}@${r.version}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(r);
  };
  for (const raw of text.split('\n')) {
    const { tokens, comment } = tokenize(raw);
    if (tokens.length === 0) continue;
    if (block !== null) {
      if (tokens[0] === ')') {
        block = null;
        continue;
      }
      if (block === 'require') push(requirementFrom(tokens, comment));
      continue;
    }
    const verb = tokens[0]!;
    if (tokens[1] === '(') {
      block = verb;
      continue;
    }
    if (verb === 'require') push(requirementFrom(tokens.slice(1), comment));
  }
  return out;
}

export interface HotParent {
  module: string;
  version: string;
  /** Expected requests per hour (any unit, propagated proportionally). */
  rate: number;
}

export interface PropagateOptions {
  /** Share of a parent's requests that lead to a request of each requirement. */
  factor: number;
  /** Levels to follow (1 suffices for Go ≥ 1.17 go.mod files). */
  depth?: number;
  /** Contributions below this are dropped (keeps the result small). */
  minRate?: number;
  /** Bound on the number of boosted requirements kept (largest first). */
  limit?: number;
}

export const requirementKey = (module: string, version: string): string => `${module}@${version}`;

/**
 * Extra expected rate of each requirement from its hot parents: Σ parent rate × factor^level. A module required by
 * many hot modules becomes hot itself even with no history (a new library everyone just started to use).
 */
export function propagateHotness(
  parents: Iterable<HotParent>,
  requiresOf: (module: string, version: string) => readonly Requirement[] | undefined,
  options: PropagateOptions,
): Map<string, { module: string; version: string; rate: number }> {
  const depth = options.depth ?? 1;
  const minRate = options.minRate ?? 0;
  const boosts = new Map<string, { module: string; version: string; rate: number }>();
  let frontier: HotParent[] = [...parents].filter((p) => p.rate > 0);
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    const next = new Map<string, HotParent>();
    for (const parent of frontier) {
      const add = parent.rate * options.factor;
      if (!(add > minRate)) continue;
      for (const req of requiresOf(parent.module, parent.version) ?? []) {
        const key = requirementKey(req.module, req.version);
        const b = boosts.get(key) ?? { module: req.module, version: req.version, rate: 0 };
        b.rate += add;
        boosts.set(key, b);
        const n = next.get(key) ?? { module: req.module, version: req.version, rate: 0 };
        n.rate += add;
        next.set(key, n);
      }
    }
    frontier = [...next.values()];
  }
  if (options.limit !== undefined && boosts.size > options.limit) {
    const kept = [...boosts.entries()].sort((a, b) => b[1].rate - a[1].rate || (a[0] < b[0] ? -1 : 1)).slice(0, options.limit);
    return new Map(kept);
  }
  return boosts;
}

/** A requirement edge of a parent fetched often over the last week, in one region. */
export interface HotEdge {
  module: string;
  version: string;
  region: string;
  /** Parent fetches per hour over the last week. */
  rate: number;
  reqModule: string;
  reqVersion: string;
}

/** Extra deseasonalised fetch rate per region (index in `regions`) of requirements of hot modules (one level). */
export function dependencyBoostsByRegion(
  edges: readonly HotEdge[],
  regions: readonly string[],
  o: { factor: number; limit: number },
): Map<string, { module: string; version: string; perRegion: Float64Array }> {
  const out = new Map<string, { module: string; version: string; perRegion: Float64Array }>();
  for (let r = 0; r < regions.length; r++) {
    const region = regions[r]!;
    const graph = new Map<string, Requirement[]>();
    const parents = new Map<string, { module: string; version: string; rate: number }>();
    for (const e of edges) {
      if (e.region !== region) continue;
      const pk = requirementKey(e.module, e.version);
      parents.set(pk, { module: e.module, version: e.version, rate: e.rate });
      const list = graph.get(pk) ?? [];
      list.push({ module: e.reqModule, version: e.reqVersion, indirect: false });
      graph.set(pk, list);
    }
    const boosts = propagateHotness(parents.values(), (m, v) => graph.get(requirementKey(m, v)), { factor: o.factor, limit: o.limit });
    for (const [key, b] of boosts) {
      let entry = out.get(key);
      if (!entry) out.set(key, (entry = { module: b.module, version: b.version, perRegion: new Float64Array(regions.length) }));
      entry.perRegion[r] = b.rate;
    }
  }
  return out;
}
