import type { JobBackend, JobRef } from "./backend";
import type { SecretName } from "./render";
import type { JobScript } from "./script";
import type { UpgradeMode } from "./table";

/**
 * The FlinkSqlJob lifecycle, modelled on the Flink Kubernetes Operator:
 *   create  submit; the job runs
 *   update  a change of SQL, parallelism, checkpointing, secrets or the restart nonce upgrades the job:
 *           savepoint  - stop with a savepoint, resubmit from it
 *           last-state - cancel, resubmit from the latest retained checkpoint
 *           stateless  - cancel, resubmit with empty state
 *           If the new version fails to start, the previous one is resubmitted from the same state
 *           and the error carries Flink's message: nothing is lost.
 *   delete  stop with a final savepoint that is kept (stateless jobs are cancelled)
 *   read    the real state, so `pulumi refresh` shows a failed or vanished job
 * Savepoints taken by upgrades are kept up to `savepointsToKeep` per job; older ones are deleted from
 * object storage. Plain functions here; flinkSqlJob.ts wraps them as a Pulumi dynamic provider.
 */

export type BackendConfig =
  | { readonly kind: "sql-gateway"; readonly sqlGatewayUrl: string; readonly jobManagerUrl: string }
  | { readonly kind: "streampark"; readonly url: string; readonly user: string; readonly teamId: string; readonly clusterName: string; readonly flinkEnvName: string };

export interface ObjectStoreConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKey: string;
  /** Object store secret key, read from `secrets["s3.secretKey"]`. */
}

export interface FlinkSqlJobInputs {
  /** The job's name (the job table's row); also its resource id and Flink pipeline.name. */
  readonly name: string;
  readonly script: JobScript;
  readonly upgradeMode: UpgradeMode;
  /** Change to restart the job with its upgrade mode although nothing else changed. */
  readonly restartNonce: number;
  readonly backend: BackendConfig;
  /** Reach cluster-internal backend URLs through a Kubernetes API tunnel (see platform/tunnel.ts). */
  readonly tunnel?: { readonly context?: string };
  /** Where this job's savepoints go, e.g. s3://rtdw-prod-checkpoints/savepoints/rt-dw-ods-processing. */
  readonly savepointDir: string;
  readonly savepointsToKeep: number;
  readonly objectStore: ObjectStoreConfig;
  /** Seconds to wait for the backend to answer before giving up (it may be created in the same run). */
  readonly readyTimeoutSeconds: number;
  /** Seconds a submitted job gets to have all its tasks running. */
  readonly startTimeoutSeconds: number;
  /** Credentials the SQL references, plus the StreamPark password; a Pulumi secret. */
  readonly secrets: Readonly<Partial<Record<SecretName | "streampark.password", string>>>;
  /** What `pulumi up` will do to the running job; set by check() so the preview shows it. */
  readonly plannedAction?: string;
}

export interface FlinkSqlJobOutputs extends FlinkSqlJobInputs {
  readonly jobId: string;
  readonly ref?: Readonly<Record<string, string>>;
  /** RUNNING, FAILED, ..., or MISSING when the cluster does not know the job. */
  readonly status: string;
  /** Savepoints kept for rollback, oldest first. */
  readonly savepoints: readonly string[];
  /** The state the current job started from, if any. */
  readonly restoredFrom?: string;
}

/** Inputs whose change upgrades the running job. */
const UPGRADE_FIELDS = ["script", "upgradeMode", "restartNonce", "backend", "secrets"] as const;

function same(a: unknown, b: unknown) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function changedFields(olds: Partial<FlinkSqlJobInputs>, news: FlinkSqlJobInputs): string[] {
  const fields = UPGRADE_FIELDS.filter((f) => !same(olds[f], news[f])).map(String);
  // Name the part of the script that changed: the reviewer of a preview wants to know.
  if (fields.includes("script") && olds.script) {
    const o = olds.script.config;
    const n = news.script.config;
    const keys = [...new Set([...Object.keys(o), ...Object.keys(n)])].filter((k) => o[k] !== n[k]);
    const parts = [...keys, ...(same(olds.script.statements, news.script.statements) ? [] : ["sql"])];
    return fields.map((f) => (f === "script" ? `script (${parts.join(", ")})` : f));
  }
  return fields;
}

export function describeAction(olds: Partial<FlinkSqlJobInputs> | undefined, news: FlinkSqlJobInputs): string {
  if (!olds?.script) return "submit";
  const changed = changedFields(olds, news);
  if (!changed.length) return olds.plannedAction ?? "submit";
  const how = {
    savepoint: "stop with a savepoint, resubmit from it",
    "last-state": "cancel, resubmit from the latest checkpoint",
    stateless: "cancel, resubmit with empty state",
  }[news.upgradeMode];
  return `${news.upgradeMode} upgrade: ${how} (changed: ${changed.join("; ")})`;
}

export function validate(news: FlinkSqlJobInputs): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  if (!/^[a-z][a-z0-9-]{2,62}$/.test(news.name ?? "")) failures.push({ property: "name", reason: `"${news.name}" is not a job name of [a-z0-9-]` });
  if (!["savepoint", "last-state", "stateless"].includes(news.upgradeMode)) failures.push({ property: "upgradeMode", reason: `"${news.upgradeMode}" is not savepoint, last-state or stateless` });
  if (!news.script?.statements?.length) failures.push({ property: "script", reason: "has no statements" });
  if (!/^(s3|file|hdfs):\/\//.test(news.savepointDir ?? "")) failures.push({ property: "savepointDir", reason: `"${news.savepointDir}" is not an s3://, file:// or hdfs:// URI` });
  if (!(news.savepointsToKeep >= 1)) failures.push({ property: "savepointsToKeep", reason: "must be at least 1" });
  return failures;
}

export interface LifecycleDeps {
  /** Builds the backend inside the provider process (nothing non-serializable is captured). */
  readonly backend: (cfg: BackendConfig, secrets: FlinkSqlJobInputs["secrets"]) => JobBackend;
  /** Deletes everything under an object-store URI (savepoint retention). */
  readonly deletePrefix: (uri: string, store: ObjectStoreConfig, secretKey: string) => Promise<void>;
}

function jobSecrets(s: FlinkSqlJobInputs["secrets"]) {
  const { ["streampark.password"]: _sp, ...rest } = s;
  return rest;
}

async function startVersion(b: JobBackend, inputs: FlinkSqlJobInputs, restorePath: string | undefined, previous?: JobRef): Promise<JobRef> {
  const ref = await b.submit({ script: inputs.script, secrets: jobSecrets(inputs.secrets), restorePath, allowNonRestoredState: restorePath !== undefined, previous });
  try {
    await b.waitUntilRunning(ref, inputs.startTimeoutSeconds * 1000);
  } catch (e) {
    await b.cancel(ref).catch(() => undefined);
    throw e;
  }
  return ref;
}

export async function createJob(deps: LifecycleDeps, inputs: FlinkSqlJobInputs): Promise<{ id: string; outs: FlinkSqlJobOutputs }> {
  const b = deps.backend(inputs.backend, inputs.secrets);
  await b.ready(inputs.readyTimeoutSeconds * 1000);
  // A job of this name already running (state lost or restored from an old backup, a re-run after a
  // crash) is taken over, not duplicated: it stops with a savepoint and the declared SQL resumes from it.
  const existing = await b.findActive(inputs.name);
  const restorePath = existing && inputs.upgradeMode !== "stateless" ? await b.stopWithSavepoint(existing, inputs.savepointDir) : undefined;
  if (existing && !restorePath) await b.cancel(existing);
  const ref = await startVersion(b, inputs, restorePath);
  return { id: inputs.name, outs: { ...inputs, ...ref, status: "RUNNING", savepoints: restorePath ? [restorePath] : [], restoredFrom: restorePath } };
}

export async function readJob(deps: LifecycleDeps, id: string, props: FlinkSqlJobOutputs): Promise<{ id: string; props: FlinkSqlJobOutputs }> {
  const b = deps.backend(props.backend, props.secrets);
  let ref: JobRef = { jobId: props.jobId, ref: props.ref };
  let status = (await b.state(ref)) ?? "MISSING";
  if (status !== "RUNNING") {
    const active = await b.findActive(props.name, ref);
    if (active) {
      ref = active;
      status = (await b.state(active)) ?? "MISSING";
    }
  }
  return { id, props: { ...props, ...ref, status } };
}

export async function updateJob(deps: LifecycleDeps, olds: FlinkSqlJobOutputs, news: FlinkSqlJobInputs): Promise<FlinkSqlJobOutputs> {
  const b = deps.backend(news.backend, news.secrets);
  await b.ready(news.readyTimeoutSeconds * 1000);
  let current: JobRef | undefined = { jobId: olds.jobId, ref: olds.ref };
  const state = await b.state(current);
  if (state !== "RUNNING" && state !== "RESTARTING") current = await b.findActive(olds.name, current);
  const savepoints = [...(olds.savepoints ?? [])];
  let restorePath: string | undefined;
  if (current && news.upgradeMode === "savepoint") {
    restorePath = await b.stopWithSavepoint(current, news.savepointDir);
    savepoints.push(restorePath);
  } else if (current && news.upgradeMode === "last-state") {
    restorePath = await b.latestCheckpoint(current);
    await b.cancel(current);
  } else if (current) {
    await b.cancel(current);
  } else if (news.upgradeMode !== "stateless") {
    // Nothing running (failed or cancelled outside Pulumi): resume from the newest state there is,
    // the last job's latest retained checkpoint (it ran past the state it started from), else that state.
    const last = await b.latestCheckpoint({ jobId: olds.jobId, ref: olds.ref }).catch(() => undefined);
    restorePath = last ?? olds.restoredFrom ?? savepoints[savepoints.length - 1];
  }

  let ref: JobRef;
  try {
    ref = await startVersion(b, news, news.upgradeMode === "stateless" ? undefined : restorePath, current);
  } catch (e) {
    const why = (e as Error).message;
    let back = "";
    try {
      const prev = await startVersion(b, { ...news, script: olds.script }, news.upgradeMode === "stateless" ? undefined : restorePath, current);
      back = `the previous version was resubmitted${restorePath ? ` from ${restorePath}` : ""} and runs as job ${prev.jobId}`;
    } catch (e2) {
      back = `resubmitting the previous version failed as well: ${(e2 as Error).message}`;
    }
    throw new Error(`${news.name}: the new version did not start: ${why}; ${back}`);
  }

  while (savepoints.length > news.savepointsToKeep) {
    const old = savepoints.shift()!;
    await deps.deletePrefix(old, news.objectStore, news.secrets["s3.secretKey"] ?? "");
  }
  return { ...news, ...ref, status: "RUNNING", savepoints, restoredFrom: news.upgradeMode === "stateless" ? undefined : restorePath };
}

export async function deleteJob(deps: LifecycleDeps, props: FlinkSqlJobOutputs): Promise<void> {
  const b = deps.backend(props.backend, props.secrets);
  await b.ready(props.readyTimeoutSeconds * 1000);
  let current: JobRef | undefined = { jobId: props.jobId, ref: props.ref };
  if ((await b.state(current)) !== "RUNNING") current = await b.findActive(props.name, current);
  if (!current) return;
  if (props.upgradeMode === "stateless") await b.cancel(current);
  else await b.stopWithSavepoint(current, props.savepointDir); // kept: outside the retention window on purpose
}
