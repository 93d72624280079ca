/**
 * The scoring job of src/scoring, when this build has it: a module `src/scoring/score.ts` exporting
 * `runScoring({ store, config, logger, signal })`. Loaded by name at run time, so the scheduler (and `modcast
 * serve`, which hosts it) work before and without it; warm-ups then plan from the latest finished prediction run.
 */
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import type { Logger } from '../lib/logger.js';
import type { ScoringJob } from './scheduler.js';

type RunScoring = (o: { store: Store; config: Config; logger: Logger; signal?: AbortSignal }) => Promise<unknown>;

export async function loadScoringJob(store: Store, config: Config, logger: Logger): Promise<ScoringJob | undefined> {
  const specifier = '../scoring/score.js';
  let mod: { runScoring?: RunScoring };
  try {
    mod = (await import(specifier)) as { runScoring?: RunScoring };
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
  if (typeof mod.runScoring !== 'function') {
    logger.warn('src/scoring/score.js exports no runScoring({ store, config, logger, signal }): scoring is not scheduled');
    return undefined;
  }
  const run = mod.runScoring;
  return ({ signal }) => run({ store, config, logger, ...(signal ? { signal } : {}) });
}
