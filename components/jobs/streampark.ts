import type { JobState } from "../flink/jobManager";
import { requestJson, RetryPolicy } from "../flink/http";
import type { JobBackend, JobRef, SubmitRequest } from "./backend";
import { waitUntilReady } from "./backend";
import type { SecretName } from "./render";

/**
 * FlinkSqlJob through StreamPark 2.1.5+ (the first release with Flink 1.20 shims), for stacks whose
 * operators work in the StreamPark console: the job appears there as a Flink SQL application on the
 * remote session cluster. Requests follow StreamPark's controllers: form-encoded POSTs, the JWT from
 * /passport/signin in the Authorization header (no prefix), answers wrapped in {status, code, data}.
 *
 * Credentials never go into the SQL StreamPark stores: each `${secret:x}` becomes a StreamPark
 * variable reference `${rtdw_x}`, and the value is kept in a desensitized (masked) team variable
 * that StreamPark substitutes when it submits the job.
 */

export interface StreamParkConfig {
  readonly url: string;
  readonly user: string;
  readonly teamId: string;
  /** The remote session cluster the stack registered (streampark/register.sh), by name. */
  readonly clusterName: string;
  /** The Flink 1.20 home the stack registered, by name. */
  readonly flinkEnvName: string;
}

/** FlinkAppState codes (streampark-console enums). */
const STATE: Record<number, JobState> = {
  0: "CREATED", 1: "INITIALIZING", 2: "CREATED", 3: "INITIALIZING", 4: "RESTARTING", 5: "RUNNING", 6: "FAILING", 7: "FAILED",
  8: "CANCELLING", 9: "CANCELED", 10: "FINISHED", 11: "SUSPENDED", 12: "RECONCILING", 13: "FAILED", 14: "RESTARTING", 15: "RECONCILING",
};

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

export class StreamParkBackend implements JobBackend {
  readonly kind = "streampark" as const;
  private token?: string;

  constructor(
    readonly cfg: StreamParkConfig,
    private readonly password: string,
    private readonly retry?: RetryPolicy,
  ) {}

  private async call<T = unknown>(path: string, form: Record<string, unknown>, method = "POST"): Promise<T> {
    if (!this.token) await this.signIn();
    const url = `${this.cfg.url.replace(/\/$/, "")}/${path}`;
    const r = await requestJson<{ status?: string; code?: number; message?: string; data: T }>(method, url, form, { form: true, headers: { Authorization: this.token! }, retry: this.retry });
    if (r.status !== "success") throw new Error(`StreamPark ${path} at ${this.cfg.url} failed: ${r.message ?? JSON.stringify(r).slice(0, 500)}`);
    return r.data;
  }

  async signIn(): Promise<void> {
    const url = `${this.cfg.url.replace(/\/$/, "")}/passport/signin`;
    const r = await requestJson<{ status?: string; message?: string; data?: { token?: string } }>("POST", url, { username: this.cfg.user, password: this.password, loginType: "PASSWORD" }, { form: true, retry: this.retry });
    if (r.status !== "success" || !r.data?.token) throw new Error(`StreamPark sign-in at ${this.cfg.url} as ${this.cfg.user} failed: ${r.message ?? "no token returned"}`);
    this.token = r.data.token;
  }

  async ready(timeoutMs: number): Promise<void> {
    await waitUntilReady(`StreamPark at ${this.cfg.url}`, () => this.signIn(), timeoutMs);
  }

  /** Creates or updates the team variables holding the credentials the script references. */
  async putVariables(secrets: SubmitRequest["secrets"], used: SecretName[]): Promise<void> {
    for (const name of used) {
      const value = secrets[name];
      if (value === undefined) throw new Error(`the SQL needs secret "${name}", which was not provided`);
      const code = variableCode(name);
      const page = await this.call<{ records: { id: number; variableCode: string }[] }>("variable/list", { teamId: this.cfg.teamId, variableCode: code, pageNum: 1, pageSize: 10 });
      const existing = page.records.find((v) => v.variableCode === code);
      const body = { teamId: this.cfg.teamId, variableCode: code, variableValue: value, description: `rtdw credential ${name} (managed by Pulumi)`, desensitization: true };
      if (existing) await this.call("variable/update", { ...body, id: existing.id }, "PUT");
      else await this.call("variable/post", body);
    }
  }

  private async app(id: string): Promise<{ id: number; jobName: string; jobId?: string; state: number; appControl?: { allowStart?: boolean } }> {
    return this.call("flink/app/get", { id });
  }

  private async findApp(jobName: string) {
    const page = await this.call<{ records: { id: number; jobName: string; jobId?: string; state: number }[] }>("flink/app/list", { teamId: this.cfg.teamId, jobName, pageNum: 1, pageSize: 50 });
    return page.records.find((a) => a.jobName === jobName);
  }

  /** StreamPark's ids of the registered Flink home and cluster. */
  async registered(): Promise<{ versionId: number; clusterId: number }> {
    const envs = await this.call<{ id: number; flinkName: string }[]>("flink/env/list", {});
    const clusters = await this.call<{ id: number; clusterName: string }[]>("flink/cluster/list", {});
    const env = envs.find((e) => e.flinkName === this.cfg.flinkEnvName);
    const cluster = clusters.find((c) => c.clusterName === this.cfg.clusterName);
    if (!env || !cluster) throw new Error(`StreamPark at ${this.cfg.url} has no ${!env ? `Flink environment "${this.cfg.flinkEnvName}"` : `cluster "${this.cfg.clusterName}"`}; the stack's streampark-register task creates both`);
    return { versionId: env.id, clusterId: cluster.id };
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
      description: "managed by Pulumi (rtdw FlinkSqlJob)",
    };
    const existing = req.previous?.ref?.appId ? { id: Number(req.previous.ref.appId) } : await this.findApp(req.script.job);
    if (existing) await this.call("flink/app/update", { ...app, id: existing.id });
    else await this.call("flink/app/create", app);
    const appId = String(existing?.id ?? (await this.findApp(req.script.job))?.id ?? "");
    if (!appId) throw new Error(`StreamPark did not list the application ${req.script.job} after creating it`);
    await this.call("flink/pipe/build", { appId, forceBuild: true });
    await waitUntilReady(`StreamPark build of ${req.script.job}`, async () => {
      if (!(await this.app(appId)).appControl?.allowStart) throw new Error("build not finished");
    }, 600000);
    await this.call("flink/app/start", {
      id: appId,
      teamId: this.cfg.teamId,
      restoreOrTriggerSavepoint: req.restorePath !== undefined,
      savepointPath: req.restorePath,
      allowNonRestored: req.allowNonRestoredState ?? false,
    });
    return { jobId: (await this.app(appId)).jobId ?? "", ref: { appId } };
  }

  async state(job: JobRef): Promise<JobState | undefined> {
    if (!job.ref?.appId) return undefined;
    return STATE[(await this.app(job.ref.appId)).state];
  }

  async failureCause(): Promise<string | undefined> {
    return "see the application's log in the StreamPark console";
  }

  private async cancelApp(job: JobRef, savepointPath?: string): Promise<void> {
    await this.call("flink/app/cancel", { id: job.ref!.appId, teamId: this.cfg.teamId, restoreOrTriggerSavepoint: savepointPath !== undefined, savepointPath, drain: false });
    await waitUntilReady(`StreamPark cancel of app ${job.ref!.appId}`, async () => {
      const s = STATE[(await this.app(job.ref!.appId)).state];
      if (!["CANCELED", "FINISHED", "FAILED"].includes(s)) throw new Error(`still ${s}`);
    }, 300000);
  }

  async stopWithSavepoint(job: JobRef, targetDirectory: string): Promise<string> {
    await this.cancelApp(job, targetDirectory);
    const sp = await this.call<{ path?: string } | null>("flink/savepoint/latest", { appId: job.ref!.appId });
    if (!sp?.path) throw new Error(`StreamPark cancelled app ${job.ref!.appId} but recorded no savepoint`);
    return sp.path;
  }

  async cancel(job: JobRef): Promise<void> {
    await this.cancelApp(job);
  }

  async latestCheckpoint(job: JobRef): Promise<string | undefined> {
    return (await this.call<{ path?: string } | null>("flink/savepoint/latest", { appId: job.ref!.appId }))?.path;
  }

  async waitUntilRunning(job: JobRef, timeoutMs: number): Promise<void> {
    await waitUntilReady(`StreamPark app ${job.ref!.appId}`, async () => {
      const s = STATE[(await this.app(job.ref!.appId)).state];
      if (s === "FAILED" || s === "CANCELED") throw Object.assign(new Error(`StreamPark reports the application ${s}; see its log in the StreamPark console`), { fatal: true });
      if (s !== "RUNNING") throw new Error(`still ${s}`);
    }, timeoutMs);
  }

  async findActive(name: string): Promise<JobRef | undefined> {
    const a = await this.findApp(name);
    return a && STATE[a.state] === "RUNNING" ? { jobId: a.jobId ?? "", ref: { appId: String(a.id) } } : undefined;
  }

  /** StreamPark keeps one application per job name: its latest run, whatever its state. */
  async newest(name: string): Promise<JobRef | undefined> {
    const a = await this.findApp(name);
    return a ? { jobId: a.jobId ?? "", ref: { appId: String(a.id) } } : undefined;
  }
}
