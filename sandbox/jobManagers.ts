import { CheckpointCounts, JobManagerClient, JobOverview, JobState } from "../components/flink/jobManager";
import { describe } from "./index";

/**
 * The JobManagers of the sandbox's session clusters as one client: a job id is answered by the
 * cluster that knows it (ids are random, so at most one does), a job name by the newest of that name on
 * any cluster, and the job list is every cluster's. What reads or acts on a job of the local stack
 * needs no idea of where the stack's routing put it.
 */
export class SandboxJobManagers {
  readonly clusters: readonly JobManagerClient[];

  constructor(restUrls: readonly string[]) {
    this.clusters = restUrls.map((u) => new JobManagerClient(u));
  }

  /** The cluster that knows this job id; the first (the SQL Gateway's own) when none does. */
  async clusterOf(jobId: string): Promise<JobManagerClient> {
    for (const c of this.clusters) if ((await c.state(jobId)) !== undefined) return c;
    return this.clusters[0];
  }

  async jobs(): Promise<JobOverview[]> {
    return (await Promise.all(this.clusters.map((c) => c.jobs()))).flat();
  }

  async state(jobId: string): Promise<JobState | undefined> {
    for (const c of this.clusters) {
      const s = await c.state(jobId);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  async newest(name: string): Promise<JobOverview | undefined> {
    return (await this.jobs()).filter((j) => j.name === name).sort((a, b) => b["start-time"] - a["start-time"])[0];
  }

  async findActive(name: string): Promise<JobOverview | undefined> {
    for (const c of this.clusters) {
      const j = await c.findActive(name);
      if (j) return j;
    }
    return undefined;
  }

  async checkpoints(jobId: string): Promise<CheckpointCounts> {
    return (await this.clusterOf(jobId)).checkpoints(jobId);
  }

  async waitForCheckpoints(jobId: string, n: number, timeoutMs?: number, after?: number): Promise<CheckpointCounts> {
    return (await this.clusterOf(jobId)).waitForCheckpoints(jobId, n, timeoutMs, after);
  }

  async waitFor(jobId: string, states: JobState[], timeoutMs?: number): Promise<JobState> {
    // A job just submitted may not be known to its cluster yet: looked up until the wait's own deadline.
    const deadline = Date.now() + (timeoutMs ?? 120000);
    let c = await this.clusterOf(jobId);
    while ((await c.state(jobId)) === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      c = await this.clusterOf(jobId);
    }
    return c.waitFor(jobId, states, Math.max(1000, deadline - Date.now()));
  }

  async waitForRunningTasks(jobId: string, timeoutMs?: number): Promise<void> {
    return (await this.clusterOf(jobId)).waitForRunningTasks(jobId, timeoutMs);
  }

  async restarts(jobId: string): Promise<number> {
    return (await this.clusterOf(jobId)).restarts(jobId);
  }

  async failureCause(jobId: string): Promise<string | undefined> {
    return (await this.clusterOf(jobId)).failureCause(jobId);
  }

  async jobParameters(jobId: string): Promise<Record<string, string>> {
    return (await this.clusterOf(jobId)).jobParameters(jobId);
  }

  async sinkFlow(jobId: string): ReturnType<JobManagerClient["sinkFlow"]> {
    return (await this.clusterOf(jobId)).sinkFlow(jobId);
  }

  async latestSavepoint(jobId: string): Promise<string | undefined> {
    return (await this.clusterOf(jobId)).latestSavepoint(jobId);
  }

  async stopWithSavepoint(jobId: string, targetDirectory?: string, timeoutMs?: number): Promise<string> {
    return (await this.clusterOf(jobId)).stopWithSavepoint(jobId, targetDirectory, timeoutMs);
  }

  async triggerSavepoint(jobId: string, targetDirectory?: string, timeoutMs?: number): Promise<string> {
    return (await this.clusterOf(jobId)).triggerSavepoint(jobId, targetDirectory, timeoutMs);
  }

  async cancel(jobId: string): Promise<void> {
    return (await this.clusterOf(jobId)).cancel(jobId);
  }
}

/** Every session cluster of the running sandbox, the SQL Gateway's own first. */
export function sandboxJobManagers(): SandboxJobManagers {
  const f = describe().endpoints.flink;
  return new SandboxJobManagers([f.restUrl, ...f.clusters.map((c) => c.restUrl)]);
}
