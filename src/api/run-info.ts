/** Runs as the API shows them: times as ISO strings. */
import type { PredictionRun } from '../store/queries/prediction-runs.js';
import type { RunRecord } from '../store/queries/warmups.js';

const iso = (ms: number) => new Date(ms).toISOString();

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

/** A run as the API shows it: times as ISO strings. */
export function runView(r: RunRecord) {
  return { ...r, plannedFor: iso(r.plannedFor), createdAt: iso(r.createdAt), finishedAt: r.finishedAt === null ? null : iso(r.finishedAt) };
}
