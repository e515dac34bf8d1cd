import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { dashboard, prom, stat, timeseries } from "./panels";

/** Flink jobs: status, uptime, restarts, checkpoints, throughput, latency, backpressure. */
export const flinkJobs = () =>
  dashboard("flink-jobs", "Flink jobs", "Every job of the job table: is it running, is it checkpointing, is it keeping up.")
    .withRow(new RowBuilder("Status"))
    .withPanel(stat("Running jobs", "none", prom("flink_jobmanager_numRunningJobs")))
    .withPanel(stat("Restarts (1h)", "none", prom("sum(delta(flink_jobmanager_job_numRestarts[1h]))")))
    .withPanel(stat("Checkpoint success (1h)", "percentunit", prom("sum(delta(flink_jobmanager_job_numberOfCompletedCheckpoints[1h])) / (sum(delta(flink_jobmanager_job_numberOfCompletedCheckpoints[1h])) + sum(delta(flink_jobmanager_job_numberOfFailedCheckpoints[1h])))")))
    .withPanel(stat("Free task slots", "none", prom("sum(flink_jobmanager_taskSlotsAvailable)")))
    .withPanel(timeseries("Uptime per job", "ms", prom("flink_jobmanager_job_uptime", "{{job_name}}")))
    .withPanel(timeseries("Restarts per job", "none", prom("flink_jobmanager_job_numRestarts", "{{job_name}}")))
    .withRow(new RowBuilder("Checkpoints"))
    .withPanel(timeseries("Checkpoint success rate (15m)", "percentunit", prom("delta(flink_jobmanager_job_numberOfCompletedCheckpoints[15m]) / (delta(flink_jobmanager_job_numberOfCompletedCheckpoints[15m]) + delta(flink_jobmanager_job_numberOfFailedCheckpoints[15m]))", "{{job_name}}")))
    .withPanel(timeseries("Last checkpoint duration", "ms", prom("flink_jobmanager_job_lastCheckpointDuration", "{{job_name}}")))
    .withRow(new RowBuilder("Throughput and latency"))
    .withPanel(timeseries("Records in per second", "ops", prom("sum by (job_name) (flink_taskmanager_job_task_numRecordsInPerSecond)", "{{job_name}}")))
    .withPanel(timeseries("Event-time lag (latency)", "ms", prom("max by (job_name) (flink_taskmanager_job_task_operator_currentEmitEventTimeLag)", "{{job_name}}")))
    .withPanel(timeseries("Back-pressured time per second", "ms", prom("max by (job_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond)", "{{job_name}}")))
    .withPanel(timeseries("TaskManager heap used", "bytes", prom("flink_taskmanager_Status_JVM_Memory_Heap_Used", "{{tm_id}}")));
