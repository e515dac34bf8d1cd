import { loadJobTable } from "../components/config/jobTable";
import { dashboard, prom, stat, timeseries } from "./panels";

/** Platform overview: is everything up, are the jobs running, is anything short of resources. */
export const platformOverview = () =>
  dashboard("platform", "Platform overview", "Every service and job of the stack at a glance; the alerts' signals in one place.")
    .withPanel(stat("Services up", "percentunit", prom("avg(up)")))
    .withPanel(stat(`Jobs running (of ${loadJobTable().length})`, "none", prom("flink_jobmanager_numRunningJobs")))
    .withPanel(stat("Lowest quality score", "none", prom("min(rtdw_quality_score)")))
    .withPanel(stat("Kafka lag", "none", prom("sum(kafka_consumergroup_lag)")))
    .withPanel(timeseries("Scrape targets up", "none", prom("sum by (job) (up)", "{{job}}")))
    .withPanel(timeseries("CPU used of limit", "percentunit", prom('sum by (pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m])) / sum by (pod) (container_spec_cpu_quota{container!=""} / container_spec_cpu_period{container!=""})', "{{pod}}")))
    .withPanel(timeseries("Memory used of limit", "percentunit", prom('sum by (pod) (container_memory_working_set_bytes{container!=""}) / sum by (pod) (container_spec_memory_limit_bytes{container!=""} > 0)', "{{pod}}")))
    .withPanel(timeseries("Object store free capacity", "bytes", prom("minio_cluster_capacity_usable_free_bytes")));
