/**
 * What every subcommand starts from: the validated config (file + env + flags) and a logger.
 * Commands that touch the store open it through `withStore`, which reports a held embedded store clearly.
 */
import type { Command } from 'commander';
import { ModcastError, ErrorCodes } from '../errors.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { openStore, type Store } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { clockFromEnv, systemClock, type Clock } from '../lib/clock.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  logLevel?: string;
}

export interface CommandContext {
  config: Config;
  logger: Logger;
  /** "Now" of this process: the system clock, or MODCAST_NOW (read only here); absent = the system clock. */
  clock?: Clock;
}

export function contextFrom(cmd: Command, overrides: Record<string, unknown> = {}): CommandContext {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const config = loadConfig({
    ...(g.config ? { file: g.config } : {}),
    overrides: {
      ...(g.dataDir ? { dataDir: g.dataDir } : {}),
      ...(g.logLevel ? { logLevel: g.logLevel } : {}),
      ...overrides,
    },
  });
  return { config, logger: createLogger(config.logLevel), clock: clockFromEnv(process.env) };
}

/** The context's clock (contexts built by hand, e.g. in tests, may leave it out). */
export function clockOf(ctx: Pick<CommandContext, 'clock'>): Clock {
  return ctx.clock ?? systemClock;
}

/** Opens (and migrates) the store for the duration of `fn`, closing it afterwards. */
export async function withStore<T>(ctx: CommandContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(ctx.config);
  try {
    await migrate(store);
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Parses a positive integer flag with a readable error. */
export function intOption(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** `--node-region node=region,…`: the regions of nodes a file or trace names (backtest, trace). */
export function parseNodeRegions(s: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of (s ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const [node, region] = pair.split('=');
    if (!node || !region) throw new ModcastError(ErrorCodes.INVALID_ARGUMENT, `--node-region expects node=region[,node=region…], got ${JSON.stringify(pair)}`);
    map.set(node, region);
  }
  return map;
}
