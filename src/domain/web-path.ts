/**
 * A web access log's request path as a backtest item, for trying modcast on logs that are not GOPROXY logs (public
 * web, CDN and archive logs): every path is one item, named `<host><path>` like a module path. Pure.
 */

/** Characters kept in an item name; any other becomes `_` (CSV-safe, and readable as a module path). */
const KEPT = /[^A-Za-z0-9._~/-]/g;

/**
 * `/a/b.html?x=1` → `<host>/a/b.html`. The query and fragment are dropped (they rarely name another file), an absolute
 * URL keeps only its path (a forward proxy logs those), and an empty path is `/`.
 */
export function webPathItem(rawPath: string, host: string): string {
  let path = rawPath;
  const scheme = path.indexOf('://');
  if (scheme > 0 && scheme < 10) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash < 0 ? '/' : path.slice(slash);
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (!path.startsWith('/')) path = `/${path}`;
  return host + path.replace(KEPT, '_');
}
