/** The process clock: MODCAST_NOW fixes where "now" starts (ISO with a zone or epoch ms) and it then advances. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModcastError } from '../../src/errors.js';
import { clockFromEnv, clockStartingAt, parseInstant, systemClock } from '../../src/lib/clock.js';

test('MODCAST_NOW starts the clock at the given instant, which then advances in real time', () => {
  let real = 1_000;
  const fake = () => real;
  const clock = clockStartingAt(Date.parse('2026-12-12T09:30:00Z'), fake);
  assert.equal(new Date(clock()).toISOString(), '2026-12-12T09:30:00.000Z');
  real += 90_000;
  assert.equal(new Date(clock()).toISOString(), '2026-12-12T09:31:30.000Z');

  const fromEnv = clockFromEnv({ MODCAST_NOW: '2027-03-28T01:30:00+01:00' });
  assert.ok(Math.abs(fromEnv() - Date.parse('2027-03-28T00:30:00Z')) < 5_000);
  const fromEpoch = clockFromEnv({ MODCAST_NOW: String(Date.parse('2026-12-09T14:00:00Z')) });
  assert.ok(Math.abs(fromEpoch() - Date.parse('2026-12-09T14:00:00Z')) < 5_000);
  assert.equal(clockFromEnv({}), systemClock);
  assert.equal(clockFromEnv({ MODCAST_NOW: '' }), systemClock);
});

test('a MODCAST_NOW without a zone or not a time is refused with a named error', () => {
  for (const bad of ['2026-12-12T09:30', 'tomorrow', '2026-13-40T25:00:00Z']) {
    assert.throws(() => clockFromEnv({ MODCAST_NOW: bad }), (e: ModcastError) => e.code === 'MODCAST_ERR_CONFIG_INVALID' && e.message.startsWith('MODCAST_NOW='), bad);
  }
  assert.equal(parseInstant('2026-12-12T09:30'), undefined, 'a zone-less time is ambiguous');
});
