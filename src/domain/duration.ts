/** Durations as people type them: `90s`, `30m`, `1h`, `7d`, `2w`. */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const u = UNIT_MS[unit]!;
    if (ms % u === 0 && ms >= u) return `${ms / u}${unit}`;
  }
  return `${ms}ms`;
}
