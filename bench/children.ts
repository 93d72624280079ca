/** Child processes of the streaming stages (shipper, producers): spawned with their output in a log file, awaited, stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeArgs, onCleanup } from './harness.js';

/** Resolves when `cond` holds, polling; throws after `timeoutMs` with `what`. */
export async function until(cond: () => boolean, timeoutMs: number, what: () => string, everyMs = 20): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await sleep(everyMs);
  }
  return performance.now();
}

/** A child whose stdout+stderr go to `logFile`; stopped (SIGTERM, then SIGKILL) at cleanup. */
export async function spawnLogged(args: string[], logFile: string): Promise<{ child: ChildProcess; log: () => string; exited: () => boolean }> {
  const out = createWriteStream(logFile);
  await once(out, 'open');
  const child = spawn(process.execPath, [...nodeArgs(), ...args], { stdio: ['ignore', out, out] });
  let exited = false;
  child.once('exit', () => (exited = true));
  onCleanup(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([once(child, 'exit'), sleep(15_000)]);
    if (!exited) child.kill('SIGKILL');
  });
  return { child, log: () => readFileSync(logFile, 'utf8'), exited: () => exited };
}

export async function stopChild(c: { child: ChildProcess; exited: () => boolean }): Promise<void> {
  if (c.exited()) return;
  c.child.kill('SIGTERM');
  await Promise.race([once(c.child, 'exit'), sleep(20_000)]);
}

