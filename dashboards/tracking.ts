import { dashboard, prom, sql, stat, timeseries } from "./panels";

/** Tracking: events per second, the dead-letter rate, and the CORE share (from the DWS tables). */
export const tracking = () =>
  dashboard("tracking", "Tracking", "Sensors events through nginx and Vector into Kafka, and what reaches DWS.")
    .withPanel(stat("Events/s accepted", "ops", prom('sum(rate(vector_component_sent_events_total{component_id="events_kafka"}[5m]))')))
    .withPanel(stat("Dead-letter share", "percentunit", prom('sum(rate(vector_component_sent_events_total{component_id="dead_letter_kafka"}[5m])) / (sum(rate(vector_component_sent_events_total{component_id=~"events_kafka|dead_letter_kafka"}[5m])))')))
    .withPanel(timeseries("Events per second", "ops", prom('sum by (component_id) (rate(vector_component_sent_events_total{component_id=~"events_kafka|dead_letter_kafka"}[5m]))', "{{component_id}}")))
    .withPanel(timeseries("Requests at /sa by status", "reqps", prom("sum by (status) (rate(nginx_http_requests_total[5m]))", "{{status}}")))
    .withPanel(
      timeseries("CORE share of page views per day", "percentunit", sql("SELECT STR_TO_DATE(dt, '%Y-%m-%d') AS time, SUM(core_pv) / SUM(pv) AS core_share FROM dws.dws_trk_event_daily WHERE $__timeFilter(STR_TO_DATE(dt, '%Y-%m-%d')) GROUP BY dt ORDER BY dt")).datasource({ type: "mysql", uid: "${dws}" }),
    )
    .withPanel(
      timeseries("Funnel per day", "none", sql("SELECT STR_TO_DATE(dt, '%Y-%m-%d') AS time, viewers, carters, orderers, payers FROM dws.dws_trk_funnel_daily WHERE $__timeFilter(STR_TO_DATE(dt, '%Y-%m-%d')) ORDER BY dt")).datasource({ type: "mysql", uid: "${dws}" }),
    );
