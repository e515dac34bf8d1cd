-- The quality database (rtdw_quality): the latest score per table and hour, upserted by rt-dw-monitor
-- through Flink's JDBC sink; Grafana and the PostgreSQL exporter read it. Same columns and key as the
-- job's dq_table_quality sink table. Run by the PostgreSQL bootstrap as the database's owner role.
CREATE TABLE IF NOT EXISTS dq_table_quality (
  table_name TEXT NOT NULL,
  dt TEXT NOT NULL,
  hr TEXT NOT NULL,
  total_rows BIGINT,
  rejected_rows BIGINT,
  incomplete_rows BIGINT,
  anomaly_ratio DOUBLE PRECISION,
  completeness DOUBLE PRECISION,
  quality_score DOUBLE PRECISION,
  last_event_ts TIMESTAMP(3),
  PRIMARY KEY (table_name, dt, hr)
);
