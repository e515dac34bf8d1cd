import * as pulumi from "@pulumi/pulumi";
import { FlinkSqlJob } from "./flinkSqlJob";
import { BackendConfig, ObjectStoreConfig } from "./provider";
import { JobCredentials, jobEnvironment, JobEndpoints, jobSecrets, KafkaPasswords } from "./environment";
import { jobLineage } from "./lineage";
import { jobScript } from "./script";
import { splitStatements } from "./render";
import { JobSpec, readJobSql } from "../config/jobTable";
import { LakehousePolicy } from "../config/lakehousePolicy";

export interface FlinkJobsArgs {
  /** The job table (sql/jobs.yaml): one FlinkSqlJob per row. */
  readonly jobs: readonly JobSpec[];
  /** Each job's parallelism on this stack. */
  readonly parallelism: Readonly<Record<string, number>>;
  /** Every job's checkpoint interval on this stack, instead of the job table's (rtdw:flink.checkpointIntervalMs). */
  readonly checkpointIntervalMs?: number;
  /** Per job, a number whose change restarts it with its upgrade mode (rtdw:jobRestartNonces). */
  readonly restartNonces: Readonly<Record<string, number>>;
  /** Table options and the compaction jobs' expiry (rtdw:lakehouse). */
  readonly lakehouse: LakehousePolicy;
  /**
   * The lake tables by database.table (components/lakehouse/tables.ts): each job waits for the tables
   * its SQL reads, writes or maintains, so a table is created, or changed, before the job that uses it.
   */
  readonly tables: Readonly<Record<string, pulumi.Resource>>;
  /**
   * The DWS tables by dws.<table> (components/starrocks/dwsTable.ts), where the stack manages them:
   * a job that loads one waits for it, so a column is added before the job that fills it is upgraded.
   */
  readonly dwsTables?: Readonly<Record<string, pulumi.Resource>>;
  /**
   * What initializes the Paimon catalog (its databases): every job's script creates the catalog, and
   * the first creation on a fresh metastore must not race another (PostgreSQL's CREATE TABLE IF NOT
   * EXISTS is not safe against a concurrent twin), so every job waits for it, a job without lake tables too.
   */
  readonly catalog: pulumi.Resource;
  /** What the SQL is rendered with: the services as the cluster reaches them, never credentials. */
  readonly endpoints: pulumi.Input<JobEndpoints>;
  /** Credentials substituted into the SQL only when it is sent. */
  readonly credentials: pulumi.Input<JobCredentials>;
  /** Each job's own Kafka SCRAM password, by user (components/pipelines/kafkaAccess.ts). */
  readonly kafkaPasswords: pulumi.Input<KafkaPasswords>;
  /** StreamPark's admin password, with the streampark backend. */
  readonly streamparkPassword?: pulumi.Input<string>;
  /** Where a job is submitted (and, with a cluster per job, which cluster it runs on); URLs as the deploying machine reaches them. */
  readonly backend: (job: string) => pulumi.Input<BackendConfig>;
  /**
   * A job's SQL Gateway backend, for the jobs StreamPark cannot submit: a compaction job's script ends
   * in a Paimon procedure (CALL), which StreamPark 2.1's SQL parser has no command for.
   */
  readonly gatewayBackend: (job: string) => pulumi.Input<BackendConfig & { readonly kind: "sql-gateway" }>;
  /** Tunnel cluster-internal URLs through the Kubernetes API (kubernetes target). */
  readonly tunnel?: { readonly context?: string };
  /** The checkpoints bucket; savepoints go under savepoints/<job>. */
  readonly checkpointsBucket: pulumi.Input<string>;
  /** Object storage as the deploying machine reaches it, for savepoint retention. */
  readonly objectStore: pulumi.Input<ObjectStoreConfig>;
}

/** How long a job waits for its backend, which may be created in the same `pulumi up`. */
const READY_TIMEOUT_SECONDS = 600;
const START_TIMEOUT_SECONDS = 300;
/** The seeds' rollback rule: the last three savepoints of each job are kept. */
const SAVEPOINTS_TO_KEEP = 3;

/** One FlinkSqlJob per row of the job table, scaled for the stack. */
export class FlinkJobs extends pulumi.ComponentResource {
  readonly jobs: Readonly<Record<string, FlinkSqlJob>>;

  constructor(name: string, args: FlinkJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:jobs:FlinkJobs", name, {}, opts);
    const jobs: Record<string, FlinkSqlJob> = {};
    const endpoints = pulumi.output(args.endpoints);
    const secretsOf = (job: string) =>
      pulumi
        .all([args.credentials, args.kafkaPasswords, args.streamparkPassword])
        .apply(([c, k, sp]) => ({ ...jobSecrets(c, k, job), ...(sp === undefined ? {} : { "streampark.password": sp }) }));
    const lineage = new Map(jobLineage(args.jobs).map((l) => [l.job, l]));
    for (const job of args.jobs) {
      jobs[job.name] = new FlinkSqlJob(
        `${name}-${job.name}`,
        {
          name: job.name,
          script: endpoints.apply((e) => jobEnvironment(e, args.lakehouse, job.name)).apply((env) => jobScript(job, env, { parallelism: args.parallelism[job.name], checkpointIntervalMs: args.checkpointIntervalMs })),
          upgradeMode: job.upgradeMode,
          allowNonRestoredState: job.allowNonRestoredState,
          gateTimeoutSeconds: job.gateTimeoutMs === undefined ? undefined : job.gateTimeoutMs / 1000,
          restoreFrom: job.restoreFrom,
          restartNonce: args.restartNonces[job.name] ?? 0,
          backend: submitsByProcedure(job) ? args.gatewayBackend(job.name) : args.backend(job.name),
          tunnel: args.tunnel,
          savepointDir: pulumi.interpolate`s3://${args.checkpointsBucket}/savepoints/${job.name}`,
          checkpointDir: pulumi.interpolate`s3://${args.checkpointsBucket}/checkpoints/${job.name}`,
          savepointsToKeep: SAVEPOINTS_TO_KEEP,
          objectStore: args.objectStore,
          readyTimeoutSeconds: READY_TIMEOUT_SECONDS,
          startTimeoutSeconds: START_TIMEOUT_SECONDS,
          secrets: pulumi.secret(secretsOf(job.name)),
        },
        { parent: this, dependsOn: [args.catalog, ...tablesOf(lineage.get(job.name)!, args.tables, job.name), ...dwsTablesOf(lineage.get(job.name)!, args.dwsTables, job.name)] },
      );
    }
    this.jobs = jobs;
    this.registerOutputs({ jobs: Object.fromEntries(Object.entries(jobs).map(([k, j]) => [k, { jobId: j.jobId, status: j.status, sqlVersion: j.sqlVersion, savepoints: j.savepointVersions }])) });
  }
}

/** The lake tables a job touches, by its lineage; one it names that the stack does not declare is an error. */
function tablesOf(l: { reads: readonly string[]; writes: readonly string[]; maintains: readonly string[] }, tables: Readonly<Record<string, pulumi.Resource>>, job: string): pulumi.Resource[] {
  const names = [...new Set([...l.reads, ...l.writes, ...l.maintains].filter((t) => t.startsWith("paimon:")).map((t) => t.slice("paimon:".length)))];
  const missing = names.filter((n) => !tables[n]);
  if (missing.length) throw new Error(`job ${job} uses ${missing.join(", ")}, which no tables.sql of the stack's pipelines declares`);
  return names.sort().map((n) => tables[n]);
}

/** The DWS tables a job loads, by its lineage (none where the stack does not manage them). */
function dwsTablesOf(l: { writes: readonly string[] }, tables: Readonly<Record<string, pulumi.Resource>> | undefined, job: string): pulumi.Resource[] {
  if (!tables) return [];
  const names = [...new Set(l.writes.filter((t) => t.startsWith("starrocks:")).map((t) => t.slice("starrocks:".length)))].sort();
  const missing = names.filter((n) => !tables[n]);
  if (missing.length) throw new Error(`job ${job} loads ${missing.join(", ")}, which sql/starrocks/10_dws.sql does not declare`);
  return names.map((n) => tables[n]);
}

/** A job whose SQL ends in a Paimon procedure that starts it (CALL sys.compact…), not an INSERT. */
export function submitsByProcedure(job: Pick<JobSpec, "sql">): boolean {
  const statements = splitStatements(readJobSql(job));
  return /^CALL\s/i.test(statements[statements.length - 1] ?? "");
}
