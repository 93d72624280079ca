/** Every subcommand, one file each. Add a line here when you add a command file. */
import type { Command } from 'commander';
import { registerIngest } from './ingest.js';
import { registerTop } from './top.js';
import { registerDemo } from './demo.js';
import { registerServe } from './serve.js';
import { registerShip } from './ship.js';
import { registerConsume } from './consume.js';
import { registerKafkaTopics } from './kafka-topics.js';
import { registerPlan } from './plan.js';
import { registerForecasts } from './forecasts.js';
import { registerWarmup } from './warmup.js';
import { registerScheduler } from './scheduler.js';
import { registerScore } from './score.js';
import { registerBacktest } from './backtest.js';
import { registerTrace } from './trace.js';
import { registerWarmupWorker } from './warmup-worker.js';

export function registerCommands(program: Command): void {
  registerIngest(program);
  registerTop(program);
  registerDemo(program);
  registerServe(program);
  registerShip(program);
  registerConsume(program);
  registerKafkaTopics(program);
  registerForecasts(program);
  registerPlan(program);
  registerWarmup(program);
  registerScheduler(program);
  registerScore(program);
  registerBacktest(program);
  registerTrace(program);
  registerWarmupWorker(program);
}
