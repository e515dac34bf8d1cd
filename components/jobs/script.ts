import * as fs from "fs";
import * as path from "path";
import { JobEnvironment, renderSql, splitStatements } from "./render";
import { JobSpec, readJobSql, SQL_DIR } from "../config/jobTable";

/**
 * What one job's SQL Gateway session runs: its configuration and its statements, in order — the
 * catalog, then the job's own SQL (the tables it uses are resources of their own, created and changed
 * before it: components/lakehouse/tables.ts, so a table's change is not a change of every job), whose last statement
 * submits the job (an INSERT, a statement set, or a Paimon compaction procedure that starts one). Rendered without credentials (`${secret:...}` stays), so the script can be kept
 * in Pulumi state and shown in a diff; secrets are substituted only when the statements are sent.
 */
export interface JobScript {
  readonly job: string;
  /** Session configuration (pipeline name, parallelism, checkpointing, time zone). */
  readonly config: Readonly<Record<string, string>>;
  readonly statements: readonly string[];
}

/** Per-deployment overrides of the job table's row (the stacks scale parallelism). */
export interface JobOverrides {
  readonly parallelism?: number;
  readonly checkpointIntervalMs?: number;
}

export function jobConfig(job: JobSpec, env: Pick<JobEnvironment, "timeZone">, o: JobOverrides = {}): Record<string, string> {
  const interval = o.checkpointIntervalMs ?? job.checkpointIntervalMs;
  return {
    "pipeline.name": job.name,
    "execution.runtime-mode": "streaming",
    "parallelism.default": String(o.parallelism ?? job.parallelism),
    "execution.checkpointing.interval": `${interval} ms`,
    "execution.checkpointing.mode": "EXACTLY_ONCE",
    // A checkpoint may take at most the interval, and the job gets a breather between two of them.
    "execution.checkpointing.timeout": `${Math.max(interval, 60000)} ms`,
    "execution.checkpointing.min-pause": `${Math.floor(interval / 4)} ms`,
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    "table.local-time-zone": env.timeZone,
    // Statement sets and INSERTs return once submitted; the job keeps running on the cluster.
    "table.dml-sync": "false",
  };
}

/** `sql`: the job's SQL text (its file's unless given: the archive replay runs a derived text). */
export function jobScript(job: JobSpec, env: JobEnvironment, o: JobOverrides = {}, sql = readJobSql(job)): JobScript {
  const statements = [
    ...["catalog.sql"].flatMap((f) => splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, f), "utf8"), env, f))),
    ...splitStatements(renderSql(sql, env, job.sql)),
  ];
  const last = statements[statements.length - 1] ?? "";
  if (!/^(EXECUTE\s+STATEMENT\s+SET|INSERT\s|CALL\s+sys\.compact)/i.test(last)) {
    throw new Error(`${job.sql}: the last statement must submit the job (INSERT, EXECUTE STATEMENT SET or a CALL sys.compact… procedure), found: ${last.slice(0, 80)}`);
  }
  return { job: job.name, config: jobConfig(job, env, o), statements };
}
