import { getAnswer } from "./answers";
import { requestJson, RetryPolicy } from "../platform/http";

/**
 * Client of the JobManager REST API (Flink 1.20, /v1): job status, checkpoints, stop with a
 * savepoint, cancel. Asynchronous operations (savepoints) are polled until they complete.
 * See docs/content/docs/ops/rest_api.md in apache/flink.
 */

export type JobState =
  | "INITIALIZING" | "CREATED" | "RUNNING" | "FAILING" | "FAILED" | "CANCELLING" | "CANCELED"
  | "FINISHED" | "RESTARTING" | "SUSPENDED" | "RECONCILING";

export interface JobOverview {
  readonly jid: string;
  readonly name: string;
  readonly state: JobState;
  readonly "start-time": number;
}

export interface CheckpointCounts {
  readonly completed: number;
  readonly failed: number;
  readonly inProgress: number;
  /** External path of the latest completed checkpoint, if any. */
  readonly latestPath?: string;
  /** The checkpoint or savepoint the job last restored from after a failover or resubmission. */
  readonly restored?: { readonly id: number; readonly restoreTimestamp: number; readonly path?: string };
}

/** Rows that reached the tasks holding a job's sinks: what tells a job that wrote from one that idled. */
export interface SinkFlow {
  /** Rows into the job's terminal tasks (those that hold its sinks), summed over them. */
  readonly rowsToSinks: number;
  /** Terminal tasks whose rows could not be counted: no input edge and no source operator's numRecordsOut. */
  readonly uncountedSinks: number;
}

/**
 * The first line of a Java stack trace and its root cause, where the reason usually is, when that
 * differs: the last "Caused by:" of the most deeply nested chain (Flink often wraps the failure in a
 * suppressed exception: a JDBC sink's refusal sits under "Suppressed:" of "Could not perform
 * checkpoint"), never a "[CIRCULAR REFERENCE: …]" marker.
 */
export function summarizeTrace(trace: string | undefined | null): string | undefined {
  const lines = (trace ?? "").split("\n").filter((l) => l.trim());
  if (lines.length === 0) return undefined;
  const first = lines[0].trim();
  let root: { depth: number; text: string } | undefined;
  for (const l of lines) {
    const m = /^(\s*)Caused by: (.*)$/.exec(l);
    if (!m || m[2].startsWith("[CIRCULAR REFERENCE")) continue;
    const depth = m[1].replace(/ {4}/g, "\t").length;
    if (!root || depth >= root.depth) root = { depth, text: m[2].trim() };
  }
  return root && !first.includes(root.text) ? `${first} ... caused by ${root.text}` : first;
}

export class JobManagerClient {
  constructor(
    readonly baseUrl: string,
    private readonly retry?: RetryPolicy,
  ) {}

  private url(p: string) {
    return `${this.baseUrl.replace(/\/$/, "")}${p}`;
  }

  async jobs(): Promise<JobOverview[]> {
    return (await getAnswer("jobsOverview", "GET", this.url("/jobs/overview"), undefined, { retry: this.retry })).jobs.map((j) => ({ ...j, state: j.state as JobState }));
  }

  /** The job's state, or undefined when the cluster does not know it (never ran, or forgotten). */
  async state(jobId: string): Promise<JobState | undefined> {
    try {
      return (await getAnswer("jobDetails", "GET", this.url(`/jobs/${jobId}`), undefined, { retry: this.retry })).state as JobState;
    } catch (e) {
      if ((e as { status?: number }).status === 404) return undefined;
      throw e;
    }
  }

  /** The job's global job parameters (pipeline.global-job-parameters), as Flink shows them in its configuration. */
  async jobParameters(jobId: string): Promise<Record<string, string>> {
    const r = await getAnswer("jobConfig", "GET", this.url(`/jobs/${jobId}/config`), undefined, { retry: this.retry });
    return r["execution-config"]?.["user-config"] ?? {};
  }

  /** Why the job failed, from its exception history (Flink's own message). */
  async failureCause(jobId: string): Promise<string | undefined> {
    const r = await getAnswer("jobExceptions", "GET", this.url(`/jobs/${jobId}/exceptions?maxExceptions=1`), undefined, { retry: this.retry });
    return summarizeTrace(r.exceptionHistory?.entries?.[0]?.stacktrace ?? r["root-exception"]);
  }

  /**
   * Rows that entered the job's terminal tasks (the vertices no other vertex reads: where the sinks
   * are), from the job's plan and its vertices' read-records. The JobManager serves these counts from
   * its metric fetcher, so they lag the tasks by up to metrics.fetcher.update-interval (2 s on the stacks' clusters).
   */
  async sinkFlow(jobId: string): Promise<SinkFlow> {
    const r = await getAnswer("jobDetails", "GET", this.url(`/jobs/${jobId}`), undefined, { retry: this.retry });
    const nodes = r.plan?.nodes ?? [];
    if (nodes.length === 0) return { rowsToSinks: 0, uncountedSinks: 1 };
    const read = new Set(nodes.flatMap((n) => (n.inputs ?? []).map((i) => i.id)));
    const rows = new Map((r.vertices ?? []).map((v) => [v.id, v.metrics?.["read-records"] ?? 0]));
    let rowsToSinks = 0;
    let uncountedSinks = 0;
    for (const n of nodes.filter((n) => !read.has(n.id))) {
      if ((n.inputs ?? []).length > 0) {
        rowsToSinks += rows.get(n.id) ?? 0;
        continue;
      }
      // Source and sink chained in one task (CDC -> Kafka): no edge to count, so the rows its sources emitted.
      const emitted = await this.sourceRecordsOut(jobId, n.id);
      if (emitted === undefined) uncountedSinks++;
      else rowsToSinks += emitted;
    }
    return { rowsToSinks, uncountedSinks };
  }

  /** What a task's source operators emitted (their numRecordsOut, summed over subtasks), or undefined when it has none. */
  private async sourceRecordsOut(jobId: string, vertexId: string): Promise<number | undefined> {
    const base = this.url(`/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics`);
    const names = (await requestJson<{ id: string }[]>("GET", base, undefined, { retry: this.retry })).map((m) => m.id).filter((id) => /^Source__.*\.numRecordsOut$/.test(id));
    if (names.length === 0) return undefined;
    const values = await requestJson<{ id: string; sum?: number }[]>("GET", `${base}?get=${names.map(encodeURIComponent).join(",")}&agg=sum`, undefined, { retry: this.retry });
    return values.reduce((a, v) => a + (v.sum ?? 0), 0);
  }

  async checkpoints(jobId: string): Promise<CheckpointCounts> {
    const r = await getAnswer("checkpoints", "GET", this.url(`/jobs/${jobId}/checkpoints`), undefined, { retry: this.retry });
    return {
      completed: r.counts.completed,
      failed: r.counts.failed,
      inProgress: r.counts.in_progress,
      // The newer of the latest checkpoint and the latest savepoint (a stop-with-savepoint's is the job's last state).
      latestPath: [r.latest?.completed, r.latest?.savepoint].flatMap((c) => (c?.external_path ? [{ id: c.id, path: c.external_path }] : [])).sort((a, b) => b.id - a.id)[0]?.path,
      restored: r.latest?.restored ? { id: r.latest.restored.id, restoreTimestamp: r.latest.restored.restore_timestamp, path: r.latest.restored.external_path ?? undefined } : undefined,
    };
  }

  /** Polls until the job reaches one of `states`; fails fast on FAILED, naming Flink's cause. */
  /** How often the job restarted since it was submitted: the JobManager's numRestarts gauge (observed on 1.20.3). */
  async restarts(jobId: string): Promise<number> {
    const metrics = await requestJson<{ id: string; value?: string }[]>("GET", this.url(`/jobs/${jobId}/metrics?get=numRestarts`), undefined, { retry: this.retry });
    return Number(metrics.find((m) => m.id === "numRestarts")?.value ?? 0);
  }

  async waitFor(jobId: string, states: JobState[], timeoutMs = 120000): Promise<JobState> {
    const deadline = Date.now() + timeoutMs;
    let last: JobState | undefined;
    for (;;) {
      last = await this.state(jobId);
      if (last && states.includes(last)) return last;
      if (last === "FAILED" && !states.includes("FAILED")) throw new Error(`job ${jobId} failed: ${await this.failureCause(jobId)}`);
      if (Date.now() > deadline) throw new Error(`job ${jobId} is ${last ?? "unknown to the JobManager"} after ${timeoutMs} ms, expected ${states.join(" or ")}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Waits until `n` more checkpoints completed than `after` (counting from the job's start). */
  async waitForCheckpoints(jobId: string, n: number, timeoutMs = 180000, after?: number): Promise<CheckpointCounts> {
    const base = after ?? (await this.checkpoints(jobId)).completed;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await this.checkpoints(jobId);
      if (c.completed >= base + n) return c;
      if (Date.now() > deadline) throw new Error(`job ${jobId}: ${c.completed - base} of ${n} checkpoints completed after ${timeoutMs} ms (${c.failed} failed)`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** The newest job of this name the JobManager remembers, in any state. */
  async newest(name: string): Promise<JobOverview | undefined> {
    return (await this.jobs()).filter((j) => j.name === name).sort((a, b) => b["start-time"] - a["start-time"])[0];
  }

  /** A job of this name that is running or about to (the newest), if any. */
  async findActive(name: string): Promise<JobOverview | undefined> {
    const active: JobState[] = ["INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "RECONCILING"];
    return (await this.jobs()).filter((j) => j.name === name && active.includes(j.state)).sort((a, b) => b["start-time"] - a["start-time"])[0];
  }

  /**
   * Waits until the job and every one of its tasks run. A job that fails or starts restarting
   * instead is reported with Flink's own message (its exception history).
   */
  async waitForRunningTasks(jobId: string, timeoutMs = 180000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await getAnswer("jobDetails", "GET", this.url(`/jobs/${jobId}`), undefined, { retry: this.retry });
      const state = r.state as JobState;
      if (["FAILED", "FAILING", "RESTARTING", "CANCELED", "CANCELLING"].includes(state)) {
        throw new Error(`job ${jobId} is ${state}: ${(await this.failureCause(jobId).catch(() => undefined)) ?? "no cause reported"}`);
      }
      const vertices: { status: string }[] = r.vertices ?? [];
      if (state === "RUNNING" && vertices.length > 0 && vertices.every((v) => v.status === "RUNNING" || v.status === "FINISHED")) return;
      if (Date.now() > deadline) throw new Error(`job ${jobId} is ${state} with tasks ${vertices.map((v) => v.status).join(",")} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  /** Stops the job with a savepoint (drain=false: keeps state for a resume) and returns its path. */
  async stopWithSavepoint(jobId: string, targetDirectory?: string, timeoutMs = 300000): Promise<string> {
    const { "request-id": id } = await getAnswer(
      "triggered",
      "POST",
      this.url(`/jobs/${jobId}/stop`),
      { drain: false, ...(targetDirectory ? { targetDirectory } : {}), formatType: "CANONICAL" },
      { retry: this.retry, idempotent: false },
    );
    return this.savepointResult(jobId, id, timeoutMs);
  }

  /** The newest savepoint the JobManager recorded for the job (a stop-with-savepoint's among them). */
  async latestSavepoint(jobId: string): Promise<string | undefined> {
    const r = await getAnswer("checkpoints", "GET", this.url(`/jobs/${jobId}/checkpoints`), undefined, { retry: this.retry });
    return r.latest?.savepoint?.external_path ?? undefined;
  }

  /** Takes a savepoint and leaves the job running. */
  async triggerSavepoint(jobId: string, targetDirectory?: string, timeoutMs = 300000): Promise<string> {
    const { "request-id": id } = await getAnswer(
      "triggered",
      "POST",
      this.url(`/jobs/${jobId}/savepoints`),
      { "cancel-job": false, ...(targetDirectory ? { "target-directory": targetDirectory } : {}), formatType: "CANONICAL" },
      { retry: this.retry },
    );
    return this.savepointResult(jobId, id, timeoutMs);
  }

  private async savepointResult(jobId: string, requestId: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await getAnswer("savepointStatus", "GET", this.url(`/jobs/${jobId}/savepoints/${requestId}`), undefined, { retry: this.retry });
      if (r.status.id === "COMPLETED") {
        if (r.operation?.location) return r.operation.location;
        throw new Error(`savepoint of job ${jobId} failed: ${String(r.operation?.["failure-cause"]?.["stack-trace"] ?? "no cause given").split("\n")[0]}`);
      }
      if (Date.now() > deadline) throw new Error(`savepoint of job ${jobId} not complete after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  async cancel(jobId: string): Promise<void> {
    await requestJson("PATCH", this.url(`/jobs/${jobId}?mode=cancel`), undefined, { retry: this.retry });
  }
}
