/**
 * Business-hours calendars per region: local time in an IANA time zone (via Intl, so DST follows the tz database),
 * working weekdays, opening hours and holidays. Pure functions over epoch milliseconds (UTC).
 *
 * Used by scoring (the "next business-hours block" window, local hour-of-week seasonality), the backtest
 * (decisions "N minutes before business hours") and the warm-up scheduler (when to warm each region).
 *
 * Conventions:
 * - Weekdays are ISO: 1 = Monday … 7 = Sunday. Hour-of-week is 0 … 167 with 0 = Monday 00:00-01:00 local.
 * - A block opens on a working, non-holiday local date at `start` and closes at `end` the same date, or the next
 *   date when `end <= start` (overnight shifts). Holidays are local dates (YYYY-MM-DD) on which no block opens.
 * - Local times that do not exist (spring-forward gap) resolve forward by the gap, like Temporal's 'compatible';
 *   local times that occur twice (fall-back) resolve to the earlier instant unless asked otherwise.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_HOURS = 168;

/** The calendar of one region. Structurally the same as `RegionConfig` in src/config.ts. */
export interface RegionCalendar {
  name: string;
  timeZone: string;
  businessHours: {
    /** HH:MM local. */
    start: string;
    /** HH:MM local; `end <= start` means the block ends the next day. */
    end: string;
    /** ISO weekdays on which a block opens. */
    weekdays: number[];
  };
  /** Local dates YYYY-MM-DD on which no block opens. */
  holidays: string[];
}

/** A calendar with UTC, Monday-Friday 09:00-18:00 and no holidays: the fallback when no region is configured. */
export function defaultCalendar(name = 'default', timeZone = 'UTC'): RegionCalendar {
  return { name, timeZone, businessHours: { start: '09:00', end: '18:00', weekdays: [1, 2, 3, 4, 5] }, holidays: [] };
}

/** Wall-clock time in a time zone. */
export interface ZonedTime {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
  /** 0-23 */
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Local minus UTC, minutes (e.g. +120 for CEST, -300 for EST). */
  offsetMinutes: number;
  /** Local date YYYY-MM-DD. */
  date: string;
}

/** A local civil time to convert to an instant. Missing fields are 0. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
}

export type Disambiguation = 'earlier' | 'later';

/** One business-hours block: [start, end) in epoch ms, opened on local date `date`. */
export interface BusinessBlock {
  region: string;
  start: number;
  end: number;
  date: string;
}

// ---------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Creating a DateTimeFormat is costly (~tens of µs); one per zone is kept for the process lifetime.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** ISO weekday of a civil date (proleptic Gregorian). */
export function isoWeekday(year: number, month: number, day: number): number {
  const d = new Date(Date.UTC(year, month - 1, day)).getUTCDay(); // 0 = Sunday
  return d === 0 ? 7 : d;
}

export function formatDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
}

/** The wall-clock time at instant `epochMs` in `timeZone`. */
export function zonedTime(epochMs: number, timeZone: string): ZonedTime {
  if (!Number.isFinite(epochMs)) throw new RangeError(`zonedTime: not a finite instant: ${epochMs}`);
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const p of formatterFor(timeZone).formatToParts(epochMs)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const { year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0 } = parts;
  // Offsets are whole minutes in the tz database; compare at second precision to ignore the millisecond part.
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / MINUTE_MS);
  return { year, month, day, hour, minute, second, weekday: isoWeekday(year, month, day), offsetMinutes, date: formatDate(year, month, day) };
}

/** Local minus UTC at `epochMs`, in minutes. */
export function offsetMinutesAt(epochMs: number, timeZone: string): number {
  return zonedTime(epochMs, timeZone).offsetMinutes;
}

/**
 * The instant at which the wall clock of `timeZone` shows `local`. DST-correct: a time in a spring-forward gap
 * moves forward by the gap; a time shown twice at fall-back resolves per `disambiguation` (default earlier).
 */
export function fromZoned(local: LocalDateTime, timeZone: string, disambiguation: Disambiguation = 'earlier'): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour ?? 0, local.minute ?? 0, local.second ?? 0);
  if (!Number.isFinite(wall)) throw new RangeError('fromZoned: invalid local date-time');
  // The offsets in force a day before and a day after bracket any single transition near this wall time.
  const before = offsetMinutesAt(wall - DAY_MS, timeZone);
  const after = offsetMinutesAt(wall + DAY_MS, timeZone);
  const candidates: number[] = [];
  for (const off of before === after ? [before] : [before, after]) {
    const t = wall - off * MINUTE_MS;
    if (offsetMinutesAt(t, timeZone) === off) candidates.push(t);
  }
  if (candidates.length === 0) {
    // In the gap: interpret with the offset before the transition, which lands after it by the gap's length.
    return wall - before * MINUTE_MS;
  }
  candidates.sort((a, b) => a - b);
  return disambiguation === 'later' ? candidates[candidates.length - 1]! : candidates[0]!;
}

/** The local civil date `days` after (or before) the given one. */
export function addLocalDays(date: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The instant local midnight starts the local date that contains `epochMs` (DST-aware). */
export function startOfLocalDay(epochMs: number, timeZone: string): number {
  const z = zonedTime(epochMs, timeZone);
  return fromZoned({ year: z.year, month: z.month, day: z.day }, timeZone);
}

// ---------------------------------------------------------------------------------------------
// Hour of week

/** Hour of week in UTC, 0 = Monday 00:00 UTC. */
export function hourOfWeekUtc(epochMs: number): number {
  // 1970-01-01 was a Thursday: shift so that Monday 00:00 is 0.
  const hours = Math.floor(epochMs / HOUR_MS) + 72;
  return ((hours % WEEK_HOURS) + WEEK_HOURS) % WEEK_HOURS;
}

/** Hour of week in local time of `timeZone`, 0 = Monday 00:00-01:00 local. */
export function hourOfWeekLocal(epochMs: number, timeZone: string): number {
  const z = zonedTime(epochMs, timeZone);
  return (z.weekday - 1) * 24 + z.hour;
}

/**
 * Local hour-of-week of each of `hours` consecutive hours starting at `startMs`: one Intl call per hour, done once
 * per zone and grid so per-series loops index a Uint8Array instead of touching dates. `timeZone` 'UTC' is computed
 * arithmetically.
 */
export function hourOfWeekGrid(startMs: number, hours: number, timeZone: string): Uint8Array {
  const grid = new Uint8Array(Math.max(0, hours));
  const utc = timeZone === 'UTC' || timeZone === 'Etc/UTC';
  for (let i = 0; i < grid.length; i++) {
    const t = startMs + i * HOUR_MS;
    // Middle of the hour: a half-hour-offset zone (e.g. Asia/Kolkata) still maps each UTC hour to one local hour.
    grid[i] = utc ? hourOfWeekUtc(t) : hourOfWeekLocal(t + 30 * MINUTE_MS, timeZone);
  }
  return grid;
}

// ---------------------------------------------------------------------------------------------
// Business hours

function parseHhmm(s: string): { hour: number; minute: number } {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw new RangeError(`expected HH:MM, got ${JSON.stringify(s)}`);
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) throw new RangeError(`expected HH:MM (24h), got ${JSON.stringify(s)}`);
  return { hour, minute };
}

/** True when a block opens on the local date (working weekday and not a holiday). */
export function isBusinessDay(region: RegionCalendar, date: { year: number; month: number; day: number }): boolean {
  if (!region.businessHours.weekdays.includes(isoWeekday(date.year, date.month, date.day))) return false;
  return !region.holidays.includes(formatDate(date.year, date.month, date.day));
}

/** The block that opens on the given local date, or null when none does. */
export function businessBlockOn(region: RegionCalendar, date: { year: number; month: number; day: number }): BusinessBlock | null {
  if (!isBusinessDay(region, date)) return null;
  const open = parseHhmm(region.businessHours.start);
  const close = parseHhmm(region.businessHours.end);
  const overnight = close.hour * 60 + close.minute <= open.hour * 60 + open.minute;
  const endDate = overnight ? addLocalDays(date, 1) : date;
  const start = fromZoned({ ...date, hour: open.hour, minute: open.minute }, region.timeZone);
  const end = fromZoned({ ...endDate, hour: close.hour, minute: close.minute }, region.timeZone);
  if (end <= start) return null; // a block swallowed whole by a DST gap
  return { region: region.name, start, end, date: formatDate(date.year, date.month, date.day) };
}

/** How far ahead to look for a block before giving up (a calendar can be all holidays). */
const SEARCH_DAYS = 400;

/** Blocks in order that end after `after`, starting with the one opened on the local date before `after`'s. */
function* blocksFrom(region: RegionCalendar, after: number): Generator<BusinessBlock> {
  const z = zonedTime(after, region.timeZone);
  const first = addLocalDays(z, -1); // an overnight block of yesterday may still be open
  for (let i = 0; i <= SEARCH_DAYS; i++) {
    const block = businessBlockOn(region, addLocalDays(first, i));
    if (block && block.end > after) yield block;
  }
}

/** The block that contains instant `t`, or null outside business hours. */
export function businessBlockAt(region: RegionCalendar, t: number): BusinessBlock | null {
  for (const b of blocksFrom(region, t)) {
    if (b.start <= t) return b;
    if (b.start > t) return null;
  }
  return null;
}

/** True when `t` is inside a business-hours block of the region. */
export function isBusinessTime(region: RegionCalendar, t: number): boolean {
  return businessBlockAt(region, t) !== null;
}

/**
 * The next block that opens at or after `after` (a block already open at `after` is skipped: use
 * `currentOrNextBusinessBlock` for that). Null only when no block opens in the next ~400 days.
 */
export function nextBusinessBlock(region: RegionCalendar, after: number): BusinessBlock | null {
  for (const b of blocksFrom(region, after)) if (b.start >= after) return b;
  return null;
}

/** The block open at `t`, else the next one. */
export function currentOrNextBusinessBlock(region: RegionCalendar, t: number): BusinessBlock | null {
  for (const b of blocksFrom(region, t)) return b;
  return null;
}

/** All blocks overlapping [from, to), in order. */
export function businessBlocksBetween(region: RegionCalendar, from: number, to: number): BusinessBlock[] {
  const out: BusinessBlock[] = [];
  const z = zonedTime(from, region.timeZone);
  const first = addLocalDays(z, -1);
  const days = Math.ceil((to - from) / DAY_MS) + 3;
  for (let i = 0; i <= days; i++) {
    const b = businessBlockOn(region, addLocalDays(first, i));
    if (b && b.end > from && b.start < to) out.push(b);
  }
  return out;
}

/** Minutes of business time in [from, to). */
export function businessMinutesBetween(region: RegionCalendar, from: number, to: number): number {
  let ms = 0;
  for (const b of businessBlocksBetween(region, from, to)) ms += Math.min(b.end, to) - Math.max(b.start, from);
  return ms / MINUTE_MS;
}
