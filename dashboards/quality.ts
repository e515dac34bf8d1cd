import { dashboard, prom, timeseries } from "./panels";

/** Data quality and freshness per table, as the seeds list them. */
export const dataQuality = () =>
  dashboard("data-quality", "Data quality and freshness", "rt-dw-monitor's scores per table (dq_table_quality in PostgreSQL, exported as rtdw_quality_* series).")
    .withPanel(timeseries("Quality score (0-100)", "none", prom("min by (table_name) (rtdw_quality_score)", "{{table_name}}")))
    .withPanel(timeseries("Freshness: age of the newest change", "s", prom("time() - max by (table_name) (rtdw_quality_last_event_timestamp_seconds)", "{{table_name}}")))
    .withPanel(timeseries("Anomaly ratio (rejected / total)", "percentunit", prom("max by (table_name) (rtdw_quality_anomaly_ratio)", "{{table_name}}")))
    .withPanel(timeseries("Completeness", "percentunit", prom("min by (table_name) (rtdw_quality_completeness)", "{{table_name}}")))
    .withPanel(timeseries("SLA attainment: share of the last day fresher than 5 minutes", "percentunit", prom("avg_over_time(((time() - max by (table_name) (rtdw_quality_last_event_timestamp_seconds)) < bool 300)[1d:5m])", "{{table_name}}")));
