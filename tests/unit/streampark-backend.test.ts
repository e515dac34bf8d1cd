import { appState, StreamParkBackend, StreamParkConfig, streamParkSql } from "../../components/jobs/streampark";
import { JobScript } from "../../components/jobs/script";
import { StreamParkConsoleContract } from "../contracts/streamparkConsole";
import { BackendConfig, describeAction, FlinkSqlJobOutputs, GATE_CHECKPOINTS, LifecycleDeps, updateJob } from "../../components/jobs/provider";
import { jobInputs } from "../helpers/jobInputs";

/**
 * The StreamPark backend against the CONTRACT STAND-IN of a StreamPark 2.1.5 console
 * (tests/contracts/streamparkConsole.ts: the answers a real 2.1.5 console gave on 2026-12-06,
 * ../shared/reference/streampark-observed.md). StreamPark cannot be installed here.
 */
const SCRIPT: JobScript = {
  job: "rt-trk-dws",
  config: { "pipeline.name": "rt-trk-dws", "parallelism.default": "1", "execution.checkpointing.interval": "120000 ms" },
  statements: [
    "CREATE CATALOG rtdw WITH ('jdbc.password' = '${secret:paimon.password}', 's3.secret-key' = '${secret:s3.secretKey}')",
    "INSERT INTO t SELECT 1",
  ],
};
const SECRETS = { "paimon.password": "paimon-pw-123456", "s3.secretKey": "s3-secret-7890" };
const PASSWORD = "sp-admin-password";
const RETRY = { attempts: 6, initialDelayMs: 1, maxDelayMs: 2 };

describe("StreamPark backend against the StreamPark 2.1.5 console contract (observed 2026-12-06; StreamPark cannot run here)", () => {
  let sp: StreamParkConsoleContract;
  const cfg = (over: Partial<StreamParkConfig> = {}): StreamParkConfig => ({
    url: sp.url,
    user: "admin",
    teamId: "100000",
    clusterName: "rtdw-test",
    clusterAddress: "http://flink-jobmanager.rtdw.svc.cluster.local:8081",
    jobManagerUrl: "http://127.0.0.1:1",
    flinkEnvName: "flink-1.20",
    flinkHome: "/opt/flink",
    ...over,
  });
  const backend = (over: Partial<StreamParkConfig> = {}, password = PASSWORD) => new StreamParkBackend(cfg(over), password, RETRY, 1);
  beforeEach(async () => {
    sp = new StreamParkConsoleContract(PASSWORD);
    await sp.start();
  });
  afterEach(() => sp.stop());
  const calls = () => sp.seen.map((s) => `${s.method} ${s.path}`);

  it("first submit: registers the Flink home and cluster (read back), keeps credentials in masked variables, creates, builds, starts, and waits for the new job id", async () => {
    const ref = await backend().submit({ script: SCRIPT, secrets: SECRETS });
    expect(ref.jobId).toMatch(/^\d{6}0001f+$/);
    expect(ref.ref?.appId).toBe(sp.apps[0].id);
    expect(sp.apps[0].state).toBe(5);
    for (const s of sp.seen) expect(s.contentType).toBe("application/x-www-form-urlencoded");
    for (const s of sp.seen.slice(1)) expect(s.authorization).toMatch(/^eyJ/); // the JWT itself, no "Bearer"
    expect(sp.envs).toEqual([expect.objectContaining({ flinkName: "flink-1.20", flinkHome: "/opt/flink" })]);
    expect(sp.clusters).toEqual([expect.objectContaining({ clusterName: "rtdw-test", address: "http://flink-jobmanager.rtdw.svc.cluster.local:8081", versionId: "1", executionMode: 1 })]);
    expect(sp.variables.map((v) => [v.variableCode, v.desensitization])).toEqual([["rtdw_paimon_password", true], ["rtdw_s3_secretKey", true]]);
    expect(sp.apps[0].flinkSql).toBe(streamParkSql(SCRIPT.statements));
    expect(sp.apps[0].dynamicProperties.split("\n")).toEqual(["-Dpipeline.name=rt-trk-dws", "-Dparallelism.default=1", "-Dexecution.checkpointing.interval=120000 ms"]);
    for (const v of Object.values(SECRETS)) expect(JSON.stringify(sp.seen.filter((s) => !s.path.startsWith("variable/") && s.path !== "passport/signin"))).not.toContain(v);
    // The build is followed in pipe/detail, the start checked, the job id waited for; never savepoint/latest.
    const c = calls();
    expect(c.indexOf("POST flink/pipe/build")).toBeLessThan(c.lastIndexOf("POST flink/pipe/detail"));
    expect(c.lastIndexOf("POST flink/pipe/detail")).toBeLessThan(c.indexOf("POST flink/app/check_start"));
    expect(c.indexOf("POST flink/app/check_start")).toBeLessThan(c.indexOf("POST flink/app/start"));
    expect(c.filter((x) => x === "POST flink/app/get").length).toBeGreaterThan(3);
    expect(sp.seen.find((s) => s.path === "flink/app/start")!.form).toEqual({ id: sp.apps[0].id, teamId: "100000", restoreOrTriggerSavepoint: "false", allowNonRestored: "false" });
  });

  it("registration is verified by reading back: a cluster of the same name at another address fails plainly; a Flink home the console lacks is its answer, not retried", async () => {
    sp.clusters.push({ id: "1", clusterName: "rtdw-test", address: "http://elsewhere:8081", versionId: "1", executionMode: 1, clusterState: 1 });
    sp.envs.push({ id: "1", flinkName: "flink-1.20", flinkHome: "/opt/flink", version: "1.20.1", scalaVersion: "2.12" });
    await expect(backend().registered()).rejects.toThrow(`StreamPark at ${sp.url}: cluster "rtdw-test" has address http://elsewhere:8081 (the stack's: http://flink-jobmanager.rtdw.svc.cluster.local:8081); fix or remove it in the console and run up again`);
    sp.clusters.push({ id: "2", clusterName: "rtdw-test", address: "http://flink-jobmanager.rtdw.svc.cluster.local:8081", versionId: "1", executionMode: 1, clusterState: 1 });
    await expect(backend().registered()).rejects.toThrow(/lists 2 clusters named "rtdw-test" \(it accepts duplicates\)/);
    const fresh = new StreamParkConsoleContract(PASSWORD);
    await fresh.start();
    try {
      const b = new StreamParkBackend({ ...cfg(), url: fresh.url, flinkHome: "/flink-not-here" }, PASSWORD, RETRY, 1);
      await expect(b.registered()).rejects.toThrow(/flink\/env\/create at .* refused: requirement failed: \[StreamPark\] flinkHome must be exists \(code 500\)/);
      expect(fresh.seen.filter((s) => s.path === "flink/env/create")).toHaveLength(1);
    } finally {
      await fresh.stop();
    }
  });

  it("upgrade: cancel with a savepoint, the new savepoint read from the history (two rows, one path), the SQL updated with its sqlId, rebuilt, and started from the savepoint", async () => {
    const b = backend();
    const first = await b.submit({ script: SCRIPT, secrets: SECRETS });
    const sp1 = await b.stopWithSavepoint(first, "s3://rtdw-test-checkpoints/savepoints/rt-trk-dws");
    expect(sp1).toMatch(/^s3:\/\/rtdw-test-checkpoints\/savepoints\/rt-trk-dws\/savepoint-/);
    expect(await b.state(first)).toBe("CANCELED");
    expect(sp.seen.find((s) => s.path === "flink/app/cancel")!.form).toEqual({ id: first.ref!.appId, teamId: "100000", restoreOrTriggerSavepoint: "true", savepointPath: "s3://rtdw-test-checkpoints/savepoints/rt-trk-dws", drain: "false" });
    expect(calls()).not.toContain("POST flink/savepoint/latest");

    const changed: JobScript = { ...SCRIPT, statements: [SCRIPT.statements[0], "INSERT INTO t SELECT 2"] };
    const oldSqlId = sp.apps[0].sqlId;
    sp.seen.length = 0;
    const second = await b.submit({ script: changed, secrets: { ...SECRETS, "paimon.password": "rotated-pw-000000" }, restorePath: sp1, allowNonRestoredState: false, previous: first });
    expect(second.jobId).not.toBe(first.jobId);
    expect(second.ref).toEqual(first.ref);
    expect(sp.seen.find((s) => s.path === "flink/app/update")!.form).toMatchObject({ id: first.ref!.appId, sqlId: oldSqlId, jobName: "rt-trk-dws" });
    expect(calls()).not.toContain("POST flink/app/create");
    expect(sp.apps[0].flinkSql).toContain("INSERT INTO t SELECT 2");
    expect(sp.seen.find((s) => s.path === "flink/app/start")!.form).toEqual({ id: first.ref!.appId, teamId: "100000", restoreOrTriggerSavepoint: "true", savepointPath: sp1, allowNonRestored: "false" });
    expect(sp.seen.filter((s) => s.method === "PUT" && s.path === "variable/update").map((s) => s.form.variableCode)).toEqual(["rtdw_paimon_password", "rtdw_s3_secretKey"]);
    expect(sp.variables[0].variableValue).toBe("rotated-pw-000000");
    // A second upgrade takes the second savepoint, not the first one still in the history.
    const sp2 = await b.stopWithSavepoint(second, "s3://rtdw-test-checkpoints/savepoints/rt-trk-dws");
    expect(sp2).not.toBe(sp1);
  });

  it("the console's answers the old client assumed otherwise: update without sqlId is refused (501), savepoint/latest does not exist, variable/list is an array", async () => {
    const b = backend();
    await b.submit({ script: SCRIPT, secrets: SECRETS });
    const token = sp.seen[1].authorization!;
    const post = (path: string, form: Record<string, string>) => fetch(`${sp.url}/${path}`, { method: "POST", headers: { authorization: token, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
    const upd = await post("flink/app/update", { id: sp.apps[0].id, teamId: "100000", jobName: "rt-trk-dws", flinkSql: "x" });
    expect([upd.status, await upd.json()]).toEqual([500, { code: "501", message: "Flink sql is null, update flink sql job failed.", status: "error", data: null }]);
    expect((await post("flink/savepoint/latest", { appId: sp.apps[0].id })).status).toBe(404);
    expect(Array.isArray(((await (await post("variable/list", { teamId: "100000", keyword: "rtdw" })).json()) as { data: unknown }).data)).toBe(true);
  });

  it("a job that fails while starting is reported at once with the console's exception, not after the start timeout", async () => {
    const failing: JobScript = { ...SCRIPT, statements: [...SCRIPT.statements, `INSERT INTO ${StreamParkConsoleContract.FAILS_TO_START} SELECT 1`] };
    const t0 = Date.now();
    await expect(backend().submit({ script: failing, secrets: SECRETS })).rejects.toThrow(/StreamPark reports rt-trk-dws \(app \d+\) FAILED while starting: org\.apache\.flink\.table\.api\.ValidationException: Object 'missing' not found/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("an error answer (HTTP 500 with the console's envelope) is not retried: the update is sent once and its message reported", async () => {
    const b = backend();
    const ref = await b.submit({ script: SCRIPT, secrets: SECRETS });
    sp.apps[0].sqlId = ""; // the console lost the SQL version: the update is refused
    sp.seen.length = 0;
    await expect(b.submit({ script: SCRIPT, secrets: SECRETS, previous: ref })).rejects.toThrow(/flink\/app\/update at .* refused: Flink sql is null, update flink sql job failed\. \(code 501\)/);
    expect(sp.seen.filter((s) => s.path === "flink/app/update")).toHaveLength(1);
  });

  it("last-state: the newest checkpoint the console recorded (type 1 rows), none before any", async () => {
    const b = backend();
    const ref = await b.submit({ script: SCRIPT, secrets: SECRETS });
    expect(await b.latestCheckpoint(ref)).toBeUndefined();
    sp.checkpoint(ref.ref!.appId, "s3://rtdw-test-checkpoints/checkpoints/rt-trk-dws/abc/chk-7");
    expect(await b.latestCheckpoint(ref)).toBe("s3://rtdw-test-checkpoints/checkpoints/rt-trk-dws/abc/chk-7");
  });

  it("finds its app by exact name although the list matches loosely; reports states by the console's codes", async () => {
    const b = backend();
    await b.submit({ script: { ...SCRIPT, job: "rt-trk-dws-extra" }, secrets: SECRETS });
    expect(await b.findActive("rt-trk-dws")).toBeUndefined();
    const ref = await b.submit({ script: SCRIPT, secrets: SECRETS });
    expect(await b.findActive("rt-trk-dws")).toEqual(ref);
    expect([0, 3, 5, 7, 8, 9, 13, 15, 17, 18, -9].map(appState)).toEqual(["CREATED", "INITIALIZING", "RUNNING", "FAILED", "CANCELLING", "CANCELED", "FAILED", undefined, undefined, "FAILED", "CANCELED"]);
  });

  it("sign-in: the token from data.token (the answer has no status); a wrong password is a 'success' with code 0, reported as wrong", async () => {
    await expect(backend({}, "nope").signIn()).rejects.toThrow(`StreamPark sign-in at ${sp.url} as admin failed: wrong user name or password`);
    await expect(backend().signIn()).resolves.toBeUndefined();
  });

  it("a job moving to its own cluster: registered there, stopped with a savepoint where it ran, and the same app started from it on the new cluster", async () => {
    // Two clusters registered in one console, as the stacks' per-job clusters are. The JobManagers'
    // answers to the upgrade gate are scripted (no Flink here): the console is the contract.
    const at = (name: string, address: string): BackendConfig => ({ kind: "streampark", ...cfg({ clusterName: name, clusterAddress: address, jobManagerUrl: address }) });
    const shared = at("rtdw-test", "http://flink-jobmanager.rtdw.svc.cluster.local:8081");
    const own = at("rtdw-test-flink-trk-dws", "http://flink-trk-dws-jobmanager.rtdw.svc.cluster.local:8081");
    const deps: LifecycleDeps = {
      backend: (c) => {
        const b = new StreamParkBackend(c as StreamParkConfig, PASSWORD, RETRY, 1);
        b.progress = async () => ({ state: "RUNNING", completedCheckpoints: GATE_CHECKPOINTS, failedCheckpoints: 0, restarts: 0 });
        return b;
      },
      deletePrefix: async () => undefined,
      listSavepoints: async () => [],
      gatePace: { pollMs: 1, metricsLagMs: 0 },
    };
    const secrets = { ...SECRETS, "streampark.password": PASSWORD };
    const first = await deps.backend(shared, secrets).submit({ script: SCRIPT, secrets: SECRETS });
    const olds: FlinkSqlJobOutputs = { ...jobInputs({ script: SCRIPT, backend: shared, secrets }), jobId: first.jobId, ref: first.ref, status: "RUNNING", savepoints: [] };
    const news = jobInputs({ script: SCRIPT, backend: own, secrets, gateTimeoutSeconds: 1 });
    expect(describeAction(olds, news)).toMatch(/changed: cluster \(moves from StreamPark's cluster rtdw-test \(http:\/\/flink-jobmanager\.rtdw.*\) to StreamPark's cluster rtdw-test-flink-trk-dws/);
    sp.seen.length = 0;
    const outs = await updateJob(deps, olds, news);
    // Registered once per cluster; the one app (same id) now on the job's own cluster.
    expect(sp.clusters.map((c) => [c.clusterName, c.address])).toEqual([
      ["rtdw-test", "http://flink-jobmanager.rtdw.svc.cluster.local:8081"],
      ["rtdw-test-flink-trk-dws", "http://flink-trk-dws-jobmanager.rtdw.svc.cluster.local:8081"],
    ]);
    expect(sp.apps).toHaveLength(1);
    expect(sp.apps[0].flinkClusterId).toBe(sp.clusters[1].id);
    const cancel = sp.seen.find((s) => s.path === "flink/app/cancel")!;
    const start = sp.seen.find((s) => s.path === "flink/app/start")!;
    expect(sp.seen.indexOf(cancel)).toBeLessThan(sp.seen.indexOf(start));
    expect(cancel.form).toMatchObject({ id: first.ref!.appId, restoreOrTriggerSavepoint: "true" });
    expect(start.form).toMatchObject({ id: first.ref!.appId, restoreOrTriggerSavepoint: "true", savepointPath: outs.restoredFrom });
    expect(outs).toMatchObject({ status: "RUNNING", backend: own, ref: first.ref });
    expect(outs.jobId).not.toBe(first.jobId);
  });
});
