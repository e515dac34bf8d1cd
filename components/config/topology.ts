import { Profile, ServiceName, Sizing } from "./services";

/**
 * Replica counts that would deploy but break the service or silently take its fault tolerance away,
 * checked at preview before anything is created.
 */
const SINGLE_INSTANCE: Partial<Record<ServiceName, string>> = {
  postgres: "PostgreSQL runs one primary without streaming replication: more replicas would be independent databases behind one Service",
  redis: "Redis runs without replication: more replicas would be independent whitelists behind one Service",
  minio: "MinIO runs in single-node mode: more replicas would be separate object stores behind one Service",
  alertmanager: "Alertmanager runs without gossip clustering: each replica would send every notification",
  sqlGateway: "the SQL Gateway keeps sessions in memory: the jobs' provider would lose its session to another replica",
  streampark: "StreamPark's console schedules its jobs from one process: two would both act on them",
  lakehouseUpkeep: "the upkeep runs each statement once per schedule: two would run it twice",
  postgresBackup: "the backup sidecar lives beside PostgreSQL's one replica",
  flinkJobExporter: "each replica would export the same exceptions: every alert lookup would see them twice",
};

/** Members of a majority quorum: an even count tolerates no more failures than one fewer. */
const QUORUM: Partial<Record<ServiceName, string>> = {
  kafka: "every Kafka node is a KRaft controller",
  starrocksFe: "StarRocks FEs elect their leader by majority",
};

export function topologyProblems(sizing: Readonly<Record<ServiceName, Sizing>>, profile: Profile, key: (k: string) => string): string[] {
  const problems: string[] = [];
  for (const [svc, why] of Object.entries(SINGLE_INSTANCE) as [ServiceName, string][]) {
    if (sizing[svc].replicas !== 1) problems.push(`${key(`sizing.${svc}.replicas`)}: ${sizing[svc].replicas} is not supported: ${why}; use 1`);
  }
  for (const [svc, why] of Object.entries(QUORUM) as [ServiceName, string][]) {
    const n = sizing[svc].replicas;
    if (n % 2 === 0) problems.push(`${key(`sizing.${svc}.replicas`)}: ${n} is even: ${why}, and ${n} tolerate no more failures than ${n - 1} (a majority of ${n} is ${n / 2 + 1}); use ${n - 1} or ${n + 1}`);
    else if (profile === "prod" && n < 3) problems.push(`${key(`sizing.${svc}.replicas`)}: ${n} on prod: ${why}, and fewer than 3 tolerate no failure (Kafka: replication factor ${Math.min(3, sizing.kafka.replicas)}); use 3 or more, or another profile`);
  }
  if (profile === "prod" && sizing.flinkJobManager.replicas < 2) {
    problems.push(`${key("sizing.flinkJobManager.replicas")}: ${sizing.flinkJobManager.replicas} on prod: a JobManager's restart would stop every job until it is back; use 2 (Kubernetes HA, a standby takes over)`);
  }
  return problems;
}

/**
 * An image reference must pin what runs: a tag other than `latest`, or a digest. Otherwise a node's
 * restart can pull another version than the one reviewed, and two replicas can run different ones.
 */
export function imagePinProblems(overrides: Readonly<Record<string, string>>, key: (k: string) => string): string[] {
  const problems: string[] = [];
  for (const [name, ref] of Object.entries(overrides)) {
    if (/@sha256:[0-9a-f]{64}$/.test(ref)) continue;
    const lastPart = ref.split("/").pop()!;
    const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : undefined;
    if (tag === undefined) problems.push(`${key(`images.${name}`)}: "${ref}" has no tag: pin a version (e.g. "${ref}:<version>") or a digest (@sha256:…)`);
    else if (tag === "latest") problems.push(`${key(`images.${name}`)}: "${ref}" pins nothing (latest moves): use a version tag or a digest (@sha256:…)`);
  }
  return problems;
}
