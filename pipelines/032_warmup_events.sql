-- modcast's own warm-up fetches, read back from the proxies' access logs (user agent modcast-warmup/…): the same
-- columns as access_events, but no materialized view reads them, so they never reach the rollups, hit/miss or the
-- forecasts; they stay queryable for what warm-ups cost and did.
CREATE TABLE IF NOT EXISTS warmup_events AS access_events;
