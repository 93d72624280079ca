-- What each contender of the ranker pool would have warmed, per scoring run and region (src/domain/forecast/rankers.ts):
-- its top items for the run's first step window. A later run judges the picks whose window has ended against the
-- hourly rollups (an item asked for in its window is a hit) and scores with the contender that hit most over the
-- last runs: the choice among forecasters is made on realised demand, using only the past.
CREATE TABLE IF NOT EXISTS ranker_picks
(
    run_id        String,
    made_at       DateTime('UTC'),
    region        LowCardinality(String),
    contender     LowCardinality(String),
    rank          UInt16,
    module        String,
    version       String,
    window_start  DateTime('UTC'),
    window_end    DateTime('UTC'),
    expected      Float64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(made_at)
ORDER BY (window_end, region, contender, rank)
TTL made_at + INTERVAL 14 DAY;
