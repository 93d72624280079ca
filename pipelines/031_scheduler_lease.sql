-- Scheduler leadership without Kafka: a lease in ClickHouse (scheduler.mode = lease). Each candidate appends
-- claim/renew/release rows; the holder of a term is the earliest claimant of the highest term, and it holds the
-- lease until the expires_at of its newest row. Append-only (no updates): safe on a plain MergeTree, read with aggregates.
CREATE TABLE IF NOT EXISTS scheduler_leases
(
    name        LowCardinality(String),
    term        UInt64,
    holder      String,
    acquired_at DateTime64(3, 'UTC'),
    expires_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (name, term, holder, updated_at)
TTL toDateTime(updated_at) + INTERVAL 2 DAY;
