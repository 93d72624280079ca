/** The OpenAPI patterns the API documents agree with what its routes accept: windows and cursors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intRangePattern } from '../../src/lib/range-pattern.js';
import { windowPattern, FORECAST_WINDOW, TOP_WINDOW, HISTORY_WINDOW, HEATMAP_WINDOW, FORECAST_CURSOR, WARMUPS_CURSOR } from '../../src/api/schemas.js';
import { parseWindow } from '../../src/api/params.js';
import { cursorPattern, decodeCursor, encodeCursor } from '../../src/api/cursor.js';

test('intRangePattern matches exactly the integers of the range, without leading zeros', () => {
  for (const [lo, hi] of [[0, 0], [1, 9], [3, 17], [12, 345], [60, 50400], [99, 101], [7, 123456]] as const) {
    const re = new RegExp(`^(?:${intRangePattern(lo, hi)})$`);
    for (let x = 0; x <= Math.min(hi * 2, 300_000); x++) assert.equal(re.test(String(x)), x >= lo && x <= hi, `${lo}..${hi}: ${x}`);
    for (const s of ['01', '007', '', '-1', '1.0']) assert.equal(re.test(s), false, s);
  }
});

test('a window matches its route pattern exactly when the route accepts it', () => {
  for (const bounds of [FORECAST_WINDOW, TOP_WINDOW, HISTORY_WINDOW, HEATMAP_WINDOW]) {
    const re = new RegExp(windowPattern(bounds));
    for (const unit of ['m', 'h', 'd', 'w']) {
      for (let n = 0; n <= (unit === 'm' ? 60_000 : 2000); n++) {
        const text = `${n}${unit}`;
        let accepted = true;
        try {
          parseWindow(text, bounds);
        } catch {
          accepted = false;
        }
        assert.equal(re.test(text), accepted, `${text} within ${bounds.min}..${bounds.max}`);
      }
    }
  }
});

test('cursors: what the routes write matches the documented pattern and decodes back; any such string decodes', () => {
  const forecast = encodeCursor(['run-1', '12.5', 'region', 'eu', 'github.com/Azure/x', 'v1.0.0', 'zip']);
  assert.match(forecast, new RegExp(cursorPattern(FORECAST_CURSOR)));
  assert.deepEqual(decodeCursor(forecast, FORECAST_CURSOR), ['run-1', '12.5', 'region', 'eu', 'github.com/Azure/x', 'v1.0.0', 'zip']);
  const warmups = encodeCursor([1_764_000_000_000, 'sched:eu:n1:2026-11-26']);
  assert.deepEqual(decodeCursor(warmups, WARMUPS_CURSOR), [1_764_000_000_000, 'sched:eu:n1:2026-11-26']);
  assert.equal(decodeCursor('0.A', WARMUPS_CURSOR).length, 2);
  assert.throws(() => decodeCursor('a.b', WARMUPS_CURSOR), /malformed cursor/);
  assert.throws(() => decodeCursor(forecast.split('.').slice(1).join('.'), FORECAST_CURSOR), /malformed cursor/);
});
