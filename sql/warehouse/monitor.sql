-- rt-dw-monitor: data quality per table and hour, of both pipelines. For each source table it counts
-- the changes that reached ODS, those DWD refused (anomalies) and those missing a required field
-- (incompleteness), keeps the newest change time (freshness is "now minus that", computed where it is
-- read), and scores the hour: quality_score = 100 x (1 - anomaly_ratio) x completeness. Tracking is
-- scored as ods.tracking_events (every accepted event in its own hour; the records rt-trk-ods sent to
-- dq.tracking_rejects are arrivals and anomalies of the hour they arrived in) and dwd.tracking_events (one row per
-- event; a product view without a price is incomplete). Results go to Paimon (history) and to the
-- quality database, where the PostgreSQL exporter turns them into metrics for the same dashboards and alerts.

CREATE TEMPORARY TABLE dq_table_quality (
  table_name STRING, dt STRING, hr STRING,
  total_rows BIGINT, rejected_rows BIGINT, incomplete_rows BIGINT,
  anomaly_ratio DOUBLE, completeness DOUBLE, quality_score DOUBLE, last_event_ts TIMESTAMP(3),
  PRIMARY KEY (table_name, dt, hr) NOT ENFORCED
) WITH (${sink:dq_table_quality});

CREATE TEMPORARY VIEW ods_changes AS
SELECT 'shop.users' AS table_name, dt, hr, src_ts, CAST(NULL AS STRING) AS reason,
  CASE WHEN op <> 'd' AND (name IS NULL OR email IS NULL OR created_at IS NULL) THEN 1 ELSE 0 END AS incomplete
FROM ods.shop_users /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
SELECT 'shop.products', dt, hr, src_ts, CAST(NULL AS STRING), CASE WHEN op <> 'd' AND (name IS NULL OR price IS NULL) THEN 1 ELSE 0 END
FROM ods.shop_products /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
SELECT 'shop.orders', dt, hr, src_ts, CAST(NULL AS STRING), CASE WHEN op <> 'd' AND (user_id IS NULL OR total_amount IS NULL OR status IS NULL) THEN 1 ELSE 0 END
FROM ods.shop_orders /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
SELECT 'shop.order_items', dt, hr, src_ts, CAST(NULL AS STRING), CASE WHEN op <> 'd' AND (order_id IS NULL OR product_id IS NULL OR quantity IS NULL) THEN 1 ELSE 0 END
FROM ods.shop_order_items /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
SELECT 'shop.payments', dt, hr, src_ts, CAST(NULL AS STRING), CASE WHEN op <> 'd' AND (order_id IS NULL OR amount IS NULL OR status IS NULL) THEN 1 ELSE 0 END
FROM ods.shop_payments /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
-- A rejected change counts in its table's hour (of arrival) as an anomaly.
SELECT source_table, dt, DATE_FORMAT(ingest_ts, 'HH'), CAST(NULL AS TIMESTAMP_LTZ(3)), reason, 0
FROM dq.dwd_rejects /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
SELECT 'ods.tracking_events', dt, hr, event_time, CAST(NULL AS STRING), CASE WHEN type LIKE 'track%' AND event IS NULL THEN 1 ELSE 0 END
FROM ods.tracking_events /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */
UNION ALL
-- A tracking reject never reached ODS: it counts as an arrival (reason NULL) and as an anomaly, so an
-- hour of rejects only scores 0, not 100.
SELECT 'ods.tracking_events', dt, DATE_FORMAT(ingest_ts, 'HH'), CAST(NULL AS TIMESTAMP_LTZ(3)), r, 0
FROM dq.tracking_rejects /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */ CROSS JOIN UNNEST(ARRAY[reason, CAST(NULL AS STRING)]) AS t (r)
UNION ALL
SELECT 'dwd.tracking_events', dt, hr, event_time, CAST(NULL AS STRING), CASE WHEN event = 'ViewProduct' AND price IS NULL THEN 1 ELSE 0 END
FROM dwd.tracking_events /*+ OPTIONS('consumer-id' = 'rt-dw-monitor') */;

CREATE TEMPORARY VIEW hourly AS
SELECT table_name, dt, hr,
  COUNT(*) FILTER (WHERE reason IS NULL) AS total_rows,
  COUNT(*) FILTER (WHERE reason IS NOT NULL) AS rejected_rows,
  CAST(SUM(incomplete) AS BIGINT) AS incomplete_rows,
  MAX(src_ts) AS last_event_ts
FROM ods_changes
GROUP BY table_name, dt, hr;

CREATE TEMPORARY VIEW scored AS
SELECT table_name, dt, hr, total_rows, rejected_rows, incomplete_rows,
  anomaly_ratio, completeness, 100.0 * (1 - anomaly_ratio) * completeness AS quality_score, last_event_ts
FROM (
  SELECT *,
    CASE WHEN total_rows = 0 THEN 0.0 ELSE CAST(rejected_rows AS DOUBLE) / total_rows END AS anomaly_ratio,
    CASE WHEN total_rows = 0 THEN 1.0 ELSE 1 - CAST(incomplete_rows AS DOUBLE) / total_rows END AS completeness
  FROM hourly
);

EXECUTE STATEMENT SET BEGIN
INSERT INTO dq.table_quality_hourly SELECT * FROM scored;
INSERT INTO dq_table_quality
SELECT table_name, dt, hr, total_rows, rejected_rows, incomplete_rows, anomaly_ratio, completeness, quality_score,
  CAST(last_event_ts AS TIMESTAMP(3))
FROM scored;
END;
