-- Every stored log line's identity, split from its event id `<source>:<offset>`: the source (node + first line of the
-- log file, src/lib/log-source.ts) and the line's byte offset. `modcast ingest --file` and `modcast ship` give a line
-- the same id, so before an insert the event writer drops the lines already here (src/store/event-writer.ts): a log
-- read by both paths is stored once, in access_events and the rollups alike. Fed from access_events and from
-- warmup_events (no rollup reads these views' target). Ordered by (source, offset): a batch's check reads one short
-- key range per source.
CREATE TABLE IF NOT EXISTS event_lines
(
    source String,
    offset UInt64,
    ts     DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (source, offset)
TTL toDateTime(ts) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_lines_mv TO event_lines AS
SELECT replaceRegexpOne(event_id, ':[0-9]+$', '') AS source, toUInt64OrZero(extract(event_id, ':([0-9]+)$')) AS offset, ts
FROM access_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_lines_warmup_mv TO event_lines AS
SELECT replaceRegexpOne(event_id, ':[0-9]+$', '') AS source, toUInt64OrZero(extract(event_id, ':([0-9]+)$')) AS offset, ts
FROM warmup_events;
