/**
 * A truncated .gz (a rotation cut short by a full disk, a copy interrupted) must not crash `modcast ingest`: every
 * line that decompresses is stored, the broken last line is a reject, the checkpoint is written, and the command
 * names the damaged file and where it breaks, with a non-zero exit. A rerun says the same without crashing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/client.js';
import { testConfig, count } from '../helpers/store.js';
import { runCli } from '../helpers/cli.js';
import { writeTruncatedGz } from '../helpers/damaged-gz.js';

test('a truncated .gz: readable lines stored, broken last line rejected, checkpoint written, named error, rerun same', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-damaged-'));
  try {
    const file = join(dir, 'access.log.1.gz');
    const { readable, complete, completeLines } = await writeTruncatedGz(file, 20_000);
    assert.ok(completeLines > 1000, `the cut keeps ${completeLines} lines`);

    const dataDir = join(dir, 'data');
    const args = ['--data-dir', dataDir, 'ingest', file, '--node', 'eu-1', '--region', 'eu', '--batch-lines', '3000'];
    const env = { MODCAST_CLIENT_SALT: 'damaged-test-salt-0123' };
    const first = await runCli(args, env);
    assert.notEqual(first.code, 0, first.stderr);
    assert.equal(first.signal, null);
    assert.doesNotMatch(first.stderr, /Unhandled|at .*\.js:\d+/, first.stderr);
    assert.match(first.stderr, /MODCAST_ERR_INPUT_DAMAGED/);
    assert.ok(first.stderr.includes(file), first.stderr);
    assert.match(first.stderr, new RegExp(`decompressed byte ${readable}\\b`), first.stderr);
    assert.match(first.stderr, /compressed byte \d+ of \d+/, first.stderr);
    assert.equal(readdirSync(join(dataDir, 'checkpoints')).filter((f) => f.endsWith('.json')).length, 1);

    const second = await runCli(args, env);
    assert.notEqual(second.code, 0, second.stderr);
    assert.match(second.stderr, /MODCAST_ERR_INPUT_DAMAGED/);
    assert.doesNotMatch(second.stderr, /Unhandled/);

    const store = await openStore(testConfig(dataDir));
    try {
      assert.equal(await count(store, 'SELECT count() FROM access_events'), completeLines);
      assert.equal(await count(store, 'SELECT count() FROM rejected_events'), 1);
      assert.equal(await count(store, 'SELECT max(offset) FROM rejected_events'), complete);
      console.log(`# truncated gz: ${completeLines} lines + 1 broken line of ${readable} recoverable bytes stored; exit ${first.code}`);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
