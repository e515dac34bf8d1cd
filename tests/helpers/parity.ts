import * as fs from "fs";
import * as path from "path";
import { explainJobScript } from "../../components/jobs/submit";
import { jobScript } from "../../components/jobs/script";
import { loadJobTable, SQL_DIR } from "../../components/config/jobTable";
import { sandboxJobEnvironment, sandboxJobSecrets } from "../../sandbox/jobs";
import { flink, PaimonReader } from "./pipelines";

type Row = Record<string, unknown>;

/**
 * Runs two queries over the same numbered inputs (each row has the input's index as `id`) and lists,
 * per input, the columns whose values differ: how a rewrite is proven to answer exactly as before.
 */
export async function compareById(reader: PaimonReader, beforeSql: string, afterSql: string, inputs: readonly unknown[]) {
  const byId = (rows: Row[]) => new Map(rows.map((r) => [Number(r.id), r]));
  const before = byId(await reader.rows(beforeSql));
  const after = byId(await reader.rows(afterSql));
  const differences = inputs.flatMap((input, i) => {
    const b = before.get(i) ?? {};
    const a = after.get(i) ?? {};
    const columns = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((c) => JSON.stringify(b[c]) !== JSON.stringify(a[c]));
    return columns.length ? [{ input, differ: Object.fromEntries(columns.map((c) => [c, { before: b[c], after: a[c] }])) }] : [];
  });
  return { before, after, differences };
}

/** The "Optimized Execution Plan" section of a job's EXPLAIN, as the sandbox would run it. */
export async function optimizedPlan(jobName: string): Promise<string> {
  const job = loadJobTable().find((j) => j.name === jobName);
  if (!job) throw new Error(`no job ${jobName} in sql/jobs.yaml`);
  const plan = await explainJobScript(flink().gw, jobScript(job, sandboxJobEnvironment(undefined, job.name)), sandboxJobSecrets(job.name));
  return plan.split("== Optimized Execution Plan ==")[1]?.split("== Physical Execution Plan ==")[0] ?? "";
}

/**
 * A reader session for comparing over literal rows, with the functions a job's SQL file registers
 * (its own statements, so a typo in a class name fails here first).
 */
export async function paritySession(jobSqlFile: string): Promise<PaimonReader> {
  const reader = await new PaimonReader().open();
  // A few literal rows need no parallelism, and pipelined exchanges (streaming mode, bounded input):
  // a batch job's blocking shuffle wants 512 network buffers the running jobs already hold.
  await reader.rows("SET 'parallelism.default' = '1'");
  await reader.rows("SET 'execution.runtime-mode' = 'streaming'");
  const registrations = fs.readFileSync(path.join(SQL_DIR, jobSqlFile), "utf8").match(/CREATE TEMPORARY SYSTEM FUNCTION[^;]*/g) ?? [];
  if (!registrations.length) throw new Error(`${jobSqlFile} registers no function`);
  for (const r of registrations) await reader.rows(r);
  return reader;
}
