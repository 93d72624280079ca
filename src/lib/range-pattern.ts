/**
 * Regular expressions for integer ranges, so a schema pattern can state a numeric range of a value that travels as
 * text (a window such as `35d`): a client generating from the schema then only produces values the server takes.
 */

/** Alternatives matching every integer from a to b written with the same number of digits (leading zeros kept). */
function sameLength(a: string, b: string): string[] {
  if (a === b) return [a];
  if (a.length === 1) return [`[${a}-${b}]`];
  if (a[0] === b[0]) return sameLength(a.slice(1), b.slice(1)).map((p) => `${a[0]}(?:${p})`);
  const n = a.length - 1;
  const out: string[] = [];
  let first = Number(a[0]);
  let last = Number(b[0]);
  const lowIsRound = /^0*$/.test(a.slice(1));
  const highIsRound = /^9*$/.test(b.slice(1));
  if (!lowIsRound) {
    out.push(...sameLength(a.slice(1), '9'.repeat(n)).map((p) => `${a[0]}(?:${p})`));
    first++;
  }
  if (!highIsRound) last--;
  if (first <= last) out.push(`${first === last ? first : `[${first}-${last}]`}[0-9]{${n}}`);
  if (!highIsRound) out.push(...sameLength('0'.repeat(n), b.slice(1)).map((p) => `${b[0]}(?:${p})`));
  return out;
}

/** A regex alternation (no anchors) matching the decimal integers lo..hi without leading zeros. */
export function intRangePattern(lo: number, hi: number): string {
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo < 0) throw new RangeError(`bad range ${lo}..${hi}`);
  const parts: string[] = [];
  for (let d = String(lo).length; d <= String(hi).length; d++) {
    const a = Math.max(lo, d === 1 ? 0 : 10 ** (d - 1));
    const b = Math.min(hi, 10 ** d - 1);
    if (a <= b) parts.push(...sameLength(String(a), String(b)));
  }
  return parts.join('|');
}
