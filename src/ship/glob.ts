/**
 * Minimal glob for log paths: `*`, `?` and `[...]` inside any path segment (no `**`), e.g.
 * `/var/log/nginx/access.log*` or `/var/log/*\/goproxy.log`. Node 20 has no fs.glob; this is all a shipper needs.
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

const WILDCARD = /[*?[]/;

export function hasWildcard(pattern: string): boolean {
  return WILDCARD.test(pattern);
}

/** Compiles one path segment's pattern. A leading dot is matched only explicitly, as in shells. */
export function segmentMatcher(segment: string): (name: string) => boolean {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/\\/g, '\\\\');
        re += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`);
  const dotExplicit = segment.startsWith('.');
  return (name) => (dotExplicit || !name.startsWith('.')) && compiled.test(name);
}

/** Existing paths matching `pattern` (absolute, sorted). Missing directories simply match nothing. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  if (!hasWildcard(abs)) return [abs];
  const segments = abs.split(sep).filter((s) => s.length > 0);
  let bases: string[] = [sep];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (!hasWildcard(seg)) {
      bases = bases.map((b) => join(b, seg));
      continue;
    }
    const match = segmentMatcher(seg);
    const next: string[] = [];
    for (const base of bases) {
      let names: string[];
      try {
        names = await readdir(base);
      } catch {
        continue;
      }
      for (const n of names) if (match(n)) next.push(join(base, n));
    }
    bases = next;
  }
  return bases.sort();
}
