-- Warehouse tables in the Paimon catalog. Each CREATE TABLE is a resource: change it here and `up`
-- alters the table in place (or preview refuses the change, naming it): docs/operations.md.
-- ODS: append-only change logs, one per source table, partitioned by dt/hr of arrival.
-- DWD: primary-key tables, one row per business key; deletes arrive as '-D' through rowkind.field,
--      order per key comes from the Kafka offset (one key, one partition), and the lookup changelog
--      producer gives readers a complete changelog (updates retract their old values downstream).
-- DQ:  rows the DWD checks rejected (with the reason) and the monitor's quality scores.

CREATE TABLE IF NOT EXISTS ods.shop_users (
  id BIGINT, name STRING, email STRING, phone STRING, city STRING, created_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  op STRING, src_partition INT, src_offset BIGINT, src_ts TIMESTAMP_LTZ(3), ingest_ts TIMESTAMP_LTZ(3),
  dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.shop_users});

CREATE TABLE IF NOT EXISTS ods.shop_products (
  id BIGINT, name STRING, category STRING, price DECIMAL(12, 2), status STRING, updated_at TIMESTAMP(3),
  op STRING, src_partition INT, src_offset BIGINT, src_ts TIMESTAMP_LTZ(3), ingest_ts TIMESTAMP_LTZ(3),
  dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.shop_products});

CREATE TABLE IF NOT EXISTS ods.shop_orders (
  id BIGINT, user_id BIGINT, status STRING, total_amount DECIMAL(12, 2), created_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  op STRING, src_partition INT, src_offset BIGINT, src_ts TIMESTAMP_LTZ(3), ingest_ts TIMESTAMP_LTZ(3),
  dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.shop_orders});

CREATE TABLE IF NOT EXISTS ods.shop_order_items (
  id BIGINT, order_id BIGINT, product_id BIGINT, quantity INT, unit_price DECIMAL(12, 2), updated_at TIMESTAMP(3),
  op STRING, src_partition INT, src_offset BIGINT, src_ts TIMESTAMP_LTZ(3), ingest_ts TIMESTAMP_LTZ(3),
  dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.shop_order_items});

CREATE TABLE IF NOT EXISTS ods.shop_payments (
  id BIGINT, order_id BIGINT, `method` STRING, amount DECIMAL(12, 2), status STRING, paid_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  op STRING, src_partition INT, src_offset BIGINT, src_ts TIMESTAMP_LTZ(3), ingest_ts TIMESTAMP_LTZ(3),
  dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (${lakehouse.options:ods.shop_payments});

-- Kafka records that are not a change event at all (not JSON, no key): kept whole, with the reason.
CREATE TABLE IF NOT EXISTS dq.ods_rejects (
  source_table STRING, reason STRING, payload STRING, src_partition INT, src_offset BIGINT, ingest_ts TIMESTAMP_LTZ(3), dt STRING
) PARTITIONED BY (dt) WITH (${lakehouse.options:dq.ods_rejects});

CREATE TABLE IF NOT EXISTS dwd.users (
  id BIGINT, name STRING, email STRING, phone STRING, city STRING, created_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  row_kind STRING, src_offset BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '4', 'rowkind.field' = 'row_kind', 'sequence.field' = 'src_offset', 'changelog-producer' = 'lookup', ${lakehouse.options:dwd.users});

CREATE TABLE IF NOT EXISTS dwd.products (
  id BIGINT, name STRING, category STRING, price DECIMAL(12, 2), status STRING, updated_at TIMESTAMP(3),
  row_kind STRING, src_offset BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '4', 'rowkind.field' = 'row_kind', 'sequence.field' = 'src_offset', 'changelog-producer' = 'lookup', ${lakehouse.options:dwd.products});

CREATE TABLE IF NOT EXISTS dwd.orders (
  id BIGINT, user_id BIGINT, status STRING, total_amount DECIMAL(12, 2), created_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  order_date STRING, row_kind STRING, src_offset BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '4', 'rowkind.field' = 'row_kind', 'sequence.field' = 'src_offset', 'changelog-producer' = 'lookup', ${lakehouse.options:dwd.orders});

CREATE TABLE IF NOT EXISTS dwd.order_items (
  id BIGINT, order_id BIGINT, product_id BIGINT, quantity INT, unit_price DECIMAL(12, 2), line_amount DECIMAL(14, 2), updated_at TIMESTAMP(3),
  row_kind STRING, src_offset BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '4', 'rowkind.field' = 'row_kind', 'sequence.field' = 'src_offset', 'changelog-producer' = 'lookup', ${lakehouse.options:dwd.order_items});

CREATE TABLE IF NOT EXISTS dwd.payments (
  id BIGINT, order_id BIGINT, `method` STRING, amount DECIMAL(12, 2), status STRING, paid_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  row_kind STRING, src_offset BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '4', 'rowkind.field' = 'row_kind', 'sequence.field' = 'src_offset', 'changelog-producer' = 'lookup', ${lakehouse.options:dwd.payments});

-- Change events the DWD checks refused: the row as it came, which rule failed, where it came from.
CREATE TABLE IF NOT EXISTS dq.dwd_rejects (
  source_table STRING, id BIGINT, reason STRING, row_json STRING, src_offset BIGINT, ingest_ts TIMESTAMP_LTZ(3), dt STRING
) PARTITIONED BY (dt) WITH (${lakehouse.options:dq.dwd_rejects});

-- One row per table and hour: volume, rejected and incomplete rows, newest event, score (0-100).
CREATE TABLE IF NOT EXISTS dq.table_quality_hourly (
  table_name STRING, dt STRING, hr STRING,
  total_rows BIGINT, rejected_rows BIGINT, incomplete_rows BIGINT,
  anomaly_ratio DOUBLE, completeness DOUBLE, quality_score DOUBLE, last_event_ts TIMESTAMP_LTZ(3),
  PRIMARY KEY (table_name, dt, hr) NOT ENFORCED
) WITH ('bucket' = '1', ${lakehouse.options:dq.table_quality_hourly});
