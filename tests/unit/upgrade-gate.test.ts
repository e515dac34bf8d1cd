import type { JobBackend, JobProgress } from "../../components/jobs/backend";
import { createJob, FlinkSqlJobOutputs, gateTimeoutMs, GATE_CHECKPOINTS, isUpgradeFailed, LifecycleDeps, passGate, updateJob } from "../../components/jobs/provider";
import { jobInputs } from "../helpers/jobInputs";

/**
 * The upgrade gate's decisions against a scripted backend: each job id answers a sequence of
 * progress readings (the JobManager's counts). The real JobManager's answers (numRestarts,
 * checkpoint counts) are exercised on the sandbox by tests/integration/flink-sql-job.test.ts.
 */
function scripted(readings: Record<string, JobProgress[]>, causes: Record<string, string> = {}) {
  const calls: string[] = [];
  let next = 2;
  const backend: JobBackend = {
    kind: "sql-gateway",
    ready: async () => undefined,
    submit: async (r) => {
      const jobId = `j${next++}`;
      calls.push(`submit ${jobId} restore=${r.restorePath ?? "-"} sql=${r.script.statements.join(";")}`);
      return { jobId };
    },
    state: async () => "RUNNING",
    failureCause: async (j) => causes[j.jobId],
    stopWithSavepoint: async (j) => (calls.push(`stop-with-savepoint ${j.jobId}`), "s3://b/savepoints/rt-trk-dws/savepoint-upgrade"),
    cancel: async (j) => void calls.push(`cancel ${j.jobId}`),
    latestCheckpoint: async () => "s3://b/checkpoints/newer-than-the-savepoint",
    waitUntilRunning: async () => undefined,
    progress: async (j) => {
      const seq = readings[j.jobId] ?? [{ state: "RUNNING", completedCheckpoints: GATE_CHECKPOINTS, failedCheckpoints: 0, restarts: 0 }];
      return seq.length > 1 ? seq.shift()! : seq[0];
    },
    findActive: async () => undefined,
    newest: async () => undefined,
  };
  const deps: LifecycleDeps = { backend: () => backend, deletePrefix: async () => undefined, listSavepoints: async () => [], explain: async () => ({ plan: "" }) as never };
  return { calls, backend, deps };
}

const running = (completedCheckpoints: number, restarts = 0, failedCheckpoints = 0): JobProgress => ({ state: "RUNNING", completedCheckpoints, failedCheckpoints, restarts });
const inputs = jobInputs({ script: { job: "rt-trk-dws", config: { "execution.checkpointing.interval": "5000 ms" }, statements: ["INSERT INTO a SELECT 2"] } });

describe("the upgrade gate: a version counts as started only when its checkpoints say so", () => {
  it("waits for two checkpoints without a restart, and reports what it saw", async () => {
    const { backend } = scripted({ j1: [running(0), running(1), running(2, 0, 1)] });
    await expect(passGate(backend, { jobId: "j1" }, inputs, 1)).resolves.toMatchObject({ checkpoints: 2, failedCheckpoints: 1, restarts: 0 });
  });

  it("fails a version that restarted, naming the restarts and Flink's root exception", async () => {
    const { backend } = scripted({ j1: [running(0), running(1, 1)] }, { j1: "java.lang.NumberFormatException: For input string: \"x\"\n\tat ..." });
    await expect(passGate(backend, { jobId: "j1" }, inputs, 1)).rejects.toThrow(
      'rt-trk-dws (job j1) failed the upgrade gate: it restarted 1 time(s) within 0 s of its start; Flink\'s root exception: java.lang.NumberFormatException: For input string: "x"',
    );
  });

  it("fails a version whose checkpoints do not complete in time, and one that is no longer running", async () => {
    const stuck = scripted({ j1: [running(0, 0, 3)] });
    await expect(passGate(stuck.backend, { jobId: "j1" }, { ...inputs, gateTimeoutSeconds: 0.02 }, 1)).rejects.toThrow(/it completed 0 of 2 checkpoints within 0 s \(3 failed\)/);
    const failed = scripted({ j1: [{ state: "FAILED", completedCheckpoints: 0, failedCheckpoints: 0, restarts: 0 }] }, { j1: "org.apache.flink.runtime.JobException: Recovery is suppressed" });
    await expect(passGate(failed.backend, { jobId: "j1" }, inputs, 1)).rejects.toThrow(/it is FAILED after 0 s; Flink's root exception: org.apache.flink.runtime.JobException/);
  });

  it("gives each job (N + 1) checkpoint intervals plus two minutes, unless the job table says otherwise", () => {
    expect(gateTimeoutMs({ config: { "execution.checkpointing.interval": "60000 ms" } })).toBe(3 * 60_000 + 120_000);
    expect(gateTimeoutMs({ config: { "execution.checkpointing.interval": "5000 ms" } }, 600)).toBe(600_000);
  });

  it("an upgrade that fails the gate is rolled back: the new version cancelled, the previous one resubmitted from the upgrade's savepoint, up fails saying all of it", async () => {
    const olds: FlinkSqlJobOutputs = { ...inputs, script: { ...inputs.script, statements: ["INSERT INTO a SELECT 1"] }, jobId: "j1", status: "RUNNING", savepoints: [] };
    const { calls, deps } = scripted({ j2: [running(0), running(0, 2)], j3: [running(2)] }, { j2: "java.lang.ArithmeticException: / by zero" });
    const err = await updateJob(deps, olds, { ...inputs, stateCheck: { kind: "unknown", reason: "test" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(calls).toEqual([
      "stop-with-savepoint j1",
      "submit j2 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 2",
      "cancel j2",
      // Never from the newer checkpoints the failed version may have written.
      "submit j3 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 1",
    ]);
    expect(isUpgradeFailed(err)).toBe(true);
    const e = err as Error & { properties: FlinkSqlJobOutputs };
    expect(e.message).toContain("it restarted 2 time(s)");
    expect(e.message).toContain("java.lang.ArithmeticException: / by zero");
    expect(e.message).toContain("the previous version was resubmitted from s3://b/savepoints/rt-trk-dws/savepoint-upgrade and runs as job j3");
    expect(e.properties).toMatchObject({ jobId: "j3", status: "RUNNING", script: olds.script, gate: { checkpoints: 2, restarts: 0 } });
  });

  it("a first submission that fails the gate is cancelled and create fails", async () => {
    const { calls, deps } = scripted({ j2: [running(0, 1)] });
    await expect(createJob(deps, inputs)).rejects.toThrow(/failed the upgrade gate: it restarted 1 time/);
    expect(calls).toEqual(["submit j2 restore=- sql=INSERT INTO a SELECT 2", "cancel j2"]);
  });
});
