import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { DEFAULT_LAKEHOUSE, LakehousePolicy, RawLakehouse, resolveLakehouse } from "../components/config/lakehousePolicy";
import { existingJobCredentials, existingJobEndpoints } from "../components/existingPlatformFile";
import { jobEnvironment, jobSecrets } from "../components/jobs/environment";
import { JobEnvironment, SecretName } from "../components/jobs/render";
import { SANDBOX_TIME_ZONE } from "./versions";
import { platformDescription } from "./index";

/**
 * The job environment of the local sandbox, exactly as the `local` stack renders it from the platform
 * file: the stacks' SQL runs unchanged against the sandbox's services. Only the sinks differ: StarRocks
 * cannot run here, so the DWS tables are MariaDB tables with StarRocks' columns and keys (the JDBC
 * connector upserts them as the StarRocks connector would). Tests read Paimon with it.
 */
export function sandboxJobEnvironment(timeZone = SANDBOX_TIME_ZONE, job?: string): JobEnvironment {
  return jobEnvironment(existingJobEndpoints(platformDescription(), timeZone), localLakehouse(), job);
}

/** The local stack's lakehouse policy: its profile's with what Pulumi.local.yaml sets over it. */
export function localLakehouse(): LakehousePolicy {
  const local = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "Pulumi.local.yaml"), "utf8")) as { config?: Record<string, unknown> };
  const profile = local.config?.["rtdw:profile"];
  if (profile !== "dev" && profile !== "test" && profile !== "prod") throw new Error(`Pulumi.local.yaml: rtdw:profile is ${JSON.stringify(profile)}, expected dev, test or prod`);
  return resolveLakehouse(local.config?.["rtdw:lakehouse"] as RawLakehouse | undefined, DEFAULT_LAKEHOUSE[profile]);
}

/** The credentials the SQL references; with a job, its own Kafka password too. */
export function sandboxJobSecrets(job?: string): Partial<Record<SecretName, string>> {
  const p = platformDescription();
  return jobSecrets(existingJobCredentials(p), p.kafka.users, job);
}

/**
 * A rendered job's Kafka login swapped for the operator's (the super user on the internal listener):
 * for the bench, which runs a job's SQL over topics and groups of its own that no job's ACLs cover.
 */
export function asKafkaOperator(sql: string): string {
  const k = platformDescription().kafka;
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${k.admin.user}" password="\${secret:kafka.password}";`;
  const out = sql
    .replace(/'properties\.bootstrap\.servers' = '[^']*'/g, `'properties.bootstrap.servers' = '${k.admin.bootstrapServers}'`)
    .replace(/'properties\.sasl\.mechanism' = 'SCRAM-SHA-512'/g, "'properties.sasl.mechanism' = 'PLAIN'")
    .replace(/'properties\.sasl\.jaas\.config' = '[^']*'/g, `'properties.sasl.jaas.config' = '${jaas.replace(/'/g, "''")}'`);
  if (sql.includes("'properties.sasl.mechanism'") && !out.includes("PlainLoginModule")) throw new Error("asKafkaOperator: the rendered Kafka options changed shape");
  return out;
}

/** The operator's secrets for asKafkaOperator's SQL. */
export function operatorSecrets(): Partial<Record<SecretName, string>> {
  const p = platformDescription();
  return { ...jobSecrets(existingJobCredentials(p), {}), "kafka.password": p.kafka.admin.password };
}

/** The local stack checkpoints every few seconds (Pulumi.local.yaml: rtdw:flink.checkpointIntervalMs), so rows show up fast. */
export const SANDBOX_CHECKPOINT_MS = 5000;
