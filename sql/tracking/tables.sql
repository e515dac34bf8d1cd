-- Tracking tables in the Paimon catalog. Each CREATE TABLE is a resource: change it here and `up`
-- alters the table in place (or preview refuses the change, naming it): docs/operations.md.
-- Event time is the SDK's `time`; dt/hr partitions follow it, so a late event lands in its own hour.

-- Every event Vector accepted, as it arrived (duplicates included), CORE flagged.
CREATE TABLE IF NOT EXISTS ods.tracking_events (
  event_id STRING, type STRING, event STRING, distinct_id STRING, login_id STRING, anonymous_id STRING,
  event_time TIMESTAMP_LTZ(3), flush_time TIMESTAMP_LTZ(3), recv_time TIMESTAMP_LTZ(3), track_id BIGINT,
  project STRING, lib STRING, lib_version STRING, ip STRING, country STRING, province STRING, city STRING, user_agent STRING,
  is_core BOOLEAN, properties STRING,
  src_partition INT, src_offset BIGINT, dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.tracking_events});

-- The CORE events: exactly the events of the users on the Redis whitelist when the collector received
-- them (is_core), with the columns of ods.tracking_events; written by rt-trk-ods beside it.
CREATE TABLE IF NOT EXISTS ods.tracking_core_events (
  event_id STRING, type STRING, event STRING, distinct_id STRING, login_id STRING, anonymous_id STRING,
  event_time TIMESTAMP_LTZ(3), flush_time TIMESTAMP_LTZ(3), recv_time TIMESTAMP_LTZ(3), track_id BIGINT,
  project STRING, lib STRING, lib_version STRING, ip STRING, country STRING, province STRING, city STRING, user_agent STRING,
  is_core BOOLEAN, properties STRING,
  src_partition INT, src_offset BIGINT, dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.tracking_core_events});

-- One row per event: an SDK retry repeats (distinct_id, event, time, _track_id), and the first copy wins.
CREATE TABLE IF NOT EXISTS dwd.tracking_events (
  dt STRING, distinct_id STRING, event STRING, event_time TIMESTAMP_LTZ(3), track_id BIGINT,
  hr STRING, type STRING, login_id STRING, project STRING, lib STRING, country STRING, province STRING, city STRING,
  is_core BOOLEAN, price DECIMAL(12, 2), properties STRING, recv_time TIMESTAMP_LTZ(3),
  PRIMARY KEY (dt, distinct_id, event, event_time, track_id) NOT ENFORCED
) PARTITIONED BY (dt) WITH ('bucket' = '4', 'merge-engine' = 'first-row', 'changelog-producer' = 'lookup', ${lakehouse.options:dwd.tracking_events});

-- Kafka records that do not parse as a Vector event (Vector validates first; this is the last net).
CREATE TABLE IF NOT EXISTS dq.tracking_rejects (
  reason STRING, payload STRING, src_partition INT, src_offset BIGINT, ingest_ts TIMESTAMP_LTZ(3), dt STRING
) PARTITIONED BY (dt) WITH (${lakehouse.options:dq.tracking_rejects});
