/** The scoring job as the scheduler runs it: one scoring pass over the store (src/scoring/score.ts). */
import type { Config } from '../config.js';
import type { Store } from '../store/client.js';
import type { Logger } from '../lib/logger.js';
import type { ScoringJob } from './scheduler.js';
import { runScoring } from '../scoring/score.js';
import { systemClock, type Clock } from '../lib/clock.js';

export function scoringJob(store: Store, config: Config, logger: Logger, clock: Clock = systemClock): ScoringJob {
  return ({ signal }) => runScoring({ store, config, logger, clock, ...(signal ? { signal } : {}) });
}
