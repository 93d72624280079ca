/** Prediction runs: the API reads the newest finished run unless a cursor pins an older one. */
import { queryRows, type Store } from '../../store/client.js';

export interface PredictionRun {
  runId: string;
  /** History ends here; forecast windows start here. Epoch ms. */
  asOf: number;
  finishedAt: number | null;
  horizonHours: number;
  stepMinutes: number;
}

const RUN_COLUMNS = `run_id, toUnixTimestamp(as_of) * 1000 AS as_of_ms,
  if(isNull(finished_at), NULL, toUnixTimestamp64Milli(assumeNotNull(finished_at))) AS finished_ms, horizon_hours, step_minutes`;

type RunRow = { run_id: string; as_of_ms: number | string; finished_ms: number | string | null; horizon_hours: number; step_minutes: number };

const toRun = (r: RunRow): PredictionRun => ({
  runId: r.run_id,
  asOf: Number(r.as_of_ms),
  finishedAt: r.finished_ms === null ? null : Number(r.finished_ms),
  horizonHours: Number(r.horizon_hours),
  stepMinutes: Number(r.step_minutes),
});

export async function latestPredictionRun(store: Store): Promise<PredictionRun | undefined> {
  const [row] = await queryRows<RunRow>(
    store,
    `SELECT ${RUN_COLUMNS} FROM prediction_runs FINAL WHERE status = 'done' ORDER BY finished_at DESC, run_id DESC LIMIT 1`,
  );
  return row ? toRun(row) : undefined;
}

export async function predictionRunById(store: Store, runId: string): Promise<PredictionRun | undefined> {
  const [row] = await queryRows<RunRow>(store, `SELECT ${RUN_COLUMNS} FROM prediction_runs FINAL WHERE run_id = {run:String} LIMIT 1`, {
    run: runId,
  });
  return row ? toRun(row) : undefined;
}

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
