/** `modcast top` and `modcast stats` — what the store holds and what is hot, from the rollups. */
import type { Command } from 'commander';
import { contextFrom, withStore, intOption } from './context.js';
import { topQuery, latestBucketEnd, storeStats, TOP_DIMENSIONS, type TopDimension, type TopRow } from '../store/queries/top.js';
import { parseDuration } from '../domain/duration.js';
import { ModcastError, ErrorCodes } from '../errors.js';
import type { Store } from '../store/client.js';

interface TopFlags {
  window: string;
  by: string;
  limit: number;
  until?: string;
  node?: string;
  region?: string;
  prefix?: string;
  json?: boolean;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export interface TopOptions {
  window: number;
  by: TopDimension;
  limit: number;
  until?: Date;
  node?: string;
  region?: string;
  prefix?: string;
}

/** The top-N over the window ending at `until` (default: the end of the newest data). */
export async function runTop(store: Store, o: TopOptions): Promise<{ from: Date; to: Date; rows: TopRow[] }> {
  const to = o.until ?? (await latestBucketEnd(store)) ?? new Date();
  const from = new Date(to.getTime() - o.window);
  const rows = await topQuery(store, {
    by: o.by,
    from,
    to,
    limit: o.limit,
    ...(o.node ? { node: o.node } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.prefix ? { modulePrefix: o.prefix } : {}),
  });
  return { from, to, rows };
}

export function renderTop(res: { from: Date; to: Date; rows: TopRow[] }, by: string): string {
  return (
    `top ${by} from ${res.from.toISOString()} to ${res.to.toISOString()}\n` +
    table(
      [by, 'requests', 'zips', 'misses', 'bytes', 'clients'],
      res.rows.map((r) => [r.key, r.requests, r.zips, r.misses, formatBytes(r.bytes), r.clients]),
    )
  );
}

export function registerTop(program: Command): void {
  program
    .command('top')
    .description('most requested modules, versions, nodes or regions over a window (from rollups)')
    .option('-w, --window <duration>', 'window length: 30m, 1h, 1d, 7d', '1h')
    .option('-b, --by <dimension>', TOP_DIMENSIONS.join(' | '), 'module')
    .option('-l, --limit <n>', 'rows', intOption('limit', 1, 10_000), 20)
    .option('--until <iso-time>', 'window end (default: end of the newest data)')
    .option('--node <name>', 'only this node')
    .option('--region <name>', 'only this region')
    .option('--prefix <module-prefix>', 'only modules starting with this')
    .option('--json', 'print JSON')
    .action(async (flags: TopFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const window = parseDuration(flags.window);
      if (!window) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--window ${JSON.stringify(flags.window)} is not a duration like 30m, 1h, 7d`);
      if (!(TOP_DIMENSIONS as readonly string[]).includes(flags.by))
        throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--by must be one of ${TOP_DIMENSIONS.join(', ')}`);
      const until = flags.until ? new Date(flags.until) : undefined;
      if (until && Number.isNaN(until.getTime())) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--until ${flags.until} is not a time`);
      await withStore(ctx, async (store) => {
        const res = await runTop(store, {
          window,
          by: flags.by as TopDimension,
          limit: flags.limit,
          ...(until ? { until } : {}),
          ...(flags.node ? { node: flags.node } : {}),
          ...(flags.region ? { region: flags.region } : {}),
          ...(flags.prefix ? { prefix: flags.prefix } : {}),
        });
        console.log(flags.json ? JSON.stringify(res, null, 2) : renderTop(res, flags.by));
      });
    });

  program
    .command('stats')
    .description('events, rejects, time range and per-node counts in the store')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      await withStore(ctx, async (store) => {
        const s = await storeStats(store);
        if (flags.json) return console.log(JSON.stringify(s, null, 2));
        console.log(
          `events ${s.events.toLocaleString()}  rejected ${s.rejected.toLocaleString()}  modules ${s.modules}  versions ${s.versions}\n` +
            `range  ${s.first ?? '-'} .. ${s.last ?? '-'}\n\n` +
            table(['node', 'region', 'events', 'misses', 'first', 'last'], s.perNode.map((n) => [n.node, n.region, n.events, n.misses, n.first, n.last])),
        );
      });
    });
}
