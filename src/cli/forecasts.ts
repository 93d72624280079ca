/** `modcast forecasts`: the newest prediction run's forecasts, most expected demand first (what GET /v1/forecasts serves). */
import type { Command } from 'commander';
import { contextFrom, intOption, withStore } from './context.js';
import { table } from './top.js';
import { latestPredictionRun } from '../store/queries/prediction-runs.js';
import { listForecasts, type ForecastFilter } from '../store/queries/predictions.js';
import { parseDuration } from '../domain/duration.js';
import { ModcastError, ErrorCodes } from '../errors.js';

interface ForecastsFlags {
  scope?: string;
  id?: string;
  module?: string;
  kind?: string;
  window: string;
  limit: number;
  json?: boolean;
}

const SCOPES = ['node', 'region', 'fleet'];

export function registerForecasts(program: Command): void {
  program
    .command('forecasts')
    .description('the newest prediction run: expected requests per module/version over a window from its as-of time, most expected first')
    .option('--scope <scope>', 'node | region | fleet')
    .option('--id <name>', 'node or region name (with --scope)')
    .option('--module <prefix>', 'only modules starting with this')
    .option('--kind <kind>', 'any | zip | mod | info | list ...')
    .option('-w, --window <duration>', 'window summed over, from the run as-of time', '24h')
    .option('-l, --limit <n>', 'rows', intOption('limit', 1, 10_000), 20)
    .option('--json', 'print JSON')
    .action(async (flags: ForecastsFlags, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const window = parseDuration(flags.window);
      if (!window) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--window ${JSON.stringify(flags.window)} is not a duration like 6h, 1d`);
      if (flags.scope && !SCOPES.includes(flags.scope)) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--scope must be one of ${SCOPES.join(', ')}`);
      await withStore(ctx, async (store) => {
        const run = await latestPredictionRun(store);
        if (!run) {
          console.log('no finished prediction run: run `modcast score` (or `modcast demo`) first');
          return;
        }
        const filter: ForecastFilter = {
          runId: run.runId,
          from: run.asOf,
          to: run.asOf + window,
          modulePrefix: flags.module ?? '',
          ...(flags.scope ? { scope: flags.scope } : {}),
          ...(flags.id ? { scopeId: flags.id } : {}),
          ...(flags.kind ? { kind: flags.kind } : {}),
        };
        const rows = await listForecasts(store, filter, undefined, flags.limit);
        if (flags.json) return console.log(JSON.stringify({ run, window: flags.window, items: rows }, null, 2));
        const iso = (t: number) => new Date(t).toISOString().replace(/:00\.000Z$/, 'Z');
        console.log(`run ${run.runId}, as of ${iso(run.asOf)}, window ${flags.window} (${iso(run.asOf)} .. ${iso(run.asOf + window)})`);
        console.log(
          rows.length === 0
            ? 'no forecasts match (check --scope/--id/--module, or a window within the run horizon of ' + `${run.horizonHours} h)`
            : table(
                ['scope', 'module', 'version', 'kind', 'expected', 'p_any', '10%..90%', 'model'],
                rows.map((r) => [`${r.key[0]}:${r.key[1]}`, r.key[2], r.key[3] || '(module)', r.key[4], r.expected.toFixed(1), r.pAny.toFixed(2), `${r.lower}..${r.upper}`, r.model]),
              ),
        );
      });
    });
}
