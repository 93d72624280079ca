/**
 * The foundation's promise: a file ingest killed with SIGKILL mid-way and run again stores every event exactly
 * once, and every malformed line lands in rejected_events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultWorkload } from '../../src/demo/generator.js';
import { writeWorkloadLogs } from '../../src/demo/write-logs.js';
import { openStore } from '../../src/store/client.js';
import { testConfig, count, storeTarget } from '../helpers/store.js';
import { spawnCli, runCli } from '../helpers/cli.js';

test('ingest of a 200k-line log killed mid-way resumes with exact counts', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-resume-'));
  const target = await storeTarget();
  try {
    const workload = defaultWorkload({
      seed: 7,
      days: 14,
      nodes: [{ name: 'eu-1', region: 'eu', timeZone: 'Europe/Berlin' }],
      fetchesPerBusyHour: 600,
    });
    const [log] = await writeWorkloadLogs(workload, join(dir, 'logs'), [{ node: 'eu-1', format: 'nginx' }], 0.002);
    assert.ok(log && log.lines >= 200_000, `generated ${log?.lines} lines`);
    assert.ok(log.malformed > 100);
    const dataDir = join(dir, 'data');
    const args = ['--data-dir', dataDir, 'ingest', log.file, '--node', 'eu-1', '--region', 'eu', '--batch-lines', '2000'];
    const env = { MODCAST_CLIENT_SALT: 'resume-test-salt-0123', ...target.env };

    const first = spawnCli(args, env);
    const exited = new Promise((r) => first.on('close', r));
    // Kill once a checkpoint shows real progress but before the end.
    const size = statSync(log.file).size;
    let killedAt = -1;
    let firstDone = false;
    void exited.then(() => (firstDone = true));
    for (let i = 0; i < 3000 && killedAt < 0 && !firstDone; i++) {
      await sleep(10);
      const cpDir = join(dataDir, 'checkpoints');
      const files = (() => { try { return readdirSync(cpDir).filter((f) => f.endsWith('.json')); } catch { return []; } })();
      if (files.length === 0) continue;
      const offset = (JSON.parse(readFileSync(join(cpDir, files[0]!), 'utf8')) as { offset: number }).offset;
      if (offset > size * 0.1) {
        first.kill('SIGKILL');
        killedAt = offset;
      }
    }
    await exited;
    assert.ok(killedAt > 0 && killedAt < size, `the first ingest must be killed mid-way (offset ${killedAt} of ${size}, exited on its own: ${firstDone})`);

    const second = await runCli(args, env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /ingested [\d,]+ events/);

    // A third run finds everything stored: nothing is added.
    const third = await runCli(args, env);
    assert.equal(third.code, 0, third.stderr);

    const store = await openStore(testConfig(dataDir, target.overrides));
    try {
      const expectedEvents = log.lines - log.malformed;
      assert.equal(await count(store, 'SELECT count() FROM access_events'), expectedEvents);
      assert.equal(await count(store, 'SELECT uniqExact(event_id) FROM access_events'), expectedEvents);
      assert.equal(await count(store, 'SELECT sum(requests) FROM rollups_1h'), expectedEvents);
      assert.equal(await count(store, 'SELECT count() FROM rejected_events'), log.malformed);
      assert.equal(await count(store, "SELECT countIf(raw_base64 = '') FROM rejected_events"), 0);
      console.log(`# ingest resume: ${log.lines} lines, killed at byte ${killedAt}/${size}, stored ${expectedEvents} events + ${log.malformed} rejects exactly once`);
    } finally {
      await store.close();
    }
  } finally {
    await target.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
