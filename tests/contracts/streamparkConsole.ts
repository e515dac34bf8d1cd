import * as http from "http";
import { AddressInfo } from "net";

/**
 * CONTRACT STAND-IN for the StreamPark 2.1.5 console's REST API. StreamPark cannot be installed
 * here; this answers as a real 2.1.5 console was observed to answer on 2026-12-06 (built from its
 * public source, REST only, H2, against a Flink 1.20.1 standalone session on loopback:
 * ../shared/reference/streampark-observed.md), never more kindly. Where the observation did not
 * cover an answer, the 2.1.5 source decides, marked [source].
 *
 * Recorded answers it replays:
 *  - POST only, form-encoded; after sign-in every call carries `Authorization: <jwt>` (no prefix).
 *  - ids are JSON strings ("id":"100000"); `state` and `pipeStatus` are numbers.
 *  - sign-in: `{"data":{"user":…,"permissions":…,"token":"<jwt>","expire":…}}` with no status and no
 *    code; a wrong password `{"code":0,"status":"success"}` with no data.
 *  - errors: HTTP 500 `{"code":"50x","message":…,"status":"error","data":null}` (e.g. an SQL update
 *    without sqlId: code "501", "Flink sql is null, update flink sql job failed.").
 *  - no `/flink/savepoint/latest` (HTTP 404); `/flink/savepoint/history` mixes checkpoints (type 1)
 *    and savepoints (type 2), one cancel-with-savepoint writes two rows with the same path.
 *  - `/flink/app/get` reports `appControl.allowStart: false` always; the build shows in
 *    `/flink/pipe/detail` (pipeStatus 3 success, 4 failure + errorSummary), ~2 s after the build call.
 *  - `/flink/app/start` answers `true` at once; state 0 → 3 (STARTING) → 5 (RUNNING) with the job id
 *    appearing only then (`""` on a first start, the previous run's id until the new job exists);
 *    a job that fails to start reaches 7 (FAILED) within seconds, its exception in `/flink/app/optionlog`.
 *    [source] a start that throws answers `{"status":"success","data":false,"message":…}`.
 *  - `/flink/app/update` without sqlId is refused (above); with it `true`, and the new SQL is only a
 *    candidate until `/flink/pipe/build` and a start.
 *  - `/variable/list` (teamId, keyword) answers a plain array; desensitized values listed as ********;
 *    `/variable/post` and `PUT /variable/update` (form) work.
 *  - `/flink/app/list` matches jobName loosely (a search, not equality): `data.records`.
 *  - `/flink/env/create` needs a flinkHome that exists in the console's container ("requirement
 *    failed: [StreamPark] flinkHome must be exists"); `/flink/cluster/create` accepts unreachable
 *    addresses, duplicate names and unknown version ids (answers `true`, lists them as STARTED).
 *  - [source] `/flink/app/update` sets `flinkClusterId` of a REMOTE app (ApplicationServiceImpl.update,
 *    2.1 line): an app moves to another registered cluster at its next start.
 *  - [source] a call without a valid token: HTTP 401 `{"status":"error","code":"401","message":"Unauthenticated."}`.
 *
 * Each asynchronous step moves on one look at a time (the console's own timers are seconds), so a
 * client that does not wait for them fails here as it would there.
 */
export interface ConsoleRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly authorization?: string;
  readonly form: Record<string, string>;
}

interface App {
  id: string;
  jobName: string;
  state: number;
  jobId: string;
  sqlId: string;
  flinkSql: string;
  candidateSql?: string;
  /** The remote cluster it runs on; [source] `/flink/app/update` sets it for REMOTE apps like any other field. */
  flinkClusterId: string;
  dynamicProperties: string;
  /** looks of /flink/app/get left before the start settles */
  starting?: number;
  startFails?: string;
  pipe?: { status: number; looks: number; error?: string };
  runs: number;
}

export class StreamParkConsoleContract {
  readonly seen: ConsoleRequest[] = [];
  readonly apps: App[] = [];
  readonly variables: { id: string; variableCode: string; variableValue: string; desensitization: boolean }[] = [];
  readonly envs: { id: string; flinkName: string; flinkHome: string; version: string; scalaVersion: string }[] = [];
  readonly clusters: { id: string; clusterName: string; address: string; versionId: string; executionMode: number; clusterState: number }[] = [];
  readonly savepoints: { id: string; appId: string; chkId: string | null; latest: boolean; type: number; path: string; triggerTime: string; createTime: string }[] = [];
  readonly optionLogs: { id: string; appId: string; success: boolean; exception: string | null; optionTime: string }[] = [];
  /** SQL containing this marker fails to start (as a job with a wrong table does on the real console). */
  static readonly FAILS_TO_START = "rtdw_contract_fails_to_start";
  /** Paths that exist inside the console's container. */
  readonly existingPaths = new Set(["/opt/flink"]);
  private seq = 100000;
  private readonly token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.contract.sig";
  private server?: http.Server;
  url = "";

  constructor(private readonly adminPassword: string) {}

  private next(): string {
    return String(++this.seq);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const path = (req.url ?? "").replace(/^\//, "").split("?")[0];
        const form = Object.fromEntries(new URLSearchParams(body));
        this.seen.push({ method: req.method!, path, contentType: String(req.headers["content-type"]), authorization: req.headers.authorization, form });
        const [status, answer] = this.answer(req.method!, path, req.headers.authorization, form);
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private answer(method: string, path: string, auth: string | undefined, f: Record<string, string>): [number, unknown] {
    const ok = (data?: unknown) => [200, data === undefined ? { status: "success", code: "200" } : { status: "success", code: "200", data }] as [number, unknown];
    const error = (code: string, message: string) => [500, { code, message, status: "error", data: null }] as [number, unknown];
    if (path === "passport/signin") {
      if (f.username !== "admin" || f.password !== this.adminPassword) return [200, { code: 0, status: "success" }];
      return [200, { data: { user: { userId: "100000", username: "admin", lastTeamId: "100000" }, permissions: [], token: this.token, expire: "2026-12-07 10:00:00" } }];
    }
    if (auth !== this.token) return [401, { status: "error", code: "401", message: "Unauthenticated.", data: null }];
    if (method === "PUT" && path === "variable/update") {
      const v = this.variables.find((x) => x.id === f.id);
      if (!v) return error("500", "The variable does not exist");
      v.variableValue = f.variableValue;
      return ok();
    }
    if (method !== "POST") return [405, { status: 405, error: "Method Not Allowed", path: `/${path}` }];
    const app = (id: string) => this.apps.find((a) => a.id === id);
    switch (path) {
      case "variable/list":
        return ok(this.variables.filter((v) => !f.keyword || v.variableCode.includes(f.keyword)).map((v) => ({ ...v, variableValue: v.desensitization ? "********" : v.variableValue })));
      case "variable/post":
        if (this.variables.some((v) => v.variableCode === f.variableCode)) return error("500", `The variable code ${f.variableCode} already exists`);
        this.variables.push({ id: this.next(), variableCode: f.variableCode, variableValue: f.variableValue, desensitization: f.desensitization === "true" });
        return ok();
      case "flink/env/list":
        return ok(this.envs);
      case "flink/env/create":
        if (!this.existingPaths.has(f.flinkHome)) return error("500", "requirement failed: [StreamPark] flinkHome must be exists");
        this.envs.push({ id: String(this.envs.length + 1), flinkName: f.flinkName, flinkHome: f.flinkHome, version: "1.20.1", scalaVersion: "2.12" });
        return ok(true);
      case "flink/cluster/list":
        return ok(this.clusters);
      case "flink/cluster/create":
        // Anything is accepted and listed as started.
        this.clusters.push({ id: String(this.clusters.length + 1), clusterName: f.clusterName, address: f.address, versionId: f.versionId, executionMode: Number(f.executionMode), clusterState: 1 });
        return ok(true);
      case "flink/app/list": {
        const records = this.apps.filter((a) => !f.jobName || a.jobName.includes(f.jobName)).map((a) => this.view(a));
        return ok({ records, total: String(records.length), size: f.pageSize ?? "10", current: f.pageNum ?? "1", pages: "1" });
      }
      case "flink/app/create": {
        const sqlId = this.next();
        this.apps.push({ id: this.next(), jobName: f.jobName, state: 0, jobId: "", sqlId, flinkSql: f.flinkSql, flinkClusterId: f.flinkClusterId, dynamicProperties: f.dynamicProperties ?? "", runs: 0 });
        return ok(true);
      }
      case "flink/app/update": {
        const a = app(f.id);
        if (!a) return error("500", "The application does not exist");
        if (!f.sqlId) return error("501", "Flink sql is null, update flink sql job failed.");
        a.candidateSql = f.flinkSql;
        a.dynamicProperties = f.dynamicProperties ?? a.dynamicProperties;
        if (Number(f.executionMode) === 1) a.flinkClusterId = f.flinkClusterId;
        return ok(true);
      }
      case "flink/app/get": {
        const a = app(f.id);
        if (!a) return error("500", "The application does not exist");
        this.tick(a);
        return ok(this.view(a));
      }
      case "flink/pipe/build": {
        const a = app(f.appId);
        if (!a) return error("500", "The application does not exist");
        const sql = a.candidateSql ?? a.flinkSql;
        a.pipe = /INVALID SQL/.test(sql) ? { status: 2, looks: 2, error: "SQL parse error" } : { status: 2, looks: 2 };
        return ok(true);
      }
      case "flink/pipe/detail": {
        const a = app(f.appId);
        if (!a?.pipe) return ok({ pipeline: null });
        if (a.pipe.looks > 0) a.pipe.looks--;
        else if (a.pipe.status === 2) {
          a.pipe.status = a.pipe.error ? 4 : 3;
          if (!a.pipe.error && a.candidateSql !== undefined) {
            a.flinkSql = a.candidateSql;
            a.sqlId = this.next();
            a.candidateSql = undefined;
          }
        }
        return ok({ pipeline: { appId: a.id, pipeType: 1, pipeStatus: a.pipe.status, hasError: a.pipe.status === 4, errorSummary: a.pipe.error ?? null } });
      }
      case "flink/app/check_start":
        return ok(0);
      case "flink/app/start": {
        const a = app(f.id);
        if (!a) return [200, { status: "success", code: "200", data: false, message: "The application does not exist" }];
        if (a.pipe?.status !== 3) return [200, { status: "success", code: "200", data: false, message: "[StreamPark] The application cannot be started repeatedly." }];
        a.state = 3;
        a.starting = 3;
        a.startFails = a.flinkSql.includes(StreamParkConsoleContract.FAILS_TO_START) ? "org.apache.flink.table.api.ValidationException: Object 'missing' not found" : undefined;
        a.runs++;
        if (f.restoreOrTriggerSavepoint === "true" && !f.savepointPath) return [200, { status: "success", code: "200", data: false, message: "savepointPath is required" }];
        return ok(true);
      }
      case "flink/app/cancel": {
        const a = app(f.id);
        if (!a) return error("500", "The application does not exist");
        a.state = 8;
        if (f.restoreOrTriggerSavepoint === "true") {
          const at = new Date().toISOString().replace("T", " ").slice(0, 19);
          const p = `${f.savepointPath.replace(/\/$/, "")}/savepoint-${a.jobId.slice(0, 6)}-${this.seq.toString(16)}`;
          for (const r of this.savepoints.filter((s) => s.appId === a.id)) r.latest = false;
          // One cancel, two rows with the same path.
          this.savepoints.push({ id: this.next(), appId: a.id, chkId: null, latest: false, type: 2, path: p, triggerTime: at, createTime: at });
          this.savepoints.push({ id: this.next(), appId: a.id, chkId: "1", latest: true, type: 2, path: p, triggerTime: at, createTime: at });
        }
        return ok(true);
      }
      case "flink/savepoint/history": {
        const records = this.savepoints.filter((s) => s.appId === f.appId).reverse();
        return ok({ records, total: String(records.length) });
      }
      case "flink/app/optionlog": {
        const records = this.optionLogs.filter((l) => l.appId === f.appId).reverse();
        return ok({ records, total: String(records.length) });
      }
      default:
        return [404, { timestamp: new Date().toISOString(), status: 404, error: "Not Found", path: `/${path}` }];
    }
  }

  /** A job's checkpoint as the console records it (type 1). */
  checkpoint(appId: string, path: string): void {
    const at = new Date().toISOString().replace("T", " ").slice(0, 19);
    for (const r of this.savepoints.filter((s) => s.appId === appId)) r.latest = false;
    this.savepoints.push({ id: this.next(), appId, chkId: "7", latest: true, type: 1, path, triggerTime: at, createTime: at });
  }

  private tick(a: App): void {
    if (a.state === 3 && a.starting !== undefined) {
      if (a.starting-- > 0) return;
      if (a.startFails) {
        a.state = 7;
        this.optionLogs.push({ id: this.next(), appId: a.id, success: false, exception: a.startFails, optionTime: new Date().toISOString() });
      } else {
        a.state = 5;
        a.jobId = `${a.id}${String(a.runs).padStart(4, "0")}`.padEnd(32, "f");
      }
      a.starting = undefined;
    } else if (a.state === 8) {
      a.state = 9;
    }
  }

  private view(a: App) {
    return { id: a.id, jobName: a.jobName, state: a.state, jobId: a.jobId, sqlId: a.sqlId, flinkClusterId: a.flinkClusterId, teamId: "100000", executionMode: 1, jobType: 2, appControl: { allowStart: false, allowStop: a.state === 5, allowBuild: true } };
  }
}
