/**
 * Hand-rolled timestamp parsing for log lines: `new Date(string)` per line is slow and lenient,
 * these are strict and allocation-free apart from the small last-value caches.
 */

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Reads `n` ASCII digits at `i`; -1 if any is not a digit. */
export function digitsAt(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Epoch ms of a UTC wall-clock time, or undefined when a field is out of range. */
export function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number): number | undefined {
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return undefined;
  }
  if (day > daysInMonth(year, month)) return undefined;
  // A leap second (:60) folds onto the next second, as Go and most log consumers do.
  return (daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 1000;
}

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

/** Parses `[+-]HHMM` or `[+-]HH:MM` at `i`; returns offset minutes east of UTC, or undefined. */
function offsetAt(s: string, i: number, colon: boolean): number | undefined {
  const sign = s[i];
  if (sign !== '+' && sign !== '-') return undefined;
  const hh = digitsAt(s, i + 1, 2);
  if (colon && s[i + 3] !== ':') return undefined;
  const mm = digitsAt(s, i + (colon ? 4 : 3), 2);
  if (hh < 0 || mm < 0 || hh > 23 || mm > 59) return undefined;
  const minutes = hh * 60 + mm;
  return sign === '-' ? -minutes : minutes;
}

/**
 * Common Log Format time `25/Nov/2026:09:00:01 +0100` (the 26 characters inside the brackets)
 * starting at `i`; epoch ms or undefined. Keeps the last second it parsed: consecutive lines
 * mostly share it.
 */
export class ClfTimeParser {
  private lastKey = '';
  private lastValue = 0;

  parseAt(line: string, i: number): number | undefined {
    const key = line.substr(i, 26);
    if (key === this.lastKey) return this.lastValue;
    const v = parseClfTime(key);
    if (v !== undefined) {
      this.lastKey = key;
      this.lastValue = v;
    }
    return v;
  }
}

export function parseClfTime(s: string): number | undefined {
  if (s.length !== 26 || s[2] !== '/' || s[6] !== '/' || s[11] !== ':' || s[14] !== ':' || s[17] !== ':' || s[20] !== ' ') {
    return undefined;
  }
  const day = digitsAt(s, 0, 2);
  const month = MONTHS[s.slice(3, 6)];
  const year = digitsAt(s, 7, 4);
  const hour = digitsAt(s, 12, 2);
  const minute = digitsAt(s, 15, 2);
  const second = digitsAt(s, 18, 2);
  const offset = offsetAt(s, 21, false);
  if (month === undefined || offset === undefined) return undefined;
  const base = utcMillis(year, month, day, hour, minute, second);
  return base === undefined ? undefined : base - offset * 60000;
}

/**
 * RFC 3339 / ISO 8601 date-time: `2026-11-25T09:00:01Z`, `2026-11-25T09:00:01.123+01:00`,
 * `2026-11-25 09:00:01,123` (space separator and comma fractions as Java loggers write them).
 * Without a zone the time is taken as UTC plus `defaultOffsetMinutes`. Epoch ms or undefined.
 */
export function parseIsoTime(s: string, defaultOffsetMinutes = 0): number | undefined {
  if (s.length < 19 || s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return undefined;
  const sep = s[10];
  if (sep !== 'T' && sep !== ' ' && sep !== 't') return undefined;
  const base = utcMillis(digitsAt(s, 0, 4), digitsAt(s, 5, 2), digitsAt(s, 8, 2), digitsAt(s, 11, 2), digitsAt(s, 14, 2), digitsAt(s, 17, 2));
  if (base === undefined) return undefined;
  let i = 19;
  let frac = 0;
  if (s[i] === '.' || s[i] === ',') {
    i++;
    let scale = 100;
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      frac += c * scale;
      scale /= 10;
      i++;
    }
    if (i === start) return undefined;
    frac = Math.floor(frac);
  }
  let offset: number | undefined;
  if (i === s.length) offset = defaultOffsetMinutes;
  else if ((s[i] === 'Z' || s[i] === 'z') && i + 1 === s.length) offset = 0;
  else if (s.length - i === 6) offset = offsetAt(s, i, true);
  else if (s.length - i === 5) offset = offsetAt(s, i, false);
  if (offset === undefined) return undefined;
  return base + frac - offset * 60000;
}
