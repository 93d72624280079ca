-- Forecast runs and their predictions. One run = one scoring pass; the API shows the latest finished run
-- and keeps history for the backtest and the dashboard (forecast vs actual).
CREATE TABLE IF NOT EXISTS prediction_runs
(
    run_id        String,
    started_at    DateTime64(3, 'UTC'),
    finished_at   Nullable(DateTime64(3, 'UTC')),
    status        LowCardinality(String),          -- running | done | failed
    as_of         DateTime('UTC'),                 -- history used ends here
    horizon_hours UInt16,
    step_minutes  UInt16,
    series        UInt64,
    predictions   UInt64,
    params        String,                          -- JSON
    updated_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY run_id;

CREATE TABLE IF NOT EXISTS predictions
(
    run_id          String,
    made_at         DateTime64(3, 'UTC'),
    scope           Enum8('node' = 1, 'region' = 2, 'fleet' = 3),
    scope_id        LowCardinality(String),        -- node name, region name, or 'fleet'
    module          String,
    version         String,                         -- '' = module level
    kind            LowCardinality(String),         -- request kind predicted ('zip', 'mod', 'any', ...)
    window_start    DateTime('UTC'),
    window_end      DateTime('UTC'),
    expected_requests Float64,
    p_any_request   Float64,                         -- P(at least one request in the window)
    lower           Float64,                         -- 10th percentile of the request count
    upper           Float64,                         -- 90th percentile
    model           LowCardinality(String),
    features        String                           -- JSON: model inputs worth showing
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(made_at)
ORDER BY (run_id, scope, scope_id, window_start, module, version)
TTL toDateTime(made_at) + INTERVAL 30 DAY;
