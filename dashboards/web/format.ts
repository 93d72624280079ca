/** Number, byte and time formatting for labels and KPIs. */

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

export const num = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : compact.format(n));

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export const ms = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : `${n.toFixed(n >= 100 ? 0 : 1)} ms`);

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '–';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const hourOfWeek = (h: number): string => `${DAYS[Math.floor(h / 24)] ?? '?'} ${String(h % 24).padStart(2, '0')}:00`;

/** Escapes text for the HTML of chart tooltips (module paths come from logs). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Shortens long module paths for axis labels: keeps the end, which tells modules apart. */
export function shortLabel(s: string, max = 38): string {
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

const HOUR_MS = 3_600_000;

function zoned(ms: number, timeZone: string): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(ms);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/** "Sun 6 Dec 03:00" in a time zone: the weekday tells a weekend window from a weekday one at a glance. */
export function weekdayTime(ms: number, timeZone = 'UTC'): string {
  const p = zoned(ms, timeZone);
  return `${p.weekday} ${p.day} ${p.month} ${p.hour}:${p.minute}`;
}

/** A window as "Sun 6 Dec 03:00–Mon 7 Dec 03:00". */
export const span = (fromMs: number, toMs: number, timeZone = 'UTC'): string => `${weekdayTime(fromMs, timeZone)}–${weekdayTime(toMs, timeZone)}`;

/** Share of the window's hours that fall on a Saturday or Sunday in the time zone (0 for an empty window). */
export function weekendShare(fromMs: number, toMs: number, timeZone = 'UTC'): number {
  let hours = 0;
  let weekend = 0;
  for (let t = fromMs; t < toMs; t += HOUR_MS) {
    hours++;
    const day = zoned(t, timeZone).weekday;
    if (day === 'Sat' || day === 'Sun') weekend++;
  }
  return hours === 0 ? 0 : weekend / hours;
}
