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
