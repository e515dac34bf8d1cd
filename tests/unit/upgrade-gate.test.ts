import type { JobBackend, JobProgress } from "../../components/jobs/backend";
import { createJob, describeAction, FlinkSqlJobOutputs, gateTimeoutMs, GATE_CHECKPOINTS, isUpgradeFailed, LifecycleDeps, passGate, planRestore, restoreRequested, sqlVersion, updateJob, VersionRecord } from "../../components/jobs/provider";
import { jobInputs } from "../helpers/jobInputs";

/**
 * The upgrade gate's decisions against a scripted backend: each job id answers a sequence of
 * progress readings (the JobManager's counts). The real JobManager's answers (numRestarts,
 * checkpoint counts) are exercised on the sandbox by tests/integration/flink-sql-job.test.ts.
 */
function scripted(readings: Record<string, JobProgress[]>, causes: Record<string, string> = {}, o: { active?: string; params?: Record<string, Record<string, string>>; records?: Map<string, VersionRecord> } = {}) {
  const calls: string[] = [];
  const records = o.records ?? new Map<string, VersionRecord>();
  let next = 2;
  const backend: JobBackend = {
    kind: "sql-gateway",
    ready: async () => undefined,
    submit: async (r) => {
      const jobId = `j${next++}`;
      calls.push(`submit ${jobId} restore=${r.restorePath ?? "-"} sql=${r.script.statements.join(";")}`);
      expect(r.script.config["pipeline.global-job-parameters"]).toBe(`rtdw.sql-version:${sqlVersion({ ...r.script, config: Object.fromEntries(Object.entries(r.script.config).filter(([k]) => k !== "pipeline.global-job-parameters")) })}`);
      return { jobId };
    },
    state: async () => "RUNNING",
    failureCause: async (j) => causes[j.jobId],
    jobParameters: async (j) => o.params?.[j.jobId] ?? {},
    stopWithSavepoint: async (j) => (calls.push(`stop-with-savepoint ${j.jobId}`), "s3://b/savepoints/rt-trk-dws/savepoint-upgrade"),
    cancel: async (j) => void calls.push(`cancel ${j.jobId}`),
    latestCheckpoint: async () => "s3://b/checkpoints/newer-than-the-savepoint",
    waitUntilRunning: async () => undefined,
    progress: async (j) => {
      const seq = readings[j.jobId] ?? [{ state: "RUNNING", completedCheckpoints: GATE_CHECKPOINTS, failedCheckpoints: 0, restarts: 0 }];
      return seq.length > 1 ? seq.shift()! : seq[0];
    },
    findActive: async () => (o.active ? { jobId: o.active } : undefined),
    newest: async () => undefined,
  };
  const deps: LifecycleDeps = {
    backend: () => backend,
    deletePrefix: async () => undefined,
    listSavepoints: async () => [],
    explain: async () => ({ plan: "" }) as never,
    gatePace: { pollMs: 1, metricsLagMs: 0 },
    writeVersion: async (at, r) => void records.set(at, r),
    readVersion: async (at) => records.get(at),
  };
  return { calls, backend, deps };
}

const running = (completedCheckpoints: number, restarts = 0, failedCheckpoints = 0, rowsToSinks = 0): JobProgress => ({ state: "RUNNING", completedCheckpoints, failedCheckpoints, restarts, rowsToSinks });
const inputs = jobInputs({ script: { job: "rt-trk-dws", config: { "execution.checkpointing.interval": "5000 ms" }, statements: ["INSERT INTO a SELECT 2"] } });

describe("the upgrade gate: a version counts as started only when its checkpoints say so", () => {
  it("waits for two checkpoints without a restart, and reports what it saw", async () => {
    const { backend } = scripted({ j1: [running(0), running(1), running(2, 0, 1)] });
    await expect(passGate(backend, { jobId: "j1" }, inputs, 1, 0)).resolves.toMatchObject({ checkpoints: 2, failedCheckpoints: 1, restarts: 0, sinks: "no new rows reached the sinks (nothing new to read)" });
  });

  it("with no rows seen, waits until the row counts (which lag) have had time to show any, and then judges what they show", async () => {
    // Two checkpoints at once, but the JobManager's counts lag: rows appear in a later reading, so two more checkpoints are due.
    const { backend } = scripted({ j1: [running(2), running(2), running(2, 0, 0, 40), running(3, 0, 0, 40), running(4, 0, 0, 45)] });
    await expect(passGate(backend, { jobId: "j1" }, inputs, 5, 1000)).resolves.toMatchObject({ checkpoints: 4, sinks: "45 rows reached the sinks, committed by 2 checkpoints since" });
  });

  it("once rows reach the sinks, passes only after two more checkpoints (the first commits them, the next confirms the commit)", async () => {
    const { backend } = scripted({ j1: [running(1, 0, 0, 10), running(2, 0, 0, 10), running(3, 0, 0, 12)] });
    const polls: number[] = [];
    const counting = { ...backend, progress: async (j: { jobId: string }) => { const p = await backend.progress(j); polls.push(p.completedCheckpoints); return p; } };
    await expect(passGate(counting, { jobId: "j1" }, inputs, 1, 0)).resolves.toMatchObject({ checkpoints: 3, sinks: "12 rows reached the sinks, committed by 2 checkpoints since" });
    expect(polls).toEqual([1, 2, 3]);
  });

  it("a sink refused at runtime: rows reached it, then the commit failed the job; the gate names the restart and the innermost cause", async () => {
    const trace = "java.io.IOException: Writing records to JDBC failed.\n\tat org.apache.flink.connector.jdbc.internal.JdbcOutputFormat.checkFlushException\nCaused by: java.io.IOException: java.sql.BatchUpdateException: x\nCaused by: java.sql.SQLSyntaxErrorException: INSERT command denied to user 'rtdw_dws'@'127.0.0.1' for table `dws`.`t`\n\tat com.mysql";
    const { summarizeTrace } = await import("../../components/flink/jobManager");
    const { backend } = scripted({ j1: [running(2, 0, 0, 7), running(2, 1, 1, 7)] }, { j1: summarizeTrace(trace)! });
    await expect(passGate(backend, { jobId: "j1" }, inputs, 1, 0)).rejects.toThrow(
      "it restarted 1 time(s) within 0 s of its start; Flink's root exception: java.io.IOException: Writing records to JDBC failed. ... caused by java.sql.SQLSyntaxErrorException: INSERT command denied to user 'rtdw_dws'@'127.0.0.1' for table `dws`.`t`",
    );
  });

  it("the root cause is the last 'Caused by:' of the most deeply nested chain, never a circular-reference marker (the shape Flink 1.20.3 gave a refused JDBC write)", async () => {
    const { summarizeTrace } = await import("../../components/flink/jobManager");
    const trace = [
      "java.io.IOException: Could not perform checkpoint 69 for operator GroupAggregate[1065] -> Sink: dws_trk_event_hourly[1066] (1/1)#0.",
      "\tat org.apache.flink...",
      "\tSuppressed: java.lang.RuntimeException: Writing records to JDBC failed.",
      "\tCaused by: java.io.IOException: java.sql.BatchUpdateException: INSERT, UPDATE command denied to user 'rtdw_dws'@'127.0.0.1' for table `dws`.`t`",
      "\tCaused by: java.sql.SQLSyntaxErrorException: INSERT, UPDATE command denied to user 'rtdw_dws'@'127.0.0.1' for table `dws`.`t`",
      "\t\t... 14 more",
      "Caused by: org.apache.flink.runtime.checkpoint.CheckpointException: Could not complete snapshot 69. Failure reason: Checkpoint was declined.",
      "Caused by: java.lang.RuntimeException: Writing records to JDBC failed.",
      "Caused by: [CIRCULAR REFERENCE: java.lang.RuntimeException: Writing records to JDBC failed.]",
    ].join("\n");
    expect(summarizeTrace(trace)).toBe(
      "java.io.IOException: Could not perform checkpoint 69 for operator GroupAggregate[1065] -> Sink: dws_trk_event_hourly[1066] (1/1)#0. ... caused by java.sql.SQLSyntaxErrorException: INSERT, UPDATE command denied to user 'rtdw_dws'@'127.0.0.1' for table `dws`.`t`",
    );
    expect(summarizeTrace("java.lang.IllegalStateException: boom\n\tat x")).toBe("java.lang.IllegalStateException: boom");
    expect(summarizeTrace("")).toBeUndefined();
  });

  it("rows that reached the sinks but were never committed in time fail the gate, saying so", async () => {
    const { backend } = scripted({ j1: [running(2, 0, 4, 9)] });
    await expect(passGate(backend, { jobId: "j1" }, { ...inputs, gateTimeoutSeconds: 0.02 }, 1, 0)).rejects.toThrow(/it committed no checkpoint after rows reached its sinks within 0 s \(0 of 2 completed since, 4 failed\)/);
  });

  it("fails a version that restarted, naming the restarts and Flink's root exception", async () => {
    const { backend } = scripted({ j1: [running(0), running(1, 1)] }, { j1: "java.lang.NumberFormatException: For input string: \"x\"\n\tat ..." });
    await expect(passGate(backend, { jobId: "j1" }, inputs, 1, 0)).rejects.toThrow(
      'rt-trk-dws (job j1) failed the upgrade gate: it restarted 1 time(s) within 0 s of its start; Flink\'s root exception: java.lang.NumberFormatException: For input string: "x"',
    );
  });

  it("fails a version whose checkpoints do not complete in time, and one that is no longer running", async () => {
    const stuck = scripted({ j1: [running(0, 0, 3)] });
    await expect(passGate(stuck.backend, { jobId: "j1" }, { ...inputs, gateTimeoutSeconds: 0.02 }, 1, 0)).rejects.toThrow(/it completed 0 of 2 checkpoints within 0 s \(3 failed\)/);
    const failed = scripted({ j1: [{ state: "FAILED", completedCheckpoints: 0, failedCheckpoints: 0, restarts: 0 }] }, { j1: "org.apache.flink.runtime.JobException: Recovery is suppressed" });
    await expect(passGate(failed.backend, { jobId: "j1" }, inputs, 1, 0)).rejects.toThrow(/it is FAILED after 0 s; Flink's root exception: org.apache.flink.runtime.JobException/);
  });

  it("gives each job (N + 2 + 1) checkpoint intervals plus two minutes (N to start, two to commit what reached the sinks), unless the job table says otherwise", () => {
    expect(gateTimeoutMs({ config: { "execution.checkpointing.interval": "60000 ms" } })).toBe(5 * 60_000 + 120_000);
    // Any duration Flink reads, not only the rendered "<n> ms" (a "2 s" read as 60 s made every no-rows gate wait 2 min).
    expect(gateTimeoutMs({ config: { "execution.checkpointing.interval": "2 s" } })).toBe(5 * 2_000 + 120_000);
    expect(gateTimeoutMs({ config: { "execution.checkpointing.interval": "1 min" } })).toBe(5 * 60_000 + 120_000);
    expect(gateTimeoutMs({ config: {} })).toBe(5 * 60_000 + 120_000);
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

  it("a fault outside the job (a revoked grant) fails the rollback's gate too: the previous version is left running under its restart strategy, not cancelled, and up says so", async () => {
    const olds: FlinkSqlJobOutputs = { ...inputs, script: { ...inputs.script, statements: ["INSERT INTO a SELECT 1"] }, jobId: "j1", status: "RUNNING", savepoints: [] };
    const denied = "java.sql.SQLSyntaxErrorException: INSERT command denied to user 'rtdw_dws'@'127.0.0.1' for table `t`";
    const { calls, deps } = scripted({ j2: [running(2, 0, 0, 5), running(2, 1)], j3: [running(2, 0, 0, 5), running(2, 1)] }, { j2: denied, j3: denied });
    const e = (await updateJob(deps, olds, { ...inputs, stateCheck: { kind: "unknown", reason: "test" } }).catch((x: unknown) => x)) as Error & { properties: FlinkSqlJobOutputs };
    expect(calls).toEqual(["stop-with-savepoint j1", "submit j2 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 2", "cancel j2", "submit j3 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 1"]);
    expect(e.message).toContain(`the previous version was resubmitted from s3://b/savepoints/rt-trk-dws/savepoint-upgrade: it runs as job j3 but fails the gate as well: it restarted 1 time(s) within 0 s of its start; Flink's root exception: ${denied}`);
    expect(e.properties).toMatchObject({ jobId: "j3", status: "RESTARTING", script: olds.script });
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

describe("taking over a running job of the same name gets the same rollback", () => {
  const v1 = { ...inputs.script, statements: ["INSERT INTO a SELECT 1"] };

  it("every version is recorded before it runs and carries its sqlVersion; a takeover whose version fails the gate resubmits the job it replaced from the savepoint it was stopped with", async () => {
    const records = new Map<string, VersionRecord>();
    // An earlier deployment submitted v1: its script was recorded under the job's versions/.
    await scripted({}, {}, { records }).deps.writeVersion!(`s3://b/savepoints/rt-trk-dws/versions/${sqlVersion(v1)}`, { job: "rt-trk-dws", sqlVersion: sqlVersion(v1), takenAt: "t", script: v1 }, inputs.objectStore, "");
    const { calls, deps } = scripted({ j2: [running(1, 1)], j3: [running(2)] }, { j2: "java.lang.ArithmeticException: / by zero" }, { active: "j1", params: { j1: { "rtdw.sql-version": sqlVersion(v1) } }, records });
    const e = (await createJob(deps, inputs).catch((x: unknown) => x)) as Error & { properties: FlinkSqlJobOutputs };
    expect(calls).toEqual(["stop-with-savepoint j1", "submit j2 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 2", "cancel j2", "submit j3 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 1"]);
    expect(isUpgradeFailed(e)).toBe(true);
    expect(e.message).toBe(
      `rt-trk-dws: the new version did not start: rt-trk-dws (job j2) failed the upgrade gate: it restarted 1 time(s) within 0 s of its start; Flink's root exception: java.lang.ArithmeticException: / by zero; the job it took over (SQL version ${sqlVersion(v1)}) was resubmitted from s3://b/savepoints/rt-trk-dws/savepoint-upgrade and runs as job j3. Its state is kept at s3://b/savepoints/rt-trk-dws/savepoint-upgrade.`,
    );
    expect(e.properties).toMatchObject({ jobId: "j3", status: "RUNNING", script: v1, sqlVersion: sqlVersion(v1), savepoints: ["s3://b/savepoints/rt-trk-dws/savepoint-upgrade"] });
    // The savepoint the takeover took says which SQL wrote it; the failed version was recorded too.
    expect(records.get(`s3://b/savepoints/rt-trk-dws/savepoint-upgrade`)).toMatchObject({ sqlVersion: sqlVersion(v1), script: v1 });
    expect(records.get(`s3://b/savepoints/rt-trk-dws/versions/${sqlVersion(inputs.script)}`)).toMatchObject({ script: inputs.script });
  });

  it("a job started outside the stack (no sqlVersion on it) cannot be resubmitted: create fails saying so and where its state is", async () => {
    const { calls, deps } = scripted({ j2: [running(1, 1)] }, {}, { active: "j1" });
    await expect(createJob(deps, inputs)).rejects.toThrow(
      /the job it took over cannot be resubmitted: it carries no rtdw\.sql-version \(started outside this stack\)\. Its state is kept at s3:\/\/b\/savepoints\/rt-trk-dws\/savepoint-upgrade\.$/,
    );
    expect(calls).toEqual(["stop-with-savepoint j1", "submit j2 restore=s3://b/savepoints/rt-trk-dws/savepoint-upgrade sql=INSERT INTO a SELECT 2", "cancel j2"]);
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
