/**
 * TypeBox schemas of every route: they validate requests, shape responses and become the OpenAPI document.
 * Shared pieces first, then one block per resource.
 */
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import { cursorPattern, type CursorField } from './cursor.js';
import { intRangePattern } from '../lib/range-pattern.js';

// ---------------------------------------------------------------------------------------------
// Shared

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'stable MODCAST_ERR_* code', examples: ['MODCAST_ERR_INVALID_ARGUMENT'] }),
    message: Type.String({ description: 'what went wrong, for people' }),
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
  },
  { $id: 'ErrorBody', description: 'The one error shape of the API' },
);

/** Adds the error shape for every 4xx/5xx to a route's responses. */
export function withErrors<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, '4xx': Type.Ref('ErrorBody'), '5xx': Type.Ref('ErrorBody') };
}

/** A query string schema: unknown parameters are refused (a misspelt `windw=` must not silently mean the default). */
const Query = <T extends Parameters<typeof Type.Object>[0]>(properties: T) => Type.Object(properties, { additionalProperties: false });

/** Time zones the heatmap takes (what this runtime knows). */
export const TIME_ZONES: readonly string[] = [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])].sort();

export const MAX_LIMIT = 1000;
export const Limit = (def: number) =>
  Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: def, description: `page size, at most ${MAX_LIMIT}` });
/**
 * Forecast pages: run id, the last expected sum (decimal text; empty for sort=key), then the series key
 * (scope, scope id, module, version, kind).
 */
export const FORECAST_CURSOR: CursorField[] = ['text', 'text', 'text', 'text', 'text', 'text', 'text'];
/** Warm-up run pages: created at (epoch ms), run id. */
export const WARMUPS_CURSOR: CursorField[] = ['int', 'text'];
const Cursor = (fields: CursorField[]) =>
  Type.String({
    pattern: cursorPattern(fields),
    description:
      'the `nextCursor` of the previous page: its last key, fields separated by `.`, text fields as base64url of UTF-8, ' +
      'numbers in decimal',
  });
const MINUTE_MS = 60_000;
const UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS, w: 7 * 24 * 60 * MINUTE_MS } as const;

/** Bounds of a route's window; the server checks the same ones (parseWindow). */
export interface WindowBounds {
  min: number;
  max: number;
}
export const FORECAST_WINDOW: WindowBounds = { min: 5 * MINUTE_MS, max: 14 * UNIT_MS.d };
export const TOP_WINDOW: WindowBounds = { min: 5 * MINUTE_MS, max: 35 * UNIT_MS.d };
export const HISTORY_WINDOW: WindowBounds = { min: UNIT_MS.h, max: 35 * UNIT_MS.d };
export const HEATMAP_WINDOW: WindowBounds = { min: UNIT_MS.d, max: 35 * UNIT_MS.d };

/** Windows within the bounds in whole 5-minute steps, as `<n>m`, `<n>h`, `<n>d` or `<n>w`, exactly. */
export function windowPattern(b: WindowBounds): string {
  const alternatives: string[] = [];
  for (const [unit, ms] of Object.entries(UNIT_MS)) {
    const lo = Math.max(1, Math.ceil(b.min / ms));
    const hi = Math.floor(b.max / ms);
    if (unit !== 'm') {
      if (lo <= hi) alternatives.push(`(?:${intRangePattern(lo, hi)})${unit}`);
      continue;
    }
    // Minutes in steps of 5: tens followed by 0 or 5 ("5m" alone has no tens).
    const tens0 = [Math.max(1, Math.ceil(lo / 10)), Math.floor(hi / 10)] as const;
    const tens5 = [Math.max(1, Math.ceil((lo - 5) / 10)), Math.floor((hi - 5) / 10)] as const;
    if (tens0[0] <= tens0[1]) alternatives.push(`(?:${intRangePattern(...tens0)})0m`);
    if (tens5[0] <= tens5[1]) alternatives.push(`(?:${intRangePattern(...tens5)})5m`);
    if (lo <= 5 && hi >= 5) alternatives.push('5m');
  }
  return `^(?:${alternatives.join('|')})$`;
}

const fmt = (ms: number) => (ms % UNIT_MS.d === 0 ? `${ms / UNIT_MS.d}d` : ms % UNIT_MS.h === 0 ? `${ms / UNIT_MS.h}h` : `${ms / MINUTE_MS}m`);

/** A window such as `30m`, `6h`, `7d`, `2w`: the pattern admits exactly the windows the route takes. */
export const Window = (def: string, description: string, bounds: WindowBounds) => {
  const pattern = windowPattern(bounds);
  const examples = ['1h', '6h', '24h', '7d', '28d'].filter((e) => new RegExp(pattern).test(e));
  return Type.String({ pattern, default: def, description: `${description}; ${fmt(bounds.min)} to ${fmt(bounds.max)} in whole 5-minute steps`, examples });
};
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const Name = (description: string) => Type.String({ pattern: NAME_PATTERN, description });
export const ModulePrefix = Type.String({
  maxLength: 512,
  // `!` only as the case-encoding of a capital (`!a` = `A`), as parseModulePrefix reads it.
  pattern: '^(?:[A-Za-z0-9._~/+-]|![a-z])*$',
  default: '',
  description: 'module path prefix (plain or case-encoded), e.g. `github.com/acme/`',
});
export const Scope = Type.Union([Type.Literal('node'), Type.Literal('region'), Type.Literal('fleet')], {
  description: 'forecast scope',
});
export const Kind = Type.String({ pattern: '^[a-z]{1,16}$', description: 'request kind: any, list, info, mod, zip, latest, sumdb' });
export const IsoTime = Type.String({ format: 'date-time' });
export const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);

const ScopeFilter = {
  node: Type.Optional(Name('only this proxy node')),
  region: Type.Optional(Name('only this region')),
};

// ---------------------------------------------------------------------------------------------
// Forecasts

export const PredictionRunInfo = Type.Object({
  runId: Type.String(),
  asOf: IsoTime,
  finishedAt: NullableIsoTime,
  horizonHours: Type.Integer(),
  stepMinutes: Type.Integer(),
});

export const ForecastsQuery = Query({
  scope: Type.Optional(Scope),
  id: Type.Optional(Name('scope id: node or region name (`fleet` for the fleet scope)')),
  module: Type.Optional(ModulePrefix),
  kind: Type.Optional(Kind),
  window: Window('24h', 'horizon summed over, from the run as-of time', FORECAST_WINDOW),
  windowKind: Type.Union([Type.Literal('step'), Type.Literal('horizon'), Type.Literal('business')], {
    default: 'step',
    description: "which window set of the run: hourly 'step' windows (summed), the whole 'horizon', or regions' next 'business' hours",
  }),
  sort: Type.Union([Type.Literal('expected'), Type.Literal('key')], {
    default: 'expected',
    description: "'expected': most expected requests first (default); 'key': by (scope, scopeId, module, version, kind)",
  }),
  limit: Limit(100),
  cursor: Type.Optional(Cursor(FORECAST_CURSOR)),
});

export const ForecastItem = Type.Object({
  scope: Type.String(),
  scopeId: Type.String(),
  module: Type.String(),
  version: Type.String({ description: "'' = module level" }),
  kind: Type.String(),
  expected: Type.Number({ description: 'expected requests summed over the window' }),
  pAny: Type.Number({ description: 'probability of at least one request in the window' }),
  lower: Type.Number({ description: 'sum of the per-step 10th percentiles' }),
  upper: Type.Number({ description: 'sum of the per-step 90th percentiles' }),
  model: Type.String(),
  windowStart: IsoTime,
  windowEnd: IsoTime,
});

export const ForecastsReply = Type.Object({
  run: Type.Union([PredictionRunInfo, Type.Null()]),
  window: Type.String(),
  items: Type.Array(ForecastItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

// ---------------------------------------------------------------------------------------------
// Module hotness

export const HotnessQuery = Query({
  window: Window('7d', 'history length, ending at the newest data', HISTORY_WINDOW),
  scope: Type.Optional(Scope),
  id: Type.Optional(Name('node or region name for scope node/region; without it, every node or region of the scope')),
  versions: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'versions shown separately; the rest are summed as (other)' }),
});

/** A fixed-length row of numbers (OpenAPI 3.0 has no tuples): what each position means is in its description. */
const NumberRow = (length: number, description: string) => Type.Array(Type.Number(), { minItems: length, maxItems: length, description });
const Point = NumberRow(2, '[epoch ms, requests]');
export const HotnessReply = Type.Object({
  module: Type.String(),
  window: Type.String(),
  from: IsoTime,
  to: IsoTime,
  bucket: Type.String({ description: 'history bucket width' }),
  history: Type.Array(
    Type.Object({ version: Type.String(), requests: Type.Integer(), misses: Type.Integer(), points: Type.Array(Point) }),
  ),
  run: Type.Union([PredictionRunInfo, Type.Null()]),
  forecast: Type.Array(
    Type.Object({
      scope: Type.String(),
      scopeId: Type.String(),
      version: Type.String(),
      kind: Type.String(),
      expected: Type.Number(),
      points: Type.Array(NumberRow(4, '[window start epoch ms, expected, lower, upper]')),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------
// Top

export const TopQuery = Query({
  window: Window('1h', 'actual: the last window of data; forecast: the next window of the latest run', TOP_WINDOW),
  by: Type.Union([Type.Literal('module'), Type.Literal('version'), Type.Literal('node'), Type.Literal('region')], {
    default: 'module',
  }),
  sort: Type.Union([Type.Literal('actual'), Type.Literal('forecast')], { default: 'actual' }),
  ...ScopeFilter,
  module: Type.Optional(ModulePrefix),
  limit: Limit(20),
});

export const TopReply = Type.Object({
  window: Type.String(),
  by: Type.String(),
  actualFrom: NullableIsoTime,
  actualTo: NullableIsoTime,
  forecastFrom: Type.Union([IsoTime, Type.Null()], { description: 'start of the forecast window (the run\'s as-of time); null without a run' }),
  forecastTo: Type.Union([IsoTime, Type.Null()], { description: 'end of the forecast window: one window after as-of, cut at the run\'s horizon' }),
  run: Type.Union([PredictionRunInfo, Type.Null()]),
  items: Type.Array(
    Type.Object({
      key: Type.String(),
      actual: Type.Integer({ description: 'requests in the last window' }),
      forecast: Type.Union([Type.Number(), Type.Null()], { description: 'expected requests in the next window; null = not forecast' }),
      misses: Type.Integer(),
      bytes: Type.Integer(),
      clients: Type.Integer(),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------
// Warm-ups

export const RunId = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });

export const WarmupsQuery = Query({
  ...ScopeFilter,
  status: Type.Optional(Type.String({ pattern: '^[a-z_]{1,16}$' })),
  trigger: Type.Optional(Type.String({ pattern: '^[a-z_]{1,16}$' })),
  limit: Limit(50),
  cursor: Type.Optional(Cursor(WARMUPS_CURSOR)),
});

export const WarmupRun = Type.Object({
  runId: Type.String(),
  node: Type.String(),
  region: Type.String(),
  trigger: Type.String(),
  status: Type.String(),
  dryRun: Type.Boolean(),
  plannedFor: IsoTime,
  createdAt: IsoTime,
  finishedAt: NullableIsoTime,
  itemsPlanned: Type.Integer(),
  itemsDone: Type.Integer(),
  itemsFailed: Type.Integer(),
  bytes: Type.Integer(),
  expectedBenefit: Type.Number(),
  predictionRunId: Type.String(),
  message: Type.String(),
});

export const WarmupsReply = Type.Object({ items: Type.Array(WarmupRun), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const WarmupItem = Type.Object({
  itemId: Type.String(),
  node: Type.String(),
  module: Type.String(),
  version: Type.String(),
  endpoint: Type.String(),
  path: Type.String(),
  expectedBenefit: Type.Number(),
  status: Type.String(),
  httpStatus: Type.Integer(),
  bytes: Type.Integer(),
  latencyMs: Type.Number(),
  attempts: Type.Integer(),
  reason: Type.String(),
  finishedAt: NullableIsoTime,
});

export const WarmupDetailQuery = Query({
  items: Type.Integer({ minimum: 0, maximum: 10000, default: 1000, description: 'items returned, highest expected benefit first' }),
});

export const WarmupDetailReply = Type.Object({
  run: WarmupRun,
  items: Type.Array(WarmupItem),
  itemCounts: Type.Record(Type.String(), Type.Integer(), { description: 'items per status' }),
  effectiveness: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'hits on warmed items, cold vs warm latency, wasted bytes (null until measurable)',
  }),
});

export const TriggerWarmupBody = Type.Object(
  {
    node: Type.Optional(Name('warm this node')),
    region: Type.Optional(Name('warm every node of this region')),
    dryRun: Type.Boolean({ default: false, description: 'plan and record the run without fetching' }),
    maxItems: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false, anyOf: [{ required: ['node'] }, { required: ['region'] }], description: 'name a node, a region, or both' },
);

export const TriggerWarmupReply = Type.Object({
  accepted: Type.Boolean(),
  dryRun: Type.Boolean(),
  result: Type.Unknown({ description: 'what the scheduler reports (runs planned)' }),
});

// ---------------------------------------------------------------------------------------------
// Ingest and hooks

export const INGEST_FORMATS = ['auto', 'nginx', 'athens-text', 'athens-json', 'artifactory', 'jsonl'] as const;
export const IngestQuery = Query({
  node: Name('proxy node the lines come from'),
  region: Type.Optional(Name('its region; default: the region of the node in fleet.nodes')),
  format: Type.Union(
    INGEST_FORMATS.map((f) => Type.Literal(f)),
    { default: 'auto', description: 'log format of the lines; jsonl = NDJSON records' },
  ),
});

export const IngestReply = Type.Object({
  accepted: Type.Integer({ description: 'events stored' }),
  warmups: Type.Integer({ description: "modcast's own warm-up fetches found (kept in warmup_events, not counted as demand)" }),
  rejected: Type.Integer({ description: 'lines kept in rejected_events' }),
  skipped: Type.Integer({ description: 'blank or non-GOPROXY lines' }),
  lines: Type.Integer(),
  bytes: Type.Integer({ description: 'body bytes after decompression' }),
  format: Type.Union([Type.String(), Type.Null()]),
  batchToken: Type.String({ description: 'dedup token prefix of this body; equal for a retry with the same Idempotency-Key' }),
});

export const ReleaseHookBody = Type.Object({
  module: Type.String({ maxLength: 512 }),
  version: Type.String({ maxLength: 256 }),
});

export const ReleaseHookReply = Type.Object({
  accepted: Type.Boolean(),
  module: Type.String(),
  version: Type.String(),
  result: Type.Unknown(),
});

// ---------------------------------------------------------------------------------------------
// Health

export const HealthReply = Type.Object({ status: Type.String() });
export const ReadyReply = Type.Object({
  status: Type.String(),
  checks: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), message: Type.Optional(Type.String()) })),
});

// ---------------------------------------------------------------------------------------------
// Stats (dashboard)

export const ScopesReply = Type.Object({
  regions: Type.Array(Type.Object({ name: Type.String(), timeZone: Type.Union([Type.String(), Type.Null()]), nodes: Type.Array(Type.String()) })),
  dataEnd: IsoTime,
  run: Type.Union([PredictionRunInfo, Type.Null()]),
});

export const HeatmapQuery = Query({
  ...ScopeFilter,
  module: Type.Optional(ModulePrefix),
  window: Window('28d', 'history length, ending at the newest data', HEATMAP_WINDOW),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'modules (rows), hottest first' }),
  tz: Type.Optional(Type.String({ enum: [...TIME_ZONES], description: "IANA time zone of the hours; default the region's, else UTC" })),
});

export const HeatmapReply = Type.Object({
  from: IsoTime,
  to: IsoTime,
  timeZone: Type.String(),
  weeks: Type.Number({ description: 'weeks covered; cell values are requests per week in that hour' }),
  modules: Type.Array(Type.String()),
  cells: Type.Array(NumberRow(3, '[hour of week (0 = Monday 00:00), module index, requests per week]')),
});

export const ReleasesQuery = Query({
  module: Type.Optional(ModulePrefix),
  window: Window('7d', 'releases first seen within this window before the newest data', HISTORY_WINDOW),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 15 }),
});

export const ReleasesReply = Type.Object({
  from: IsoTime,
  to: IsoTime,
  regions: Type.Array(Type.String()),
  releases: Type.Array(
    Type.Object({
      module: Type.String(),
      version: Type.String(),
      firstSeen: IsoTime,
      requests: Type.Integer(),
      regions: Type.Array(Type.Object({ region: Type.String(), firstSeen: IsoTime, lagHours: Type.Number(), requests: Type.Integer() })),
    }),
  ),
});

export const IngestStatsQuery = Query({ ...ScopeFilter, window: Window('24h', 'events: window ending at the newest data; rejects: ending now', HISTORY_WINDOW) });

export const IngestStatsReply = Type.Object({
  bucketMinutes: Type.Integer(),
  from: IsoTime,
  to: Type.String({ format: 'date-time', description: 'events: the window by event time, ending at the newest data' }),
  rejectsFrom: IsoTime,
  rejectsTo: Type.String({ format: 'date-time', description: 'rejects: the window by time received, ending now' }),
  events: Type.Array(NumberRow(2, '[bucket start epoch ms, events per minute]')),
  rejects: Type.Array(NumberRow(2, '[bucket start epoch ms, rejects per minute]')),
  reasons: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() })),
  latency: Type.Object({ hitMs: Type.Union([Type.Number(), Type.Null()]), missMs: Type.Union([Type.Number(), Type.Null()]) }),
  process: Type.Object({ httpEvents: Type.Number(), httpRejected: Type.Number() }, { description: 'counted by this process since it started' }),
});

export const WarmupStatsQuery = Query({ ...ScopeFilter, window: Window('7d', 'runs created within this window before now', HISTORY_WINDOW) });

const WarmupTrafficCounts = {
  requests: Type.Integer(),
  bytes: Type.Integer(),
  warmedVersions: Type.Integer(),
  usedVersions: Type.Integer(),
  demandRequests: Type.Integer(),
  demandHits: Type.Integer(),
};

export const WarmupStatsReply = Type.Object({
  days: Type.Array(
    Type.Object({ day: IsoTime, status: Type.String(), runs: Type.Integer(), itemsDone: Type.Integer(), itemsFailed: Type.Integer(), bytes: Type.Integer() }),
  ),
  totals: Type.Object({ runs: Type.Integer(), itemsPlanned: Type.Integer(), itemsDone: Type.Integer(), itemsFailed: Type.Integer(), bytes: Type.Integer() }),
  effectiveness: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'hits on warmed items, cold vs warm latency, wasted bytes (null until measurable)',
  }),
  traffic: Type.Object(
    {
      window: Type.Object({ from: IsoTime, to: IsoTime, useWithinHours: Type.Integer() }),
      days: Type.Array(Type.Object({ day: IsoTime, node: Type.String(), ...WarmupTrafficCounts })),
      totals: Type.Object({ ...WarmupTrafficCounts, useRate: Type.Number() }),
    },
    {
      description:
        "warm-up fetches as the nodes' own logs recorded them (warmup_events), per UTC day and node: requests and bytes they cost, " +
        'versions warmed, and how many of those clients requested within useWithinHours after (with those requests and their cache hits)',
    },
  ),
});
