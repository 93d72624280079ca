/** Calls to the modcast API from the page: same origin, optional bearer token kept for the browser session. */

const TOKEN_KEY = 'modcast.token';

export class AuthNeeded extends Error {}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined>): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${path}${qs.size > 0 ? `?${qs}` : ''}`, { headers });
  if (res.status === 401) throw new AuthNeeded('a bearer token is needed');
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

// Reply shapes (see /docs for the full schemas).
export interface RunInfo { runId: string; asOf: string; finishedAt: string | null; horizonHours: number; stepMinutes: number }
export interface ScopesReply { regions: { name: string; timeZone: string | null; nodes: string[] }[]; dataEnd: string; run: RunInfo | null }
export interface HeatmapReply { from: string; to: string; timeZone: string; weeks: number; modules: string[]; cells: [number, number, number][] }
export interface TopReply {
  window: string; actualFrom: string | null; actualTo: string | null; forecastFrom: string | null; forecastTo: string | null; run: RunInfo | null;
  items: { key: string; actual: number; forecast: number | null; misses: number; bytes: number; clients: number }[];
}
export interface ReleasesReply {
  from: string; to: string; regions: string[];
  releases: { module: string; version: string; firstSeen: string; requests: number; regions: { region: string; firstSeen: string; lagHours: number; requests: number }[] }[];
}
export interface IngestReply {
  bucketMinutes: number; from: string; to: string; rejectsFrom: string; rejectsTo: string;
  events: [number, number][]; rejects: [number, number][];
  reasons: { reason: string; count: number }[]; latency: { hitMs: number | null; missMs: number | null };
  process: { httpEvents: number; httpRejected: number };
}
export interface WarmupStatsReply {
  days: { day: string; status: string; runs: number; itemsDone: number; itemsFailed: number; bytes: number }[];
  totals: { runs: number; itemsPlanned: number; itemsDone: number; itemsFailed: number; bytes: number };
  effectiveness: Record<string, unknown> | null;
}
