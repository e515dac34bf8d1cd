import type { JobBackend, JobProgress } from "../../components/jobs/backend";
import { createJob, describeAction, FlinkSqlJobOutputs, gateTimeoutMs, GATE_CHECKPOINTS, isUpgradeFailed, LifecycleDeps, passGate, planRestore, restoreRequested, sqlVersion, updateJob, VersionRecord } from "../../components/jobs/provider";
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

  it("a last-state upgrade cancels first, then restores from the checkpoint Flink retained at cancellation (not one read before it)", async () => {
    const { calls, backend, deps } = scripted({});
    let cancelled = false;
    backend.cancel = async (j) => void (calls.push(`cancel ${j.jobId}`), (cancelled = true));
    backend.latestCheckpoint = async (j) => (calls.push(`latest-checkpoint ${j.jobId}`), cancelled ? "s3://b/checkpoints/chk-retained-at-cancel" : "s3://b/checkpoints/chk-read-while-running");
    const olds: FlinkSqlJobOutputs = { ...inputs, upgradeMode: "last-state", script: { ...inputs.script, statements: ["INSERT INTO a SELECT 1"] }, jobId: "j1", status: "RUNNING", savepoints: [] };
    const outs = await updateJob(deps, olds, { ...inputs, upgradeMode: "last-state", stateCheck: { kind: "unknown", reason: "test" } });
    expect(calls).toEqual(["cancel j1", "latest-checkpoint j1", "submit j2 restore=s3://b/checkpoints/chk-retained-at-cancel sql=INSERT INTO a SELECT 2"]);
    expect(outs.restoredFrom).toBe("s3://b/checkpoints/chk-retained-at-cancel");
  });

  it("a first submission that fails the gate is cancelled and create fails", async () => {
    const { calls, deps } = scripted({ j2: [running(0, 1)] });
    await expect(createJob(deps, inputs)).rejects.toThrow(/failed the upgrade gate: it restarted 1 time/);
    expect(calls).toEqual(["submit j2 restore=- sql=INSERT INTO a SELECT 2", "cancel j2"]);
  });
});

describe("restoreFrom: any kept savepoint restorable, judged and rolled back like an upgrade", () => {
  const v1 = { ...inputs.script, statements: ["INSERT INTO a SELECT 1"] };
  const withVersions = (deps: LifecycleDeps, written: Record<string, VersionRecord>, listed: string[]) => {
    const records: Record<string, VersionRecord> = { ...written };
    const d: LifecycleDeps = {
      ...deps,
      listSavepoints: async () => listed,
      readVersion: async (p) => records[p],
      writeVersion: async (p, r) => void (records[p] = r),
      // Every plan compiles to the same stateful operators: the state maps.
      explain: async () => '== Physical Execution Plan ==\n{"nodes":[{"id":1,"type":"Source: a","contents":"Source: a","parallelism":1}]}',
    };
    return { deps: d, records };
  };
  const olds: FlinkSqlJobOutputs = { ...inputs, jobId: "j1", status: "RUNNING", savepoints: ["s3://b/savepoints/rt-trk-dws/sp-0", "s3://b/savepoints/rt-trk-dws/sp-1"] };

  it("'previous' resolves to the newest kept savepoint; preview names it, the SQL that wrote it and the verdict", async () => {
    const { deps } = withVersions(scripted({}).deps, { "s3://b/savepoints/rt-trk-dws/sp-1": { job: "rt-trk-dws", sqlVersion: sqlVersion(v1), takenAt: "2026-12-06T10:00:00Z", script: v1 } }, ["s3://b/savepoints/rt-trk-dws/sp-1", "s3://b/savepoints/rt-trk-dws/sp-0"]);
    const news = { ...inputs, restoreFrom: "previous" };
    expect(restoreRequested(olds, news)).toBe(true);
    expect(restoreRequested({ ...olds, restoreFrom: "previous" }, news)).toBe(false);
    const plan = await planRestore(deps, news);
    expect(plan).toMatchObject({ from: "s3://b/savepoints/rt-trk-dws/sp-1", sqlVersion: sqlVersion(v1), stateCheck: { kind: "compared", restorable: true } });
    expect(describeAction(olds, { ...news, restore: plan })).toBe(
      `restore from s3://b/savepoints/rt-trk-dws/sp-1 (written by SQL version ${sqlVersion(v1)} at 2026-12-06T10:00:00Z; running: ${sqlVersion(news.script)}): stop the running version with a savepoint (kept for rollback), start the current SQL from it; state restorable`,
    );
    const none = withVersions(scripted({}).deps, {}, []);
    expect(await planRestore(none.deps, news)).toEqual({ problem: "no savepoint of rt-trk-dws is kept under s3://b/savepoints/rt-trk-dws" });
    expect(describeAction(olds, { ...news, restore: { problem: "no savepoint of rt-trk-dws is kept under s3://b/savepoints/rt-trk-dws" } })).toMatch(/^restore \(restoreFrom: previous\) REFUSED by up: no savepoint/);
  });

  it("up stops the running version with a savepoint that records its SQL, starts from the chosen one through the gate, and never deletes the one it restored from", async () => {
    const { calls, deps: base } = scripted({});
    const { deps, records } = withVersions(base, {}, []);
    const news = { ...inputs, script: v1, savepointsToKeep: 2, restoreFrom: "s3://b/savepoints/rt-trk-dws/sp-0", restore: { from: "s3://b/savepoints/rt-trk-dws/sp-0", stateCheck: { kind: "compared" as const, restorable: true, dropped: [], sinksRecreated: [], incompatible: [] } } };
    const outs = await updateJob(deps, { ...olds, script: v1 }, news);
    expect(calls).toEqual(["stop-with-savepoint j1", "submit j2 restore=s3://b/savepoints/rt-trk-dws/sp-0 sql=INSERT INTO a SELECT 1"]);
    expect(records["s3://b/savepoints/rt-trk-dws/savepoint-upgrade"]).toMatchObject({ job: "rt-trk-dws", sqlVersion: sqlVersion(v1), script: v1 });
    // Two kept: the restored one survives, the oldest other one goes.
    expect(outs).toMatchObject({ jobId: "j2", restoredFrom: "s3://b/savepoints/rt-trk-dws/sp-0", savepoints: ["s3://b/savepoints/rt-trk-dws/sp-0", "s3://b/savepoints/rt-trk-dws/savepoint-upgrade"], sqlVersion: sqlVersion(v1) });
    expect(outs.savepointVersions?.map((v) => v.path)).toEqual(["s3://b/savepoints/rt-trk-dws/savepoint-upgrade"]);
  });

  it("a restore that fails the gate: the version that ran is resubmitted from the savepoint just taken, up fails naming both", async () => {
    const { calls, deps: base } = scripted({ j2: [running(0, 1)], j3: [running(2)] }, { j2: "java.lang.IllegalStateException: boom" });
    const { deps } = withVersions(base, {}, []);
    const ran = { ...olds, script: v1 };
    const err = (await updateJob(deps, ran, { ...inputs, restoreFrom: "s3://b/savepoints/rt-trk-dws/sp-0", restore: { from: "s3://b/savepoints/rt-trk-dws/sp-0" } }).catch((e: unknown) => e)) as Error & { properties: FlinkSqlJobOutputs };
    expect(calls).toEqual([
      "stop-with-savepoint j1",
      "submit j2 restore=s3://b/savepoints/rt-trk-dws/sp-0 sql=INSERT INTO a SELECT 2",
      "cancel j2",
      "submit j3 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 1",
    ]);
    expect(e(err).message).toBe(
      "rt-trk-dws: the restore from s3://b/savepoints/rt-trk-dws/sp-0 did not start: rt-trk-dws (job j2) failed the upgrade gate: it restarted 1 time(s) within 0 s of its start; Flink's root exception: java.lang.IllegalStateException: boom; the version that ran was resubmitted from s3://b/savepoints/rt-trk-dws/savepoint-upgrade and runs as job j3.",
    );
    // The restore is not recorded as done: the next up tries it again.
    expect(err.properties).toMatchObject({ jobId: "j3", script: v1 });
    expect(err.properties.restoreFrom).toBeUndefined();
  });

  it("a savepoint the current SQL cannot restore is refused before anything is touched; a stateless job cannot restore", async () => {
    const { calls, deps } = scripted({});
    const stateCheck = { kind: "compared" as const, restorable: false, dropped: ["GroupAggregate(groupBy=[dt])"], sinksRecreated: [], incompatible: [] };
    await expect(updateJob(deps, olds, { ...inputs, restoreFrom: "previous", restore: { from: "s3://b/savepoints/rt-trk-dws/sp-1", stateCheck } })).rejects.toThrow(
      /rt-trk-dws: the current SQL would not restore s3:\/\/b\/savepoints\/rt-trk-dws\/sp-1 \(.*GroupAggregate\(groupBy=\[dt\]\).*\)\. Nothing was changed/,
    );
    expect(calls).toEqual([]);
    await expect(updateJob(deps, { ...olds, upgradeMode: "stateless" }, { ...inputs, upgradeMode: "stateless", restoreFrom: "previous" })).rejects.toThrow(/a stateless job has no state to restore/);
  });
});

const e = (x: unknown) => x as Error;
