import * as http from "http";
import { AddressInfo } from "net";
import { StreamParkBackend, streamParkSql } from "../../components/jobs/streampark";
import { JobScript } from "../../components/jobs/script";

interface Seen {
  method: string;
  path: string;
  contentType: string;
  authorization?: string;
  form: Record<string, string>;
}

/**
 * A stand-in for StreamPark 2.1.5's console API that answers like its controllers (RestResponse
 * {status, code, data}) and records every request. CONTRACT TESTS: no StreamPark server runs here;
 * the paths, methods, form parameters and auth header asserted are those of StreamPark 2.1.5+
 * (PassportController, VariableController, FlinkEnvController, FlinkClusterController,
 * ApplicationController, ApplicationBuildPipelineController, SavePointController).
 */
function fakeStreamPark() {
  const seen: Seen[] = [];
  const apps: { id: number; jobName: string; state: number; jobId?: string; allowStart: boolean }[] = [];
  const variables: { id: number; variableCode: string; variableValue: string; desensitization: string }[] = [];
  const ok = (data: unknown) => ({ status: "success", code: 200, data });
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const path = (req.url ?? "").replace(/^\//, "");
      const form = Object.fromEntries(new URLSearchParams(body));
      seen.push({ method: req.method!, path, contentType: String(req.headers["content-type"]), authorization: req.headers.authorization, form });
      const reply = (v: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(v));
      if (path !== "passport/signin" && req.headers.authorization !== "jwt-token-1") return reply({ status: "error", code: 401, message: "Unauthorized" });
      switch (path) {
        case "passport/signin":
          return reply(form.password === "sp-admin-password" ? ok({ token: "jwt-token-1", expire: "2099-01-01" }) : { status: "error", code: 500, message: "username or password error" });
        case "variable/list":
          return reply(ok({ records: variables.filter((v) => v.variableCode === form.variableCode), total: 0 }));
        case "variable/post":
          variables.push({ id: variables.length + 1, variableCode: form.variableCode, variableValue: form.variableValue, desensitization: form.desensitization });
          return reply(ok(null));
        case "variable/update":
          Object.assign(variables.find((v) => v.id === Number(form.id))!, { variableValue: form.variableValue });
          return reply(ok(null));
        case "flink/env/list":
          return reply(ok([{ id: 7, flinkName: "flink-1.20" }]));
        case "flink/cluster/list":
          return reply(ok([{ id: 9, clusterName: "rtdw-test" }]));
        case "flink/app/list":
          return reply(ok({ records: apps.filter((a) => a.jobName === form.jobName) }));
        case "flink/app/create":
          apps.push({ id: 100 + apps.length, jobName: form.jobName, state: 0, allowStart: false });
          return reply(ok(true));
        case "flink/app/update":
          return reply(ok(true));
        case "flink/pipe/build":
          apps.find((a) => a.id === Number(form.appId))!.allowStart = true;
          return reply(ok(true));
        case "flink/app/get": {
          const a = apps.find((x) => x.id === Number(form.id))!;
          return reply(ok({ id: a.id, jobName: a.jobName, state: a.state, jobId: a.jobId, appControl: { allowStart: a.allowStart } }));
        }
        case "flink/app/start": {
          const a = apps.find((x) => x.id === Number(form.id))!;
          Object.assign(a, { state: 5, jobId: `job-${a.id}-${seen.length}` });
          return reply(ok(true));
        }
        case "flink/app/cancel":
          apps.find((x) => x.id === Number(form.id))!.state = 9;
          return reply(ok(null));
        case "flink/savepoint/latest":
          return reply(ok({ path: "s3://rtdw-test-checkpoints/savepoints/rt-trk-dws/savepoint-abc" }));
        default:
          return res.writeHead(404).end();
      }
    });
  });
  return { server, seen, variables };
}

const SCRIPT: JobScript = {
  job: "rt-trk-dws",
  config: { "pipeline.name": "rt-trk-dws", "parallelism.default": "1", "execution.checkpointing.interval": "120000 ms" },
  statements: [
    "CREATE CATALOG rtdw WITH ('jdbc.password' = '${secret:paimon.password}', 's3.secret-key' = '${secret:s3.secretKey}')",
    "INSERT INTO t SELECT 1",
  ],
};
const SECRETS = { "paimon.password": "paimon-pw-123456", "s3.secretKey": "s3-secret-7890" };

describe("StreamPark backend requests (CONTRACT: StreamPark 2.1.5+ controllers; no StreamPark server runs here)", () => {
  const fake = fakeStreamPark();
  let url = "";
  beforeAll(async () => {
    await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => fake.server.close(() => r())));
  const backend = () => new StreamParkBackend({ url, user: "admin", teamId: "100000", clusterName: "rtdw-test", flinkEnvName: "flink-1.20" }, "sp-admin-password", { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 });

  it("create: signs in, keeps credentials in masked team variables, creates, builds and starts a Flink SQL app on the registered cluster", async () => {
    fake.seen.length = 0;
    const ref = await backend().submit({ script: SCRIPT, secrets: SECRETS });
    expect(ref).toEqual({ jobId: expect.stringMatching(/^job-100-/), ref: { appId: "100" } });
    expect(fake.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      "POST passport/signin",
      "POST flink/env/list", "POST flink/cluster/list",
      "POST variable/list", "POST variable/post",
      "POST variable/list", "POST variable/post",
      "POST flink/app/list", "POST flink/app/create", "POST flink/app/list",
      "POST flink/pipe/build", "POST flink/app/get",
      "POST flink/app/start", "POST flink/app/get",
    ]);
    for (const s of fake.seen) expect(s.contentType).toBe("application/x-www-form-urlencoded");
    expect(fake.seen[0].form).toEqual({ username: "admin", password: "sp-admin-password", loginType: "PASSWORD" });
    for (const s of fake.seen.slice(1)) expect(s.authorization).toBe("jwt-token-1"); // the JWT itself, no "Bearer"
    expect(fake.variables).toEqual([
      { id: 1, variableCode: "rtdw_paimon_password", variableValue: "paimon-pw-123456", desensitization: "true" },
      { id: 2, variableCode: "rtdw_s3_secretKey", variableValue: "s3-secret-7890", desensitization: "true" },
    ]);
    const create = fake.seen.find((s) => s.path === "flink/app/create")!.form;
    expect(create).toMatchObject({ teamId: "100000", jobType: "2", appType: "1", executionMode: "1", versionId: "7", flinkClusterId: "9", jobName: "rt-trk-dws" });
    expect(create.flinkSql).toBe(streamParkSql(SCRIPT.statements));
    expect(create.flinkSql).toContain("'jdbc.password' = '${rtdw_paimon_password}'");
    for (const v of Object.values(SECRETS)) expect(JSON.stringify(fake.seen.filter((s) => !s.path.startsWith("variable/") && s.path !== "passport/signin"))).not.toContain(v);
    expect(create.dynamicProperties.split("\n")).toEqual(["-Dpipeline.name=rt-trk-dws", "-Dparallelism.default=1", "-Dexecution.checkpointing.interval=120000 ms"]);
    expect(fake.seen.find((s) => s.path === "flink/pipe/build")!.form).toEqual({ appId: "100", forceBuild: "true" });
    expect(fake.seen.find((s) => s.path === "flink/app/start")!.form).toEqual({ id: "100", teamId: "100000", restoreOrTriggerSavepoint: "false", allowNonRestored: "false" });
  });

  it("upgrade: cancels with a savepoint (drain off), reads it back, updates the same app and starts it from the savepoint", async () => {
    const b = backend();
    const job = { jobId: "job-100", ref: { appId: "100" } };
    fake.seen.length = 0;
    const sp = await b.stopWithSavepoint(job, "s3://rtdw-test-checkpoints/savepoints/rt-trk-dws");
    expect(sp).toBe("s3://rtdw-test-checkpoints/savepoints/rt-trk-dws/savepoint-abc");
    expect(fake.seen.find((s) => s.path === "flink/app/cancel")!.form).toEqual({
      id: "100", teamId: "100000", restoreOrTriggerSavepoint: "true", savepointPath: "s3://rtdw-test-checkpoints/savepoints/rt-trk-dws", drain: "false",
    });
    expect(fake.seen.find((s) => s.path === "flink/savepoint/latest")!.form).toEqual({ appId: "100" });
    expect(await b.state(job)).toBe("CANCELED");

    fake.seen.length = 0;
    await b.submit({ script: SCRIPT, secrets: { ...SECRETS, "paimon.password": "rotated-pw-000000" }, restorePath: sp, allowNonRestoredState: true, previous: job });
    expect(fake.seen.filter((s) => s.path === "variable/update").map((s) => s.form)).toEqual([expect.objectContaining({ id: "1", variableCode: "rtdw_paimon_password", variableValue: "rotated-pw-000000" }), expect.objectContaining({ id: "2" })]);
    expect(fake.seen.filter((s) => s.path === "variable/update").every((s) => s.method === "PUT")).toBe(true);
    expect(fake.seen.some((s) => s.path === "flink/app/create")).toBe(false);
    expect(fake.seen.find((s) => s.path === "flink/app/update")!.form).toMatchObject({ id: "100", jobName: "rt-trk-dws" });
    expect(fake.seen.find((s) => s.path === "flink/app/start")!.form).toEqual({ id: "100", teamId: "100000", restoreOrTriggerSavepoint: "true", savepointPath: sp, allowNonRestored: "true" });
    expect(await b.findActive("rt-trk-dws")).toEqual({ jobId: expect.stringMatching(/^job-100-/), ref: { appId: "100" } });
  });

  it("fails plainly: a wrong password names the server and the user; an unknown cluster names what to register", async () => {
    const wrong = new StreamParkBackend({ url, user: "admin", teamId: "100000", clusterName: "rtdw-test", flinkEnvName: "flink-1.20" }, "nope", { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 });
    await expect(wrong.signIn()).rejects.toThrow(`StreamPark sign-in at ${url} as admin failed: username or password error`);
    const other = new StreamParkBackend({ url, user: "admin", teamId: "100000", clusterName: "rtdw-prod", flinkEnvName: "flink-1.20" }, "sp-admin-password", { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 });
    await expect(other.registered()).rejects.toThrow(`StreamPark at ${url} has no cluster "rtdw-prod"; the stack's streampark-register task creates both`);
  });
});
