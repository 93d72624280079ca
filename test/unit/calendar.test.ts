import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  businessBlockAt,
  businessBlocksBetween,
  businessMinutesBetween,
  currentOrNextBusinessBlock,
  fromZoned,
  hourOfWeekGrid,
  hourOfWeekLocal,
  hourOfWeekUtc,
  isBusinessTime,
  nextBusinessBlock,
  startOfLocalDay,
  zonedTime,
  HOUR_MS,
  type RegionCalendar,
} from '../../src/domain/calendar.js';

const iso = (s: string): number => Date.parse(s);

const newYork: RegionCalendar = {
  name: 'us-east',
  timeZone: 'America/New_York',
  businessHours: { start: '09:00', end: '17:00', weekdays: [1, 2, 3, 4, 5] },
  holidays: ['2026-07-03'],
};
const berlin: RegionCalendar = {
  name: 'eu-central',
  timeZone: 'Europe/Berlin',
  businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] },
  holidays: ['2026-12-25'],
};

test('zonedTime reads wall clock, weekday and offset across DST', () => {
  const winter = zonedTime(iso('2026-01-15T12:00:00Z'), 'Europe/Berlin');
  assert.deepEqual([winter.hour, winter.offsetMinutes, winter.weekday, winter.date], [13, 60, 4, '2026-01-15']);
  const summer = zonedTime(iso('2026-07-15T12:00:00Z'), 'Europe/Berlin');
  assert.deepEqual([summer.hour, summer.offsetMinutes], [14, 120]);
  const kolkata = zonedTime(iso('2026-07-15T12:00:00Z'), 'Asia/Kolkata');
  assert.deepEqual([kolkata.hour, kolkata.minute, kolkata.offsetMinutes], [17, 30, 330]);
  const ny = zonedTime(iso('2026-03-08T07:30:00Z'), 'America/New_York');
  assert.deepEqual([ny.hour, ny.minute, ny.offsetMinutes], [3, 30, -240]);
});

test('fromZoned: spring-forward gap moves forward, fall-back overlap picks earlier or later', () => {
  // 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 -> 03:00).
  assert.equal(fromZoned({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, 'America/New_York'), iso('2026-03-08T07:30:00Z'));
  // 2026-11-01 01:30 happens twice (EDT then EST).
  const fallBack = { year: 2026, month: 11, day: 1, hour: 1, minute: 30 };
  assert.equal(fromZoned(fallBack, 'America/New_York'), iso('2026-11-01T05:30:00Z'));
  assert.equal(fromZoned(fallBack, 'America/New_York', 'later'), iso('2026-11-01T06:30:00Z'));
  assert.equal(fromZoned({ year: 2026, month: 6, day: 1, hour: 9 }, 'Asia/Kolkata'), iso('2026-06-01T03:30:00Z'));
});

test('fromZoned inverts zonedTime for any instant and zone (property)', () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Pacific/Chatham'];
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2040, 0, 1) / 1000 }), fc.constantFrom(...zones), (sec, tz) => {
      const t = sec * 1000;
      const z = zonedTime(t, tz);
      const earlier = fromZoned(z, tz, 'earlier');
      const later = fromZoned(z, tz, 'later');
      // The instant is one of the (at most two) instants showing that wall time.
      assert.ok(t === earlier || t === later, `${tz} ${new Date(t).toISOString()} -> ${new Date(earlier).toISOString()}/${new Date(later).toISOString()}`);
    }),
    { numRuns: 400, seed: 42 },
  );
});

test('hour of week: UTC arithmetic and local grids agree with zonedTime', () => {
  assert.equal(hourOfWeekUtc(iso('2026-01-05T00:00:00Z')), 0); // a Monday
  assert.equal(hourOfWeekUtc(iso('2026-01-11T23:59:00Z')), 167); // Sunday
  assert.equal(hourOfWeekLocal(iso('2026-01-05T00:00:00Z'), 'America/New_York'), 6 * 24 + 19); // Sunday 19:00
  const start = iso('2026-03-07T00:00:00Z');
  const grid = hourOfWeekGrid(start, 72, 'America/New_York');
  for (let i = 0; i < 72; i++) assert.equal(grid[i], hourOfWeekLocal(start + i * HOUR_MS + 1_800_000, 'America/New_York'));
  // Across the spring-forward night one local hour (02:00) is skipped.
  const sundayHours = [...grid].filter((h) => h >= 144);
  assert.ok(!sundayHours.includes(144 + 2));
  assert.deepEqual([...hourOfWeekGrid(start, 3, 'UTC')], [5 * 24, 5 * 24 + 1, 5 * 24 + 2]);
});

test('business blocks follow the local calendar, DST and holidays', () => {
  // Monday after the European DST change: 09:00 CEST = 07:00Z.
  const b = nextBusinessBlock(berlin, iso('2026-03-29T12:00:00Z'));
  assert.deepEqual(b, { region: 'eu-central', start: iso('2026-03-30T07:00:00Z'), end: iso('2026-03-30T16:00:00Z'), date: '2026-03-30' });
  // The Friday before is still CET: 09:00 = 08:00Z.
  assert.equal(currentOrNextBusinessBlock(berlin, iso('2026-03-27T10:00:00Z'))!.start, iso('2026-03-27T08:00:00Z'));
  // Friday evening -> Monday; a block already open is skipped by nextBusinessBlock.
  assert.equal(nextBusinessBlock(newYork, iso('2026-06-05T15:00:00Z'))!.date, '2026-06-08');
  // Holiday Friday 2026-07-03 is skipped: Thursday evening -> Monday 07-06.
  assert.equal(nextBusinessBlock(newYork, iso('2026-07-02T22:00:00Z'))!.date, '2026-07-06');
  assert.equal(isBusinessTime(newYork, iso('2026-07-03T15:00:00Z')), false);
  assert.equal(isBusinessTime(newYork, iso('2026-07-02T15:00:00Z')), true);
  assert.equal(isBusinessTime(newYork, iso('2026-07-02T21:00:00Z')), false); // 17:00 EDT: end is exclusive
  assert.equal(businessBlockAt(newYork, iso('2026-07-04T15:00:00Z')), null); // Saturday
});

test('overnight blocks cross midnight and count from their opening day', () => {
  const night: RegionCalendar = { name: 'night', timeZone: 'Europe/Berlin', businessHours: { start: '22:00', end: '06:00', weekdays: [5] }, holidays: [] };
  // Friday 2026-06-05 22:00 CEST -> Saturday 06:00 CEST.
  const b = businessBlockAt(night, iso('2026-06-06T01:00:00Z'))!;
  assert.deepEqual([b.date, b.start, b.end], ['2026-06-05', iso('2026-06-05T20:00:00Z'), iso('2026-06-06T04:00:00Z')]);
  assert.equal(isBusinessTime(night, iso('2026-06-06T05:00:00Z')), false);
});

test('business minutes and block listing over a week; local midnight', () => {
  const from = iso('2026-06-01T00:00:00Z');
  const to = from + 7 * 24 * HOUR_MS;
  assert.equal(businessBlocksBetween(berlin, from, to).length, 5);
  assert.equal(businessMinutesBetween(berlin, from, to), 5 * 9 * 60);
  // A day in New York that starts at 04:00Z in summer.
  assert.equal(startOfLocalDay(iso('2026-06-01T12:00:00Z'), 'America/New_York'), iso('2026-06-01T04:00:00Z'));
  // A Monday-only calendar has no block from Tuesday to Sunday.
  const closed: RegionCalendar = { ...berlin, businessHours: { ...berlin.businessHours, weekdays: [1] }, holidays: [] };
  const t = iso('2026-06-02T00:00:00Z');
  const blocks = businessBlocksBetween(closed, t, t + 6 * 24 * HOUR_MS);
  assert.equal(blocks.length, 0);
});
