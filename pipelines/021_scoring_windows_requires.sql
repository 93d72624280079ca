-- Scoring additions (020-029 is the scoring range).
-- window_kind tells overlapping windows of one run apart: 'step' (the sliding hourly windows, which tile the
-- horizon), 'horizon' (the whole horizon in one window) and 'business' (a region's next business-hours block).
-- Summing expected requests over a period must use one kind only (normally 'step').
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS window_kind LowCardinality(String) DEFAULT 'step' AFTER window_end;

-- The requirements of module versions, parsed from their go.mod (src/domain/forecast/dependency.ts). Filled when
-- a go.mod is seen (warm-up fetches, `modcast score --gomod`); read by scoring to make requirements of hot
-- modules hot too.
CREATE TABLE IF NOT EXISTS module_requires
(
    module       String,
    version      String,
    req_module   String,
    req_version  String,
    indirect     Bool,
    recorded_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (module, version, req_module, req_version);
