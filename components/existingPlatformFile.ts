import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { JobCredentials, JobEndpoints, KafkaPasswords } from "./jobs/environment";

/**
 * A platform that already runs (target "sandbox"): where its services are and how to log in. The local
 * sandbox writes this file on `up` (mode 0600); the stack reads it, validates it and keeps every
 * password a Pulumi secret. The same shape could describe services provisioned by other means.
 */
const url = z.url({ protocol: /^https?$/ });
const login = { user: z.string().min(1), password: z.string().min(1) };
const jdbc = z.string().regex(/^jdbc:(postgresql|mysql):\/\/[^/]+\/\w+$/, { message: "expected jdbc:postgresql://host:port/db or jdbc:mysql://host:port/db" });

export const existingPlatformSchema = z.strictObject({
  version: z.literal(1),
  /** Names the platform in logs and outputs, e.g. "sandbox". */
  name: z.string().min(1),
  objectStore: z.strictObject({
    endpoint: url,
    region: z.string().min(1),
    pathStyle: z.boolean(),
    accessKey: z.string().min(1),
    secretKey: z.string().min(1),
    buckets: z.strictObject({ warehouse: z.string().min(3), checkpoints: z.string().min(3) }),
  }),
  kafka: z.strictObject({
    /** The client listener (SASL/SCRAM-SHA-512). */
    bootstrapServers: z.string().min(1),
    securityProtocol: z.enum(["SASL_PLAINTEXT", "SASL_SSL"]),
    /** PEM of the CA of the brokers' certificates, with SASL_SSL. */
    caCertificate: z.string().startsWith("-----BEGIN CERTIFICATE-----").optional(),
    /** Each client's SCRAM password by user: every job that reads or writes Kafka, the collector, the exporter. */
    users: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.string().min(16)),
    /** The super user that may create and alter topics, and where it logs in (SASL/PLAIN). */
    admin: z.strictObject({ ...login, bootstrapServers: z.string().min(1) }),
  }),
  flink: z.strictObject({
    /** The SQL Gateway's own session cluster: every job no cluster below names runs there. */
    restUrl: url,
    sqlGatewayUrl: url,
    /** Further session clusters, each with the jobs it runs; the gateway reaches each at address:port (rest.address/rest.port). */
    clusters: z
      .array(z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9-]*$/), restUrl: url, address: z.string().min(1), port: z.number().int().min(1).max(65535), jobs: z.array(z.string().min(1)) }))
      .default([])
      .refine((cs) => new Set(cs.flatMap((c) => c.jobs)).size === cs.flatMap((c) => c.jobs).length, { message: "a job is listed on more than one cluster" }),
  }),
  paimon: z.strictObject({ jdbcUrl: jdbc, ...login }),
  quality: z.strictObject({ jdbcUrl: jdbc, ...login }),
  /**
   * Where the DWS tables are: StarRocks, or a MySQL-protocol database with the same tables (a stand-in).
   * `admin`, the schema's owner, lets the stack manage the tables (created, altered in place, diffed in
   * preview); without it they are the platform's to keep in step with sql/starrocks/10_dws.sql.
   */
  dws: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("starrocks"), jdbcUrl: jdbc, loadUrl: z.string().min(1), database: z.string().min(1), ...login, admin: z.strictObject(login).optional() }),
    z.strictObject({ kind: z.literal("jdbc"), jdbcUrl: jdbc, ...login, admin: z.strictObject(login).optional() }),
  ]),
  /** The business MySQL the CDC job captures. */
  source: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535), database: z.string().regex(/^\w+$/), ...login }),
  prometheus: z.strictObject({ url, ...login, /** Prometheus loads every *.yml here (rule_files glob). */ rulesDir: z.string().min(1) }),
});

export type ExistingPlatform = z.infer<typeof existingPlatformSchema>;

/** Reads and validates the platform file; an error names the file and every wrong field. */
export function loadExistingPlatform(file: string): ExistingPlatform {
  const where = path.resolve(file);
  if (!fs.existsSync(where)) {
    throw new Error(`${where}: no platform file; start the sandbox first (\`npm run sandbox -- up\`), which writes it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(where, "utf8"));
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  const r = existingPlatformSchema.safeParse(json);
  if (!r.success) {
    throw new Error(`${where}: not a platform description:\n${r.error.issues.map((i) => `  - ${i.path.join(".") || "(file)"}: ${i.message}`).join("\n")}`);
  }
  return r.data;
}

/** The platform as the jobs see it (jobs/environment.ts): the same record the provisioned stacks build. */
export function existingJobEndpoints(p: ExistingPlatform, timeZone: string): JobEndpoints {
  return {
    paimon: { jdbcUrl: p.paimon.jdbcUrl, user: p.paimon.user },
    objectStore: { endpoint: p.objectStore.endpoint, accessKey: p.objectStore.accessKey, pathStyle: p.objectStore.pathStyle, warehouseBucket: p.objectStore.buckets.warehouse },
    kafka: { bootstrap: p.kafka.bootstrapServers, securityProtocol: p.kafka.securityProtocol, caCertificate: p.kafka.caCertificate },
    source: { host: p.source.host, port: p.source.port, database: p.source.database, user: p.source.user },
    timeZone,
    dws: p.dws.kind === "starrocks" ? { kind: "starrocks", jdbcUrl: p.dws.jdbcUrl, loadUrl: p.dws.loadUrl, user: p.dws.user, database: p.dws.database } : { kind: "jdbc", jdbcUrl: p.dws.jdbcUrl, user: p.dws.user },
    quality: { jdbcUrl: p.quality.jdbcUrl, user: p.quality.user },
  };
}

export function existingJobCredentials(p: ExistingPlatform): JobCredentials {
  return {
    "paimon.password": p.paimon.password,
    "s3.secretKey": p.objectStore.secretKey,
    "mysql.password": p.source.password,
    "starrocks.password": p.dws.password,
    "quality.password": p.quality.password,
  };
}

/** The platform's Kafka users; every user the job table needs must be there (an error names the missing ones). */
export function existingKafkaPasswords(p: ExistingPlatform, needed: readonly string[]): KafkaPasswords {
  const missing = needed.filter((u) => !(u in p.kafka.users));
  if (missing.length) throw new Error(`the platform file has no Kafka user for ${missing.join(", ")} (kafka.users); the sandbox creates one per client on \`npm run sandbox -- up\``);
  return p.kafka.users;
}
