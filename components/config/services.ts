/**
 * The services of the platform, their pinned images and per-profile sizing. This is the one place
 * where CPU, memory, replica counts and volume sizes are written down; everything else derives.
 */

export const SERVICES = [
  "minio",
  "postgres",
  /** pgBackRest beside PostgreSQL: base backups on a schedule, the TLS hop to MinIO. */
  "postgresBackup",
  "redis",
  "kafka",
  "flinkJobManager",
  "flinkTaskManager",
  "sqlGateway",
  /** Beside the SQL Gateway: partition and snapshot expiry and orphan-file removal on a schedule (rtdw:lakehouse). */
  "lakehouseUpkeep",
  "streampark",
  "starrocksFe",
  "starrocksCn",
  "prometheus",
  "alertmanager",
  "grafana",
  "nginx",
  "vector",
  "postgresExporter",
  "redisExporter",
  "kafkaExporter",
  "nginxExporter",
  /** Flink's root exceptions as Prometheus series (rtdw_flink_job_exception_info), for the job alerts. */
  "flinkJobExporter",
] as const;
export type ServiceName = (typeof SERVICES)[number];

export const PROFILES = ["dev", "test", "prod"] as const;
export type Profile = (typeof PROFILES)[number];

/** Resolved sizing of one service: cores and MiB. */
export interface Sizing {
  readonly replicas: number;
  readonly cpuRequest: number;
  readonly cpuLimit: number;
  readonly memoryMiB: number;
  /** Local disk a container may fill (its writable layer, logs, scratch); the kubelet evicts it beyond. */
  readonly ephemeralMiB: number;
}

/** One workload's slice of the stack config: its pinned image and its sizing. */
export interface Workload {
  readonly image: string;
  readonly sizing: Sizing;
}

type Row = [replicas: number, cpuRequest: number, cpuLimit: number, memoryMiB: number];
const table = (rows: Record<ServiceName, Row>) =>
  Object.fromEntries(
    Object.entries(rows).map(([k, [replicas, cpuRequest, cpuLimit, memoryMiB]]) => [k, { replicas, cpuRequest, cpuLimit, memoryMiB, ephemeralMiB: EPHEMERAL_MIB[k as ServiceName] }]),
  ) as Record<ServiceName, Sizing>;

/**
 * Local disk per container (every profile): TaskManagers keep RocksDB's working state and spilled
 * data there; StreamPark its workspace; JVM services their logs. Data itself lives on volumes.
 */
const EPHEMERAL_MIB: Record<ServiceName, number> = {
  minio: 512,
  postgres: 512,
  postgresBackup: 512,
  redis: 256,
  kafka: 1024,
  flinkJobManager: 2048,
  flinkTaskManager: 10240,
  sqlGateway: 1024,
  lakehouseUpkeep: 64,
  streampark: 4096,
  starrocksFe: 2048,
  starrocksCn: 2048,
  prometheus: 512,
  alertmanager: 256,
  grafana: 512,
  nginx: 512,
  vector: 1024,
  postgresExporter: 128,
  redisExporter: 128,
  kafkaExporter: 128,
  nginxExporter: 128,
  flinkJobExporter: 64,
};

/**
 * dev: the documented laptop (12 GiB / 4 cores minimum): memory limits sum to 9.5 GiB with the
 * TaskManager the job table needs and the monitoring stack (budget 10 GiB, checked by a test), CPU
 * requests to 2.3 cores (budget 4). Anchors: the StarRocks quick
 * start (FE+CN+MinIO in 4 GB), Flink's docs example (JM 1600m / TM 1728m), Kafka's default 1G heap.
 * test: prod's topology (replica counts that exercise HA) at a fraction of its size.
 * prod: the documented targets: StarRocks FE 8C/16G x3 and CN 16C/64G (docs/plan_cluster.md),
 * Flink TaskManagers: count and memory derived from the job table (sql/jobs.yaml); JM 2g x2 for HA,
 * Kafka 3 brokers with 4g heap. Alertmanager runs one replica everywhere: replicas without gossip
 * clustering would each send every notification.
 */
export const DEFAULT_SIZING: Record<Profile, Record<ServiceName, Sizing>> = {
  dev: table({
    minio: [1, 0.1, 0.5, 256],
    postgres: [1, 0.1, 0.5, 384],
    postgresBackup: [1, 0.02, 0.25, 96],
    redis: [1, 0.05, 0.25, 128],
    kafka: [1, 0.25, 1, 896],
    flinkJobManager: [1, 0.25, 1, 768],
    flinkTaskManager: [0, 0.5, 2, 0], // replicas and memory: derived from the job table
    sqlGateway: [1, 0.1, 0.5, 384],
    lakehouseUpkeep: [1, 0.01, 0.1, 32],
    streampark: [1, 0.1, 0.5, 640],
    starrocksFe: [1, 0.25, 1, 1024],
    starrocksCn: [1, 0.25, 1.5, 1280],
    prometheus: [1, 0.1, 0.5, 320],
    alertmanager: [1, 0.05, 0.1, 64],
    grafana: [1, 0.05, 0.25, 192],
    nginx: [1, 0.05, 0.1, 32],
    vector: [1, 0.05, 0.25, 128],
    postgresExporter: [1, 0.02, 0.1, 64],
    redisExporter: [1, 0.02, 0.1, 32],
    kafkaExporter: [1, 0.02, 0.1, 64],
    nginxExporter: [1, 0.01, 0.05, 32],
    flinkJobExporter: [1, 0.01, 0.1, 64],
  }),
  test: table({
    minio: [1, 0.25, 1, 1024],
    postgres: [1, 0.25, 1, 1024],
    postgresBackup: [1, 0.05, 0.5, 192],
    redis: [1, 0.1, 0.5, 256],
    kafka: [3, 0.5, 1, 1536],
    // A JobManager per job (replicas: per cluster, HA): it schedules and coordinates checkpoints, little CPU; its memory is the job's row's.
    flinkJobManager: [2, 0.2, 1, 1024],
    flinkTaskManager: [0, 1, 2, 0],
    sqlGateway: [1, 0.25, 0.5, 1024],
    lakehouseUpkeep: [1, 0.01, 0.1, 32],
    streampark: [1, 0.25, 1, 1024],
    starrocksFe: [3, 0.5, 2, 2048],
    starrocksCn: [2, 1, 2, 4096],
    prometheus: [1, 0.25, 1, 2048],
    alertmanager: [1, 0.05, 0.2, 128],
    grafana: [1, 0.1, 0.5, 512],
    nginx: [2, 0.1, 0.5, 128],
    vector: [2, 0.25, 1, 512],
    postgresExporter: [1, 0.05, 0.2, 128],
    redisExporter: [1, 0.05, 0.2, 64],
    kafkaExporter: [1, 0.05, 0.2, 128],
    nginxExporter: [1, 0.02, 0.1, 32],
    flinkJobExporter: [1, 0.02, 0.1, 96],
  }),
  prod: table({
    minio: [1, 1, 2, 4096],
    postgres: [1, 1, 2, 4096],
    postgresBackup: [1, 0.1, 1, 256],
    redis: [1, 0.25, 1, 1024],
    kafka: [3, 2, 4, 8192],
    // A JobManager per job (replicas: per cluster, HA); its memory is the job's row's.
    flinkJobManager: [2, 0.25, 1, 2048],
    flinkTaskManager: [0, 2, 4, 0],
    sqlGateway: [1, 0.5, 1, 2048],
    lakehouseUpkeep: [1, 0.01, 0.1, 32],
    streampark: [1, 0.5, 2, 2048],
    starrocksFe: [3, 4, 8, 16384],
    starrocksCn: [3, 8, 16, 65536],
    prometheus: [1, 1, 2, 8192],
    alertmanager: [1, 0.1, 0.5, 256],
    grafana: [1, 0.5, 1, 1024],
    nginx: [2, 0.5, 1, 256],
    vector: [2, 0.5, 2, 1024],
    postgresExporter: [1, 0.1, 0.5, 256],
    redisExporter: [1, 0.05, 0.25, 128],
    kafkaExporter: [1, 0.1, 0.5, 256],
    nginxExporter: [1, 0.05, 0.2, 64],
    flinkJobExporter: [1, 0.02, 0.2, 96],
  }),
};

/**
 * Persistent volumes, in GiB, of the stateful services. Vector's holds the Kafka sinks' disk buffers:
 * a 200 to an SDK means the events are there, so they must outlive a restart or a move.
 */
export const VOLUMES = ["minio", "postgres", "redis", "kafka", "starrocksFe", "starrocksCn", "prometheus", "alertmanager", "grafana", "vector"] as const;
export type VolumeName = (typeof VOLUMES)[number];

export const DEFAULT_VOLUME_GIB: Record<Profile, Record<VolumeName, number>> = {
  dev: { minio: 20, postgres: 2, redis: 1, kafka: 10, starrocksFe: 5, starrocksCn: 10, prometheus: 5, alertmanager: 1, grafana: 1, vector: 2 },
  test: { minio: 50, postgres: 10, redis: 2, kafka: 50, starrocksFe: 20, starrocksCn: 100, prometheus: 20, alertmanager: 1, grafana: 2, vector: 5 },
  prod: { minio: 500, postgres: 50, redis: 10, kafka: 500, starrocksFe: 100, starrocksCn: 1024, prometheus: 100, alertmanager: 2, grafana: 10, vector: 20 },
};

/**
 * Pinned images. Kafka 3.9.1 and Flink 1.20.3 are the versions the local sandbox runs from Maven
 * Central and PyPI, so what the tests prove is what the clusters run. MinIO's community images are
 * frozen (source-only since Oct 2025); the last published tag is kept for dev, S3 is the prod default.
 */
export const IMAGES = {
  minio: "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
  mc: "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z",
  postgres: "postgres:16.10-bookworm",
  redis: "redis:7.4.5-alpine",
  kafka: "apache/kafka:3.9.1",
  flink: "flink:1.20.3-scala_2.12-java17",
  streampark: "apache/streampark:2.1.5",
  starrocksFe: "starrocks/fe-ubuntu:3.3.12",
  starrocksCn: "starrocks/cn-ubuntu:3.3.12",
  prometheus: "quay.io/prometheus/prometheus:v3.5.0",
  alertmanager: "quay.io/prometheus/alertmanager:v0.28.1",
  grafana: "grafana/grafana:12.1.1",
  nginx: "nginxinc/nginx-unprivileged:1.28.0-alpine",
  vector: "timberio/vector:0.48.0-debian",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.17.1",
  redisExporter: "oliver006/redis_exporter:v1.74.0",
  kafkaExporter: "danielqsj/kafka-exporter:v1.9.0",
  nginxExporter: "nginx/nginx-prometheus-exporter:1.4.2",
  /** curl and a POSIX shell: the lakehouse upkeep's runner (and the Flink image build's download stage). */
  curl: "curlimages/curl:8.11.1",
} as const;
export type ImageName = keyof typeof IMAGES;

/** The images the stack builds from IMAGES (components/platform/image.ts), by repository name. */
export const BUILT_IMAGES = ["flink", "streampark", "vector", "postgres"] as const;
export type BuiltImageName = (typeof BUILT_IMAGES)[number];

/** Kafka topics come in classes; partitions and retention are set per class (rtdw:kafkaTopics). */
export const TOPIC_CLASSES = ["cdc", "tracking", "deadLetter"] as const;
export type TopicClass = (typeof TOPIC_CLASSES)[number];
export interface TopicSettings {
  readonly partitions: number;
  readonly retentionHours: number;
}
export const DEFAULT_TOPICS: Record<Profile, Record<TopicClass, TopicSettings>> = {
  dev: { cdc: { partitions: 2, retentionHours: 24 }, tracking: { partitions: 2, retentionHours: 24 }, deadLetter: { partitions: 1, retentionHours: 72 } },
  test: { cdc: { partitions: 4, retentionHours: 72 }, tracking: { partitions: 4, retentionHours: 72 }, deadLetter: { partitions: 2, retentionHours: 168 } },
  prod: { cdc: { partitions: 8, retentionHours: 168 }, tracking: { partitions: 12, retentionHours: 168 }, deadLetter: { partitions: 3, retentionHours: 720 } },
};

/** How each profile scales the job table onto the Flink session cluster (see components/config/flinkSizing.ts). */
export const DEFAULT_FLINK_SCALING: Record<Profile, { maxParallelism?: number; memoryScale: number; slotsPerTaskManager: number; spareSlots: number; clusters: "per-job" | "shared" }> = {
  // A laptop: every job at parallelism 1, one shared session cluster whose one TaskManager holds all the slots.
  dev: { maxParallelism: 1, memoryScale: 0.2, slotsPerTaskManager: 10, spareSlots: 0, clusters: "shared" },
  // A cluster per job (the seeds' model), each with exactly the slots its parallelism needs: a job's
  // restart reuses its own slots, so no spare is kept.
  test: { maxParallelism: 2, memoryScale: 0.5, slotsPerTaskManager: 4, spareSlots: 0, clusters: "per-job" },
  prod: { memoryScale: 1, slotsPerTaskManager: 4, spareSlots: 0, clusters: "per-job" },
};
