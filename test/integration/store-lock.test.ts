/**
 * Two processes on one embedded store: chDB locks its data directory, so the second process must be told who
 * holds it and what to do (MODCAST_ERR_STORE_LOCKED), not get the engine's raw error; once the holder stops, the
 * same command works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnCli } from '../helpers/cli.js';

test('a second process on a held store gets MODCAST_ERR_STORE_LOCKED naming the holder; after it stops the store opens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-lock-'));
  // `modcast scheduler` holds the store until SIGTERM and says when it runs.
  const holder = spawnCli(['--data-dir', dir, 'scheduler']);
  try {
    let out = '';
    let err = '';
    holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the scheduler did not start within 90 s: ${err}`)), 90_000);
      holder.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('scheduler running')) {
          clearTimeout(timer);
          resolve();
        }
      });
      holder.on('exit', (code) => reject(new Error(`the scheduler exited (${code}): ${err}`)));
    });

    const second = await runCli(['--data-dir', dir, 'stats']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`modcast: MODCAST_ERR_STORE_LOCKED: the embedded store \\S+ is held by another modcast process \\(pid ${holder.pid}, since [^)]+\\)`));
    assert.match(second.stderr, /over its API/);
    assert.doesNotMatch(second.stderr, /MODCAST_ERR_STORE_UNAVAILABLE/);

    const exited = once(holder, 'exit');
    holder.kill('SIGTERM');
    assert.equal((await exited)[0], 0, err);
    const after = await runCli(['--data-dir', dir, 'stats']);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /^events 0 /);
  } finally {
    if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
