/**
 * One validated configuration object, from an optional file (YAML or JSON) overlaid with MODCAST_* environment
 * variables. Validated once at start; a bad value is reported with its path and the variable or key it came from.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ModcastError, ErrorCodes } from './errors.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h)');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ - (max 64)');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const RegionSchema = z.object({
  name,
  timeZone: z.string().refine(isTimeZone, 'unknown IANA time zone'),
  businessHours: z
    .object({
      start: hhmm.default('09:00'),
      end: hhmm.default('18:00'),
      /** ISO weekdays, 1 = Monday … 7 = Sunday. */
      weekdays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
    })
    .prefault({}),
  holidays: z.array(isoDate).default([]),
});

export const WARMABLE_ENDPOINTS = ['list', 'info', 'mod', 'zip', 'latest', 'sumdb'] as const;

export const FleetNodeSchema = z.object({
  name,
  region: name,
  /** http(s) base URL of the proxy node; warm-up targets come only from here. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Mount prefix of the GOPROXY protocol on the node: `/`, `/go/`, `/api/go/<repo>/`. */
  pathPrefix: z.string().startsWith('/').endsWith('/').default('/'),
  /** Proxy software; decides which fetches fill its storage (see src/domain/plan.ts). */
  software: z.enum(['athens', 'goproxy', 'artifactory', 'nexus', 'generic']).default('generic'),
  /** Name of an environment variable holding a bearer token for this node (never the token itself). */
  tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  authHeader: z.string().default('Authorization'),
  maxConcurrency: z.number().int().min(1).max(256).default(8),
  maxRequestsPerSecond: z.number().positive().max(100000).default(50),
  maxBytesPerRun: z.number().int().positive().default(2 * 1024 ** 3),
  maxItemsPerRun: z.number().int().positive().default(500),
  requestTimeoutMs: z.number().int().positive().default(30000),
  /**
   * Record the sha256 of every fetched body in warmup_items.sha256 (for comparing what nodes serve for one module
   * version). Off by default: nothing in modcast checks it, and hashing is the largest share of a fetch's CPU.
   */
  hashBodies: z.boolean().default(false),
  /** Endpoints whose fetch fills the node's cache; defaults per software when absent. */
  fills: z.array(z.enum(WARMABLE_ENDPOINTS)).optional(),
});
export type FleetNodeConfig = z.infer<typeof FleetNodeSchema>;

export const ConfigSchema = z
  .object({
    dataDir: z.string().default('./data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    clickhouse: z
      .object({
        /** When set, a ClickHouse server over HTTP(S); otherwise embedded chDB in dataDir. */
        url: z.url({ protocol: /^https?$/ }).optional(),
        username: z.string().default('default'),
        password: z.string().default(''),
        database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('modcast'),
        /** TTL of raw access events. */
        retentionDays: z.number().int().min(1).max(3650).default(90),
        /**
         * A `remote_servers` cluster name: sharded schema (local tables on every node, Distributed tables sharded by a
         * hash of the module under the usual names). Unset = one server, plain tables.
         */
        cluster: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
        /** Local tables are ReplicatedMergeTree (needs ClickHouse Keeper and `{shard}`/`{replica}` macros). */
        replicated: z.boolean().default(false),
        /**
         * HTTP URLs of every node of the cluster: migrations are applied on each of them in turn. Empty = migrations
         * use `ON CLUSTER` (the server's distributed DDL, which needs Keeper).
         */
        nodes: z.array(z.url({ protocol: /^https?$/ })).default([]),
      })
      .prefault({}),
    privacy: z
      .object({
        /** Salt of client address hashes; when absent one is generated once and kept in dataDir. */
        clientSalt: z.string().min(16).optional(),
      })
      .prefault({}),
    ingest: z
      .object({
        batchRows: z.number().int().min(1).max(1_000_000).default(20000),
        flushMs: z.number().int().min(10).max(600_000).default(1000),
        /** GOPROXY mount prefixes to strip; `<repo>` matches one path segment. */
        pathPrefixes: z.array(z.string().startsWith('/')).default(['/', '/go/', '/api/go/<repo>/', '/artifactory/api/go/<repo>/']),
        maxLineBytes: z.number().int().min(256).max(16 * 1024 * 1024).default(64 * 1024),
      })
      .prefault({}),
    kafka: z
      .object({
        /** Empty = no broker: ingest over HTTP or from files. */
        brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).default([]),
        clientId: z.string().default('modcast'),
        groupId: z.string().default('modcast-ingest'),
        compression: z.enum(['none', 'gzip', 'snappy']).default('gzip'),
        ssl: z.boolean().default(false),
        sasl: z
          .object({
            mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
            username: z.string(),
            password: z.string(),
          })
          .optional(),
        topics: z
          .object({
            access: z.string().default('modcast.access'),
            rejected: z.string().default('modcast.rejected'),
            dlq: z.string().default('modcast.dlq'),
            control: z.string().default('modcast.control'),
            warmupTasks: z.string().default('modcast.warmup-tasks'),
            warmupResults: z.string().default('modcast.warmup-results'),
          })
          .prefault({}),
        /** Partitions of the access topic: the most ingestors that can share the work (see docs/kafka.md). */
        partitions: z.number().int().min(1).max(1024).default(6),
        /** -1 = the broker's default.replication.factor (3 on a production cluster). */
        replicationFactor: z.number().int().min(-1).max(16).refine((n) => n !== 0, 'must be -1 or at least 1').default(-1),
        /** Retention of modcast.access and modcast.rejected; the dead-letter topic keeps messages longer. */
        retentionHours: z.number().int().min(1).max(24 * 365).default(168),
        dlqRetentionHours: z.number().int().min(1).max(24 * 3650).default(720),
        /** A consumer silent this long is dropped from the group and its partitions move to the others. */
        sessionTimeoutMs: z.number().int().min(3000).max(300_000).default(30_000),
        /** How far back the ingestor remembers shipper sources to drop events a restarted shipper sends again. */
        dedupHorizonHours: z.number().int().min(1).max(24 * 30).default(72),
      })
      .prefault({}),
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Bearer tokens for write/trigger routes: `sha256:<hex>` (preferred) or plain (hashed at load). */
        tokens: z.array(z.string().min(8)).default([]),
        /** Require a token for read routes too. */
        readAuth: z.boolean().default(false),
        /** HMAC-SHA256 secret of POST /v1/hooks/release. */
        hookSecret: z.string().min(16).optional(),
        /** Largest request body as sent (compressed for gzip bodies). */
        bodyLimitBytes: z.number().int().min(1024).max(1024 ** 3).default(32 * 1024 * 1024),
        /** Largest POST /v1/ingest body after gzip decompression: defeats gzip bombs. */
        ingestMaxBytes: z.number().int().min(1024).max(16 * 1024 ** 3).default(256 * 1024 * 1024),
        /** Most lines in one POST /v1/ingest body, blank ones included (a body of newlines costs per line too). */
        ingestMaxLines: z.number().int().min(1).max(100_000_000).default(2_000_000),
        /** Longest one POST /v1/ingest may take, receiving and parsing (a trickled body holds a spool file and a socket). */
        ingestMaxSeconds: z.number().min(1).max(3600).default(120),
        /** Where POST /v1/ingest spools a body before parsing it (all or nothing); default <dataDir>/spool. */
        spoolDir: z.string().optional(),
        /** Disk all POST /v1/ingest bodies being spooled at once may use together (507 beyond). */
        spoolMaxBytes: z.number().int().min(1024).max(1024 ** 4).default(1024 ** 3),
        rateLimitPerMinute: z.number().int().min(1).default(600),
        /** GET /metrics per client address and minute (Prometheus scrapes every 15–60 s). */
        metricsRateLimitPerMinute: z.number().int().min(1).default(120),
        corsOrigins: z.array(z.string()).default([]),
      })
      .prefault({}),
    scoring: z
      .object({
        historyDays: z.number().int().min(1).max(365).default(28),
        horizonHours: z.number().int().min(1).max(24 * 14).default(24),
        stepMinutes: z.number().int().min(5).max(24 * 60).default(60),
        cron: z.string().default('5 * * * *'),
        /** Series scored per chunk streamed out of ClickHouse. */
        chunkSeries: z.number().int().min(100).max(1_000_000).default(20000),
        /** Prediction rows with a smaller P(any request) are not written (the long tail would be millions of rows). */
        minProbability: z.number().min(0).max(1).default(0.05),
        /** No item is ever certain not to be requested: the least P(any request) a forecast gives. */
        floorProbability: z.number().min(0).max(0.5).default(0.0001),
        /** Share of a module's fetches that also fetch each of its go.mod requirements (0 disables the model). */
        dependencyFactor: z.number().min(0).max(1).default(0.3),
      })
      .prefault({}),
    scheduler: z
      .object({
        /** Warm a region this long before its business hours start. */
        leadMinutes: z.number().int().min(0).max(24 * 60).default(45),
        /** single: this process acts; lease: ClickHouse lease among several; kafka: consumer-group leadership. */
        mode: z.enum(['single', 'lease', 'kafka']).default('single'),
        /** local: the scheduler process fetches; kafka: it sends tasks to `modcast warmup-worker`s (needs kafka.brokers). */
        dispatch: z.enum(['local', 'kafka']).default('local'),
        /** A run later than this past its planned time is skipped instead of run late. */
        maxLatenessMinutes: z.number().int().min(0).default(30),
        /** Release warm-ups (webhook, new versions seen on one node) only for modules requested this often in 7 days. */
        hotModuleMinRequests: z.number().int().min(1).default(10),
      })
      .prefault({}),
    regions: z.array(RegionSchema).default([]),
    fleet: z.object({ nodes: z.array(FleetNodeSchema).default([]) }).prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const regions = new Set(cfg.regions.map((r) => r.name));
    const seen = new Set<string>();
    cfg.fleet.nodes.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: 'custom', path: ['fleet', 'nodes', i, 'name'], message: `duplicate node ${n.name}` });
      seen.add(n.name);
      if (regions.size > 0 && !regions.has(n.region))
        ctx.addIssue({ code: 'custom', path: ['fleet', 'nodes', i, 'region'], message: `region ${n.region} is not in regions[]` });
    });
    if (cfg.clickhouse.cluster && !cfg.clickhouse.url)
      ctx.addIssue({ code: 'custom', path: ['clickhouse', 'cluster'], message: 'a cluster needs a ClickHouse server: set clickhouse.url too' });
    if (!cfg.clickhouse.cluster && (cfg.clickhouse.replicated || cfg.clickhouse.nodes.length > 0))
      ctx.addIssue({ code: 'custom', path: ['clickhouse', 'cluster'], message: 'clickhouse.replicated and clickhouse.nodes apply to a cluster: set clickhouse.cluster too' });
    if (cfg.scheduler.dispatch === 'kafka' && cfg.kafka.brokers.length === 0)
      ctx.addIssue({ code: 'custom', path: ['scheduler', 'dispatch'], message: 'dispatch "kafka" sends warm-up tasks over Kafka: set kafka.brokers too' });
  });

export type Config = z.infer<typeof ConfigSchema>;

/** Environment variables and where they land in the config. Documented in README.md (the one place they are). */
export const ENV_VARS: Record<string, { path: string[]; type: 'string' | 'number' | 'boolean' | 'list' }> = {
  MODCAST_DATA_DIR: { path: ['dataDir'], type: 'string' },
  MODCAST_LOG_LEVEL: { path: ['logLevel'], type: 'string' },
  MODCAST_CLICKHOUSE_URL: { path: ['clickhouse', 'url'], type: 'string' },
  MODCAST_CLICKHOUSE_USER: { path: ['clickhouse', 'username'], type: 'string' },
  MODCAST_CLICKHOUSE_PASSWORD: { path: ['clickhouse', 'password'], type: 'string' },
  MODCAST_CLICKHOUSE_DATABASE: { path: ['clickhouse', 'database'], type: 'string' },
  MODCAST_CLICKHOUSE_CLUSTER: { path: ['clickhouse', 'cluster'], type: 'string' },
  MODCAST_CLICKHOUSE_REPLICATED: { path: ['clickhouse', 'replicated'], type: 'boolean' },
  MODCAST_CLICKHOUSE_NODES: { path: ['clickhouse', 'nodes'], type: 'list' },
  MODCAST_RETENTION_DAYS: { path: ['clickhouse', 'retentionDays'], type: 'number' },
  MODCAST_CLIENT_SALT: { path: ['privacy', 'clientSalt'], type: 'string' },
  MODCAST_INGEST_BATCH_ROWS: { path: ['ingest', 'batchRows'], type: 'number' },
  MODCAST_INGEST_FLUSH_MS: { path: ['ingest', 'flushMs'], type: 'number' },
  MODCAST_KAFKA_BROKERS: { path: ['kafka', 'brokers'], type: 'list' },
  MODCAST_KAFKA_CLIENT_ID: { path: ['kafka', 'clientId'], type: 'string' },
  MODCAST_KAFKA_GROUP: { path: ['kafka', 'groupId'], type: 'string' },
  MODCAST_KAFKA_COMPRESSION: { path: ['kafka', 'compression'], type: 'string' },
  MODCAST_KAFKA_SSL: { path: ['kafka', 'ssl'], type: 'boolean' },
  MODCAST_API_HOST: { path: ['api', 'host'], type: 'string' },
  MODCAST_API_PORT: { path: ['api', 'port'], type: 'number' },
  MODCAST_API_TOKENS: { path: ['api', 'tokens'], type: 'list' },
  MODCAST_API_READ_AUTH: { path: ['api', 'readAuth'], type: 'boolean' },
  MODCAST_HOOK_SECRET: { path: ['api', 'hookSecret'], type: 'string' },
  MODCAST_SCHEDULER_MODE: { path: ['scheduler', 'mode'], type: 'string' },
  MODCAST_SCHEDULER_DISPATCH: { path: ['scheduler', 'dispatch'], type: 'string' },
};

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function envValue(varName: string, raw: string, type: 'string' | 'number' | 'boolean' | 'list'): unknown {
  switch (type) {
    case 'string':
      return raw;
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new ModcastError(ErrorCodes.CONFIG_INVALID, `${varName}=${JSON.stringify(raw)} is not a number`);
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ModcastError(ErrorCodes.CONFIG_INVALID, `${varName}=${JSON.stringify(raw)} is not a boolean (true/false)`);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ModcastError(ErrorCodes.CONFIG_FILE, `config file ${file} does not exist`);
  try {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be a mapping');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new ModcastError(ErrorCodes.CONFIG_FILE, `config file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export interface LoadConfigOptions {
  /** Explicit file; else MODCAST_CONFIG; else ./modcast.yaml when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides applied last (tests, CLI flags). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.MODCAST_CONFIG ?? (existsSync('modcast.yaml') ? 'modcast.yaml' : undefined);
  const raw: Record<string, unknown> = file ? readConfigFile(resolve(file)) : {};
  for (const [varName, spec] of Object.entries(ENV_VARS)) {
    const v = env[varName];
    if (v !== undefined && v !== '') setPath(raw, spec.path, envValue(varName, v, spec.type));
  }
  const merged = deepMerge(raw, options.overrides ?? {});
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const path = i.path.join('.');
      const envName = Object.entries(ENV_VARS).find(([, s]) => s.path.join('.') === path)?.[0];
      return `  - ${path || '(root)'}${envName ? ` (${envName})` : ''}: ${i.message}`;
    });
    throw new ModcastError(ErrorCodes.CONFIG_INVALID, `invalid configuration${file ? ` (${file})` : ''}:\n${lines.join('\n')}`);
  }
  return result.data;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** A copy safe to log: secrets replaced. */
export function redactConfig(cfg: Config): unknown {
  return {
    ...cfg,
    clickhouse: { ...cfg.clickhouse, password: cfg.clickhouse.password ? '***' : '' },
    privacy: { clientSalt: cfg.privacy.clientSalt ? '***' : undefined },
    kafka: { ...cfg.kafka, sasl: cfg.kafka.sasl ? { ...cfg.kafka.sasl, password: '***' } : undefined },
    api: { ...cfg.api, tokens: cfg.api.tokens.map(() => '***'), hookSecret: cfg.api.hookSecret ? '***' : undefined },
  };
}
