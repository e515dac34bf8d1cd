import { JobManagerClient, JobState } from "../flink/jobManager";
import { requestJson, RetryPolicy } from "../platform/http";
import { SqlGatewayClient } from "../flink/sqlGateway";
import { submitJobScript } from "./submit";
import { SecretName } from "./render";
import { JobScript } from "./script";
import type { SessionCluster } from "../flink/sqlGateway";

/**
 * What FlinkSqlJob needs from wherever jobs run. Two implementations, chosen by stack config: the
 * Flink SQL Gateway + JobManager REST API, and StreamPark's API (for stacks operated from its console).
 * Identifiers a backend needs later (StreamPark's app id) travel in `ref`, kept in the resource's state.
 */
export interface JobRef {
  readonly jobId: string;
  /** Backend-specific identifiers, e.g. { appId } for StreamPark. */
  readonly ref?: Readonly<Record<string, string>>;
}

export interface SubmitRequest {
  readonly script: JobScript;
  readonly secrets: Partial<Record<SecretName, string>>;
  /** Restore from this savepoint or retained checkpoint. */
  readonly restorePath?: string;
  readonly allowNonRestoredState?: boolean;
  /** The previous submission of the same job (StreamPark updates its app instead of creating one). */
  readonly previous?: JobRef;
  /** Where the job's checkpoints go (execution.checkpointing.dir), by job name. */
  readonly checkpointDir?: string;
}

/** What a running job has done since it was submitted: what the upgrade gate judges. */
export interface JobProgress {
  readonly state: JobState | undefined;
  /** Checkpoints completed by this job id (after its restore, if it restored). */
  readonly completedCheckpoints: number;
  readonly failedCheckpoints: number;
  /** Restarts since it was submitted (a failover restarts it from its last checkpoint). */
  readonly restarts: number;
  /** Rows that reached the tasks holding its sinks since it was submitted (lagging by the metric fetcher's interval). */
  readonly rowsToSinks?: number;
  /** Terminal tasks whose rows cannot be counted (no input edge and no source operator metrics). */
  readonly uncountedSinks?: number;
}

export interface JobBackend {
  readonly kind: "sql-gateway" | "streampark";
  /** Waits until the backend answers, or fails after `timeoutMs` naming what it tried. */
  ready(timeoutMs: number): Promise<void>;
  submit(req: SubmitRequest): Promise<JobRef>;
  /** The job's state, undefined when the cluster does not know it. */
  state(job: JobRef): Promise<JobState | undefined>;
  /** Flink's own message for a failed job. */
  failureCause(job: JobRef): Promise<string | undefined>;
  stopWithSavepoint(job: JobRef, targetDirectory: string): Promise<string>;
  cancel(job: JobRef): Promise<void>;
  /** The latest completed (retained) checkpoint, for last-state upgrades. */
  latestCheckpoint(job: JobRef): Promise<string | undefined>;
  /** Waits until the job and all its tasks run; fails with Flink's message if it fails instead. */
  waitUntilRunning(job: JobRef, timeoutMs: number): Promise<void>;
  /** Checkpoints and restarts of the job since it was submitted (the JobManager's own counts). */
  progress(job: JobRef): Promise<JobProgress>;
  /** The running job of this name, if any (finds a job after a rollback or a restart outside Pulumi). */
  findActive(name: string, previous?: JobRef): Promise<JobRef | undefined>;
  /** The job's global job parameters: where a submitted version carries its SQL version (rtdw.sql-version). */
  jobParameters(job: JobRef): Promise<Record<string, string>>;
  /** The newest job of this name in any state (another stack or a person may have run it since), if the backend remembers one. */
  newest(name: string, previous?: JobRef): Promise<JobRef | undefined>;
}

/** Polls `probe` until it succeeds; the error names the endpoint and the last failure. */
export async function waitUntilReady(what: string, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 500;
  let last = "";
  for (;;) {
    try {
      await probe();
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() + delay > deadline) throw new Error(`${what} not ready after ${Math.round(timeoutMs / 1000)} s: ${last}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

export interface SqlGatewayEndpoints {
  readonly sqlGatewayUrl: string;
  readonly jobManagerUrl: string;
  /** The job's session cluster as the gateway reaches it; unset, the gateway's own. */
  readonly cluster?: SessionCluster;
}

/** Jobs submitted as SQL scripts through the SQL Gateway; lifecycle through the JobManager REST API. */
export class SqlGatewayBackend implements JobBackend {
  readonly kind = "sql-gateway" as const;
  private readonly gw: SqlGatewayClient;
  private readonly jm: JobManagerClient;

  constructor(
    readonly endpoints: SqlGatewayEndpoints,
    retry?: RetryPolicy,
  ) {
    this.gw = new SqlGatewayClient(endpoints.sqlGatewayUrl, retry);
    this.jm = new JobManagerClient(endpoints.jobManagerUrl, retry);
  }

  async ready(timeoutMs: number): Promise<void> {
    const once = { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 };
    await waitUntilReady(`Flink SQL Gateway at ${this.endpoints.sqlGatewayUrl}`, () => requestJson("GET", `${this.endpoints.sqlGatewayUrl.replace(/\/$/, "")}/v2/info`, undefined, { retry: once, timeoutMs: 5000 }), timeoutMs);
    await waitUntilReady(`Flink JobManager at ${this.endpoints.jobManagerUrl}`, () => requestJson("GET", `${this.endpoints.jobManagerUrl.replace(/\/$/, "")}/overview`, undefined, { retry: once, timeoutMs: 5000 }), timeoutMs);
  }

  async submit(req: SubmitRequest): Promise<JobRef> {
    const t0 = Date.now();
    try {
      const jobId = await submitJobScript(this.gw, req.script, req.secrets, { savepointPath: req.restorePath, allowNonRestoredState: req.allowNonRestoredState, checkpointDir: req.checkpointDir, cluster: this.endpoints.cluster });
      return { jobId };
    } catch (e) {
      // The submission may have gone through although its answer was lost: look before anyone sends it again.
      if (!(e as { maybeApplied?: boolean }).maybeApplied) throw e;
      const started = (await this.jm.jobs()).filter((j) => j.name === req.script.job && j["start-time"] >= t0 - 1000).sort((a, b) => b["start-time"] - a["start-time"])[0];
      if (started) return { jobId: started.jid };
      throw e;
    }
  }

  state(job: JobRef) {
    return this.jm.state(job.jobId);
  }

  failureCause(job: JobRef) {
    return this.jm.failureCause(job.jobId);
  }

  async stopWithSavepoint(job: JobRef, targetDirectory: string) {
    let path: string;
    try {
      path = await this.jm.stopWithSavepoint(job.jobId, targetDirectory);
    } catch (e) {
      if (!(e as { maybeApplied?: boolean }).maybeApplied) throw e;
      // The stop may be under way: wait for the job to end and take the savepoint it recorded, or stop it once more if it still runs.
      let state = await this.jm.state(job.jobId);
      for (const deadline = Date.now() + 120000; state === "RUNNING" && Date.now() < deadline; state = await this.jm.state(job.jobId)) {
        await new Promise((r) => setTimeout(r, 1000));
      }
      const recorded = state === "FINISHED" ? await this.jm.latestSavepoint(job.jobId) : undefined;
      if (recorded) return recorded;
      if (state !== "RUNNING") throw e;
      path = await this.jm.stopWithSavepoint(job.jobId, targetDirectory);
    }
    await this.jm.waitFor(job.jobId, ["FINISHED", "CANCELED", "FAILED"], 120000);
    return path;
  }

  async cancel(job: JobRef) {
    await this.jm.cancel(job.jobId);
    await this.jm.waitFor(job.jobId, ["CANCELED", "FAILED", "FINISHED"], 120000);
  }

  async latestCheckpoint(job: JobRef) {
    return (await this.jm.checkpoints(job.jobId)).latestPath;
  }

  waitUntilRunning(job: JobRef, timeoutMs: number) {
    return this.jm.waitForRunningTasks(job.jobId, timeoutMs);
  }

  progress(job: JobRef): Promise<JobProgress> {
    return jobProgress(this.jm, job.jobId);
  }

  jobParameters(job: JobRef): Promise<Record<string, string>> {
    return this.jm.jobParameters(job.jobId);
  }

  async findActive(name: string): Promise<JobRef | undefined> {
    const j = await this.jm.findActive(name);
    return j ? { jobId: j.jid } : undefined;
  }

  async newest(name: string): Promise<JobRef | undefined> {
    const j = await this.jm.newest(name);
    return j ? { jobId: j.jid } : undefined;
  }
}

/** A job's progress as its JobManager counts it. */
export async function jobProgress(jm: JobManagerClient, jobId: string): Promise<JobProgress> {
  const [state, checkpoints, restarts, flow] = await Promise.all([jm.state(jobId), jm.checkpoints(jobId), jm.restarts(jobId), jm.sinkFlow(jobId).catch((e) => { if ((e as { status?: number }).status === 404) return undefined; throw e; })]);
  return { state, completedCheckpoints: checkpoints.completed, failedCheckpoints: checkpoints.failed, restarts, ...flow };
}
