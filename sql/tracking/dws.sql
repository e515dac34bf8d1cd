-- rt-trk-dws: dwd.tracking_events -> StarRocks DWS: PV and UV per event by hour and by day, and the
-- purchase funnel per day (users who viewed a product, added to cart, submitted and paid an order).
-- Late events: aggregates are keyed by the event's own dt/hr and updated, not windowed, so an event
-- arriving late still counts in its hour; nothing is dropped for lateness. The window of "late" is
-- bounded by the collector, which rejects events older than 7 days or more than 1 hour ahead.

CREATE TEMPORARY TABLE dws_trk_event_hourly (
  dt STRING, hr STRING, event STRING, pv BIGINT, uv BIGINT, core_pv BIGINT,
  PRIMARY KEY (dt, hr, event) NOT ENFORCED
) WITH (${sink:dws_trk_event_hourly});

CREATE TEMPORARY TABLE dws_trk_event_daily (
  dt STRING, event STRING, pv BIGINT, uv BIGINT, core_pv BIGINT,
  PRIMARY KEY (dt, event) NOT ENFORCED
) WITH (${sink:dws_trk_event_daily});

CREATE TEMPORARY TABLE dws_trk_funnel_daily (
  dt STRING, viewers BIGINT, carters BIGINT, orderers BIGINT, payers BIGINT,
  PRIMARY KEY (dt) NOT ENFORCED
) WITH (${sink:dws_trk_funnel_daily});

EXECUTE STATEMENT SET BEGIN
INSERT INTO dws_trk_event_hourly
SELECT dt, hr, event, COUNT(*), COUNT(DISTINCT distinct_id), COUNT(*) FILTER (WHERE is_core)
FROM dwd.tracking_events /*+ OPTIONS('consumer-id' = 'rt-trk-dws-hourly') */ GROUP BY dt, hr, event;

INSERT INTO dws_trk_event_daily
SELECT dt, event, COUNT(*), COUNT(DISTINCT distinct_id), COUNT(*) FILTER (WHERE is_core)
FROM dwd.tracking_events /*+ OPTIONS('consumer-id' = 'rt-trk-dws-daily') */ GROUP BY dt, event;

-- A user counts in a step only if they also reached the step before it that day.
INSERT INTO dws_trk_funnel_daily
SELECT dt,
  COUNT(*) FILTER (WHERE viewed),
  COUNT(*) FILTER (WHERE viewed AND carted),
  COUNT(*) FILTER (WHERE viewed AND carted AND ordered),
  COUNT(*) FILTER (WHERE viewed AND carted AND ordered AND paid)
FROM (
  SELECT dt, distinct_id,
    MAX(event = 'ViewProduct') AS viewed, MAX(event = 'AddToCart') AS carted,
    MAX(event = 'SubmitOrder') AS ordered, MAX(event = 'PayOrder') AS paid
  FROM dwd.tracking_events /*+ OPTIONS('consumer-id' = 'rt-trk-dws-funnel') */ GROUP BY dt, distinct_id
) GROUP BY dt;
END;
