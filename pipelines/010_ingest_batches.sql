-- Write-ahead log of the Kafka ingestor's insert batches (docs/kafka.md, "Exactly once").
-- Before inserting the messages [from_offset, to_offset] of a partition, the ingestor records the range here;
-- the insert's dedup token is derived from the range. A consumer that (re)takes the partition replays the recorded
-- ranges at or after the committed offset exactly, so a batch inserted but not committed is dropped by ClickHouse.
-- epoch orders owners (bumped through the committed offset's metadata): for one from_offset the highest wins.
-- source_offsets: per shipper source, the highest line byte offset in the range; the ingestor rebuilds from it which
-- lines it has already seen, to drop the ones a restarted shipper sends again.
CREATE TABLE IF NOT EXISTS ingest_batches
(
    consumer_group LowCardinality(String),
    topic          LowCardinality(String),
    partition      UInt32,
    from_offset    UInt64,
    to_offset      UInt64,
    epoch          UInt64,
    messages       UInt32,
    source_offsets Map(String, UInt64),
    created_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (consumer_group, topic, partition, from_offset, epoch)
TTL toDateTime(created_at) + INTERVAL 30 DAY;
