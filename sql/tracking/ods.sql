-- rt-trk-ods: the tracking topic (events Vector decoded, validated, GeoIP-enriched and CORE-flagged)
-- -> ods.tracking_events, partitioned by the event's own dt/hr, and the CORE users' events also to
-- ods.tracking_core_events. A record that is not an event lands in dq.tracking_rejects with the reason.
-- Each payload is parsed once, by parse_tracking_event (components/flink/image/functions): its fields are
-- exactly what JSON_VALUE(payload, '$.<field>') and JSON_QUERY(payload, '$.properties') return, so the
-- casts and the reject rules below read as they would over those calls. It is a scalar function returning
-- a ROW, called in the innermost SELECT of the view both INSERTs read; the view passes the row on whole
-- (a row in Flink's binary layout: an operator that reads it copies one array, where it would copy each
-- field the view had taken out of it), with the event time both INSERTs test.
-- The planner would otherwise optimize the view once per INSERT and prune each copy to the columns that
-- INSERT needs, so the two copies differ and each parses the payload: with this option it optimizes the
-- view once, as a block of its own (found by its digest), and feeds both INSERTs from it (EXPLAIN shows
-- one call).
SET 'table.optimizer.reuse-optimize-block-with-digest-enabled' = 'true';
-- The shared view's rows go to two INSERTs in one chain of operators; without object reuse Flink copies
-- every row at each hand-over (a sixth of a profile's samples, plus the garbage). Safe here: the
-- operators are the planner's, and the Paimon writers serialize a row before taking the next.
SET 'pipeline.object-reuse' = 'true';

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS parse_tracking_event AS 'rtdw.flink.ParseTrackingEvent' LANGUAGE JAVA;

CREATE TEMPORARY TABLE kafka_events (${kafka.rawColumns}) WITH (${kafka.rawSource:tracking.events,rt-trk-ods});

CREATE TEMPORARY VIEW parsed_events AS
SELECT e, TO_TIMESTAMP_LTZ(TRY_CAST(e.`time` AS BIGINT), 3) AS event_time, payload, src_partition, src_offset
FROM (SELECT parse_tracking_event(payload) AS e, payload, src_partition, src_offset FROM kafka_events);

-- The accepted events in the table's columns: both ODS tables are written from it.
CREATE TEMPORARY VIEW accepted_events AS
SELECT e.event_id, e.type, e.event, e.distinct_id, e.login_id, e.anonymous_id,
  event_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(e.flush_time AS BIGINT), 3) AS flush_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(e.recv_time AS BIGINT), 3) AS recv_time,
  TRY_CAST(e.track_id AS BIGINT) AS track_id,
  e.project, e.lib, e.lib_version, e.ip, e.country, e.province, e.city, e.user_agent,
  COALESCE(TRY_CAST(e.is_core AS BOOLEAN), FALSE) AS is_core,
  e.properties,
  src_partition, src_offset,
  DATE_FORMAT(event_time, 'yyyy-MM-dd') AS dt,
  DATE_FORMAT(event_time, 'HH') AS hr
FROM parsed_events
WHERE event_time IS NOT NULL AND e.distinct_id IS NOT NULL AND e.type IS NOT NULL;

EXECUTE STATEMENT SET BEGIN
INSERT INTO ods.tracking_events /*+ OPTIONS('write-only' = 'true') */
SELECT * FROM accepted_events;

INSERT INTO ods.tracking_core_events /*+ OPTIONS('write-only' = 'true') */
SELECT * FROM accepted_events WHERE is_core;

INSERT INTO dq.tracking_rejects
SELECT CASE WHEN NOT e.is_json THEN 'not JSON'
            WHEN event_time IS NULL THEN 'time is missing or not epoch milliseconds'
            WHEN e.distinct_id IS NULL THEN 'distinct_id is missing'
            ELSE 'type is missing' END,
  payload, src_partition, src_offset, CURRENT_TIMESTAMP, DATE_FORMAT(CURRENT_TIMESTAMP, 'yyyy-MM-dd')
FROM parsed_events
WHERE event_time IS NULL OR e.distinct_id IS NULL OR e.type IS NULL;
END;
