-- rt-dw-dwd-transform: ODS change logs -> DWD primary-key tables. Each change is cleaned and
-- standardised (trimmed, lower-cased e-mail, digits-only phone, upper-case codes), checked, and
-- applied as an upsert ('+I', the newest offset wins) or a delete ('-D'). A change that fails a check
-- goes to dq.dwd_rejects with the rule it broke; the table keeps its last valid version of that key.
-- Deletes are applied without checks: the row is going away.

CREATE TEMPORARY VIEW users_checked AS
SELECT *, CASE
    WHEN op = 'd' THEN CAST(NULL AS STRING)
    WHEN name IS NULL OR TRIM(name) = '' THEN 'users.name is empty'
    WHEN email IS NULL OR NOT REGEXP(LOWER(TRIM(email)), '^[^@ ]+@[^@ ]+\.[a-z]{2,}$') THEN 'users.email is not an e-mail address'
    WHEN created_at IS NULL THEN 'users.created_at is missing'
  END AS reject_reason
FROM ods.shop_users /*+ OPTIONS('scan.mode' = 'latest-full', 'consumer-id' = 'rt-dw-dwd-transform') */;

CREATE TEMPORARY VIEW products_checked AS
SELECT *, CASE
    WHEN op = 'd' THEN CAST(NULL AS STRING)
    WHEN name IS NULL OR TRIM(name) = '' THEN 'products.name is empty'
    WHEN price IS NULL OR price < 0 THEN 'products.price is missing or negative'
  END AS reject_reason
FROM ods.shop_products /*+ OPTIONS('scan.mode' = 'latest-full', 'consumer-id' = 'rt-dw-dwd-transform') */;

CREATE TEMPORARY VIEW orders_checked AS
SELECT *, CASE
    WHEN op = 'd' THEN CAST(NULL AS STRING)
    WHEN user_id IS NULL THEN 'orders.user_id is missing'
    WHEN total_amount IS NULL OR total_amount < 0 THEN 'orders.total_amount is missing or negative'
    WHEN LOWER(status) NOT IN ('created', 'paid', 'shipped', 'completed', 'cancelled') THEN 'orders.status is not a known status'
    WHEN created_at IS NULL THEN 'orders.created_at is missing'
  END AS reject_reason
FROM ods.shop_orders /*+ OPTIONS('scan.mode' = 'latest-full', 'consumer-id' = 'rt-dw-dwd-transform') */;

CREATE TEMPORARY VIEW order_items_checked AS
SELECT *, CASE
    WHEN op = 'd' THEN CAST(NULL AS STRING)
    WHEN order_id IS NULL OR product_id IS NULL THEN 'order_items.order_id or product_id is missing'
    WHEN quantity IS NULL OR quantity <= 0 THEN 'order_items.quantity is not positive'
    WHEN unit_price IS NULL OR unit_price < 0 THEN 'order_items.unit_price is missing or negative'
  END AS reject_reason
FROM ods.shop_order_items /*+ OPTIONS('scan.mode' = 'latest-full', 'consumer-id' = 'rt-dw-dwd-transform') */;

CREATE TEMPORARY VIEW payments_checked AS
SELECT *, CASE
    WHEN op = 'd' THEN CAST(NULL AS STRING)
    WHEN order_id IS NULL THEN 'payments.order_id is missing'
    WHEN amount IS NULL OR amount <= 0 THEN 'payments.amount is not positive'
    WHEN LOWER(`method`) NOT IN ('alipay', 'wechat', 'card', 'cash') THEN 'payments.method is not a known method'
    WHEN LOWER(status) NOT IN ('pending', 'success', 'failed', 'refunded') THEN 'payments.status is not a known status'
  END AS reject_reason
FROM ods.shop_payments /*+ OPTIONS('scan.mode' = 'latest-full', 'consumer-id' = 'rt-dw-dwd-transform') */;

EXECUTE STATEMENT SET BEGIN
INSERT INTO dwd.users
SELECT id, TRIM(name), LOWER(TRIM(email)), REGEXP_REPLACE(phone, '[^0-9]', ''), INITCAP(TRIM(city)), created_at, updated_at,
  CASE WHEN op = 'd' THEN '-D' ELSE '+I' END, src_offset
FROM users_checked WHERE reject_reason IS NULL;

INSERT INTO dwd.products
SELECT id, TRIM(name), LOWER(TRIM(category)), price, LOWER(TRIM(status)), updated_at,
  CASE WHEN op = 'd' THEN '-D' ELSE '+I' END, src_offset
FROM products_checked WHERE reject_reason IS NULL;

INSERT INTO dwd.orders
SELECT id, user_id, LOWER(TRIM(status)), total_amount, created_at, updated_at, DATE_FORMAT(created_at, 'yyyy-MM-dd'),
  CASE WHEN op = 'd' THEN '-D' ELSE '+I' END, src_offset
FROM orders_checked WHERE reject_reason IS NULL;

INSERT INTO dwd.order_items
SELECT id, order_id, product_id, quantity, unit_price, CAST(quantity * unit_price AS DECIMAL(14, 2)), updated_at,
  CASE WHEN op = 'd' THEN '-D' ELSE '+I' END, src_offset
FROM order_items_checked WHERE reject_reason IS NULL;

INSERT INTO dwd.payments
SELECT id, order_id, LOWER(TRIM(`method`)), amount, LOWER(TRIM(status)), paid_at, updated_at,
  CASE WHEN op = 'd' THEN '-D' ELSE '+I' END, src_offset
FROM payments_checked WHERE reject_reason IS NULL;

INSERT INTO dq.dwd_rejects
SELECT 'shop.users', id, reject_reason, JSON_OBJECT('name' VALUE name, 'email' VALUE email, 'phone' VALUE phone, 'city' VALUE city), src_offset, ingest_ts, dt
FROM users_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'shop.products', id, reject_reason, JSON_OBJECT('name' VALUE name, 'category' VALUE category, 'price' VALUE CAST(price AS STRING), 'status' VALUE status), src_offset, ingest_ts, dt
FROM products_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'shop.orders', id, reject_reason, JSON_OBJECT('user_id' VALUE user_id, 'status' VALUE status, 'total_amount' VALUE CAST(total_amount AS STRING)), src_offset, ingest_ts, dt
FROM orders_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'shop.order_items', id, reject_reason, JSON_OBJECT('order_id' VALUE order_id, 'product_id' VALUE product_id, 'quantity' VALUE quantity, 'unit_price' VALUE CAST(unit_price AS STRING)), src_offset, ingest_ts, dt
FROM order_items_checked WHERE reject_reason IS NOT NULL
UNION ALL
SELECT 'shop.payments', id, reject_reason, JSON_OBJECT('order_id' VALUE order_id, 'method' VALUE `method`, 'amount' VALUE CAST(amount AS STRING), 'status' VALUE status), src_offset, ingest_ts, dt
FROM payments_checked WHERE reject_reason IS NOT NULL;
END;
