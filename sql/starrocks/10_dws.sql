-- DWS: pre-aggregated tables the Flink jobs upsert (primary-key tables, so updates and retractions
-- replace rows), plus views and asynchronous materialized views for the dashboards.
CREATE DATABASE IF NOT EXISTS dws;
USE dws;

CREATE TABLE IF NOT EXISTS dws_trade_daily (
  dt VARCHAR(10) NOT NULL, order_count BIGINT, paid_order_count BIGINT, cancelled_order_count BIGINT,
  gmv DECIMAL(18, 2), paid_amount DECIMAL(18, 2), buyer_count BIGINT
) PRIMARY KEY (dt) DISTRIBUTED BY HASH (dt);

CREATE TABLE IF NOT EXISTS dws_product_daily (
  dt VARCHAR(10) NOT NULL, product_id BIGINT NOT NULL, category VARCHAR(64), quantity BIGINT, revenue DECIMAL(18, 2), order_count BIGINT
) PRIMARY KEY (dt, product_id) DISTRIBUTED BY HASH (product_id);

CREATE TABLE IF NOT EXISTS dws_trk_event_hourly (
  dt VARCHAR(10) NOT NULL, hr VARCHAR(2) NOT NULL, event VARCHAR(100) NOT NULL, pv BIGINT, uv BIGINT, core_pv BIGINT
) PRIMARY KEY (dt, hr, event) DISTRIBUTED BY HASH (event);

CREATE TABLE IF NOT EXISTS dws_trk_event_daily (
  dt VARCHAR(10) NOT NULL, event VARCHAR(100) NOT NULL, pv BIGINT, uv BIGINT, core_pv BIGINT
) PRIMARY KEY (dt, event) DISTRIBUTED BY HASH (event);

CREATE TABLE IF NOT EXISTS dws_trk_funnel_daily (
  dt VARCHAR(10) NOT NULL, viewers BIGINT, carters BIGINT, orderers BIGINT, payers BIGINT
) PRIMARY KEY (dt) DISTRIBUTED BY HASH (dt);

-- Funnel conversion rates per day.
CREATE VIEW IF NOT EXISTS v_trk_funnel_conversion AS
SELECT dt, viewers, carters, orderers, payers,
  carters / NULLIF(viewers, 0) AS view_to_cart, orderers / NULLIF(carters, 0) AS cart_to_order, payers / NULLIF(orderers, 0) AS order_to_pay
FROM dws_trk_funnel_daily;

-- Average order value and paid share per day.
CREATE VIEW IF NOT EXISTS v_trade_daily_kpi AS
SELECT dt, gmv, paid_amount, order_count, gmv / NULLIF(order_count, 0) AS avg_order_value, paid_order_count / NULLIF(order_count, 0) AS paid_share
FROM dws_trade_daily;

-- Roll-ups refreshed asynchronously every rtdw:lakehouse.materializedViewRefresh (MV_REFRESH_MINUTES);
-- the ALTER carries a changed interval to views created before.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_trade_monthly
REFRESH ASYNC EVERY (INTERVAL ${MV_REFRESH_MINUTES} MINUTE)
AS SELECT substr(dt, 1, 7) AS month, SUM(order_count) AS order_count, SUM(gmv) AS gmv, SUM(paid_amount) AS paid_amount
FROM dws_trade_daily GROUP BY substr(dt, 1, 7);
ALTER MATERIALIZED VIEW mv_trade_monthly REFRESH ASYNC EVERY (INTERVAL ${MV_REFRESH_MINUTES} MINUTE);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_category_daily
REFRESH ASYNC EVERY (INTERVAL ${MV_REFRESH_MINUTES} MINUTE)
AS SELECT dt, category, SUM(quantity) AS quantity, SUM(revenue) AS revenue
FROM dws_product_daily GROUP BY dt, category;
ALTER MATERIALIZED VIEW mv_category_daily REFRESH ASYNC EVERY (INTERVAL ${MV_REFRESH_MINUTES} MINUTE);
