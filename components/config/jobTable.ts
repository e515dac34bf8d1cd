import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { z } from "zod";
import { parseDurationMs, parseMemoryMiB } from "./quantities";

export { parseDurationMs };

/** Where the SQL and the job table live; resolved from this file so it works from any cwd. */
export const SQL_DIR = path.resolve(__dirname, "../../sql");
export const JOB_TABLE = path.join(SQL_DIR, "jobs.yaml");

export const UPGRADE_MODES = ["savepoint", "last-state", "stateless"] as const;
export type UpgradeMode = (typeof UPGRADE_MODES)[number];

/** One row of the job table, typed and with units resolved. */
export interface JobSpec {
  readonly name: string;
  readonly pipeline: "warehouse" | "tracking";
  readonly does: string;
  /** Path under sql/. */
  readonly sql: string;
  readonly parallelism: number;
  readonly taskManagerMemoryMiB: number;
  readonly jobManagerMemoryMiB: number;
  readonly checkpointIntervalMs: number;
  readonly upgradeMode: UpgradeMode;
  /**
   * Accept a SQL change that leaves some of the job's state behind (operators that would start
   * empty). Off by default: `up` refuses such a change and says which operators it would reset.
   */
  readonly allowNonRestoredState: boolean;
  /** How long a new version gets to pass the upgrade gate; unset: derived from the checkpoint interval. */
  readonly gateTimeoutMs?: number;
  /** Restore from a kept savepoint: "previous" (the one the last upgrade took) or its URI; acts once, when set or changed. */
  readonly restoreFrom?: string;
}


const memory = z.string().refine((v) => parseMemoryMiB(v) !== undefined, { message: 'expected a memory quantity such as "2Gi"' });
const row = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{2,62}$/, { message: "expected a lower-case job name of [a-z0-9-]" }),
  pipeline: z.enum(["warehouse", "tracking"]),
  does: z.string().min(1),
  sql: z.string().regex(/^[\w/.-]+\.sql$/, { message: "expected a .sql path under sql/" }),
  parallelism: z.number().int().min(1).max(256),
  taskManagerMemory: memory,
  jobManagerMemory: memory,
  checkpointInterval: z.string().refine((v) => (parseDurationMs(v) ?? 0) >= 1000, { message: 'expected a duration of at least 1s, e.g. "60s"' }),
  upgradeMode: z.enum(UPGRADE_MODES),
  allowNonRestoredState: z.boolean().optional(),
  gateTimeout: z.string().refine((v) => (parseDurationMs(v) ?? 0) >= 10_000, { message: 'expected a duration of at least 10s, e.g. "10min"' }).optional(),
  restoreFrom: z.string().regex(/^(previous|(s3|s3a|file|hdfs):\/\/\S+)$/, { message: 'expected "previous" or a savepoint URI (s3://…/savepoints/<job>/savepoint-…)' }).optional(),
});
const tableSchema = z.strictObject({ jobs: z.array(row).min(1) });

/** Reads and validates a job table; errors name the row and the field. */
export function loadJobTable(file = JOB_TABLE): JobSpec[] {
  const parsed = tableSchema.safeParse(YAML.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - jobs${i.path.slice(1).map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}: ${i.message}`);
    throw new Error(`${file}: invalid job table\n${lines.join("\n")}`);
  }
  const seen = new Set<string>();
  const problems: string[] = [];
  const jobs = parsed.data.jobs.map((j) => {
    if (seen.has(j.name)) problems.push(`job "${j.name}" appears twice`);
    seen.add(j.name);
    if (!fs.existsSync(path.join(path.dirname(file), j.sql))) problems.push(`job "${j.name}": sql file ${j.sql} does not exist`);
    if (j.restoreFrom && j.upgradeMode === "stateless") problems.push(`job "${j.name}": restoreFrom is set, but a stateless job has no state to restore`);
    return {
      name: j.name,
      pipeline: j.pipeline,
      does: j.does,
      sql: j.sql,
      parallelism: j.parallelism,
      taskManagerMemoryMiB: parseMemoryMiB(j.taskManagerMemory)!,
      jobManagerMemoryMiB: parseMemoryMiB(j.jobManagerMemory)!,
      checkpointIntervalMs: parseDurationMs(j.checkpointInterval)!,
      upgradeMode: j.upgradeMode,
      allowNonRestoredState: j.allowNonRestoredState ?? false,
      ...(j.gateTimeout ? { gateTimeoutMs: parseDurationMs(j.gateTimeout)! } : {}),
      ...(j.restoreFrom ? { restoreFrom: j.restoreFrom } : {}),
    };
  });
  if (problems.length) throw new Error(`${file}: invalid job table\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return jobs;
}

export function readJobSql(job: Pick<JobSpec, "sql">): string {
  return fs.readFileSync(path.join(SQL_DIR, job.sql), "utf8");
}
