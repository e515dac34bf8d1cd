-- rt-dw-ods-processing: each CDC topic -> its Paimon ODS change log, append-only, partitioned by the
-- dt/hr the change reached Kafka. Values are read as raw text and parsed here, so a record that is not
-- a change event (not JSON, unknown op, no id) lands in dq.ods_rejects with the reason instead of
-- failing the job or vanishing. op is c (insert), u (update: the new image) or d (delete: the last
-- image), with the Kafka offset for ordering per key downstream; see the kafka.changeEvents fragment.
-- Each record is parsed once, by parse_change_event (components/flink/image/functions): img['f'] is
-- exactly what JSON_VALUE over the op's image returns for field f. Each topic's view feeds its ODS and
-- the reject INSERT: this option makes the planner optimize the view once and share it (one call per
-- topic in EXPLAIN), rather than one copy per INSERT, each pruned differently and each parsing.
SET 'table.optimizer.reuse-optimize-block-with-digest-enabled' = 'true';

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS parse_change_event AS 'rtdw.flink.ParseChangeEvent' LANGUAGE JAVA;

CREATE TEMPORARY TABLE kafka_users (${kafka.rawColumns}) WITH (${kafka.rawSource:cdc.shop.users,rt-dw-ods-processing});

CREATE TEMPORARY TABLE kafka_products (${kafka.rawColumns}) WITH (${kafka.rawSource:cdc.shop.products,rt-dw-ods-processing});

CREATE TEMPORARY TABLE kafka_orders (${kafka.rawColumns}) WITH (${kafka.rawSource:cdc.shop.orders,rt-dw-ods-processing});

CREATE TEMPORARY TABLE kafka_order_items (${kafka.rawColumns}) WITH (${kafka.rawSource:cdc.shop.order_items,rt-dw-ods-processing});

CREATE TEMPORARY TABLE kafka_payments (${kafka.rawColumns}) WITH (${kafka.rawSource:cdc.shop.payments,rt-dw-ods-processing});

CREATE TEMPORARY VIEW parsed_users AS ${kafka.changeEvents:kafka_users};

CREATE TEMPORARY VIEW parsed_products AS ${kafka.changeEvents:kafka_products};

CREATE TEMPORARY VIEW parsed_orders AS ${kafka.changeEvents:kafka_orders};

CREATE TEMPORARY VIEW parsed_order_items AS ${kafka.changeEvents:kafka_order_items};

CREATE TEMPORARY VIEW parsed_payments AS ${kafka.changeEvents:kafka_payments};

EXECUTE STATEMENT SET BEGIN

INSERT INTO ods.shop_users /*+ OPTIONS('write-only' = 'true') */
SELECT TRY_CAST(img['id'] AS BIGINT), img['name'], img['email'], img['phone'], img['city'], TRY_CAST(img['created_at'] AS TIMESTAMP(3)), TRY_CAST(img['updated_at'] AS TIMESTAMP(3)),
  op, src_partition, src_offset, src_ts, CURRENT_TIMESTAMP, DATE_FORMAT(src_ts, 'yyyy-MM-dd'), DATE_FORMAT(src_ts, 'HH')
FROM parsed_users WHERE op IN ('c', 'u', 'd') AND img['id'] IS NOT NULL;

INSERT INTO ods.shop_products /*+ OPTIONS('write-only' = 'true') */
SELECT TRY_CAST(img['id'] AS BIGINT), img['name'], img['category'], TRY_CAST(img['price'] AS DECIMAL(12, 2)), img['status'], TRY_CAST(img['updated_at'] AS TIMESTAMP(3)),
  op, src_partition, src_offset, src_ts, CURRENT_TIMESTAMP, DATE_FORMAT(src_ts, 'yyyy-MM-dd'), DATE_FORMAT(src_ts, 'HH')
FROM parsed_products WHERE op IN ('c', 'u', 'd') AND img['id'] IS NOT NULL;

INSERT INTO ods.shop_orders /*+ OPTIONS('write-only' = 'true') */
SELECT TRY_CAST(img['id'] AS BIGINT), TRY_CAST(img['user_id'] AS BIGINT), img['status'], TRY_CAST(img['total_amount'] AS DECIMAL(12, 2)), TRY_CAST(img['created_at'] AS TIMESTAMP(3)), TRY_CAST(img['updated_at'] AS TIMESTAMP(3)),
  op, src_partition, src_offset, src_ts, CURRENT_TIMESTAMP, DATE_FORMAT(src_ts, 'yyyy-MM-dd'), DATE_FORMAT(src_ts, 'HH')
FROM parsed_orders WHERE op IN ('c', 'u', 'd') AND img['id'] IS NOT NULL;

INSERT INTO ods.shop_order_items /*+ OPTIONS('write-only' = 'true') */
SELECT TRY_CAST(img['id'] AS BIGINT), TRY_CAST(img['order_id'] AS BIGINT), TRY_CAST(img['product_id'] AS BIGINT), TRY_CAST(img['quantity'] AS INT), TRY_CAST(img['unit_price'] AS DECIMAL(12, 2)), TRY_CAST(img['updated_at'] AS TIMESTAMP(3)),
  op, src_partition, src_offset, src_ts, CURRENT_TIMESTAMP, DATE_FORMAT(src_ts, 'yyyy-MM-dd'), DATE_FORMAT(src_ts, 'HH')
FROM parsed_order_items WHERE op IN ('c', 'u', 'd') AND img['id'] IS NOT NULL;

INSERT INTO ods.shop_payments /*+ OPTIONS('write-only' = 'true') */
SELECT TRY_CAST(img['id'] AS BIGINT), TRY_CAST(img['order_id'] AS BIGINT), img['method'], TRY_CAST(img['amount'] AS DECIMAL(12, 2)), img['status'], TRY_CAST(img['paid_at'] AS TIMESTAMP(3)), TRY_CAST(img['updated_at'] AS TIMESTAMP(3)),
  op, src_partition, src_offset, src_ts, CURRENT_TIMESTAMP, DATE_FORMAT(src_ts, 'yyyy-MM-dd'), DATE_FORMAT(src_ts, 'HH')
FROM parsed_payments WHERE op IN ('c', 'u', 'd') AND img['id'] IS NOT NULL;

-- One insert for every table's rejects: several writers into one Paimon table would each compact it
-- and their commits would conflict.
INSERT INTO dq.ods_rejects
SELECT source_table,
  CASE WHEN NOT is_json THEN 'not JSON' WHEN op IS NULL THEN 'unknown op' ELSE 'no id' END,
  payload, src_partition, src_offset, CURRENT_TIMESTAMP, DATE_FORMAT(src_ts, 'yyyy-MM-dd')
FROM (
  SELECT 'shop.users' AS source_table, payload, src_partition, src_offset, src_ts, is_json, img, op FROM parsed_users
  UNION ALL SELECT 'shop.products', payload, src_partition, src_offset, src_ts, is_json, img, op FROM parsed_products
  UNION ALL SELECT 'shop.orders', payload, src_partition, src_offset, src_ts, is_json, img, op FROM parsed_orders
  UNION ALL SELECT 'shop.order_items', payload, src_partition, src_offset, src_ts, is_json, img, op FROM parsed_order_items
  UNION ALL SELECT 'shop.payments', payload, src_partition, src_offset, src_ts, is_json, img, op FROM parsed_payments
)
WHERE op IS NULL OR (op <> 'before' AND img['id'] IS NULL);
END;
