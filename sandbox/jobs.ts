import * as fs from "fs";
import * as path from "path";
import { flinkSqlJobProvider } from "../components/jobs/flinkSqlJob";
import { FlinkSqlJobInputs, FlinkSqlJobOutputs } from "../components/jobs/provider";
import { JobEnvironment, SecretName } from "../components/jobs/render";
import { jobScript } from "../components/jobs/script";
import { JobSpec, loadJobTable, readJobSql } from "../components/jobs/table";
import { JobManagerClient } from "../components/flink/jobManager";
import { RUN } from "./paths";
import { SANDBOX_TIME_ZONE } from "./versions";
import { standInSinks } from "../components/jobs/sinks";
import { describe } from "./index";

/**
 * The job environment of the local sandbox: the stacks' SQL runs unchanged against the sandbox's
 * services. Only the sinks differ: StarRocks cannot run here, so the DWS tables are MariaDB tables
 * with StarRocks' columns and keys (the JDBC connector upserts them as the StarRocks connector would).
 */
export function sandboxJobEnvironment(timeZone = SANDBOX_TIME_ZONE): JobEnvironment {
  const { endpoints: e } = describe();
  return {
    paimon: { jdbcUrl: e.postgres.databases.paimon.jdbcUrl, user: e.postgres.databases.paimon.user, warehouse: `s3://${e.objectStore.buckets.warehouse}/paimon` },
    s3: { endpoint: e.objectStore.endpoint, accessKey: "rtdw-root", pathStyle: e.objectStore.pathStyle },
    kafka: { bootstrap: e.kafka.bootstrapServers, user: e.kafka.username },
    mysql: { hostname: e.mysql.host, port: e.mysql.port, database: e.mysql.database, user: e.mysql.cdcUser },
    timeZone,
    sinks: standInSinks(
      { jdbcUrl: `jdbc:mysql://${e.mysql.host}:${e.mysql.port}/${e.mysql.dwsDatabase}`, user: e.mysql.user },
      { jdbcUrl: e.postgres.databases.quality.jdbcUrl, user: e.postgres.databases.quality.user },
    ),
  };
}

export function sandboxJobSecrets(): Record<SecretName, string> {
  const { credentials: c } = describe();
  return {
    "paimon.password": c.postgres.paimon.password,
    "s3.secretKey": c.objectStore.secretKey,
    "kafka.password": c.kafka.password,
    "mysql.password": c.mysql.cdcPassword,
    "starrocks.password": c.mysql.password,
    "quality.password": c.postgres.quality.password,
  };
}

/** The sandbox runs every job at parallelism 1 and checkpoints every few seconds, so rows show up fast. */
export const SANDBOX_CHECKPOINT_MS = 5000;
const JOB_STATE = path.join(RUN, "jobs-state.json");

/** FlinkSqlJob inputs of one job-table row on the sandbox. */
export function sandboxJobInputs(job: JobSpec): FlinkSqlJobInputs {
  const { endpoints: e, credentials: c } = describe();
  return {
    name: job.name,
    script: jobScript(job, sandboxJobEnvironment(), { parallelism: 1, checkpointIntervalMs: SANDBOX_CHECKPOINT_MS }),
    upgradeMode: job.upgradeMode,
    restartNonce: 0,
    backend: { kind: "sql-gateway", sqlGatewayUrl: e.flink.sqlGatewayUrl, jobManagerUrl: e.flink.restUrl },
    savepointDir: `s3://${e.objectStore.buckets.checkpoints}/savepoints/${job.name}`,
    savepointsToKeep: 3,
    objectStore: { endpoint: e.objectStore.endpoint, region: e.objectStore.region, accessKey: c.objectStore.accessKey },
    readyTimeoutSeconds: 120,
    startTimeoutSeconds: 180,
    secrets: sandboxJobSecrets(),
  };
}

export interface Registration {
  readonly job: string;
  readonly jobId: string;
  /** What happened: unchanged, created, or the planned action of an update. */
  readonly action: string;
  /** True when the job started without state (a new job, not an upgrade or resume). */
  readonly fresh: boolean;
}

/**
 * Registers jobs of the job table on the sandbox exactly as `pulumi up` does, through the FlinkSqlJob
 * provider (check, read, diff, create/update), with its state kept in .sandbox/run/jobs-state.json
 * (without the secrets). A second run with nothing changed changes nothing.
 */
export async function registerSandboxJobs(names?: string[], log: (m: string) => void = () => undefined): Promise<Registration[]> {
  const p = flinkSqlJobProvider;
  const state: Record<string, FlinkSqlJobOutputs> = fs.existsSync(JOB_STATE) ? JSON.parse(fs.readFileSync(JOB_STATE, "utf8")) : {};
  const secrets = sandboxJobSecrets();
  const out: Registration[] = [];
  for (const job of loadJobTable().filter((j) => !names || names.includes(j.name))) {
    const olds = state[job.name] ? { ...state[job.name], secrets } : undefined;
    const { inputs: news } = await p.check!(olds ?? ({} as FlinkSqlJobInputs), sandboxJobInputs(job));
    let outs: FlinkSqlJobOutputs;
    let action = "unchanged";
    let fresh = false;
    if (!olds) {
      outs = (await p.create(news!)).outs!;
      action = outs.restoredFrom ? `created (took over the running job from ${outs.restoredFrom})` : "created";
      fresh = outs.restoredFrom === undefined;
    } else {
      const current = (await p.read!(job.name, olds)).props as FlinkSqlJobOutputs;
      const diff = await p.diff!(job.name, current, news!);
      if (diff.changes || current.status !== "RUNNING") {
        // A job that stopped outside the provider is resumed from its newest state, like `pulumi up` after `refresh`.
        const wanted = diff.changes ? news! : { ...news!, restartNonce: current.restartNonce + 1 };
        outs = (await p.update!(job.name, current, wanted)).outs!;
        action = diff.changes ? (news!.plannedAction ?? "updated") : `resumed (was ${current.status})`;
        fresh = outs.restoredFrom === undefined;
      } else outs = current;
    }
    const { secrets: _s, ...kept } = outs;
    state[job.name] = kept as FlinkSqlJobOutputs;
    fs.writeFileSync(JOB_STATE, JSON.stringify(state, null, 2));
    log(`${job.name}: ${action} (job ${outs.jobId})`);
    out.push({ job: job.name, jobId: outs.jobId, action, fresh });
    if (fresh && job.pipeline === "warehouse" && /mysql\.cdc/.test(readJobSql(job))) {
      // A fresh CDC job first snapshots the tables; changes made meanwhile may reach ODS twice
      // (DWD absorbs them by key). Two checkpoints later the snapshot of the sandbox's data is done.
      await new JobManagerClient(describe().endpoints.flink.restUrl).waitForCheckpoints(outs.jobId, 2, 180000);
    }
  }
  return out;
}
