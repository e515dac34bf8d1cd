/** The Flink cluster's config.yaml: the deployed clusters and the sandbox render it here. */

/**
 * Ports of the session cluster, every one fixed so that NetworkPolicies can name it (Flink picks the
 * data, query-service and blob ports at random unless told).
 */
export const FLINK_PORTS = { rest: 8081, rpc: 6123, blob: 6124, taskRpc: 6122, taskData: 6121, queryService: 6125, metrics: 9249, sqlGateway: 8083 } as const;

/**
 * How often the JobManager refreshes the task metrics its REST API serves (Flink's default is 10 s):
 * the upgrade gate reads rows into the sinks from them, and waits this long for rows to show.
 */
export const METRICS_FETCH_INTERVAL_MS = 2000;

/** The cluster's config.yaml keys, shared by the JobManager, the TaskManagers and the gateway. */
export function flinkProperties(
  c: { readonly jobManagerMemoryMiB: number; readonly taskManagerMemoryMiB: number; readonly slotsPerTaskManager: number },
  o: {
    readonly checkpointsBucket: string;
    readonly s3Endpoint: string;
    readonly pathStyle: boolean;
    readonly ha?: { readonly clusterId: string; readonly namespace: string };
    /** The JobManager's Service: flink-jobmanager, or a job's own cluster's. */
    readonly jobManagerHost?: string;
  },
): Record<string, string> {
  const base = `s3://${o.checkpointsBucket}`;
  const jobManager = o.jobManagerHost ?? "flink-jobmanager";
  return {
    "jobmanager.rpc.address": jobManager,
    "jobmanager.rpc.port": String(FLINK_PORTS.rpc),
    "blob.server.port": String(FLINK_PORTS.blob),
    "taskmanager.rpc.port": String(FLINK_PORTS.taskRpc),
    "taskmanager.data.port": String(FLINK_PORTS.taskData),
    "metrics.internal.query-service.port": String(FLINK_PORTS.queryService),
    "rest.port": String(FLINK_PORTS.rest),
    "rest.address": jobManager,
    // The REST API has no authentication upstream: no jar upload or run through it (jobs arrive as SQL).
    "web.submit.enable": "false",
    "jobmanager.memory.process.size": `${c.jobManagerMemoryMiB}m`,
    "taskmanager.memory.process.size": `${c.taskManagerMemoryMiB}m`,
    "taskmanager.numberOfTaskSlots": String(c.slotsPerTaskManager),
    "parallelism.default": "1",
    "state.backend.type": "rocksdb",
    "state.backend.incremental": "true",
    "execution.checkpointing.dir": `${base}/checkpoints`,
    "execution.checkpointing.savepoint-dir": `${base}/savepoints`,
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    "execution.checkpointing.mode": "EXACTLY_ONCE",
    "execution.checkpointing.min-pause": "10s",
    "execution.checkpointing.tolerable-failed-checkpoints": "3",
    "restart-strategy.type": "exponential-delay",
    "s3.endpoint": o.s3Endpoint,
    "s3.path.style.access": String(o.pathStyle),
    "metrics.reporter.prom.factory.class": "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
    "metrics.reporter.prom.port": String(FLINK_PORTS.metrics),
    "metrics.fetcher.update-interval": String(METRICS_FETCH_INTERVAL_MS),
    "sql-gateway.session.idle-timeout": "30min",
    ...(o.ha
      ? {
          "high-availability.type": "kubernetes",
          "high-availability.storageDir": `${base}/ha`,
          "kubernetes.cluster-id": o.ha.clusterId,
          "kubernetes.namespace": o.ha.namespace,
        }
      : {}),
  };
}
