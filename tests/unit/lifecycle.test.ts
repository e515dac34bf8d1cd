import { DEFAULT_LAKEHOUSE } from "../../components/config/lakehousePolicy";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { parseStackConfig } from "../../components/config";
import { requestJson } from "../../components/platform/http";
import { flinkSqlJobProvider } from "../../components/jobs/flinkSqlJob";
import { describeAction, FlinkSqlJobInputs, FlinkSqlJobOutputs } from "../../components/jobs/provider";
import { loadExistingPlatform } from "../../components/existingPlatformFile";
import { EXAMPLE_ENDPOINTS, jobInputs } from "../helpers/jobInputs";

const inputs: FlinkSqlJobInputs = jobInputs();
const running: FlinkSqlJobOutputs = { ...inputs, jobId: "j1", status: "RUNNING", savepoints: [] };

describe("FlinkSqlJob: what a preview says and what up does after a refresh", () => {
  it("a job a refresh found CANCELED is a change, and plannedAction names the state it resumes from", async () => {
    const { secrets: _s, ...refreshed } = inputs;
    const olds = { ...refreshed, observed: { status: "CANCELED", resumeFrom: "s3://b/checkpoints/j1/chk-54" } } as FlinkSqlJobInputs;
    expect(describeAction(olds, inputs)).toBe("resume from s3://b/checkpoints/j1/chk-54 (job was CANCELED)");
    expect((await flinkSqlJobProvider.diff!("rt-trk-dws", { ...running, status: "CANCELED" }, inputs)).changes).toBe(true);
  });

  it("a stateless job or one without retained state is resubmitted empty, and a SQL change at the same time is named", () => {
    const olds = { ...inputs, observed: { status: "FAILED" } };
    const changed = { ...inputs, script: { ...inputs.script, statements: ["INSERT INTO a SELECT 2"] } };
    expect(describeAction(olds, changed)).toBe("resubmit with empty state (job was FAILED) with the new version (changed: script (sql))");
  });

  it("a running job with unchanged inputs is no change, whatever plannedAction says", async () => {
    expect(describeAction(inputs, inputs)).toBe("no change");
    expect((await flinkSqlJobProvider.diff!("rt-trk-dws", { ...running, plannedAction: "submit" }, { ...inputs, plannedAction: "no change" })).changes).toBe(false);
  });

  it("refreshed inputs carry no credentials, and their absence is not read as a credential change", () => {
    const { secrets: _s, ...refreshed } = inputs;
    expect(describeAction(refreshed as FlinkSqlJobInputs, inputs)).toBe("no change");
    expect(describeAction(inputs, { ...inputs, secrets: { "kafka.password": "rotated" } })).toMatch(/changed: secrets/);
  });
});

describe("requests that start or stop something are not sent twice blindly", () => {
  let server: http.Server;
  let url = "";
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      // Takes the request, never answers in time: the caller cannot know whether it acted.
      if (req.url === "/slow") setTimeout(() => res.end("{}"), 2000);
      else res.writeHead(503).end("busy");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const retry = { attempts: 4, initialDelayMs: 10, maxDelayMs: 10 };

  it("a timed-out submission is tried once and says it may have been applied", async () => {
    hits = 0;
    await expect(requestJson("POST", `${url}/slow`, {}, { retry, timeoutMs: 200, idempotent: false })).rejects.toMatchObject({ maybeApplied: true });
    expect(hits).toBe(1);
  });

  it("an idempotent read is retried with backoff, then fails naming the endpoint", async () => {
    hits = 0;
    await expect(requestJson("GET", `${url}/busy`, undefined, { retry })).rejects.toThrow(`GET ${url}/busy answered 503: busy (gave up after 4 attempts)`);
    expect(hits).toBe(4);
  });

  it("a submission that never reached the server (connection refused) is retried", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(requestJson("POST", `http://127.0.0.1:${port}/x`, {}, { retry, idempotent: false })).rejects.toMatchObject({ maybeApplied: false, message: expect.stringContaining("gave up after 4 attempts") });
  });
});

describe("target sandbox: the stack on a platform that already runs", () => {
  it("needs no source password (the platform file has the source) and refuses platformFile on other targets", () => {
    const cfg = parseStackConfig("rtdw", "local", { "rtdw:target": "sandbox", "rtdw:profile": "dev" });
    expect(cfg.platformFile).toBe(".sandbox/conf/platform.json");
    expect(() => parseStackConfig("rtdw", "dev", { "rtdw:platformFile": "x.json", "rtdw:sourcePassword": "p" }, new Set(["rtdw:sourcePassword"]))).toThrow('rtdw:platformFile: only used with target "sandbox"');
  });

  it("a platform file that is missing or wrong fails naming the file and every wrong field", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-platform-"));
    expect(() => loadExistingPlatform(path.join(dir, "none.json"))).toThrow(/none.json: no platform file; start the sandbox first/);
    const file = path.join(dir, "platform.json");
    fs.writeFileSync(file, JSON.stringify({ version: 1, name: "sandbox", flink: { restUrl: "not a url" } }));
    expect(() => loadExistingPlatform(file)).toThrow(/platform.json: not a platform description:\n/);
    expect(() => loadExistingPlatform(file)).toThrow("  - flink.restUrl: Invalid URL");
    expect(() => loadExistingPlatform(file)).toThrow("  - objectStore: Invalid input: expected object, received undefined");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("the lake tables, declared once in the pipelines' tables.sql", () => {
  it("every CREATE TABLE of the pipelines is read into a declaration; the catalog's credentials stay placeholders", () => {
    const { catalogStatements, tableStatements } = require("../../components/lakehouse/tables") as typeof import("../../components/lakehouse/tables");
    const { catalogEnvironment } = require("../../components/jobs/environment") as typeof import("../../components/jobs/environment");
    const { lakeTables } = require("../../components/config/lakehousePolicy") as typeof import("../../components/config/lakehousePolicy");
    const env = catalogEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod);
    const catalog = catalogStatements(env);
    expect(catalog.name).toBe("rtdw");
    expect(catalog.statements[0]).toMatch(/^CREATE CATALOG rtdw WITH/);
    expect(catalog.statements.join("\n")).toContain("${secret:paimon.password}");
    const declared = ["warehouse", "tracking"].flatMap((p) => tableStatements(env, p));
    expect(declared.map((t) => t.name).sort()).toEqual(lakeTables().map((t) => t.name).sort());
    const users = declared.find((t) => t.name === "dwd.users")!;
    expect(users.file).toBe("sql/warehouse/tables.sql");
    expect(users.declared.primaryKey).toEqual(["id"]);
    expect(users.declared.columns.map((c) => c.name)).toEqual(["id", "name", "email", "phone", "city", "created_at", "updated_at", "row_kind", "src_offset"]);
    expect(users.declared.options.bucket).toBe("4");
    expect(declared.find((t) => t.name === "ods.tracking_events")!.declared.partitionKeys).toEqual(["dt", "hr"]);
  });

  it("no job's script carries a table's DDL: a table change is not a change of every job", () => {
    const { jobScript } = require("../../components/jobs/script") as typeof import("../../components/jobs/script");
    const { jobEnvironment } = require("../../components/jobs/environment") as typeof import("../../components/jobs/environment");
    const { loadJobTable } = require("../../components/config/jobTable") as typeof import("../../components/config/jobTable");
    for (const job of loadJobTable()) {
      const script = jobScript(job, jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod, job.name));
      expect({ job: job.name, ddl: script.statements.filter((s) => /^CREATE\s+(TABLE|DATABASE)\s/i.test(s)) }).toEqual({ job: job.name, ddl: [] });
      expect(script.statements[0]).toMatch(/^CREATE CATALOG rtdw WITH/);
    }
  });
});
