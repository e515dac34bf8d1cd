-- Least privilege: each client its own user with only the rights it needs, after the tables exist.
-- The DWS sinks (Flink's StarRocks connector: Stream Load plus a schema query) load into dws only;
-- Grafana reads dws only. Neither can touch another database, create or drop anything, or
-- administer the cluster; root stays with the bootstrap and operators. Passwords come from this
-- task's secret environment and are set on every run, so a rotated secret takes effect.
CREATE USER IF NOT EXISTS 'rtdw_dws_writer'@'%' IDENTIFIED BY '${DWS_WRITER_PASSWORD}';
ALTER USER 'rtdw_dws_writer'@'%' IDENTIFIED BY '${DWS_WRITER_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN DATABASE dws TO USER 'rtdw_dws_writer'@'%';

CREATE USER IF NOT EXISTS 'rtdw_grafana'@'%' IDENTIFIED BY '${GRAFANA_READER_PASSWORD}';
ALTER USER 'rtdw_grafana'@'%' IDENTIFIED BY '${GRAFANA_READER_PASSWORD}';
GRANT SELECT ON ALL TABLES IN DATABASE dws TO USER 'rtdw_grafana'@'%';
GRANT SELECT ON ALL VIEWS IN DATABASE dws TO USER 'rtdw_grafana'@'%';
GRANT SELECT ON ALL MATERIALIZED VIEWS IN DATABASE dws TO USER 'rtdw_grafana'@'%';
