import { createHash } from "crypto";
import { BackupPolicy, backupPolicyProblems, DEFAULT_BACKUP_POLICY } from "./backupPolicy";
import { DEFAULT_LAKEHOUSE, lakehousePolicyProblems, LakehousePolicy, resolveLakehouse } from "./lakehousePolicy";
import { collectorLimitProblems, CollectorLimits, DEFAULT_COLLECTOR_LIMITS } from "./collectorLimits";
import { GeoipSetting, resolveGeoip } from "./geoip";

/** The smallest Vector volume whose archive buffer (a fifth) Vector accepts (256 MiB minimum). */
const MIN_VECTOR_VOLUME_GIB = 2;

/** How long the raw archive keeps events unless rtdw:collector.archiveDays says otherwise (the design's 30 days). */
export const DEFAULT_ARCHIVE_DAYS = 30;
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { PublishedPortKey, resolveHostPorts } from "./hostPorts";
import { imagePinProblems, topologyProblems } from "./topology";
import { formatMemory, parseCpu, parseMemoryMiB } from "./quantities";
import { RawConfig, rawConfigSchema, SECRET_KEYS, SecretKey } from "./schema";
import { flinkSizing, FlinkScaling, FlinkSizing, JobCluster, jobClusters, jobClusterSizing } from "./flinkSizing";
import { PodGroup, serviceGroups } from "./nodePool";
import { JobSpec, loadJobTable } from "./jobTable";
import { TEAMS } from "./teams";
import {
  DEFAULT_FLINK_SCALING,
  DEFAULT_SIZING,
  DEFAULT_TOPICS,
  DEFAULT_VOLUME_GIB,
  BUILT_IMAGES,
  BuiltImageName,
  IMAGES,
  ImageName,
  Profile,
  PROFILES,
  ServiceName,
  Workload,
  SERVICES,
  Sizing,
  TOPIC_CLASSES,
  TopicClass,
  TopicSettings,
  VolumeName,
  VOLUMES,
} from "./services";

export * from "./quantities";
export * from "./hostPorts";
export * from "./services";
export { SECRET_KEYS, SecretKey } from "./schema";

/** The whole validated stack configuration: plain data, defaults filled, read once. */
export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  readonly profile: Profile;
  /** docker and kubernetes provision the services; sandbox uses the running local sandbox as the platform. */
  readonly target: "docker" | "kubernetes" | "sandbox";
  /** target sandbox: the file describing the running platform (endpoints and credentials), see existingPlatformFile.ts. */
  readonly platformFile?: string;
  readonly namespace: string;
  readonly kubernetesContext?: string;
  readonly storageClass?: string;
  readonly objectStore: {
    readonly kind: "minio" | "s3";
    readonly awsRegion: string;
    readonly bucketPrefix: string;
    readonly savepointRetentionDays: number;
  };
  readonly protectStateful: boolean;
  readonly sizing: Readonly<Record<ServiceName, Sizing>>;
  readonly volumesGiB: Readonly<Record<VolumeName, number>>;
  readonly images: Readonly<Record<ImageName, string>>;
  /** Where the docker target publishes each endpoint on the host's loopback (config/hostPorts.ts). */
  readonly hostPorts: Readonly<Record<PublishedPortKey, number>>;
  /** Built images supplied by digest (built once, promoted from stack to stack): not built here. */
  readonly prebuiltImages: Readonly<Partial<Record<BuiltImageName, string>>>;
  /** "platform": the services only, without the jobs and Grafana's provisioning (a first bring-up, a cluster check). */
  readonly deploy: "all" | "platform";
  /** Registry the stack's own images (Flink with its jars, StreamPark with a Flink home) are pushed to. */
  readonly imageRegistry?: string;
  /** The job table (sql/jobs.yaml) and how this stack sizes the Flink cluster from it. */
  readonly jobs: readonly JobSpec[];
  readonly flink: FlinkScaling & FlinkSizing & {
    /** Each job's own session cluster (flink.clusters "per-job"); none with one shared cluster. */
    readonly jobClusters: readonly JobCluster[];
  };
  readonly kafkaTopics: Readonly<Record<TopicClass, TopicSettings>>;
  /** The public collector's limits and what happens past each (components/config/collectorLimits.ts). */
  readonly collector: CollectorLimits;
  /** The collector's GeoIP database (rtdw:collector.geoip), or off. */
  readonly geoip: GeoipSetting;
  /** Days the collector's raw archive keeps every event as received (rtdw:collector.archiveDays). */
  readonly archiveDays: number;
  /** PostgreSQL's WAL archive and base backups (components/services/pgbackrest.ts). */
  readonly postgresBackups: BackupPolicy;
  /** Partition expiry, snapshot retention, consumer expiry and orphan-file removal (components/config/lakehousePolicy.ts). */
  readonly lakehouse: LakehousePolicy;
  /** How FlinkSqlJob submits jobs: the SQL Gateway + JobManager REST, or StreamPark's API. */
  readonly jobBackend: "sql-gateway" | "streampark";
  /** Which evaluates the alerts and notifies the teams: Prometheus with Alertmanager, or Grafana. The other holds the same rules, silent. */
  readonly alertEvaluator: "prometheus" | "grafana";
  /** The business time zone of the jobs (dt/hr partitions). */
  readonly timeZone: string;
  /** The business MySQL the CDC job captures (its password: the secret rtdw:sourcePassword). */
  readonly source: { readonly host: string; readonly port: number; readonly database: string; readonly user: string };
  /** Per job: change the number to restart the job with its upgrade mode (rtdw:jobRestartNonces). */
  readonly jobRestartNonces: Readonly<Record<string, number>>;
  /** Which passwords the operator supplied (as secrets); the rest are generated. */
  readonly suppliedSecrets: ReadonlySet<SecretKey>;
  /**
   * Changes whenever the supplied StarRocks root password (or the one it replaces) changes, so the
   * bootstrap runs again and sets it: a one-way digest, never the value.
   */
  readonly starrocksRootRevision: string;
}

/** A stack config that cannot be deployed. Thrown before any resource is registered. */
/** Where the stack's own images (components/platform/image.ts) come from: every BuiltImage's slice of the config. */
export interface ImageBuilds {
  /** Docker: built and kept on the local engine, never pushed. */
  readonly local: boolean;
  /** rtdw:imageRegistry: where a Kubernetes stack pushes what it builds. */
  readonly registry?: string;
  /** rtdw:prebuiltImages: supplied by digest, not built. */
  readonly prebuilt: Readonly<Partial<Record<BuiltImageName, string>>>;
}

export function imageBuilds(cfg: StackConfig): ImageBuilds {
  return { local: cfg.target === "docker", registry: cfg.imageRegistry, prebuilt: cfg.prebuiltImages };
}

/** A service's slice of the stack config: its image (named after the service unless told) and its sizing. */
export function workload(cfg: Pick<StackConfig, "images" | "sizing">, service: ServiceName, image: ImageName = service as ImageName): Workload {
  return { image: cfg.images[image], sizing: cfg.sizing[service] };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const NUMBER_KEYS = new Set(["savepointRetentionDays"]);
const BOOLEAN_KEYS = new Set(["protectStateful"]);
const OBJECT_KEYS = new Set(["hostPorts", "prebuiltImages", "source", "jobRestartNonces", "sizing", "volumes", "images", "flink", "kafkaTopics", "collector", "postgresBackups", "lakehouse"]);

/**
 * Turns the raw `<project>:<key>` strings Pulumi hands a program into typed values, validates them and
 * fills the profile's defaults. Pure: tests call it directly.
 */
export function parseStackConfig(
  project: string,
  stack: string,
  values: Record<string, string>,
  secretKeys: ReadonlySet<string> = new Set(),
  jobs: readonly JobSpec[] = loadJobTable(),
  /** Whether files the config names (the GeoIP database) are read and checked; off only for the docs. */
  checkFiles = true,
): StackConfig {
  const prefix = `${project}:`;
  const problems: string[] = [];
  const decoded: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(values)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    try {
      if (NUMBER_KEYS.has(key) || BOOLEAN_KEYS.has(key) || OBJECT_KEYS.has(key)) decoded[key] = JSON.parse(text);
      else decoded[key] = text;
    } catch {
      problems.push(`${fullKey}: expected ${NUMBER_KEYS.has(key) ? "a number" : BOOLEAN_KEYS.has(key) ? "true or false" : "a YAML object"}, got ${JSON.stringify(text)}`);
    }
  }
  for (const key of SECRET_KEYS) {
    if (decoded[key] !== undefined && !secretKeys.has(`${prefix}${key}`)) {
      problems.push(`${prefix}${key}: stored in plaintext; set it with \`pulumi config set --secret ${key} <value>\``);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const parsed = rawConfigSchema.safeParse(decoded);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => describeIssue(prefix, i)));
  return withDefaults(project, stack, parsed.data, jobs, checkFiles);
}

/** Settings that existed once: what replaced them, so an old stack file fails with what to do. */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
  kafkaPassword:
    "retired: Kafka clients no longer share a user; each has its own generated SCRAM user. Remove it (`pulumi config rm kafkaPassword`); to choose the super user's password set kafkaAdminPassword",
};

function describeIssue(prefix: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${prefix}${path ? `${path}.` : ""}${k}: ${(!path && RETIRED_KEYS[k]) || "unknown setting"}`).join("; ");
  }
  return `${prefix}${path}: ${issue.message}`;
}

function withDefaults(project: string, stack: string, raw: RawConfig, jobs: readonly JobSpec[], checkFiles: boolean): StackConfig {
  const problems: string[] = [];
  const key = (k: string) => `${project}:${k}`;

  const profile = raw.profile ?? (PROFILES as readonly string[]).find((p) => p === stack);
  if (!profile) {
    throw new ConfigError([`${key("profile")}: stack "${stack}" is not one of ${PROFILES.join(", ")}; set ${key("profile")} to choose its defaults`]);
  }
  const p = profile as Profile;
  const target = raw.target ?? (p === "dev" ? "docker" : "kubernetes");

  const sizing = {} as Record<ServiceName, Sizing>;
  for (const svc of SERVICES) {
    const base = DEFAULT_SIZING[p][svc];
    const o = raw.sizing?.[svc] ?? {};
    const s: Sizing = {
      replicas: o.replicas ?? base.replicas,
      cpuRequest: o.cpuRequest !== undefined ? parseCpu(o.cpuRequest)! : base.cpuRequest,
      cpuLimit: o.cpuLimit !== undefined ? parseCpu(o.cpuLimit)! : base.cpuLimit,
      memoryMiB: o.memory !== undefined ? parseMemoryMiB(o.memory)! : base.memoryMiB,
      ephemeralMiB: o.ephemeralStorage !== undefined ? parseMemoryMiB(o.ephemeralStorage)! : base.ephemeralMiB,
    };
    if (s.cpuLimit < s.cpuRequest) {
      problems.push(`${key(`sizing.${svc}`)}: cpuLimit (${s.cpuLimit}) is below cpuRequest (${s.cpuRequest})`);
    }
    if (target === "docker" && s.replicas !== 1 && svc !== "flinkTaskManager") {
      problems.push(`${key(`sizing.${svc}.replicas`)}: the docker target runs one container per service; use 1 or target "kubernetes"`);
    }
    sizing[svc] = s;
  }

  // The TaskManager pool is derived from the job table; typing it a second time would let them disagree.
  for (const k of ["replicas", "memory"] as const) {
    if (raw.sizing?.flinkTaskManager?.[k] !== undefined) {
      problems.push(`${key(`sizing.flinkTaskManager.${k}`)}: derived from the job table (sql/jobs.yaml); scale it with ${key("flink")} (maxParallelism, memoryScale, slotsPerTaskManager, spareSlots)`);
    }
  }
  const scaling: FlinkScaling = { ...DEFAULT_FLINK_SCALING[p], ...raw.flink };
  const perJob = scaling.clusters === "per-job";
  const flink = { ...scaling, ...flinkSizing(jobs, scaling), jobClusters: perJob ? jobClusters(jobs, scaling) : [] };
  if (target === "docker" && perJob) {
    problems.push(`${key("flink.clusters")}: "per-job" needs the kubernetes target; the docker target runs one shared session cluster (use "shared")`);
  } else if (target === "docker" && flink.taskManagers > 1) {
    problems.push(`${key("flink.slotsPerTaskManager")}: the docker target runs one TaskManager, which needs ${flink.requiredSlots + scaling.spareSlots} slots; raise slotsPerTaskManager or lower maxParallelism`);
  }
  // The seeds operate the jobs from StreamPark's console; where the stack deploys StreamPark beside
  // Kubernetes clusters that is the default. A sandbox platform has no StreamPark.
  const jobBackend = raw.jobBackend ?? (target === "kubernetes" && p !== "dev" ? "streampark" : "sql-gateway");
  if (target === "sandbox" && raw.jobBackend === "streampark") {
    problems.push(`${key("jobBackend")}: "streampark" needs the StreamPark the stack deploys; the sandbox's platform has none (use "sql-gateway")`);
  }
  // With a cluster per job the TaskManagers are the clusters' (podGroups); the shared pool has none.
  sizing.flinkTaskManager = perJob ? { ...sizing.flinkTaskManager, replicas: 0, memoryMiB: 0 } : { ...sizing.flinkTaskManager, replicas: flink.taskManagers, memoryMiB: flink.taskManagerMemoryMiB };
  if (target === "kubernetes" && !raw.imageRegistry && BUILT_IMAGES.some((b) => !raw.prebuiltImages?.[b])) {
    problems.push(`${key("imageRegistry")}: required on kubernetes: the stack builds its Flink and StreamPark images and pushes them there (e.g. "registry.example.com/rtdw")`);
  }
  const kafkaTopics = {} as Record<TopicClass, TopicSettings>;
  for (const c of TOPIC_CLASSES) kafkaTopics[c] = { ...DEFAULT_TOPICS[p][c], ...raw.kafkaTopics?.[c] };
  if (kafkaTopics.tracking.partitions < flink.parallelism["rt-trk-ods"]) {
    problems.push(`${key("kafkaTopics.tracking.partitions")}: ${kafkaTopics.tracking.partitions} is below the tracking ODS job's parallelism (${flink.parallelism["rt-trk-ods"]}); some subtasks would idle`);
  }

  const volumesGiB = {} as Record<VolumeName, number>;
  for (const v of VOLUMES) {
    const o = raw.volumes?.[v];
    volumesGiB[v] = o !== undefined ? Math.ceil(parseMemoryMiB(o)! / 1024) : DEFAULT_VOLUME_GIB[p][v];
  }
  // Vector's three disk buffers (two Kafka sinks, the raw archive) share its volume, and Vector refuses one under 256 MiB.
  if (volumesGiB.vector < MIN_VECTOR_VOLUME_GIB) problems.push(`${key("volumes.vector")}: ${volumesGiB.vector}Gi cannot hold Vector's disk buffers (the raw archive's fifth of it must be at least 256Mi, Vector's minimum); use at least ${MIN_VECTOR_VOLUME_GIB}Gi`);

  const hostPorts = resolveHostPorts(raw.hostPorts);
  problems.push(...hostPorts.problems.map((m) => `${key("hostPorts")}: ${m}`));
  if (raw.hostPorts && Object.keys(raw.hostPorts).length > 0 && target !== "docker") problems.push(`${key("hostPorts")}: only used with target "docker" (this stack's target is "${target}")`);

  if (target === "kubernetes") problems.push(...topologyProblems(sizing, p, key));
  problems.push(...imagePinProblems(raw.images ?? {}, key));

  const images = { ...IMAGES } as Record<ImageName, string>;
  for (const [name, ref] of Object.entries(raw.images ?? {})) images[name as ImageName] = ref;

  const objectStoreKind = raw.objectStore ?? (p === "prod" ? "s3" : "minio");
  // dev captures a MySQL on the developer's machine; the other stacks must name theirs.
  // The sandbox names its own business database (the platform file); the other targets are told.
  const sandbox = target === "sandbox";
  const source = raw.source ?? (p === "dev" || sandbox ? { host: "host.docker.internal", database: "shop", user: "rtdw_cdc" } : undefined);
  if (!source) problems.push(`${key("source")}: required: the business MySQL the CDC job captures, e.g. {host: mysql.shop.svc, port: 3306, database: shop, user: rtdw_cdc}`);
  if (raw.sourcePassword === undefined && !sandbox) problems.push(`${key("sourcePassword")}: required: the password of ${key("source")}.user; set it with \`pulumi config set --secret sourcePassword <value>\``);
  if (raw.starrocksRootPasswordPrevious !== undefined && raw.starrocksRootPassword === undefined) {
    problems.push(`${key("starrocksRootPasswordPrevious")}: only used while rotating: set ${key("starrocksRootPassword")} to the new password too`);
  }
  if (raw.platformFile !== undefined && !sandbox) problems.push(`${key("platformFile")}: only used with target "sandbox"`);
  if (p === "prod" && raw.alertWebhooks) {
    // Every team owns alerts and must be reachable: otherwise its alerts fire and page nobody.
    const owners = [...TEAMS];
    const unpaged = owners.filter((team) => !raw.alertWebhooks?.[team]);
    if (unpaged.length) problems.push(`${key("alertWebhooks")}: on prod every team that owns alerts needs a webhook, or its alerts page nobody; missing: ${unpaged.join(", ")} (owners: ${owners.join(", ")})`);
  }
  if (p === "prod" && !raw.alertWebhooks) problems.push(`${key("alertWebhooks")}: required on prod: where each team's alerts go; set it with \`pulumi config set --secret alertWebhooks '{"ops": "https://...", "business": "...", "data": "...", "infra": "..."}'\``);
  const c = raw.collector ?? {};
  const collector: CollectorLimits = {
    maxBodyKiB: c.maxBody !== undefined ? Math.round(parseMemoryMiB(c.maxBody)! * 1024) : DEFAULT_COLLECTOR_LIMITS.maxBodyKiB,
    maxDecompressedKiB: c.maxDecompressed !== undefined ? Math.round(parseMemoryMiB(c.maxDecompressed)! * 1024) : DEFAULT_COLLECTOR_LIMITS.maxDecompressedKiB,
    maxEventsPerBatch: c.maxEventsPerBatch ?? DEFAULT_COLLECTOR_LIMITS.maxEventsPerBatch,
    requestsPerSecond: c.requestsPerSecond ?? DEFAULT_COLLECTOR_LIMITS.requestsPerSecond,
    burst: c.burst ?? DEFAULT_COLLECTOR_LIMITS.burst,
    connectionsPerClient: c.connectionsPerClient ?? DEFAULT_COLLECTOR_LIMITS.connectionsPerClient,
  };
  problems.push(...collectorLimitProblems(collector, key));
  const geoip = resolveGeoip(c.geoip, p, key, checkFiles);
  problems.push(...geoip.problems);
  const postgresBackups: BackupPolicy = { ...DEFAULT_BACKUP_POLICY[p], ...raw.postgresBackups };
  problems.push(...backupPolicyProblems(postgresBackups, key));
  const lakehouse = resolveLakehouse(raw.lakehouse, DEFAULT_LAKEHOUSE[p]);
  const longestCheckpointMs = Math.max(...jobs.map((j) => scaling.checkpointIntervalMs ?? j.checkpointIntervalMs));
  problems.push(...lakehousePolicyProblems(lakehouse, longestCheckpointMs, key));
  for (const j of Object.keys(raw.jobRestartNonces ?? {})) {
    if (!jobs.some((x) => x.name === j)) problems.push(`${key(`jobRestartNonces.${j}`)}: no job "${j}" in sql/jobs.yaml (known: ${jobs.map((x) => x.name).join(", ")})`);
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    project,
    stack,
    profile: p,
    target,
    platformFile: sandbox ? (raw.platformFile ?? ".sandbox/conf/platform.json") : undefined,
    namespace: raw.namespace ?? "rtdw",
    kubernetesContext: raw.kubernetesContext,
    storageClass: raw.storageClass,
    objectStore: {
      kind: objectStoreKind,
      awsRegion: raw.awsRegion ?? "us-east-1",
      bucketPrefix: raw.bucketPrefix ?? `rtdw-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40),
      savepointRetentionDays: raw.savepointRetentionDays ?? 30,
    },
    protectStateful: raw.protectStateful ?? p === "prod",
    sizing,
    volumesGiB,
    hostPorts: hostPorts.ports,
    prebuiltImages: raw.prebuiltImages ?? {},
    deploy: raw.deploy ?? "all",
    images,
    imageRegistry: raw.imageRegistry,
    jobs,
    flink,
    kafkaTopics,
    collector,
    geoip: geoip.setting,
    archiveDays: c.archiveDays ?? DEFAULT_ARCHIVE_DAYS,
    postgresBackups,
    lakehouse,
    jobBackend,
    alertEvaluator: raw.alertEvaluator ?? "prometheus",
    timeZone: raw.timeZone ?? "Asia/Shanghai",
    source: { ...source!, port: source!.port ?? 3306 },
    jobRestartNonces: raw.jobRestartNonces ?? {},
    suppliedSecrets: new Set(SECRET_KEYS.filter((k) => raw[k] !== undefined)),
    starrocksRootRevision:
      raw.starrocksRootPassword === undefined ? "generated" : createHash("sha256").update(`rtdw-starrocks-root\0${raw.starrocksRootPassword}\0${raw.starrocksRootPasswordPrevious ?? ""}`).digest("hex").slice(0, 16),
  };
}

/** Reads the current stack's config from the Pulumi runtime. Call once, before creating resources. */
export function loadConfig(): StackConfig {
  // isConfigSecret is public in the runtime module but missing from its typings.
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    allConfig(): Record<string, string>;
    isConfigSecret(k: string): boolean;
  };
  const project = pulumi.getProject();
  const values = runtimeConfig.allConfig();
  const secretKeys = new Set(Object.keys(values).filter((k) => runtimeConfig.isConfigSecret(k)));
  return parseStackConfig(project, pulumi.getStack(), values, secretKeys);
}

/** A supplied password as a Pulumi secret, or undefined when the stack should generate one. */
export function suppliedSecret(key: SecretKey): pulumi.Output<string> | undefined {
  return new pulumi.Config().getSecret(key);
}

/**
 * Every pod of the stack, in groups of like pods: one per service, and with a cluster per job each
 * job's JobManagers, TaskManagers and job exporter in place of the shared cluster's.
 */
export function podGroups(cfg: Pick<StackConfig, "sizing" | "flink">): PodGroup[] {
  const services = serviceGroups(cfg.sizing);
  if (!cfg.flink.jobClusters.length) return services;
  const clusters = cfg.flink.jobClusters.flatMap((c): PodGroup[] => {
    const s = jobClusterSizing(c, { jobManager: cfg.sizing.flinkJobManager, taskManager: cfg.sizing.flinkTaskManager }, cfg.flink);
    return [
      { name: `${c.name}-jobmanager`, service: "flinkJobManager", sizing: s.jobManager },
      { name: `${c.name}-taskmanager`, service: "flinkTaskManager", sizing: s.taskManager },
      { name: `${c.name}-job-exporter`, service: "flinkJobExporter", sizing: cfg.sizing.flinkJobExporter },
    ];
  });
  const perCluster = new Set<ServiceName>(["flinkJobManager", "flinkTaskManager", "flinkJobExporter"]);
  return [...services.filter((g) => !perCluster.has(g.service)), ...clusters];
}

/** Total memory limit and CPU request of a stack, counting every replica. */
export function sizingTotals(workloads: Readonly<Record<ServiceName, Sizing>> | readonly PodGroup[]) {
  let memoryMiB = 0;
  let cpuRequest = 0;
  let cpuLimit = 0;
  const all = Array.isArray(workloads) ? (workloads as readonly PodGroup[]).map((g) => g.sizing) : Object.values(workloads as Readonly<Record<ServiceName, Sizing>>);
  for (const s of all) {
    memoryMiB += s.replicas * s.memoryMiB;
    cpuRequest += s.replicas * s.cpuRequest;
    cpuLimit += s.replicas * s.cpuLimit;
  }
  return { memoryMiB, memory: formatMemory(memoryMiB), cpuRequest, cpuLimit };
}
