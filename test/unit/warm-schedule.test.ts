import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmDecision, scheduledRunId } from '../../src/domain/warm-schedule.js';
import type { RegionCalendar } from '../../src/domain/calendar.js';

const berlin: RegionCalendar = { name: 'eu', timeZone: 'Europe/Berlin', businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: ['2026-12-25'] };
const newYork: RegionCalendar = { name: 'us', timeZone: 'America/New_York', businessHours: { start: '08:30', end: '17:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
const at = (iso: string) => Date.parse(iso);

test('warm time is lead minutes before local opening, on both sides of a DST change', () => {
  // Friday 2026-03-27 Berlin is CET (UTC+1): 09:00 local = 08:00Z; warm at 07:15Z with 45 min lead.
  const fri = warmDecision(berlin, at('2026-03-27T07:00:00Z'), 45, 30);
  assert.equal(fri.action, 'wait');
  assert.equal(fri.action === 'wait' && new Date(fri.warmAt).toISOString(), '2026-03-27T07:15:00.000Z');
  // Monday 2026-03-30, after the switch to CEST (UTC+2): 09:00 local = 07:00Z; warm at 06:15Z.
  const mon = warmDecision(berlin, at('2026-03-30T06:00:00Z'), 45, 30);
  assert.equal(mon.action === 'wait' && new Date(mon.warmAt).toISOString(), '2026-03-30T06:15:00.000Z');
  // New York switched on 2026-03-08: 08:30 EDT = 12:30Z on Monday 2026-03-09 (13:30Z the Friday before).
  const ny = warmDecision(newYork, at('2026-03-09T11:00:00Z'), 60, 30);
  assert.equal(ny.action === 'wait' && new Date(ny.warmAt).toISOString(), '2026-03-09T11:30:00.000Z');
  const nyBefore = warmDecision(newYork, at('2026-03-06T11:00:00Z'), 60, 30);
  assert.equal(nyBefore.action === 'wait' && new Date(nyBefore.warmAt).toISOString(), '2026-03-06T12:30:00.000Z');
});

test('due ticks run, late ticks within the tolerance run late, later ones skip', () => {
  const onTime = warmDecision(berlin, at('2026-11-26T07:15:30Z'), 45, 30);
  assert.equal(onTime.action, 'run');
  const late = warmDecision(berlin, at('2026-11-26T07:40:00Z'), 45, 30);
  assert.ok(late.action === 'run' && late.latenessMs === 25 * 60_000);
  const missed = warmDecision(berlin, at('2026-11-26T07:50:00Z'), 45, 30);
  assert.equal(missed.action, 'skip');
  // During business hours the open block is the one considered: long past its warm time, skipped.
  assert.equal(warmDecision(berlin, at('2026-11-26T12:00:00Z'), 45, 30).action, 'skip');
});

test('weekends and holidays move the warm-up to the next business day', () => {
  // Thursday 2026-12-24 after closing: Friday 25th is a holiday, so the next block is Monday 28th 09:00 CET.
  const d = warmDecision(berlin, at('2026-12-24T18:30:00Z'), 45, 30);
  assert.ok(d.action === 'wait');
  assert.equal(d.block.date, '2026-12-28');
  assert.equal(new Date(d.warmAt).toISOString(), '2026-12-28T07:15:00.000Z');
  assert.equal(scheduledRunId('eu', 'n1', d.block), 'sched:eu:n1:2026-12-28');
});

test('a lead time that reaches into the previous day is handled', () => {
  const early: RegionCalendar = { ...berlin, businessHours: { ...berlin.businessHours, start: '00:30' } };
  // Block opens Thursday 00:30 CET = Wednesday 23:30Z; 120 min lead = Wednesday 21:30Z.
  const d = warmDecision(early, at('2026-11-25T21:40:00Z'), 120, 30);
  assert.equal(d.action, 'run');
  assert.equal(d.action === 'run' && d.block.date, '2026-11-26');
});
