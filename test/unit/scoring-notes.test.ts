/** Scoring's horizon reaching every region's next business block, and `score` naming what it left out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoursToNextBusinessBlocks } from '../../src/domain/forecast/scope.js';
import { skippedNotes } from '../../src/cli/score.js';

const berlin = { name: 'eu', timeZone: 'Europe/Berlin', businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
const tokyo = { name: 'ap', timeZone: 'Asia/Tokyo', businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
const H = 3_600_000;

test('the horizon reaches the end of the latest next business block among the regions', () => {
  // Friday 2026-11-27 19:00 UTC: Berlin's next block is Monday 08:00-17:00 UTC (70 h ahead), Tokyo's Monday 00:00-09:00 UTC.
  const friday = Date.parse('2026-11-27T19:00:00Z');
  assert.equal(hoursToNextBusinessBlocks({ calendars: [berlin, tokyo], nodes: [] }, friday), 70);
  assert.equal(hoursToNextBusinessBlocks({ calendars: [tokyo], nodes: [] }, friday), 62);
  // A node's region without a calendar follows 09-18 UTC weekdays: Monday 18:00 UTC.
  assert.equal(hoursToNextBusinessBlocks({ calendars: [], nodes: [{ name: 'x', region: 'us' }] }, friday), 71);
  // Inside Berlin's business hours on a Wednesday: to the end of today's block.
  assert.equal(hoursToNextBusinessBlocks({ calendars: [berlin], nodes: [] }, Date.parse('2026-11-25T09:00:00Z')), 8);
  // Around the EU DST change (Sunday 2027-03-28): Monday's block is 07:00-16:00 UTC.
  assert.equal(hoursToNextBusinessBlocks({ calendars: [berlin], nodes: [] }, Date.parse('2027-03-27T12:00:00Z')), 52);
  assert.equal(hoursToNextBusinessBlocks({ calendars: [], nodes: [] }, friday), 0);
});

test('score names the events it left out and why', () => {
  const asOf = Date.parse('2026-12-12T09:00:00Z');
  const base = { asOf, historyHours: 24 * 14 };
  assert.deepEqual(skippedNotes({ ...base, series: 0 }, { before: 0, within: 0, after: 0, first: null, last: null }), [
    '0 series: the store holds no events; ingest access logs first (`modcast ingest`, POST /v1/ingest) or run `modcast demo`',
  ]);
  // Only the current hour holds events: nothing is history yet.
  assert.deepEqual(skippedNotes({ ...base, series: 0 }, { before: 0, within: 0, after: 1200, first: asOf + 60_000, last: asOf + 30 * 60_000 }), [
    '0 series: no events in the history window 2026-11-28T09:00Z .. 2026-12-12T09:00Z',
    'skipped 1,200 events at or after 2026-12-12T09:00Z: the as-of hour and later are not history yet (they count once the hour is complete; --as-of 2026-12-12T10:00Z includes them)',
  ]);
  const some = skippedNotes({ ...base, series: 40 }, { before: 7, within: 500, after: 0, first: asOf - 20 * 24 * H, last: asOf - H });
  assert.deepEqual(some, ['skipped 7 events before 2026-11-28T09:00Z: older than the 336 h history (--history-days widens it)']);
  assert.deepEqual(skippedNotes({ ...base, series: 40 }, { before: 0, within: 500, after: 0, first: asOf - H, last: asOf - 1 }), []);
});
