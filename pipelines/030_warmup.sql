-- Warm-up runs and their items. Rows are re-inserted on state change; ReplacingMergeTree keeps the newest
-- (read with FINAL or argMax). item_id is deterministic (run, node, module, version, endpoint) so a resumed
-- run recognises what it already fetched.
CREATE TABLE IF NOT EXISTS warmup_runs
(
    run_id        String,
    node          LowCardinality(String),
    region        LowCardinality(String),
    trigger       LowCardinality(String),          -- schedule | release | manual | api
    planned_for   DateTime('UTC'),                 -- when the predicted demand starts
    created_at    DateTime64(3, 'UTC'),
    finished_at   Nullable(DateTime64(3, 'UTC')),
    status        LowCardinality(String),          -- planned | running | done | failed | skipped
    dry_run       Bool,
    items_planned UInt32,
    items_done    UInt32,
    items_failed  UInt32,
    bytes         UInt64,
    expected_benefit Float64,
    prediction_run_id String,
    message       String,
    updated_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY run_id;

CREATE TABLE IF NOT EXISTS warmup_items
(
    run_id        String,
    item_id       String,
    node          LowCardinality(String),
    module        String,
    version       String,
    endpoint      LowCardinality(String),          -- list | info | mod | zip | latest | sumdb
    path          String,                           -- request path on the node (validated, escaped)
    expected_benefit Float64,
    status        LowCardinality(String),          -- pending | ok | not_found | failed | skipped
    http_status   UInt16,
    bytes         UInt64,
    latency_ms    Float64,
    attempts      UInt8,
    sha256        String,
    reason        String,
    finished_at   Nullable(DateTime64(3, 'UTC')),
    updated_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (run_id, item_id);
