/** A damaged .gz gives up every byte before the damage, however slowly it is read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipFile, type GzDamage } from '../../src/lib/gunzip.js';
import { writeTruncatedGz } from '../helpers/damaged-gz.js';

test('a truncated .gz read by a slow reader still yields everything a gunzip can recover, then reports the damage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'modcast-gz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log.1.gz');
  const { readable } = await writeTruncatedGz(file, 8000, 5);
  for (const [delayMs, skip] of [[0, 0], [2, 0], [2, 100_000]] as const) {
    let bytes = 0;
    let damage: GzDamage | undefined;
    for await (const chunk of gunzipFile(file, skip, (d) => (damage = d))) {
      bytes += chunk.length;
      if (delayMs) await sleep(delayMs);
    }
    assert.equal(bytes, readable - skip, `delay ${delayMs} ms, skip ${skip}`);
    assert.equal(damage?.decompressed, readable);
    assert.match(damage!.reason, /^Z_/);
  }
});
