-- The bench's baseline: rt-trk-ods as it was before parse_tracking_event (one JSON_VALUE per field,
-- each parsing the payload again). `npm run bench` runs it beside sql/tracking/ods.sql; no stack deploys it.
-- rt-trk-ods: the tracking topic (events Vector decoded, validated, GeoIP-enriched and CORE-flagged)
-- -> ods.tracking_events, partitioned by the event's own dt/hr. Parsed here from raw text, so a record
-- that is not an event lands in dq.tracking_rejects with the reason.

CREATE TEMPORARY TABLE kafka_events (${kafka.rawColumns}) WITH (${kafka.rawSource:tracking.events,rt-trk-ods});

CREATE TEMPORARY VIEW parsed_events AS
SELECT *, TO_TIMESTAMP_LTZ(TRY_CAST(JSON_VALUE(payload, '$.time') AS BIGINT), 3) AS event_time
FROM kafka_events;

EXECUTE STATEMENT SET BEGIN
INSERT INTO ods.tracking_events
SELECT JSON_VALUE(payload, '$.event_id'), JSON_VALUE(payload, '$.type'), JSON_VALUE(payload, '$.event'),
  JSON_VALUE(payload, '$.distinct_id'), JSON_VALUE(payload, '$.login_id'), JSON_VALUE(payload, '$.anonymous_id'),
  event_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(JSON_VALUE(payload, '$.flush_time') AS BIGINT), 3),
  TO_TIMESTAMP_LTZ(TRY_CAST(JSON_VALUE(payload, '$.recv_time') AS BIGINT), 3),
  TRY_CAST(JSON_VALUE(payload, '$.track_id') AS BIGINT),
  JSON_VALUE(payload, '$.project'), JSON_VALUE(payload, '$.lib'), JSON_VALUE(payload, '$.lib_version'),
  JSON_VALUE(payload, '$.ip'), JSON_VALUE(payload, '$.country'), JSON_VALUE(payload, '$.province'), JSON_VALUE(payload, '$.city'),
  JSON_VALUE(payload, '$.user_agent'),
  COALESCE(TRY_CAST(JSON_VALUE(payload, '$.is_core') AS BOOLEAN), FALSE),
  JSON_QUERY(payload, '$.properties'),
  src_partition, src_offset, DATE_FORMAT(event_time, 'yyyy-MM-dd'), DATE_FORMAT(event_time, 'HH')
FROM parsed_events
WHERE event_time IS NOT NULL AND JSON_VALUE(payload, '$.distinct_id') IS NOT NULL AND JSON_VALUE(payload, '$.type') IS NOT NULL;

INSERT INTO dq.tracking_rejects
SELECT CASE WHEN NOT (payload IS JSON) THEN 'not JSON'
            WHEN event_time IS NULL THEN 'time is missing or not epoch milliseconds'
            WHEN JSON_VALUE(payload, '$.distinct_id') IS NULL THEN 'distinct_id is missing'
            ELSE 'type is missing' END,
  payload, src_partition, src_offset, CURRENT_TIMESTAMP, DATE_FORMAT(CURRENT_TIMESTAMP, 'yyyy-MM-dd')
FROM parsed_events
WHERE event_time IS NULL OR JSON_VALUE(payload, '$.distinct_id') IS NULL OR JSON_VALUE(payload, '$.type') IS NULL;
END;
