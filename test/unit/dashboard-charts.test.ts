/**
 * The dashboard's pure chart helpers (dashboards/web), at fixed dates: gaps in the events line, and the top-N
 * panel's windows named by weekday with what a reader comparing their bars should know.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topWindows, withGaps } from '../../dashboards/web/charts.js';
import { span, weekendShare } from '../../dashboards/web/format.js';
import type { TopReply } from '../../dashboards/web/replies.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (s: string) => new Date(s).toISOString();

test('withGaps: a few missing buckets are zeros, half an hour or more of them a break in the line', () => {
  const t0 = Date.UTC(2026, 11, 7, 10);
  const at = (m: number, v: number): [number, number] => [t0 + m * MIN, v];
  const { line, gaps } = withGaps([at(0, 4), at(5, 3), at(20, 2), at(25, 5), at(60, 1)], 5 * MIN);
  assert.deepEqual(line, [
    at(0, 4),
    at(5, 3),
    at(10, 0), // 10 and 15 missing: a quiet spell
    at(15, 0),
    at(20, 2),
    at(25, 5),
    [t0 + 30 * MIN, null], // 30 to 55 missing: no data
    at(60, 1),
  ]);
  assert.deepEqual(gaps, [[t0 + 30 * MIN, t0 + 60 * MIN]]);
  assert.deepEqual(withGaps([], 5 * MIN), { line: [], gaps: [] });
  // Hourly buckets: one missing hour is already a span with no data.
  assert.deepEqual(withGaps([[t0, 1], [t0 + 2 * HOUR, 1]], HOUR).gaps, [[t0 + HOUR, t0 + 2 * HOUR]]);
});

function reply(actualFrom: string, actualTo: string, forecastFrom: string, forecastTo: string, window = '24h'): TopReply {
  return {
    window,
    actualFrom: iso(actualFrom),
    actualTo: iso(actualTo),
    forecastFrom: iso(forecastFrom),
    forecastTo: iso(forecastTo),
    run: { runId: 'r', asOf: iso(forecastFrom), finishedAt: null, horizonHours: 24, stepMinutes: 60 },
    items: [],
  };
}

test('topWindows: a Saturday forecast next to Friday actuals is named and explained', () => {
  const w = topWindows(reply('2026-12-04T10:00Z', '2026-12-05T10:00Z', '2026-12-05T10:00Z', '2026-12-06T10:00Z'));
  assert.equal(w.actual, 'actual Fri 4 Dec 10:00–Sat 5 Dec 10:00');
  assert.equal(w.forecast, 'forecast Sat 5 Dec 10:00–Sun 6 Dec 10:00 (weekend)');
  assert.deepEqual(w.notes, ['the forecast window is mostly a weekend, the actual one weekdays: expect shorter forecast bars']);
});

test('topWindows: weekend actuals before a Monday forecast, in the region\'s time zone', () => {
  // Sun 03:00 to Mon 03:00 UTC is Sun 12:00 to Mon 12:00 in Tokyo: only half of the actual window is a weekend there.
  const d = reply('2026-12-06T03:00Z', '2026-12-07T03:00Z', '2026-12-07T03:00Z', '2026-12-08T03:00Z');
  assert.deepEqual(topWindows(d).notes, ['the actual window is mostly a weekend, the forecast one weekdays: expect longer forecast bars']);
  const tokyo = topWindows(d, 'Asia/Tokyo');
  assert.equal(tokyo.actual, 'actual Sun 6 Dec 12:00–Mon 7 Dec 12:00');
  assert.equal(tokyo.forecast, 'forecast Mon 7 Dec 12:00–Tue 8 Dec 12:00');
  assert.deepEqual(tokyo.notes, [], 'half a Sunday is not mostly a weekend');
});

test('topWindows: a 7 d window whose forecast stops at the run\'s 24 h horizon says so; no run, no window', () => {
  const w = topWindows(reply('2026-11-30T03:00Z', '2026-12-07T03:00Z', '2026-12-07T03:00Z', '2026-12-08T03:00Z', '7d'));
  assert.deepEqual(w.notes, ['the forecast covers 24 h of the 7d window (the run\'s horizon)']);
  const none = topWindows({ ...reply('2026-11-30T03:00Z', '2026-12-07T03:00Z', '2026-12-07T03:00Z', '2026-12-08T03:00Z'), run: null, forecastFrom: null, forecastTo: null });
  assert.equal(none.forecast, 'forecast (no run yet)');
  assert.deepEqual(none.notes, []);
});

test('span and weekendShare across a DST change', () => {
  // Europe/Berlin leaves summer time on Sun 2026-10-25 at 03:00 local (01:00 UTC).
  assert.equal(span(Date.parse('2026-10-24T22:00Z'), Date.parse('2026-10-25T23:00Z'), 'Europe/Berlin'), 'Sun 25 Oct 00:00–Mon 26 Oct 00:00');
  assert.equal(weekendShare(Date.parse('2026-10-24T22:00Z'), Date.parse('2026-10-25T23:00Z'), 'Europe/Berlin'), 1, 'the 25 hours of that Sunday');
  assert.equal(weekendShare(Date.parse('2026-12-07T00:00Z'), Date.parse('2026-12-07T00:00Z')), 0);
});
