-- rt-dw-dws-aggregate: DWD changelogs -> pre-aggregated DWS tables in StarRocks (primary-key tables,
-- upserted by the connector). The aggregates are incremental and retracting: an order that is
-- updated, cancelled or deleted in MySQL moves its old contribution out and its new one in.
-- The sink options come from the stack (sink placeholders): StarRocks in the stacks; in the sandbox a JDBC
-- table with the same columns proves the same SQL.

CREATE TEMPORARY TABLE dws_trade_daily (
  dt STRING, order_count BIGINT, paid_order_count BIGINT, cancelled_order_count BIGINT,
  gmv DECIMAL(18, 2), paid_amount DECIMAL(18, 2), buyer_count BIGINT,
  PRIMARY KEY (dt) NOT ENFORCED
) WITH (${sink:dws_trade_daily});

CREATE TEMPORARY TABLE dws_product_daily (
  dt STRING, product_id BIGINT, category STRING, quantity BIGINT, revenue DECIMAL(18, 2), order_count BIGINT,
  PRIMARY KEY (dt, product_id) NOT ENFORCED
) WITH (${sink:dws_product_daily});

EXECUTE STATEMENT SET BEGIN
INSERT INTO dws_trade_daily
SELECT o.order_date,
  COUNT(*),
  COUNT(*) FILTER (WHERE o.status IN ('paid', 'shipped', 'completed')),
  COUNT(*) FILTER (WHERE o.status = 'cancelled'),
  CAST(COALESCE(SUM(o.total_amount) FILTER (WHERE o.status <> 'cancelled'), 0) AS DECIMAL(18, 2)),
  CAST(COALESCE(SUM(p.paid), 0) AS DECIMAL(18, 2)),
  COUNT(DISTINCT o.user_id)
FROM dwd.orders /*+ OPTIONS('consumer-id' = 'rt-dw-dws-aggregate-trade') */ AS o
LEFT JOIN (
  SELECT order_id, SUM(amount) AS paid FROM dwd.payments /*+ OPTIONS('consumer-id' = 'rt-dw-dws-aggregate-trade') */ WHERE status = 'success' GROUP BY order_id
) AS p ON p.order_id = o.id
GROUP BY o.order_date;

INSERT INTO dws_product_daily
SELECT o.order_date, i.product_id, COALESCE(pr.category, 'unknown'),
  CAST(SUM(i.quantity) AS BIGINT), CAST(SUM(i.line_amount) AS DECIMAL(18, 2)), COUNT(DISTINCT i.order_id)
FROM dwd.order_items /*+ OPTIONS('consumer-id' = 'rt-dw-dws-aggregate-product') */ AS i
JOIN dwd.orders /*+ OPTIONS('consumer-id' = 'rt-dw-dws-aggregate-product') */ AS o ON o.id = i.order_id
LEFT JOIN dwd.products /*+ OPTIONS('consumer-id' = 'rt-dw-dws-aggregate-product') */ AS pr ON pr.id = i.product_id
WHERE o.status <> 'cancelled'
GROUP BY o.order_date, i.product_id, COALESCE(pr.category, 'unknown');
END;
