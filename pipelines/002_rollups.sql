-- Windowed counts per (module, version, node, region), fed by materialized views from access_events.
-- 5-minute buckets for the near past (dashboards, bursts), hourly buckets for forecasting history.
-- Each target keeps its own dedup window: with deduplicate_blocks_in_dependent_materialized_views = 1 on
-- the insert, a retried batch is dropped here too, not only from access_events.
CREATE TABLE IF NOT EXISTS rollups_5m
(
    bucket           DateTime('UTC'),
    module           String,
    version          String,
    node             LowCardinality(String),
    region           LowCardinality(String),
    requests         SimpleAggregateFunction(sum, UInt64),
    lists            SimpleAggregateFunction(sum, UInt64),
    infos            SimpleAggregateFunction(sum, UInt64),
    mods             SimpleAggregateFunction(sum, UInt64),
    zips             SimpleAggregateFunction(sum, UInt64),
    latests          SimpleAggregateFunction(sum, UInt64),
    sumdbs           SimpleAggregateFunction(sum, UInt64),
    hits             SimpleAggregateFunction(sum, UInt64),
    misses           SimpleAggregateFunction(sum, UInt64),
    errors           SimpleAggregateFunction(sum, UInt64),
    bytes            SimpleAggregateFunction(sum, UInt64),
    hit_duration_ms  SimpleAggregateFunction(sum, Float64),
    miss_duration_ms SimpleAggregateFunction(sum, Float64),
    clients          AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (module, version, node, region, bucket)
TTL bucket + INTERVAL 35 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollups_5m_mv TO rollups_5m AS
SELECT
    toStartOfFiveMinutes(ts) AS bucket,
    module,
    version,
    node,
    region,
    count() AS requests,
    countIf(kind = 'list') AS lists,
    countIf(kind = 'info') AS infos,
    countIf(kind = 'mod') AS mods,
    countIf(kind = 'zip') AS zips,
    countIf(kind = 'latest') AS latests,
    countIf(kind = 'sumdb') AS sumdbs,
    countIf(cache_status = 'hit') AS hits,
    countIf(cache_status = 'miss') AS misses,
    countIf(status >= 400) AS errors,
    sum(bytes) AS bytes,
    sumIf(toFloat64(duration_ms), cache_status = 'hit') AS hit_duration_ms,
    sumIf(toFloat64(duration_ms), cache_status = 'miss') AS miss_duration_ms,
    uniqStateIf(client_hash, client_hash != '') AS clients
FROM access_events
GROUP BY bucket, module, version, node, region;

CREATE TABLE IF NOT EXISTS rollups_1h
(
    bucket           DateTime('UTC'),
    module           String,
    version          String,
    node             LowCardinality(String),
    region           LowCardinality(String),
    requests         SimpleAggregateFunction(sum, UInt64),
    lists            SimpleAggregateFunction(sum, UInt64),
    infos            SimpleAggregateFunction(sum, UInt64),
    mods             SimpleAggregateFunction(sum, UInt64),
    zips             SimpleAggregateFunction(sum, UInt64),
    latests          SimpleAggregateFunction(sum, UInt64),
    sumdbs           SimpleAggregateFunction(sum, UInt64),
    hits             SimpleAggregateFunction(sum, UInt64),
    misses           SimpleAggregateFunction(sum, UInt64),
    errors           SimpleAggregateFunction(sum, UInt64),
    bytes            SimpleAggregateFunction(sum, UInt64),
    hit_duration_ms  SimpleAggregateFunction(sum, Float64),
    miss_duration_ms SimpleAggregateFunction(sum, Float64),
    clients          AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (module, version, node, region, bucket)
TTL bucket + INTERVAL 400 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollups_1h_mv TO rollups_1h AS
SELECT
    toStartOfHour(ts) AS bucket,
    module,
    version,
    node,
    region,
    count() AS requests,
    countIf(kind = 'list') AS lists,
    countIf(kind = 'info') AS infos,
    countIf(kind = 'mod') AS mods,
    countIf(kind = 'zip') AS zips,
    countIf(kind = 'latest') AS latests,
    countIf(kind = 'sumdb') AS sumdbs,
    countIf(cache_status = 'hit') AS hits,
    countIf(cache_status = 'miss') AS misses,
    countIf(status >= 400) AS errors,
    sum(bytes) AS bytes,
    sumIf(toFloat64(duration_ms), cache_status = 'hit') AS hit_duration_ms,
    sumIf(toFloat64(duration_ms), cache_status = 'miss') AS miss_duration_ms,
    uniqStateIf(client_hash, client_hash != '') AS clients
FROM access_events
GROUP BY bucket, module, version, node, region;

