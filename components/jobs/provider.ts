import type { JobBackend, JobRef } from "./backend";
import type { SecretName } from "./render";
import type { JobScript } from "./script";
import type { UpgradeMode } from "../config/jobTable";
import { compareState, describeVerdict, executionPlan, StateVerdict, verdictFor } from "./stateCompat";

/**
 * The FlinkSqlJob lifecycle, modelled on the Flink Kubernetes Operator:
 *   create  submit; the job runs
 *   update  a change of SQL, parallelism, checkpointing, secrets or the restart nonce upgrades the job.
 *           A SQL change is compiled first (old and new plan, stateCompat.ts): an upgrade that would
 *           leave state behind is refused before the job is touched, unless the job table opts in
 *           (allowNonRestoredState); Flink restores with ignore-unclaimed-state only then.
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

import type { StreamParkConfig } from "./streampark";
import type { SessionCluster } from "../flink/sqlGateway";
import { METRICS_FETCH_INTERVAL_MS } from "../flink/properties";
import { parseDurationMs } from "../config/quantities";

export type BackendConfig =
  | {
      readonly kind: "sql-gateway";
      readonly sqlGatewayUrl: string;
      /** The REST API of the cluster the job runs on, as the deploying machine reaches it (stop, savepoints, checkpoints). */
      readonly jobManagerUrl: string;
      /** The cluster the job runs on, as the gateway reaches it; unset, the gateway's own. */
      readonly cluster?: SessionCluster;
    }
  | ({ readonly kind: "streampark" } & StreamParkConfig);

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
  /**
   * Where this job's checkpoints go, by job name (s3://…/checkpoints/rt-dw-ods-processing): after a
   * disaster a new state finds the newest retained checkpoint of the job there. Unset: Flink's default.
   */
  readonly checkpointDir?: string;
  readonly savepointsToKeep: number;
  readonly objectStore: ObjectStoreConfig;
  /** Seconds to wait for the backend to answer before giving up (it may be created in the same run). */
  readonly readyTimeoutSeconds: number;
  /** Seconds a submitted job gets to have all its tasks running. */
  readonly startTimeoutSeconds: number;
  /** Credentials the SQL references, plus the StreamPark password; a Pulumi secret. */
  readonly secrets: Readonly<Partial<Record<SecretName | "streampark.password", string>>>;
  /**
   * Accept an upgrade that leaves state behind (operators that start empty): the job table's
   * opt-in. Otherwise such an upgrade is refused and Flink restores only state it can map fully.
   */
  readonly allowNonRestoredState?: boolean;
  /** How long a new version gets to pass the upgrade gate (sql/jobs.yaml); derived from the checkpoint interval when unset. */
  readonly gateTimeoutSeconds?: number;
  /**
   * Restore the job from a kept savepoint (sql/jobs.yaml `restoreFrom`): "previous" (the newest
   * savepoint of the job, the one its last upgrade took) or a savepoint's URI. Acts once, when set or changed.
   */
  readonly restoreFrom?: string;
  /** What restoreFrom resolves to and whether the current SQL can restore it; set by check(). */
  readonly restore?: RestorePlan;
  /** What `pulumi up` will do to the running job; set by check() so the preview shows it. */
  readonly plannedAction?: string;
  /** Whether the running job's state survives a SQL change, set by check() from the compiled plans. */
  readonly stateCheck?: StateCheck;
  /**
   * What the last `pulumi refresh` found, when the job was not running: its state and the state it
   * would resume from. Set by read() as a refreshed input, so check() can say so in plannedAction.
   */
  readonly observed?: { readonly status: string; readonly resumeFrom?: string };
  /**
   * What check() saw of the job just now, when no job of its name runs (it failed after exhausting
   * its restarts, or was cancelled): `up` resumes it without a `refresh` first. Never read from the state.
   */
  readonly live?: { readonly status: string; readonly resumeFrom?: string };
}

export interface FlinkSqlJobOutputs extends FlinkSqlJobInputs {
  readonly jobId: string;
  readonly ref?: Readonly<Record<string, string>>;
  /** RUNNING, FAILED, ..., or MISSING when the cluster does not know the job. */
  readonly status: string;
  /** Savepoints kept for rollback, oldest first. */
  readonly savepoints: readonly string[];
  /** The SQL version that wrote each kept savepoint (the savepoint's rtdw-version.json), oldest first. */
  readonly savepointVersions?: readonly SavepointVersion[];
  /** The running version's SQL version (sqlVersion of its script). */
  readonly sqlVersion?: string;
  /** The state the current job started from, if any. */
  readonly restoredFrom?: string;
  /** What the upgrade gate saw before the current version counted as started. */
  readonly gate?: GateResult;
}

/** Which SQL wrote a savepoint: kept inside it (rtdw-version.json), so it outlives a lost state. */
export interface VersionRecord {
  readonly job: string;
  /** sqlVersion() of the script, or "unknown" for a job taken over from outside the stack. */
  readonly sqlVersion: string;
  readonly takenAt: string;
  /** The script that wrote it (credentials stay ${secret:...}), to judge a restore by the compiled plans. */
  readonly script?: JobScript;
}

export interface SavepointVersion {
  readonly path: string;
  readonly sqlVersion: string;
  readonly takenAt: string;
}

/** What a restoreFrom resolves to, as check() found it. */
export interface RestorePlan {
  readonly from?: string;
  readonly sqlVersion?: string;
  readonly takenAt?: string;
  readonly stateCheck?: StateCheck;
  /** Why it cannot be planned (no savepoint kept, the object store unreachable). */
  readonly problem?: string;
}

/** A short, stable name of a version of a job's script (SQL and session configuration). */
export function sqlVersion(script: JobScript): string {
  // Required here: this runs inside the serialized dynamic provider.
  const crypto = require("crypto") as typeof import("crypto");
  return crypto.createHash("sha256").update(JSON.stringify({ config: script.config, statements: script.statements })).digest("hex").slice(0, 12);
}

/** The global job parameter each submitted version carries: its sqlVersion, so a job found running can be told apart. */
export const VERSION_PARAMETER = "rtdw.sql-version";

/** The script as submitted: tagged with its sqlVersion (Flink shows it in /jobs/<id>/config). */
export function tagged(script: JobScript): JobScript {
  const own = script.config["pipeline.global-job-parameters"];
  const tag = `${VERSION_PARAMETER}:${sqlVersion(script)}`;
  return { ...script, config: { ...script.config, "pipeline.global-job-parameters": own ? `${own},${tag}` : tag } };
}

/** Where the script of each submitted version is recorded (rtdw-version.json), by job and sqlVersion. */
export function versionRecordDir(i: Pick<FlinkSqlJobInputs, "savepointDir">, version: string): string {
  return `${i.savepointDir.replace(/\/$/, "")}/versions/${version}`;
}

/** A restore the job table asks for and the last `up` did not do yet. */
export function restoreRequested(olds: Partial<FlinkSqlJobInputs> | undefined, news: Pick<FlinkSqlJobInputs, "restoreFrom">): boolean {
  return news.restoreFrom !== undefined && news.restoreFrom !== olds?.restoreFrom;
}

/** Resolves restoreFrom, reads which SQL wrote that savepoint and compiles it against the current SQL. Never throws. */
export async function planRestore(deps: LifecycleDeps, news: FlinkSqlJobInputs): Promise<RestorePlan> {
  const key = news.secrets?.["s3.secretKey"] ?? "";
  try {
    const from =
      news.restoreFrom === "previous" ? (await deps.listSavepoints([news.savepointDir], news.objectStore, key))[0] : news.restoreFrom;
    if (!from) return { problem: `no savepoint of ${news.name} is kept under ${news.savepointDir}` };
    const record = await deps.readVersion?.(from, news.objectStore, key).catch(() => undefined);
    const stateCheck: StateCheck | undefined =
      news.upgradeMode === "stateless" ? undefined : record?.script ? await checkState(deps, { script: record.script }, news) : { kind: "unknown", reason: "the savepoint does not say which SQL wrote it" };
    return { from, sqlVersion: record?.sqlVersion, takenAt: record?.takenAt, stateCheck };
  } catch (e) {
    return { problem: String((e as Error).message).slice(0, 300) };
  }
}

/**
 * Whether a job of this name runs now; when none does, the state of its newest job and the state `up`
 * would resume it from. Read by check(), so a failed job is resumed by the next `up`, refresh or not.
 */
export async function observeJob(deps: LifecycleDeps, i: FlinkSqlJobInputs): Promise<FlinkSqlJobInputs["live"]> {
  const b = deps.backend(i.backend, i.secrets);
  if (await b.findActive(i.name)) return undefined;
  const last = await b.newest(i.name).catch(() => undefined);
  const status = (last ? await b.state(last).catch(() => undefined) : undefined) ?? "MISSING";
  const as = { ...i, jobId: last?.jobId ?? "", ref: last?.ref, status, savepoints: [] } as FlinkSqlJobOutputs;
  return { status, resumeFrom: i.upgradeMode === "stateless" ? undefined : await newestRetainedState(deps, b, as) };
}

/** Checkpoints a new version must complete, with no restart, before it counts as started (N ≥ 2). */
export const GATE_CHECKPOINTS = 2;

/** Checkpoints that must complete after rows reached the sinks: the first commits them, the next confirms that commit went through. */
export const COMMIT_CHECKPOINTS = 2;

/** How stale the JobManager's row counts may be: its metrics.fetcher.update-interval, which the clusters set, and a second. */
export const METRICS_LAG_MS = METRICS_FETCH_INTERVAL_MS + 1000;

/** The shortest wait for rows to show before a version with none passes (what the sandbox's fault tests were proven with). */
export const NO_ROWS_MIN_MS = 10_000;

/** What the gate saw when the version passed. */
export interface GateResult {
  readonly checkpoints: number;
  readonly failedCheckpoints: number;
  readonly restarts: number;
  readonly seconds: number;
  /** What the gate found of the sinks: rows that reached them and were committed by checkpoints after, or that no rows came. */
  readonly sinks: string;
}

/**
 * How long a version gets to pass the gate: its checkpoint interval times (N + 1), plus time for the
 * first checkpoint to be triggered and written; the job table's gateTimeoutSeconds overrides it.
 */
export function gateTimeoutMs(script: Pick<JobScript, "config">, overrideSeconds?: number): number {
  if (overrideSeconds !== undefined) return overrideSeconds * 1000;
  return (GATE_CHECKPOINTS + COMMIT_CHECKPOINTS + 1) * checkpointIntervalMs(script) + 120_000;
}

/** The script's checkpoint interval as Flink reads it (rendered as "<n> ms"); 60 s when unset. */
function checkpointIntervalMs(script: Pick<JobScript, "config">): number {
  return parseDurationMs(script.config["execution.checkpointing.interval"] ?? "") ?? 60_000;
}

/** How often the gate asks for the exception of a version that failed it, `pollMs` apart. */
const CAUSE_ATTEMPTS = 6;

/**
 * The gate: a started version counts only once it has completed GATE_CHECKPOINTS checkpoints without
 * a restart, and its sinks committed what reached them: once rows are seen entering the tasks that
 * hold the sinks, COMMIT_CHECKPOINTS more checkpoints must complete (a JDBC sink flushes at the
 * barrier, Paimon, Kafka and StarRocks commit when the checkpoint completes; a refused write fails
 * the checkpoint or restarts the job). When no rows come, the version passes once its checkpoints
 * are done and the row counts, which lag by `metricsLagMs`, have had time to show any. A version that
 * restarts, fails, or does not get there in time fails it, with Flink's own exception; the caller
 * cancels it (and, in an upgrade, resubmits the previous version).
 */
export async function passGate(b: JobBackend, ref: JobRef, inputs: Pick<FlinkSqlJobInputs, "name" | "script" | "gateTimeoutSeconds">, pollMs = 2000, metricsLagMs?: number): Promise<GateResult> {
  const t0 = Date.now();
  // No rows yet may be rows on their way (an upstream job commits once per checkpoint, a sink retries
  // before it fails): two intervals without any, and never less than NO_ROWS_MIN_MS, before "nothing
  // new to read" is believed.
  const quietMs = metricsLagMs ?? Math.max(NO_ROWS_MIN_MS, METRICS_LAG_MS, 2 * checkpointIntervalMs(inputs.script));
  const timeoutMs = gateTimeoutMs(inputs.script, inputs.gateTimeoutSeconds);
  const failed = async (what: string) => {
    // The JobManager serves a job's exceptions from a graph it caches for a few seconds
    // (web.refresh-interval), while the restart count is already there: asked at once, it can
    // answer none (seen in a full run). Asked again for a while before the message goes without it.
    let cause: string | undefined;
    for (let attempt = 0; attempt < CAUSE_ATTEMPTS && !cause; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, pollMs));
      cause = await b.failureCause(ref).catch(() => undefined);
    }
    return new Error(`${inputs.name} (job ${ref.jobId}) failed the upgrade gate: it ${what}${cause ? `; Flink's root exception: ${cause}` : ""}`);
  };
  // The checkpoint count when rows were first seen at the sinks, and when the checkpoints were first enough.
  let rowsAt: number | undefined;
  let doneAt: number | undefined;
  for (;;) {
    const p = await b.progress(ref);
    const seconds = Math.round((Date.now() - t0) / 1000);
    if (p.restarts > 0) throw await failed(`restarted ${p.restarts} time(s) within ${seconds} s of its start`);
    if (p.state !== "RUNNING") throw await failed(`is ${p.state ?? "gone"} after ${seconds} s`);
    const rows = p.rowsToSinks ?? 0;
    if (rows > 0) rowsAt ??= p.completedCheckpoints;
    const seen = { checkpoints: p.completedCheckpoints, failedCheckpoints: p.failedCheckpoints, restarts: p.restarts, seconds };
    const uncounted = p.uncountedSinks ? `; rows of ${p.uncountedSinks} sink task(s) could not be counted` : "";
    if (p.completedCheckpoints >= GATE_CHECKPOINTS) {
      doneAt ??= Date.now();
      if (rowsAt !== undefined && p.completedCheckpoints - rowsAt >= COMMIT_CHECKPOINTS) {
        return { ...seen, sinks: `${rows} rows reached the sinks, committed by ${p.completedCheckpoints - rowsAt} checkpoints since${uncounted}` };
      }
      if (rowsAt === undefined && Date.now() - doneAt >= quietMs) return { ...seen, sinks: `no new rows reached the sinks (nothing new to read)${uncounted}` };
    }
    if (Date.now() - t0 > timeoutMs) {
      const limit = Math.round(timeoutMs / 1000);
      if (rowsAt !== undefined && p.completedCheckpoints >= GATE_CHECKPOINTS) {
        throw await failed(`committed no checkpoint after rows reached its sinks within ${limit} s (${p.completedCheckpoints - rowsAt} of ${COMMIT_CHECKPOINTS} completed since, ${p.failedCheckpoints} failed)`);
      }
      throw await failed(`completed ${p.completedCheckpoints} of ${GATE_CHECKPOINTS} checkpoints within ${limit} s (${p.failedCheckpoints} failed)`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The state verdict of a SQL change: compared plans, or why they could not be compared. */
export type StateCheck = ({ readonly kind: "compared" } & StateVerdict) | { readonly kind: "unknown"; readonly reason: string };

/** Inputs whose change upgrades the running job. */
const UPGRADE_FIELDS = ["script", "upgradeMode", "restartNonce", "backend", "secrets"] as const;

function same(a: unknown, b: unknown) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** States in which the job is running or about to; anything else after a refresh is resumed by `up`. */
export const ACTIVE_STATES = ["INITIALIZING", "CREATED", "RUNNING", "RESTARTING", "RECONCILING"];

export function isActive(status: string | undefined): boolean {
  return status !== undefined && ACTIVE_STATES.includes(status);
}

export function changedFields(olds: Partial<FlinkSqlJobInputs>, news: FlinkSqlJobInputs): string[] {
  // Refreshed inputs carry no credentials (read() leaves them out): nothing to compare them with.
  // A backend that changed only in how this machine reaches it (a URL) runs the same job: not an upgrade.
  const fields = UPGRADE_FIELDS.filter((f) => !(f === "secrets" && olds.secrets === undefined) && !same(olds[f], news[f]) && (f !== "backend" || movesCluster(olds, news))).map(String);
  // Name the part of the script that changed: the reviewer of a preview wants to know.
  if (fields.includes("script") && olds.script) {
    const o = olds.script.config;
    const n = news.script.config;
    const keys = [...new Set([...Object.keys(o), ...Object.keys(n)])].filter((k) => o[k] !== n[k]);
    const parts = [...keys, ...(same(olds.script.statements, news.script.statements) ? [] : ["sql"])];
    return fields.map((f) => (f === "script" ? `script (${parts.join(", ")})` : f === "backend" ? backendChange(olds, news) : f));
  }
  return fields.map((f) => (f === "backend" ? backendChange(olds, news) : f));
}

/** A backend change as a reviewer reads it: a move names both clusters. */
function backendChange(olds: Partial<FlinkSqlJobInputs>, news: FlinkSqlJobInputs): string {
  if (!olds.backend || !movesCluster(olds, news)) return "backend";
  return `cluster (moves from ${clusterOf(olds.backend)} to ${clusterOf(news.backend)})`;
}

/** Where a backend runs its job, as a reviewer reads it; the same text means the same cluster and the same controller. */
export function clusterOf(b: BackendConfig): string {
  if (b.kind === "streampark") return `StreamPark's cluster ${b.clusterName} (${b.clusterAddress})`;
  return b.cluster ? `${b.cluster.address}:${b.cluster.port}` : "the gateway's own cluster";
}

export function describeAction(olds: Partial<FlinkSqlJobInputs> | undefined, news: FlinkSqlJobInputs): string {
  if (!olds?.script) return news.upgradeMode === "stateless" ? "submit" : "submit (from the newest savepoint of this job name, if object storage keeps one)";
  const changed = changedFields(olds, news);
  if (restoreRequested(olds, news)) {
    const r = news.restore;
    if (!r?.from) return `restore (restoreFrom: ${news.restoreFrom}) REFUSED by up: ${r?.problem ?? "not planned"}`;
    const writer = r.sqlVersion ? ` (written by SQL version ${r.sqlVersion}${r.takenAt ? ` at ${r.takenAt}` : ""}; running: ${sqlVersion(news.script)})` : "";
    return `restore from ${r.from}${writer}: stop the running version with a savepoint (kept for rollback), start the current SQL from it${verdictSuffix({ ...news, stateCheck: r.stateCheck })}`;
  }
  const stopped = olds.observed && !isActive(olds.observed.status) ? olds.observed : undefined;
  if (stopped) {
    const from = news.upgradeMode === "stateless" || !stopped.resumeFrom ? "resubmit with empty state" : `resume from ${stopped.resumeFrom}`;
    return `${from} (job was ${stopped.status})${changed.length ? ` with the new version (changed: ${changed.join("; ")})` : ""}`;
  }
  if (!changed.length) {
    if (olds.restoreFrom !== undefined && news.restoreFrom === undefined) return "no change to the job (restoreFrom removed from the job table)";
    return olds.backend && !same(olds.backend, news.backend) ? "no change to the job (only how the stack reaches it changed)" : "no change";
  }
  const how = {
    savepoint: "stop with a savepoint, resubmit from it",
    "last-state": "cancel, resubmit from the latest checkpoint",
    stateless: "cancel, resubmit with empty state",
  }[news.upgradeMode];
  return `${news.upgradeMode} upgrade: ${how} (changed: ${changed.join("; ")})${verdictSuffix(news)}`;
}

/** The state verdict as plannedAction says it, with what `up` will do about it. */
export function verdictSuffix(news: Pick<FlinkSqlJobInputs, "stateCheck" | "allowNonRestoredState" | "upgradeMode">): string {
  const c = news.stateCheck;
  if (!c || news.upgradeMode === "stateless") return "";
  if (c.kind === "unknown") return `; state verdict unknown (${c.reason}): Flink restores only state it can map fully`;
  if (c.restorable) return `; ${describeVerdict(c)}`;
  const what = describeVerdict(c);
  if (!news.allowNonRestoredState) return `; ${what}: REFUSED by up unless sql/jobs.yaml sets allowNonRestoredState: true (or upgradeMode: stateless) for this job`;
  return `; ${what}: accepted (allowNonRestoredState)${c.incompatible.length ? ", the job starts with empty state" : ", that state is left behind"}`;
}

/** Whether a SQL change needs a state verdict: a stateful upgrade of a job whose statements or configuration changed. */
export function needsStateCheck(olds: Partial<FlinkSqlJobInputs> | undefined, news: FlinkSqlJobInputs): boolean {
  return !!olds?.script && news.upgradeMode !== "stateless" && !same(olds.script, news.script);
}

/** Compiles the old and the new script and compares their stateful operators; never throws. */
export async function checkState(deps: LifecycleDeps, olds: Pick<FlinkSqlJobInputs, "script">, news: FlinkSqlJobInputs): Promise<StateCheck> {
  // StreamPark compiles no plans: its jobs are judged on the stack's SQL Gateway, which submits nothing for an EXPLAIN.
  const b = news.backend;
  const gateway = b.sqlGatewayUrl;
  if (!deps.explain || !gateway) return { kind: "unknown", reason: "no SQL Gateway to compile the plans on" };
  try {
    const cfg = b.kind === "sql-gateway" ? b : { kind: "sql-gateway" as const, sqlGatewayUrl: gateway, jobManagerUrl: b.jobManagerUrl };
    const [before, after] = await Promise.all([deps.explain(cfg, olds.script, news.secrets), deps.explain(cfg, news.script, news.secrets)]);
    return { kind: "compared", ...verdictFor(compareState(executionPlan(before), executionPlan(after)), news.upgradeMode) };
  } catch (e) {
    return { kind: "unknown", reason: String((e as Error).message).slice(0, 500) };
  }
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
  /** The savepoints and retained checkpoints kept under these directories (those with a _metadata file), newest first. */
  readonly listSavepoints: (dirs: readonly string[], store: ObjectStoreConfig, secretKey: string) => Promise<string[]>;
  /** Writes which SQL wrote a savepoint into it (rtdw-version.json). */
  readonly writeVersion?: (savepoint: string, record: VersionRecord, store: ObjectStoreConfig, secretKey: string) => Promise<void>;
  /** Reads a savepoint's rtdw-version.json; undefined when it has none. */
  readonly readVersion?: (savepoint: string, store: ObjectStoreConfig, secretKey: string) => Promise<VersionRecord | undefined>;
  /** EXPLAIN JSON_EXECUTION_PLAN of a script, submitting nothing (SQL Gateway backend). */
  readonly explain?: (cfg: Extract<BackendConfig, { kind: "sql-gateway" }>, script: JobScript, secrets: FlinkSqlJobInputs["secrets"]) => Promise<string>;
  /** How often the gate polls and how long it waits for rows to show (defaults: 2 s; a checkpoint interval, at least METRICS_LAG_MS). */
  readonly gatePace?: { readonly pollMs: number; readonly metricsLagMs: number };
}

/**
 * The error of an upgrade that did not go through, with what runs now: the engine records these
 * outputs (a resource initialization failure), so the savepoint taken before the failure stays in the
 * state and the next `up` tries the new version again.
 */
export interface UpgradeFailed extends Error {
  /** The resource id and its outputs as they are now: the dynamic-provider host reports them as a partial failure. */
  readonly id: string;
  readonly properties: FlinkSqlJobOutputs;
  readonly reasons: string[];
  /** A move to another cluster failed and the version that ran was put back on its old cluster. */
  readonly onPreviousCluster?: boolean;
}

/** Made with Object.assign on a plain Error: a subclass of Error loses its message in a serialized provider. */
export function upgradeFailed(message: string, id: string, properties: FlinkSqlJobOutputs): UpgradeFailed {
  return Object.assign(new Error(message), { name: "UpgradeFailed", id, properties, reasons: [message] });
}

/**
 * Whether an update moves the job to another session cluster, or hands it from the SQL Gateway to
 * StreamPark or back: the old version is stopped through the old backend and cluster, the new one
 * submitted through the new, from the savepoint the stop wrote.
 */
export function movesCluster(olds: Partial<Pick<FlinkSqlJobInputs, "backend">>, news: Pick<FlinkSqlJobInputs, "backend">): boolean {
  // The URLs the deploying machine uses may change from run to run (a tunnel's local port); where the
  // job runs and what starts it do not. A change of either is a move: stopped by the old, started by the new.
  // Another StreamPark console is another controller: its apps are its own.
  const controller = (b: BackendConfig) => `${clusterOf(b)} ${b.kind === "streampark" ? b.url : ""}`;
  return olds.backend !== undefined && controller(olds.backend) !== controller(news.backend);
}

export function isUpgradeFailed(e: unknown): e is UpgradeFailed {
  return e instanceof Error && e.name === "UpgradeFailed";
}

/** Where a job's retained state may be found by its name: its savepoints and its checkpoints. */
function retainedDirs(i: Pick<FlinkSqlJobInputs, "savepointDir" | "checkpointDir">): string[] {
  return [i.savepointDir, ...(i.checkpointDir ? [i.checkpointDir] : [])];
}

/** The newest state a stopped job can resume from: its last checkpoint or savepoint, else one kept in object storage. */
async function newestRetainedState(deps: LifecycleDeps, b: JobBackend, o: FlinkSqlJobOutputs): Promise<string | undefined> {
  // The newest job of this name, which is not always the one this state recorded (a takeover, a run by hand).
  const last = (await b.newest(o.name, { jobId: o.jobId, ref: o.ref }).catch(() => undefined)) ?? (o.jobId ? { jobId: o.jobId, ref: o.ref } : undefined);
  const fromCluster = last ? await b.latestCheckpoint(last).catch(() => undefined) : undefined;
  if (fromCluster) return fromCluster;
  const kept = await deps.listSavepoints(retainedDirs(o), o.objectStore, o.secrets?.["s3.secretKey"] ?? "").catch(() => []);
  return kept[0] ?? o.restoredFrom ?? o.savepoints?.[o.savepoints.length - 1];
}

function jobSecrets(s: FlinkSqlJobInputs["secrets"]) {
  const { ["streampark.password"]: _sp, ...rest } = s;
  return rest;
}

/** What the user can do when Flink cannot map a savepoint's state to the SQL being started. */
export function withRestoreAdvice(e: unknown, name: string, restorePath: string | undefined): unknown {
  const message = String((e as Error)?.message ?? e);
  if (!restorePath || !/Cannot map checkpoint\/savepoint state|StateMigrationException|(state|serializer)[^.]*incompatible/i.test(message)) return e;
  return Object.assign(e as Error, {
    message: `${message}. The state at ${restorePath} was written by a different version of ${name}'s SQL. To start without the state that no longer maps, set allowNonRestoredState: true (or upgradeMode: stateless) on its row in sql/jobs.yaml; to keep it, deploy the SQL that wrote it.`,
  });
}

/** Stops a job with a savepoint and records in it which SQL wrote it; a record that cannot be written costs only the restore's verdict. */
async function takeSavepoint(deps: LifecycleDeps, b: JobBackend, ref: JobRef, i: Pick<FlinkSqlJobInputs, "name" | "savepointDir" | "objectStore" | "secrets">, script: JobScript | undefined): Promise<SavepointVersion> {
  const path = await b.stopWithSavepoint(ref, i.savepointDir);
  const record: VersionRecord = { job: i.name, sqlVersion: script ? sqlVersion(script) : "unknown", takenAt: new Date().toISOString(), ...(script ? { script } : {}) };
  await deps.writeVersion?.(path, record, i.objectStore, i.secrets?.["s3.secretKey"] ?? "").catch(() => undefined);
  return { path, sqlVersion: record.sqlVersion, takenAt: record.takenAt };
}

/** Keeps the newest `keep` savepoints (never the one the job restored from), deleting the others from object storage. */
async function retain(deps: LifecycleDeps, news: FlinkSqlJobInputs, savepoints: string[], versions: SavepointVersion[], restoredFrom: string | undefined): Promise<{ savepoints: string[]; savepointVersions: SavepointVersion[] }> {
  const kept = [...savepoints];
  while (kept.length > news.savepointsToKeep) {
    const at = kept.findIndex((p) => p !== restoredFrom);
    if (at < 0) break;
    const [old] = kept.splice(at, 1);
    await deps.deletePrefix(old, news.objectStore, news.secrets["s3.secretKey"] ?? "");
  }
  return { savepoints: kept, savepointVersions: versions.filter((v) => kept.includes(v.path)) };
}

/**
 * Submits a version and holds it to the gate; one that fails is cancelled. A rollback (`rollback`)
 * that fails the gate is left to its restart strategy instead: the fault may be outside the job (a
 * revoked grant), and the version that ran before recovers by itself once it is fixed.
 */
async function startVersion(deps: LifecycleDeps, b: JobBackend, inputs: FlinkSqlJobInputs, restorePath: string | undefined, previous?: JobRef, rollback = false): Promise<JobRef & { gate: GateResult }> {
  // Flink refuses a savepoint with state it cannot map, unless the job table accepts leaving it behind.
  // The script is recorded before it runs: a later takeover of this job can resubmit it.
  const record: VersionRecord = { job: inputs.name, sqlVersion: sqlVersion(inputs.script), takenAt: new Date().toISOString(), script: inputs.script };
  await deps.writeVersion?.(versionRecordDir(inputs, record.sqlVersion), record, inputs.objectStore, inputs.secrets?.["s3.secretKey"] ?? "").catch(() => undefined);
  let ref: JobRef;
  try {
    ref = await b.submit({ script: tagged(inputs.script), secrets: jobSecrets(inputs.secrets), restorePath, allowNonRestoredState: restorePath !== undefined && inputs.allowNonRestoredState === true, previous, checkpointDir: inputs.checkpointDir });
  } catch (e) {
    throw withRestoreAdvice(e, inputs.name, restorePath);
  }
  try {
    await b.waitUntilRunning(ref, inputs.startTimeoutSeconds * 1000);
  } catch (e) {
    await b.cancel(ref).catch(() => undefined);
    throw withRestoreAdvice(e, inputs.name, restorePath);
  }
  try {
    return { ...ref, gate: await passGate(b, ref, inputs, deps.gatePace?.pollMs, deps.gatePace?.metricsLagMs) };
  } catch (e) {
    if (rollback) throw Object.assign(new Error(`it runs as job ${ref.jobId} but ${(e as Error).message.replace(/^.*? failed the upgrade gate: /, "fails the gate as well: ")}`), { jobId: ref.jobId, ref: ref.ref });
    await b.cancel(ref).catch(() => undefined);
    throw withRestoreAdvice(e, inputs.name, restorePath);
  }
}

/** The SQL version a running job carries and, where the stack recorded it, its script. */
async function runningVersion(deps: LifecycleDeps, b: JobBackend, job: JobRef, i: FlinkSqlJobInputs): Promise<{ sqlVersion?: string; script?: JobScript }> {
  const v = (await b.jobParameters(job).catch(() => ({}) as Record<string, string>))[VERSION_PARAMETER];
  if (!v) return {};
  const record = await deps.readVersion?.(versionRecordDir(i, v), i.objectStore, i.secrets?.["s3.secretKey"] ?? "").catch(() => undefined);
  return { sqlVersion: v, script: record?.script };
}

export async function createJob(deps: LifecycleDeps, inputs: FlinkSqlJobInputs): Promise<{ id: string; outs: FlinkSqlJobOutputs }> {
  const b = deps.backend(inputs.backend, inputs.secrets);
  await b.ready(inputs.readyTimeoutSeconds * 1000);
  // A job of this name already running (state lost or restored from an old backup, a re-run after a
  // crash) is taken over, not duplicated: it stops with a savepoint and the declared SQL resumes from it.
  const existing = await b.findActive(inputs.name);
  const was = existing ? await runningVersion(deps, b, existing, inputs) : {};
  const taken = existing && inputs.upgradeMode !== "stateless" ? await takeSavepoint(deps, b, existing, inputs, was.script) : undefined;
  let restorePath = taken?.path;
  if (existing && !restorePath) await b.cancel(existing);
  // Nothing runs, but object storage keeps state of this job (a destroy, a disaster rebuild): resume
  // from the newest savepoint or retained checkpoint found by the job's name.
  if (!existing && inputs.upgradeMode !== "stateless") restorePath = (await deps.listSavepoints(retainedDirs(inputs), inputs.objectStore, inputs.secrets["s3.secretKey"] ?? ""))[0];
  let ref: JobRef & { gate: GateResult };
  try {
    ref = await startVersion(deps, b, inputs, restorePath);
  } catch (e) {
    if (!existing) throw e;
    throw await rollBackTakeover(deps, b, inputs, (e as Error).message, was, restorePath, taken);
  }
  return {
    id: inputs.name,
    outs: { ...inputs, ...ref, status: "RUNNING", savepoints: restorePath ? [restorePath] : [], savepointVersions: taken ? [taken] : [], sqlVersion: sqlVersion(inputs.script), restoredFrom: restorePath },
  };
}

/**
 * A takeover whose declared version fails: the job it replaced is resubmitted from the savepoint it
 * was stopped with, when the stack recorded that job's SQL (every version it submits carries its
 * sqlVersion and has its script recorded); otherwise `up` fails saying why it cannot, and where the state is.
 */
async function rollBackTakeover(deps: LifecycleDeps, b: JobBackend, inputs: FlinkSqlJobInputs, why: string, was: { sqlVersion?: string; script?: JobScript }, restorePath: string | undefined, taken: SavepointVersion | undefined): Promise<Error> {
  const kept = restorePath ? ` Its state is kept at ${restorePath}.` : "";
  if (!was.script) {
    const unknown = was.sqlVersion ? `its SQL version ${was.sqlVersion} has no record under ${versionRecordDir(inputs, was.sqlVersion)}` : `it carries no ${VERSION_PARAMETER} (started outside this stack)`;
    return new Error(`${inputs.name}: the new version did not start: ${why}; the job it took over cannot be resubmitted: ${unknown}.${kept}`);
  }
  const base = { ...inputs, script: was.script, savepoints: restorePath ? [restorePath] : [], savepointVersions: taken ? [taken] : [], sqlVersion: was.sqlVersion ?? sqlVersion(was.script), restoredFrom: restorePath };
  let back: string;
  let now: FlinkSqlJobOutputs;
  try {
    const prev = await startVersion(deps, b, { ...inputs, script: was.script }, restorePath, undefined, true);
    back = `the job it took over (SQL version ${base.sqlVersion}) was resubmitted${restorePath ? ` from ${restorePath}` : ""} and runs as job ${prev.jobId}`;
    now = { ...base, ...prev, status: "RUNNING" };
  } catch (e2) {
    const { jobId: ran, ref: ranRef } = e2 as { jobId?: string; ref?: JobRef["ref"] };
    if (!ran) return new Error(`${inputs.name}: the new version did not start: ${why}; resubmitting the job it took over failed as well: ${(e2 as Error).message}.${kept}`);
    back = `the job it took over (SQL version ${base.sqlVersion}) was resubmitted${restorePath ? ` from ${restorePath}` : ""}: ${(e2 as Error).message}`;
    now = { ...base, jobId: ran, ref: ranRef, status: "RESTARTING" };
  }
  return upgradeFailed(`${inputs.name}: the new version did not start: ${why}; ${back}.${kept}`, inputs.name, now);
}

/** The fields of the outputs that are inputs, without the credentials (never stored as refreshed inputs). */
function refreshedInputs(o: FlinkSqlJobOutputs, observed: FlinkSqlJobInputs["observed"]): Omit<FlinkSqlJobInputs, "secrets"> {
  const { jobId: _j, ref: _r, status: _s, savepoints: _sp, savepointVersions: _sv, sqlVersion: _v, restoredFrom: _rf, gate: _g, secrets: _secrets, observed: _o, live: _l, ...inputs } = o;
  return observed ? { ...inputs, observed } : inputs;
}

export async function readJob(deps: LifecycleDeps, id: string, props: FlinkSqlJobOutputs): Promise<{ id: string; props: FlinkSqlJobOutputs; inputs: Omit<FlinkSqlJobInputs, "secrets"> }> {
  const b = deps.backend(props.backend, props.secrets);
  let ref: JobRef = { jobId: props.jobId, ref: props.ref };
  let status: string = (await b.state(ref)) ?? "MISSING";
  if (!isActive(status)) {
    const active = await b.findActive(props.name, ref);
    if (active) {
      ref = active;
      status = (await b.state(active)) ?? "MISSING";
    }
  }
  const now = { ...props, ...ref, status };
  const observed = isActive(status) ? undefined : { status, resumeFrom: props.upgradeMode === "stateless" ? undefined : await newestRetainedState(deps, b, now) };
  return { id, props: now, inputs: refreshedInputs(now, observed) };
}

export async function updateJob(deps: LifecycleDeps, olds: FlinkSqlJobOutputs, news: FlinkSqlJobInputs): Promise<FlinkSqlJobOutputs> {
  const b = deps.backend(news.backend, news.secrets);
  await b.ready(news.readyTimeoutSeconds * 1000);
  if (restoreRequested(olds, news)) return restoreJob(deps, b, olds, news);
  // The verdict check() computed for this run; computed here when check() could not.
  let verdict = needsStateCheck(olds, news) ? news.stateCheck : undefined;
  if (needsStateCheck(olds, news) && (!verdict || verdict.kind === "unknown")) verdict = await checkState(deps, olds, news);
  if (verdict?.kind === "compared" && !verdict.restorable && !news.allowNonRestoredState) {
    throw new Error(
      `${news.name}: the new SQL would not restore the job's state (${describeVerdict(verdict)}). Nothing was changed: the job runs as before. ` +
        `To accept that loss, set allowNonRestoredState: true (or upgradeMode: stateless) on its row in sql/jobs.yaml.`,
    );
  }
  // Operators that keep their id but whose state changed shape cannot be restored at all: the new version starts empty.
  const startEmpty = verdict?.kind === "compared" && verdict.incompatible.length > 0;
  // Sinks re-created in a savepoint upgrade: their (committed) state is the only state Flink may skip.
  const skipSinks = verdict?.kind === "compared" && verdict.restorable && verdict.sinksRecreated.length > 0 && news.upgradeMode === "savepoint";
  // A job moving to another session cluster stops on the one it runs on and starts on its new one; a
  // failed start puts the version that ran back where it ran.
  const moved = movesCluster(olds, news);
  const from = moved ? deps.backend(olds.backend, news.secrets) : b;
  if (moved) await from.ready(news.readyTimeoutSeconds * 1000);
  let current: JobRef | undefined = { jobId: olds.jobId, ref: olds.ref };
  const state = await from.state(current);
  if (state !== "RUNNING" && state !== "RESTARTING") current = await from.findActive(olds.name, current);
  const savepoints = [...(olds.savepoints ?? [])];
  const versions = [...(olds.savepointVersions ?? [])];
  let restorePath: string | undefined;
  if (current && news.upgradeMode === "savepoint") {
    const taken = await takeSavepoint(deps, from, current, news, olds.script);
    restorePath = taken.path;
    savepoints.push(taken.path);
    versions.push(taken);
  } else if (current && news.upgradeMode === "last-state") {
    // Cancelled first, then asked: a checkpoint that completes between a read and the cancel would be
    // missed, and the sinks would get again what it had committed. Flink retains the last one on cancel.
    await from.cancel(current);
    restorePath = await from.latestCheckpoint(current);
  } else if (current) {
    await from.cancel(current);
  } else if (news.upgradeMode !== "stateless") {
    // Nothing running (failed or cancelled outside Pulumi): resume from the newest state there is, the
    // last job's latest retained checkpoint (it ran past the state it started from), else a savepoint
    // of this job kept in object storage (one a failed upgrade took), else the state it started from.
    restorePath = await newestRetainedState(deps, from, { ...olds, savepoints });
  }

  let ref: JobRef;
  try {
    ref = await startVersion(deps, b, skipSinks ? { ...news, allowNonRestoredState: true } : news, news.upgradeMode === "stateless" || startEmpty ? undefined : restorePath, current);
  } catch (e) {
    const why = (e as Error).message;
    const restored = news.upgradeMode === "stateless" ? undefined : restorePath;
    let back: string;
    let now: FlinkSqlJobOutputs;
    const where = moved ? " on the cluster it ran on" : "";
    const previous = { ...news, script: olds.script, ...(moved ? { backend: olds.backend } : {}) };
    try {
      const prev = await startVersion(deps, from, previous, restored, current, true);
      back = `the previous version was resubmitted${where}${restored ? ` from ${restored}` : ""} and runs as job ${prev.jobId}`;
      now = { ...previous, ...prev, status: "RUNNING", savepoints, savepointVersions: versions, sqlVersion: sqlVersion(olds.script), restoredFrom: restored };
    } catch (e2) {
      const { jobId: ran, ref: ranRef } = e2 as { jobId?: string; ref?: JobRef["ref"] };
      back = ran ? `the previous version was resubmitted${where}${restored ? ` from ${restored}` : ""}: ${(e2 as Error).message}` : `resubmitting the previous version failed as well: ${(e2 as Error).message}`;
      now = { ...previous, jobId: ran ?? olds.jobId, ref: ran ? ranRef : olds.ref, status: ran ? "RESTARTING" : "FAILED", savepoints, savepointVersions: versions, sqlVersion: sqlVersion(olds.script), restoredFrom: restored };
    }
    const kept = restorePath ? ` Its state is kept at ${restorePath}.` : "";
    throw Object.assign(upgradeFailed(`${news.name}: the new version did not start: ${why}; ${back}.${kept}`, news.name, now), { onPreviousCluster: moved });
  }

  const restoredFrom = news.upgradeMode === "stateless" || startEmpty ? undefined : restorePath;
  return { ...news, ...ref, status: "RUNNING", ...(await retain(deps, news, savepoints, versions, restoredFrom)), sqlVersion: sqlVersion(news.script), restoredFrom };
}

/**
 * restoreFrom: the running version stops with a savepoint (kept: the way back), the current SQL
 * starts from the chosen savepoint and must pass the gate; otherwise the version that ran is
 * resubmitted from the savepoint just taken and `up` fails naming both. Judged like an upgrade: a
 * savepoint the current SQL cannot fully restore is refused unless the job table opts in.
 */
async function restoreJob(deps: LifecycleDeps, b: JobBackend, olds: FlinkSqlJobOutputs, news: FlinkSqlJobInputs): Promise<FlinkSqlJobOutputs> {
  if (news.upgradeMode === "stateless") throw new Error(`${news.name}: restoreFrom is set, but a stateless job has no state to restore`);
  const plan = news.restore?.from ? news.restore : await planRestore(deps, news);
  if (!plan.from) throw new Error(`${news.name}: restoreFrom: ${news.restoreFrom} — ${plan.problem ?? "nothing to restore"}. Nothing was changed.`);
  // check()'s verdict, or one computed now when check() could not compile (the platform did not exist yet).
  const verdict = plan.stateCheck?.kind === "unknown" && news.restore?.from ? (await planRestore(deps, news)).stateCheck : plan.stateCheck;
  if (verdict?.kind === "compared" && !verdict.restorable && !news.allowNonRestoredState) {
    throw new Error(`${news.name}: the current SQL would not restore ${plan.from} (${describeVerdict(verdict)}). Nothing was changed: the job runs as before. To accept that loss, set allowNonRestoredState: true on its row in sql/jobs.yaml.`);
  }
  // Moving to another cluster as well: the version that runs is stopped where it runs.
  const moved = movesCluster(olds, news);
  const from = moved ? deps.backend(olds.backend, news.secrets) : b;
  let current: JobRef | undefined = { jobId: olds.jobId, ref: olds.ref };
  const state = await from.state(current);
  if (state !== "RUNNING" && state !== "RESTARTING") current = await from.findActive(olds.name, current);
  const savepoints = [...(olds.savepoints ?? [])];
  const versions = [...(olds.savepointVersions ?? [])];
  const taken = current ? await takeSavepoint(deps, from, current, news, olds.script) : undefined;
  if (taken) {
    savepoints.push(taken.path);
    versions.push(taken);
  }
  let ref: JobRef & { gate: GateResult };
  try {
    ref = await startVersion(deps, b, news, plan.from, current);
  } catch (e) {
    const why = (e as Error).message;
    let back: string;
    let now: FlinkSqlJobOutputs;
    const previous = { ...news, restoreFrom: olds.restoreFrom, script: olds.script, ...(moved ? { backend: olds.backend } : {}) };
    try {
      const prev = await startVersion(deps, from, previous, taken?.path, current, true);
      back = `the version that ran was resubmitted${taken ? ` from ${taken.path}` : ""} and runs as job ${prev.jobId}`;
      now = { ...previous, ...prev, status: "RUNNING", savepoints, savepointVersions: versions, sqlVersion: sqlVersion(olds.script), restoredFrom: taken?.path };
    } catch (e2) {
      const { jobId: ran, ref: ranRef } = e2 as { jobId?: string; ref?: JobRef["ref"] };
      back = ran ? `the version that ran was resubmitted${taken ? ` from ${taken.path}` : ""}: ${(e2 as Error).message}` : `resubmitting the version that ran failed as well: ${(e2 as Error).message}`;
      now = { ...previous, jobId: ran ?? olds.jobId, ref: ran ? ranRef : olds.ref, status: ran ? "RESTARTING" : "FAILED", savepoints, savepointVersions: versions, sqlVersion: sqlVersion(olds.script), restoredFrom: taken?.path };
    }
    throw Object.assign(upgradeFailed(`${news.name}: the restore from ${plan.from} did not start: ${why}; ${back}.`, news.name, now), { onPreviousCluster: moved });
  }
  return { ...news, ...ref, status: "RUNNING", ...(await retain(deps, news, savepoints, versions, plan.from)), sqlVersion: sqlVersion(news.script), restoredFrom: plan.from };
}

export async function deleteJob(deps: LifecycleDeps, props: FlinkSqlJobOutputs): Promise<void> {
  const b = deps.backend(props.backend, props.secrets);
  await b.ready(props.readyTimeoutSeconds * 1000);
  let current: JobRef | undefined = { jobId: props.jobId, ref: props.ref };
  if ((await b.state(current)) !== "RUNNING") current = await b.findActive(props.name, current);
  if (!current) return;
  if (props.upgradeMode === "stateless") await b.cancel(current);
  else await takeSavepoint(deps, b, current, props, props.script); // kept: outside the retention window on purpose
}
