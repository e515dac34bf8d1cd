import { sandboxJobManagers } from "./jobManagers";
import { loadJobTable, readJobSql } from "../components/config/jobTable";
import { pulumi } from "./engine";

/** One job of the `local` stack's `jobs` output. */
export interface LocalJob {
  readonly jobId: string;
  readonly status: string;
  readonly plannedAction: string;
}

/** The `local` stack's outputs as `pulumi stack output --json` prints them. */
export async function localStackJobs(): Promise<Record<string, LocalJob>> {
  const out = await pulumi("local", ["stack", "output", "jobs", "--json"], { quiet: true });
  if (out.code !== 0) throw new Error(`pulumi stack output --stack local failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as Record<string, LocalJob>;
}

/**
 * `pulumi up --refresh --stack local` through the engine (what `npm run demo` and the pipeline tests
 * run): the topics, the job table's FlinkSqlJobs and the alert rules on the running sandbox. Then, as a
 * CDC job submitted just now first snapshots the tables (rows written meanwhile could reach ODS twice),
 * waits for two completed checkpoints of each CDC job: the snapshot of the sandbox's data is done.
 */
export async function upLocalStack(o: { quiet?: boolean } = {}): Promise<Record<string, LocalJob>> {
  const up = await pulumi("local", ["up", "--yes", "--refresh", "--skip-preview"], { quiet: o.quiet });
  if (up.code !== 0) throw new Error(`pulumi up --stack local failed (exit ${up.code})${o.quiet ? `:\n${(up.stdout + up.stderr).slice(-4000)}` : "; its output is above"}`);
  const jobs = await localStackJobs();
  const jm = sandboxJobManagers();
  for (const job of loadJobTable().filter((j) => /mysql\.cdc/.test(readJobSql(j)))) {
    const id = jobs[job.name]?.jobId;
    if (id && (await jm.checkpoints(id)).completed < 2) await jm.waitForCheckpoints(id, 2, 180000, 0);
  }
  return jobs;
}
