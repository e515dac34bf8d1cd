-- rt-trk-dwd: ods.tracking_events -> dwd.tracking_events, one row per event. The first-row merge
-- engine keeps the first copy of (distinct_id, event, time, _track_id), so SDK retries and replays
-- are removed; its lookup changelog gives readers inserts only. Profile and item operations stay in
-- ODS; DWD holds behaviour (track and signup) events. The ViewProduct/AddToCart price is lifted into
-- a typed column.

INSERT INTO dwd.tracking_events
SELECT dt, distinct_id, event, event_time, COALESCE(track_id, 0),
  hr, type, login_id, project, lib, country, province, city, is_core,
  TRY_CAST(JSON_VALUE(properties, '$.price') AS DECIMAL(12, 2)),
  properties, recv_time
FROM ods.tracking_events /*+ OPTIONS('consumer-id' = 'rt-trk-dwd') */
WHERE type IN ('track', 'track_signup') AND event IS NOT NULL;
