/**
 * prediction_runs reads. "The latest finished run" is defined here once (newest finished_at, ties broken by run_id),
 * so the API, the planner and the /metrics gauges all name the same run.
 */
import { queryRows, type Store } from '../client.js';

export interface PredictionRun {
  runId: string;
  /** History ends here; forecast windows start here. Epoch ms. */
  asOf: number;
  startedAt: number;
  finishedAt: number | null;
  horizonHours: number;
  stepMinutes: number;
  /** Prediction rows the run wrote. */
  predictions: number;
}

const RUN_COLUMNS = `run_id, toUnixTimestamp(as_of) * 1000 AS as_of_ms, toUnixTimestamp64Milli(started_at) AS started_ms,
  if(isNull(finished_at), NULL, toUnixTimestamp64Milli(assumeNotNull(finished_at))) AS finished_ms, horizon_hours, step_minutes, predictions`;

type RunRow = {
  run_id: string;
  as_of_ms: number | string;
  started_ms: number | string;
  finished_ms: number | string | null;
  horizon_hours: number;
  step_minutes: number;
  predictions: number | string;
};

const toRun = (r: RunRow): PredictionRun => ({
  runId: r.run_id,
  asOf: Number(r.as_of_ms),
  startedAt: Number(r.started_ms),
  finishedAt: r.finished_ms === null ? null : Number(r.finished_ms),
  horizonHours: Number(r.horizon_hours),
  stepMinutes: Number(r.step_minutes),
  predictions: Number(r.predictions),
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
