import { JobManagerClient, JobState } from "../flink/jobManager";
import { requestJson, RetryPolicy } from "../platform/http";
import type { JobBackend, JobProgress, JobRef, SubmitRequest } from "./backend";
import { jobProgress, waitUntilReady } from "./backend";
import type { SecretName } from "./render";

/**
 * FlinkSqlJob through StreamPark 2.1.5 (the 2.1 line's first release with Flink 1.20 shims; the
 * image is pinned to it), for stacks whose operators work in the StreamPark console: the job appears
 * there as a Flink SQL application on the stack's remote session cluster, which this backend
 * registers itself (Flink home and cluster, read back after creating: the console accepts anything).
 *
 * Every call follows what a real 2.1.5 console answered on 2026-12-06
 * (../shared/reference/streampark-observed.md; the contract test replays those answers):
 * form-encoded POSTs with the sign-in JWT as `Authorization`; ids are JSON strings; an error is an
 * HTTP 500 whose body is an answer ({status: "error", code: "50x", message}), never retried;
 * `/flink/app/start` answers data=false with the reason in `message` when it refuses; the build is
 * followed in `/flink/pipe/detail` (`allowStart` in `/flink/app/get` is always false); a start is
 * asynchronous (the app's jobId is "" or the previous run's until the new job exists); an SQL
 * update needs the current `sqlId`; savepoints are read from `/flink/savepoint/history` (there is
 * no `/flink/savepoint/latest`); `/variable/list` answers a plain array.
 *
 * Credentials never go into the SQL StreamPark stores: each `${secret:x}` becomes a StreamPark
 * variable reference `${rtdw_x}`, and the value is kept in a desensitized (masked) team variable
 * that StreamPark substitutes when it submits the job.
 */

export interface StreamParkConfig {
  readonly url: string;
  readonly user: string;
  readonly teamId: string;
  /** The stack's remote session cluster as registered in StreamPark, by name. */
  readonly clusterName: string;
  /** Its JobManager REST address as StreamPark (in the cluster) reaches it. */
  readonly clusterAddress: string;
  /** The Flink 1.20 home registered in StreamPark, by name. */
  readonly flinkEnvName: string;
  /** Where that Flink home is inside the console's container (the stack's image copies it there). */
  readonly flinkHome: string;
  /** The same JobManager as the deploying machine reaches it: the upgrade gate reads its checkpoints and restarts there. */
  readonly jobManagerUrl: string;
  /** The stack's SQL Gateway as the deploying machine reaches it: StreamPark compiles no plans, so the state verdict's EXPLAINs run there. */
  readonly sqlGatewayUrl?: string;
}

/** FlinkAppState codes of StreamPark 2.1.5 (console core/enums/FlinkAppState.java). */
const STATE: Record<number, JobState> = {
  0: "CREATED", // ADDED
  1: "INITIALIZING",
  2: "CREATED",
  3: "INITIALIZING", // STARTING
  4: "RESTARTING",
  5: "RUNNING",
  6: "FAILING",
  7: "FAILED",
  8: "CANCELLING",
  9: "CANCELED",
  10: "FINISHED",
  11: "SUSPENDED",
  12: "RECONCILING",
  13: "FAILED", // LOST: the console lost track of the job
  14: "RECONCILING", // MAPPING
  16: "CANCELED", // REVOKED
  18: "FAILED", // TERMINATED: "maybe FINISHED, CANCELED or FAILED"
  19: "FAILED", // POS_TERMINATED
  20: "FINISHED", // SUCCEEDED (YARN)
  [-9]: "CANCELED", // KILLED (YARN)
};
/** OTHER (15) and SILENT (17) say nothing about the job: reported as unknown. */
export function appState(code: number): JobState | undefined {
  return STATE[code];
}

/** Build pipeline status (packer PipelineStatus): 3 success, 4 failure. */
const PIPE = { success: 3, failure: 4 } as const;
/** Savepoint history row types: 1 checkpoint, 2 savepoint. */
const CHECKPOINT = 1;
const SAVEPOINT = 2;

export const variableCode = (secret: SecretName) => `rtdw_${secret.replace(/\./g, "_")}`;

/** The script as StreamPark runs it: one SQL text, credentials as variable references. */
export function streamParkSql(statements: readonly string[]): string {
  return statements.map((s) => `${s.replace(/\$\{secret:([\w.]+)\}/g, (_, n: SecretName) => `\${${variableCode(n)}}`)};`).join("\n\n");
}

/** Session configuration as StreamPark dynamic properties (-Dkey=value, one per line). */
export function dynamicProperties(config: Readonly<Record<string, string>>): string {
  return Object.entries(config)
    .map(([k, v]) => `-D${k}=${v}`)
    .join("\n");
}

interface Envelope<T> {
  readonly status?: string;
  readonly code?: string | number;
  readonly message?: string;
  readonly data?: T;
}
interface App {
  readonly id: string;
  readonly jobName: string;
  readonly jobId?: string;
  readonly state: number;
  readonly sqlId?: string;
}
interface SavepointRow {
  readonly id: string;
  readonly type: number;
  readonly path: string;
  readonly latest?: boolean;
  readonly chkId?: string | null;
  readonly triggerTime?: string;
  readonly createTime?: string;
}
const newestFirst = (a: SavepointRow, b: SavepointRow) => Date.parse(b.triggerTime ?? b.createTime ?? "") - Date.parse(a.triggerTime ?? a.createTime ?? "") || Number(b.id) - Number(a.id);

export class StreamParkBackend implements JobBackend {
  readonly kind = "streampark" as const;
  private token?: string;

  constructor(
    readonly cfg: StreamParkConfig,
    private readonly password: string,
    private readonly retry?: RetryPolicy,
    /** How often asynchronous work (build, start, cancel) is looked at. */
    private readonly pollMs = 1000,
  ) {}

  private base(path: string) {
    return `${this.cfg.url.replace(/\/$/, "")}/${path}`;
  }

  /** One call; an error envelope (HTTP 500 included) is the console's answer: thrown, not retried. */
  private async call<T = unknown>(path: string, form: Record<string, unknown>, method = "POST"): Promise<T> {
    if (!this.token) await this.signIn();
    const r = await requestJson<Envelope<T>>(method, this.base(path), form, {
      form: true,
      headers: { Authorization: this.token! },
      retry: this.retry,
      answer: (status, body) => status === 500 && /"status"\s*:\s*"error"/.test(body),
    });
    if (r.status !== "success") throw new Error(`StreamPark ${path} at ${this.cfg.url} refused: ${r.message ?? JSON.stringify(r).slice(0, 500)}${r.code !== undefined ? ` (code ${r.code})` : ""}`);
    return r.data as T;
  }

  async signIn(): Promise<void> {
    // A token comes back in data.token, with neither status nor code; a refusal is a "success" with a code.
    const r = await requestJson<Envelope<{ token?: string }>>("POST", this.base("passport/signin"), { username: this.cfg.user, password: this.password, loginType: "PASSWORD" }, { form: true, retry: this.retry });
    if (r.data?.token) {
      this.token = r.data.token;
      return;
    }
    const why = String(r.code) === "0" ? "wrong user name or password" : String(r.code) === "1" ? "the user is locked" : String(r.code) === "403" ? "the user belongs to no team" : (r.message ?? `no token in ${JSON.stringify(r).slice(0, 200)}`);
    throw Object.assign(new Error(`StreamPark sign-in at ${this.cfg.url} as ${this.cfg.user} failed: ${why}`), { fatal: true });
  }

  async ready(timeoutMs: number): Promise<void> {
    await waitUntilReady(`StreamPark at ${this.cfg.url}`, () => this.signIn(), timeoutMs);
  }

  private async poll<T>(what: string, timeoutMs: number, look: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await look();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not done after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** Creates or updates the team variables holding the credentials the script references. */
  async putVariables(secrets: SubmitRequest["secrets"], used: SecretName[]): Promise<void> {
    for (const name of used) {
      const value = secrets[name];
      if (value === undefined) throw new Error(`the SQL needs secret "${name}", which was not provided`);
      const code = variableCode(name);
      const listed = await this.call<{ id: string; variableCode: string }[]>("variable/list", { teamId: this.cfg.teamId, keyword: code });
      const existing = listed.find((v) => v.variableCode === code);
      const body = { teamId: this.cfg.teamId, variableCode: code, variableValue: value, description: `rtdw credential ${name} (managed by Pulumi)`, desensitization: true };
      if (existing) await this.call("variable/update", { ...body, id: existing.id }, "PUT");
      else await this.call("variable/post", body);
    }
  }

  private app(id: string): Promise<App> {
    return this.call<App>("flink/app/get", { id });
  }

  /** `/flink/app/list` searches by name: the exact name is picked from what it finds. */
  private async findApp(jobName: string): Promise<App | undefined> {
    const page = await this.call<{ records: App[] }>("flink/app/list", { teamId: this.cfg.teamId, jobName, pageNum: 1, pageSize: 100 });
    return page.records.find((a) => a.jobName === jobName);
  }

  /**
   * StreamPark's ids of the stack's Flink home and cluster, registering them when missing. The console
   * answers `true` to any cluster (an unreachable address, a duplicate name, an unknown version), so
   * what it holds is read back and compared with what the stack says.
   */
  async registered(): Promise<{ versionId: string; clusterId: string }> {
    const envs = () => this.call<{ id: string; flinkName: string; flinkHome: string }[]>("flink/env/list", {});
    let env = (await envs()).find((e) => e.flinkName === this.cfg.flinkEnvName);
    if (!env) {
      await this.call("flink/env/create", { flinkName: this.cfg.flinkEnvName, flinkHome: this.cfg.flinkHome, description: "the stack's Flink image (managed by Pulumi)" });
      env = (await envs()).find((e) => e.flinkName === this.cfg.flinkEnvName);
      if (!env) throw new Error(`StreamPark at ${this.cfg.url} did not list the Flink environment "${this.cfg.flinkEnvName}" after creating it`);
    }
    if (env.flinkHome !== this.cfg.flinkHome) throw new Error(`StreamPark at ${this.cfg.url}: Flink environment "${this.cfg.flinkEnvName}" has home ${env.flinkHome}, the stack's is ${this.cfg.flinkHome}; remove it in the console and run up again`);
    const clusters = () => this.call<{ id: string; clusterName: string; address: string; versionId: string; executionMode: number }[]>("flink/cluster/list", {});
    const mine = async () => (await clusters()).filter((c) => c.clusterName === this.cfg.clusterName);
    let found = await mine();
    if (found.length === 0) {
      await this.call("flink/cluster/create", { clusterName: this.cfg.clusterName, executionMode: 1, address: this.cfg.clusterAddress, versionId: env.id, description: "the stack's session cluster (managed by Pulumi)" });
      found = await mine();
    }
    if (found.length !== 1) throw new Error(`StreamPark at ${this.cfg.url} lists ${found.length} clusters named "${this.cfg.clusterName}" (it accepts duplicates); keep one in the console`);
    const c = found[0];
    const wrong = [
      c.address.replace(/\/$/, "") !== this.cfg.clusterAddress.replace(/\/$/, "") ? `address ${c.address} (the stack's: ${this.cfg.clusterAddress})` : "",
      String(c.versionId) !== String(env.id) ? `Flink environment id ${c.versionId} (the stack's: ${env.id})` : "",
      Number(c.executionMode) !== 1 ? `execution mode ${c.executionMode} (the stack's: 1, remote)` : "",
    ].filter(Boolean);
    if (wrong.length) throw new Error(`StreamPark at ${this.cfg.url}: cluster "${this.cfg.clusterName}" has ${wrong.join(", ")}; fix or remove it in the console and run up again`);
    return { versionId: String(env.id), clusterId: String(c.id) };
  }

  async submit(req: SubmitRequest): Promise<JobRef> {
    const { versionId, clusterId } = await this.registered();
    const used = [...new Set(req.script.statements.flatMap((s) => [...s.matchAll(/\$\{secret:([\w.]+)\}/g)].map((m) => m[1] as SecretName)))];
    await this.putVariables(req.secrets, used);
    const app = {
      teamId: this.cfg.teamId,
      jobType: 2, // Flink SQL
      appType: 1, // StreamPark Flink
      executionMode: 1, // remote session cluster
      versionId,
      flinkClusterId: clusterId,
      jobName: req.script.job,
      flinkSql: streamParkSql(req.script.statements),
      dynamicProperties: dynamicProperties(req.script.config),
      resolveOrder: 0, // parent-first
      description: "managed by Pulumi (rtdw FlinkSqlJob)",
    };
    const existing = req.previous?.ref?.appId ? await this.app(req.previous.ref.appId) : await this.findApp(req.script.job);
    let appId: string;
    if (existing) {
      appId = String(existing.id);
      // The update is refused without the SQL version it replaces ("Flink sql is null").
      const { sqlId } = await this.app(appId);
      await this.call("flink/app/update", { ...app, id: appId, sqlId });
    } else {
      await this.call("flink/app/create", app);
      const created = await this.findApp(req.script.job);
      if (!created) throw new Error(`StreamPark did not list the application ${req.script.job} after creating it`);
      appId = String(created.id);
    }
    const before = (await this.app(appId)).jobId ?? "";
    // Release: an updated SQL is only a candidate until it is built.
    const built = await this.call<boolean>("flink/pipe/build", { appId, forceBuild: true });
    if (built !== true) throw new Error(`StreamPark refused to build ${req.script.job} (app ${appId})`);
    await this.poll(`StreamPark build of ${req.script.job} (app ${appId})`, 600000, async () => {
      const p = (await this.call<{ pipeline?: { pipeStatus: number; errorSummary?: string } | null }>("flink/pipe/detail", { appId })).pipeline;
      if (p?.pipeStatus === PIPE.failure) throw Object.assign(new Error(`StreamPark could not build ${req.script.job} (app ${appId}): ${p.errorSummary ?? "see its build log in the console"}`), { fatal: true });
      return p?.pipeStatus === PIPE.success ? true : undefined;
    });
    const check = await this.call<number>("flink/app/check_start", { id: appId, teamId: this.cfg.teamId });
    if (Number(check) !== 0) throw new Error(`StreamPark will not start ${req.script.job} (app ${appId}): check_start answered ${check} (1: a job of this name is known to the cluster already, 4: invalid)`);
    // The start answers at once; data=false carries StreamPark's reason in `message`.
    const r = await requestJson<Envelope<boolean>>(
      "POST",
      this.base("flink/app/start"),
      { id: appId, teamId: this.cfg.teamId, restoreOrTriggerSavepoint: req.restorePath !== undefined, savepointPath: req.restorePath, allowNonRestored: req.allowNonRestoredState ?? false },
      { form: true, headers: { Authorization: this.token! }, retry: this.retry, idempotent: false, answer: (status, body) => status === 500 && /"status"\s*:\s*"error"/.test(body) },
    );
    if (r.status !== "success" || r.data !== true) throw new Error(`StreamPark refused to start ${req.script.job} (app ${appId}): ${r.message ?? JSON.stringify(r).slice(0, 300)}`);
    // Asynchronous: the new job exists once the app shows a job id other than the one before.
    const jobId = await this.poll(`StreamPark start of ${req.script.job} (app ${appId})`, 300000, async () => {
      const a = await this.app(appId);
      if (appState(a.state) === "FAILED") throw Object.assign(new Error(`StreamPark reports ${req.script.job} (app ${appId}) FAILED while starting: ${(await this.failureCause({ jobId: a.jobId ?? "", ref: { appId } })) ?? "no exception recorded"}`), { fatal: true });
      return a.jobId && a.jobId !== before ? a.jobId : undefined;
    });
    return { jobId, ref: { appId } };
  }

  async state(job: JobRef): Promise<JobState | undefined> {
    if (!job.ref?.appId) return undefined;
    return appState((await this.app(job.ref.appId)).state);
  }

  /** The newest failed operation's exception in the application's operation log. */
  async failureCause(job: JobRef): Promise<string | undefined> {
    if (!job.ref?.appId) return undefined;
    const page = await this.call<{ records: { id: string; success?: boolean; exception?: string; optionTime?: string }[] }>("flink/app/optionlog", { appId: job.ref.appId, teamId: this.cfg.teamId, pageNum: 1, pageSize: 20 });
    const failed = page.records.filter((l) => l.success === false && l.exception).sort((a, b) => Date.parse(b.optionTime ?? "") - Date.parse(a.optionTime ?? "") || Number(b.id) - Number(a.id));
    return failed[0]?.exception?.slice(0, 4000);
  }

  private async history(appId: string): Promise<SavepointRow[]> {
    const page = await this.call<{ records: SavepointRow[] }>("flink/savepoint/history", { appId, teamId: this.cfg.teamId, pageNum: 1, pageSize: 100 });
    return [...page.records].sort(newestFirst);
  }

  private async cancelApp(job: JobRef, savepointDir?: string): Promise<void> {
    const appId = job.ref!.appId;
    await this.call("flink/app/cancel", { id: appId, teamId: this.cfg.teamId, restoreOrTriggerSavepoint: savepointDir !== undefined, savepointPath: savepointDir, drain: false });
    await this.poll(`StreamPark cancel of app ${appId}`, 300000, async () => {
      const s = appState((await this.app(appId)).state);
      if (s === "FAILED" && savepointDir !== undefined) throw Object.assign(new Error(`StreamPark app ${appId} FAILED while stopping with a savepoint: ${(await this.failureCause(job)) ?? "no exception recorded"}`), { fatal: true });
      return s === "CANCELED" || s === "FINISHED" || s === "FAILED" ? true : undefined;
    });
  }

  async stopWithSavepoint(job: JobRef, targetDirectory: string): Promise<string> {
    const appId = job.ref!.appId;
    const known = new Set((await this.history(appId)).map((r) => r.path));
    await this.cancelApp(job, targetDirectory);
    // The savepoint it wrote: the newest savepoint row not there before (one cancel can write two rows with the same path).
    const sp = (await this.history(appId)).find((r) => r.type === SAVEPOINT && !known.has(r.path));
    if (!sp) throw new Error(`StreamPark cancelled app ${appId} with a savepoint into ${targetDirectory} but its savepoint history shows none there`);
    return sp.path;
  }

  async cancel(job: JobRef): Promise<void> {
    await this.cancelApp(job);
  }

  /** The newest checkpoint StreamPark recorded (older checkpoint rows are pruned by the console). */
  async latestCheckpoint(job: JobRef): Promise<string | undefined> {
    return (await this.history(job.ref!.appId)).find((r) => r.type === CHECKPOINT)?.path;
  }

  async waitUntilRunning(job: JobRef, timeoutMs: number): Promise<void> {
    const appId = job.ref!.appId;
    await this.poll(`StreamPark app ${appId}`, timeoutMs, async () => {
      const s = appState((await this.app(appId)).state);
      if (s === "FAILED" || s === "CANCELED") throw Object.assign(new Error(`StreamPark reports the application ${s}: ${(await this.failureCause(job)) ?? "see its log in the StreamPark console"}`), { fatal: true });
      return s === "RUNNING" ? true : undefined;
    });
  }

  /** The console's counts lag the cluster's; the JobManager's own are what the gate judges. */
  progress(job: JobRef): Promise<JobProgress> {
    return jobProgress(new JobManagerClient(this.cfg.jobManagerUrl, this.retry), job.jobId);
  }

  jobParameters(job: JobRef): Promise<Record<string, string>> {
    return new JobManagerClient(this.cfg.jobManagerUrl, this.retry).jobParameters(job.jobId);
  }

  async findActive(name: string): Promise<JobRef | undefined> {
    const a = await this.findApp(name);
    return a && appState(a.state) === "RUNNING" ? { jobId: a.jobId ?? "", ref: { appId: String(a.id) } } : undefined;
  }

  /** StreamPark keeps one application per job name: its latest run, whatever its state. */
  async newest(name: string): Promise<JobRef | undefined> {
    const a = await this.findApp(name);
    return a ? { jobId: a.jobId ?? "", ref: { appId: String(a.id) } } : undefined;
  }
}
