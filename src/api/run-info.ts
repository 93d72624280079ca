/** A prediction run as the API shows it (PredictionRunInfo in schemas.ts): times as ISO strings. */
import type { PredictionRun } from '../store/queries/prediction-runs.js';

export function runInfo(run: PredictionRun | undefined) {
  if (!run) return null;
  return {
    runId: run.runId,
    asOf: new Date(run.asOf).toISOString(),
    finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
    horizonHours: run.horizonHours,
    stepMinutes: run.stepMinutes,
  };
}
