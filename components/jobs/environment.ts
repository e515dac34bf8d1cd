import type { LakehousePolicy } from "../config/lakehousePolicy";
import { paimonWarehouse } from "../storage/types";
import { JobEnvironment, KafkaSecurityProtocol, SecretName } from "./render";
import { standInSinks, stackSinks } from "./sinks";

/**
 * What the jobs connect to, as the cluster reaches it: one typed record that every platform (the
 * provisioned stacks and an existing one such as the sandbox) fills in, turned into the environment
 * the SQL is rendered with. Passwords travel separately (JobCredentials), as secrets.
 */
export interface JobEndpoints {
  readonly paimon: { readonly jdbcUrl: string; readonly user: string };
  readonly objectStore: { readonly endpoint: string; readonly accessKey: string; readonly pathStyle: boolean; readonly warehouseBucket: string };
  /** The client listener: every job is its own SCRAM user (kafkaAccess.ts); TLS where the protocol says so. */
  readonly kafka: { readonly bootstrap: string; readonly securityProtocol: KafkaSecurityProtocol; /** PEM of the CA that signed the brokers' certificates (SASL_SSL). */ readonly caCertificate?: string };
  readonly source: { readonly host: string; readonly port: number; readonly database: string; readonly user: string };
  readonly timeZone: string;
  /** StarRocks, or a MySQL-protocol stand-in with StarRocks' tables (where StarRocks cannot run). */
  readonly dws:
    | { readonly kind: "starrocks"; readonly jdbcUrl: string; readonly loadUrl: string; readonly user: string; readonly database: string }
    | { readonly kind: "jdbc"; readonly jdbcUrl: string; readonly user: string };
  readonly quality: { readonly jdbcUrl: string; readonly user: string };
}

/** The credentials the SQL references (${secret:...}), by name; each job's Kafka password is its own (KafkaPasswords). */
export type JobCredentials = Readonly<Record<Exclude<SecretName, "kafka.password">, string>>;
/** Each Kafka client's SCRAM password, by user (a job's user is its name). */
export type KafkaPasswords = Readonly<Record<string, string>>;

/** What one job's SQL may reference: the shared credentials plus its own Kafka password, if it has a Kafka user. */
export function jobSecrets(c: JobCredentials, kafka: KafkaPasswords, job?: string): Partial<Record<SecretName, string>> {
  const own = job === undefined ? undefined : kafka[kafkaUserOfJob(job)];
  return { ...c, ...(own === undefined ? {} : { "kafka.password": own }) };
}

/** The user a Flink job connects as: the job's own name. */
export const kafkaUserOfJob = (job: string) => job;

/** The environment one job is rendered with (its own Kafka user); without a job, for DDL that uses no Kafka. */
export function jobEnvironment(e: JobEndpoints, lakehouse: LakehousePolicy, job?: string): JobEnvironment {
  return {
    paimon: { jdbcUrl: e.paimon.jdbcUrl, user: e.paimon.user, warehouse: paimonWarehouse(e.objectStore.warehouseBucket) },
    s3: { endpoint: e.objectStore.endpoint, accessKey: e.objectStore.accessKey, pathStyle: e.objectStore.pathStyle },
    kafka: { bootstrap: e.kafka.bootstrap, user: job === undefined ? undefined : kafkaUserOfJob(job), securityProtocol: e.kafka.securityProtocol, caCertificate: e.kafka.caCertificate },
    mysql: { hostname: e.source.host, port: e.source.port, database: e.source.database, user: e.source.user },
    timeZone: e.timeZone,
    lakehouse,
    sinks:
      e.dws.kind === "starrocks"
        ? stackSinks({ jdbcUrl: e.dws.jdbcUrl, loadUrl: e.dws.loadUrl, user: e.dws.user, database: e.dws.database }, e.quality)
        : standInSinks({ jdbcUrl: e.dws.jdbcUrl, user: e.dws.user }, e.quality),
  };
}

/**
 * The environment of statements that reach only the Paimon catalog (sql/catalog.sql): the upkeep task.
 * It has no Kafka user, source or sinks: a Kafka fragment fails to render for want of a user, and
 * nothing the catalog renders reads the others.
 */
export function catalogEnvironment(e: Pick<JobEndpoints, "paimon" | "objectStore" | "timeZone">, lakehouse: LakehousePolicy): JobEnvironment {
  return {
    paimon: { jdbcUrl: e.paimon.jdbcUrl, user: e.paimon.user, warehouse: paimonWarehouse(e.objectStore.warehouseBucket) },
    s3: { endpoint: e.objectStore.endpoint, accessKey: e.objectStore.accessKey, pathStyle: e.objectStore.pathStyle },
    kafka: { bootstrap: "", user: undefined, securityProtocol: "SASL_PLAINTEXT" },
    mysql: { hostname: "", port: 0, database: "", user: "" },
    timeZone: e.timeZone,
    sinks: {},
    lakehouse,
  };
}
