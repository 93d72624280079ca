/**
 * "Now" for the code whose answer depends on it: scoring (as-of), planning (demand window), the scheduler (which
 * business block is next) and the demo (where its generated history ends). Injected so tests and operators can
 * fix it; timestamps of what actually happened (run records, checkpoints, durations) keep the real clock.
 */
import { ModcastError, ErrorCodes } from '../errors.js';

export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock that reads `at` now and advances in real time from there (timeouts and run order stay sane). */
export function clockStartingAt(at: number, real: Clock = systemClock): Clock {
  const offset = at - real();
  return () => real() + offset;
}

/** An instant from an ISO string (with a zone) or epoch milliseconds; undefined when neither. */
export function parseInstant(text: string): number | undefined {
  const s = text.trim();
  if (/^\d{10,}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * The process clock of the CLI: `MODCAST_NOW` (ISO instant with a zone, or epoch ms) starts the process at that
 * instant, e.g. to replay what the scheduler would do on a given morning; unset = the system clock.
 * Read only by the CLI's composition root (src/cli/context.ts); library code takes a `now`/`clock` option.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const raw = env.MODCAST_NOW;
  if (raw === undefined || raw.trim() === '') return systemClock;
  const at = parseInstant(raw);
  if (at === undefined) {
    throw new ModcastError(ErrorCodes.CONFIG_INVALID, `MODCAST_NOW=${JSON.stringify(raw)}: expected an ISO instant with a zone (2026-11-26T07:00:00Z) or epoch milliseconds`);
  }
  return clockStartingAt(at);
}
