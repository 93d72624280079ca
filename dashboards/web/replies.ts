/** Shapes of the API replies the dashboard reads (see /docs for the full schemas). No DOM: unit tests import it. */
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
