-- Raw GOPROXY access events, one row per request seen by a proxy node.
-- Ordered by (module, version, ts): the hot queries are per-module histories and per-version windows.
-- non_replicated_deduplication_window keeps recent insert tokens so a retried batch is dropped, not doubled.
CREATE TABLE IF NOT EXISTS access_events
(
    event_id     String CODEC(ZSTD(1)),
    ts           DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    node         LowCardinality(String),
    region       LowCardinality(String),
    module       String,
    version      String,
    kind         Enum8('list' = 1, 'info' = 2, 'mod' = 3, 'zip' = 4, 'latest' = 5, 'sumdb' = 6, 'other' = 7),
    status       UInt16,
    bytes        UInt64,
    duration_ms  Float32,
    cache_status Enum8('unknown' = 0, 'hit' = 1, 'miss' = 2),
    client_hash  String CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (module, version, ts)
TTL toDateTime(ts) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- Lines that could not become events, with their original bytes (base64), never dropped.
CREATE TABLE IF NOT EXISTS rejected_events
(
    received_at DateTime64(3, 'UTC'),
    source      String,
    node        LowCardinality(String),
    offset      UInt64,
    reason      String,
    raw_base64  String CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (source, offset)
TTL toDateTime(received_at) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 10000;
