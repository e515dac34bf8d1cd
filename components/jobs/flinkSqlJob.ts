import * as pulumi from "@pulumi/pulumi";
import { JobBackend, SqlGatewayBackend } from "./backend";
import { SqlGatewayClient } from "../flink/sqlGateway";
import { explainJobScript } from "./submit";
import { StreamParkBackend } from "./streampark";
import { withApiAccess } from "../platform/tunnel";
import {
  BackendConfig, changedFields, movesCluster, GateResult, checkState, createJob, deleteJob, describeAction, FlinkSqlJobInputs, FlinkSqlJobOutputs, isActive, LifecycleDeps, needsStateCheck, ObjectStoreConfig, observeJob, planRestore, readJob, RestorePlan, restoreRequested, SavepointVersion, StateCheck, updateJob, isUpgradeFailed, validate, VersionRecord,
} from "./provider";

function s3Client(store: ObjectStoreConfig, secretKey: string) {
  // Required here, in the provider process: an SDK client cannot be serialized with the provider.
  const Minio = require("minio") as typeof import("minio");
  const u = new URL(store.endpoint);
  return new Minio.Client({ endPoint: u.hostname, port: Number(u.port) || (u.protocol === "https:" ? 443 : 80), useSSL: u.protocol === "https:", accessKey: store.accessKey, secretKey, region: store.region, pathStyle: true });
}

/** Deletes a savepoint (a directory of objects) from S3/MinIO, or a local one. */
async function deletePrefix(uri: string, store: ObjectStoreConfig, secretKey: string): Promise<void> {
  const m = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (m) {
    const client = s3Client(store, secretKey);
    const names: string[] = [];
    for await (const o of client.listObjectsV2(m[1], m[2].replace(/\/?$/, "/"), true)) if (o.name) names.push(o.name);
    if (names.length) await client.removeObjects(m[1], names);
    return;
  }
  if (uri.startsWith("file://")) (require("fs") as typeof import("fs")).rmSync(new URL(uri), { recursive: true, force: true });
}

/** Savepoints and retained checkpoints under `dirs` (each holds a _metadata file), newest first. */
async function listSavepoints(dirs: readonly string[], store: ObjectStoreConfig, secretKey: string): Promise<string[]> {
  const found: { path: string; at: number }[] = [];
  for (const dir of dirs) {
    const m = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(dir);
    if (!m) continue;
    for await (const o of s3Client(store, secretKey).listObjectsV2(m[1], m[2].replace(/\/?$/, "/"), true)) {
      if (o.name?.endsWith("/_metadata")) found.push({ path: `s3://${m[1]}/${o.name.slice(0, -"/_metadata".length)}`, at: o.lastModified?.getTime() ?? 0 });
    }
  }
  return found.sort((a, b) => b.at - a.at).map((f) => f.path);
}

/** A savepoint's rtdw-version.json, as bucket and key. */
function versionObject(savepoint: string): { bucket: string; key: string } | undefined {
  const m = /^s3a?:\/\/([^/]+)\/(.+?)\/?$/.exec(savepoint);
  return m ? { bucket: m[1], key: `${m[2]}/rtdw-version.json` } : undefined;
}

async function writeVersion(savepoint: string, record: VersionRecord, store: ObjectStoreConfig, secretKey: string): Promise<void> {
  const o = versionObject(savepoint);
  if (!o) return;
  const body = Buffer.from(JSON.stringify(record));
  await s3Client(store, secretKey).putObject(o.bucket, o.key, body, body.length, { "Content-Type": "application/json" });
}

async function readVersion(savepoint: string, store: ObjectStoreConfig, secretKey: string): Promise<VersionRecord | undefined> {
  const o = versionObject(savepoint);
  if (!o) return undefined;
  try {
    const stream = await s3Client(store, secretKey).getObject(o.bucket, o.key);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as VersionRecord;
  } catch (e) {
    if (/NoSuchKey|Not Found|does not exist/i.test(String((e as Error).message ?? e))) return undefined;
    throw e;
  }
}

export const lifecycleDeps: LifecycleDeps = {
  writeVersion,
  readVersion,
  backend: (cfg: BackendConfig, secrets): JobBackend =>
    cfg.kind === "sql-gateway"
      ? new SqlGatewayBackend({ sqlGatewayUrl: cfg.sqlGatewayUrl, jobManagerUrl: cfg.jobManagerUrl, cluster: cfg.cluster })
      : new StreamParkBackend(cfg, secrets["streampark.password"] ?? ""),
  deletePrefix,
  listSavepoints,
  explain: (cfg, script, secrets) => {
    const { ["streampark.password"]: _sp, ...jobSecrets } = secrets;
    return explainJobScript(new SqlGatewayClient(cfg.sqlGatewayUrl), script, jobSecrets);
  },
};

/** Runs `fn` with the backend and object-store URLs as this machine reaches them (tunnel.ts). */
function reachable<I extends FlinkSqlJobInputs, T>(inputs: I, fn: (i: I) => Promise<T>): Promise<T> {
  const b = inputs.backend;
  // StreamPark's own clusterAddress is how StreamPark reaches the cluster, not this machine: never rewritten.
  const urls = [...(b.kind === "sql-gateway" ? [b.sqlGatewayUrl, b.jobManagerUrl] : [b.url, b.jobManagerUrl, ...(b.sqlGatewayUrl ? [b.sqlGatewayUrl] : [])]), inputs.objectStore.endpoint];
  return withApiAccess(urls, inputs.tunnel, (reach) =>
    fn({
      ...inputs,
      backend:
        b.kind === "sql-gateway"
          ? { ...b, sqlGatewayUrl: reach(b.sqlGatewayUrl), jobManagerUrl: reach(b.jobManagerUrl) }
          : { ...b, url: reach(b.url), jobManagerUrl: reach(b.jobManagerUrl), ...(b.sqlGatewayUrl ? { sqlGatewayUrl: reach(b.sqlGatewayUrl) } : {}) },
      objectStore: { ...inputs.objectStore, endpoint: reach(inputs.objectStore.endpoint) },
    }),
  );
}

/** Fields that only change how the provider works, not the running job: updated without touching it. */
const SETTINGS = ["savepointDir", "checkpointDir", "savepointsToKeep", "objectStore", "readyTimeoutSeconds", "startTimeoutSeconds", "allowNonRestoredState", "gateTimeoutSeconds"] as const;

/** A value the engine does not know yet (a preview before the platform exists) arrives as this sentinel. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
function known(v: unknown): boolean {
  return !JSON.stringify(v ?? null).includes(UNKNOWN);
}

/** Outputs travel as a protobuf Struct, which has no `undefined`: such fields are left out. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The Pulumi face of components/jobs/provider.ts. Everything it uses is created inside its methods. */
export const flinkSqlJobProvider: pulumi.dynamic.ResourceProvider<FlinkSqlJobInputs, FlinkSqlJobOutputs> = {
  async check(olds, news) {
    const failures = validate(news);
    if (failures.length) return { inputs: { ...news, plannedAction: undefined, stateCheck: undefined }, failures };
    const previous = olds?.script ? olds : undefined;
    // A SQL change of a stateful job: compile both versions now, so the preview tells whether state survives.
    let stateCheck: StateCheck | undefined;
    if (needsStateCheck(previous, news)) {
      stateCheck = known(news.backend) && known(news.secrets) && known(news.script)
        ? await reachable(news, (n) => checkState(lifecycleDeps, previous!, n)).catch((e): StateCheck => ({ kind: "unknown", reason: String((e as Error).message).slice(0, 300) }))
        : { kind: "unknown", reason: "the platform's addresses are not known before it exists" };
    }
    // restoreFrom set or changed: which savepoint, which SQL wrote it, and whether the current SQL restores it.
    let restore: RestorePlan | undefined;
    if (previous && restoreRequested(previous, news)) {
      restore = known(news.backend) && known(news.secrets) && known(news.objectStore)
        ? await reachable(news, (n) => planRestore(lifecycleDeps, n))
        : { problem: "the platform's addresses are not known before it exists" };
    }
    // Is it running now? A job that failed after its restarts (or was cancelled) is resumed by this up.
    let live: FlinkSqlJobInputs["live"] | "unknown" = "unknown";
    if (previous && known(news.backend) && known(news.secrets) && known(news.objectStore)) {
      // Where it runs now: on the cluster it is moving from, if it moves.
      live = await reachable(movesCluster(previous, news) ? { ...news, backend: previous.backend } : news, (n) => observeJob(lifecycleDeps, n)).catch((): "unknown" => "unknown");
    }
    const checked = plain({ ...news, stateCheck, restore, live: live === "unknown" ? undefined : live });
    // What runs now outranks what the last refresh recorded.
    const seen = previous && live !== "unknown" ? { ...previous, observed: live } : previous;
    return { inputs: { ...checked, plannedAction: describeAction(seen, checked) }, failures };
  },
  async diff(_id, olds, news) {
    const upgrade = changedFields(olds, news).length > 0;
    // A backend reached at another URL is recorded without touching the job (changedFields leaves it out).
    const settings = [...SETTINGS, "backend" as const].some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // `olds` are the outputs: after a refresh, a job that is not running is a change that `up` makes (it resumes the job).
    const stopped = (olds.status !== undefined && !isActive(olds.status)) || (news.live !== undefined && !isActive(news.live.status));
    // restoreFrom set or changed restores; removed, it is recorded (so setting it again restores again).
    const restore = (olds.restoreFrom ?? null) !== (news.restoreFrom ?? null);
    // plannedAction is derived from the rest: on its own it is no change.
    return { changes: upgrade || settings || stopped || restore };
  },
  async create(inputs) {
    try {
      const r = await reachable(inputs, (i) => createJob(lifecycleDeps, i));
      return { id: r.id, outs: plain({ ...r.outs, backend: inputs.backend, objectStore: inputs.objectStore }) };
    } catch (e) {
      // A takeover rolled back: the job it replaced runs again; the state records it (and the savepoint).
      if (isUpgradeFailed(e)) {
        const provider = (inputs as unknown as Record<string, unknown>).__provider;
        throw Object.assign(e, { properties: plain({ ...e.properties, backend: inputs.backend, objectStore: inputs.objectStore, __provider: provider }) });
      }
      throw e;
    }
  },
  async read(id, props) {
    const p = props as FlinkSqlJobOutputs;
    const r = await reachable(p, (i) => readJob(lifecycleDeps, id, i));
    const now = plain({ ...r.props, backend: p.backend, objectStore: p.objectStore });
    // A job that does not run is told to check() through the refreshed inputs (plannedAction reads them);
    // credentials are never among them. A running job keeps the inputs it has.
    if (!r.inputs.observed) return { id: r.id, props: now };
    return { id: r.id, props: now, inputs: plain({ ...r.inputs, backend: p.backend, objectStore: p.objectStore }) as unknown as FlinkSqlJobOutputs /* the SDK types ReadResult.inputs as the outputs */ };
  },
  async update(_id, olds, news) {
    const stoppedNow = news.live !== undefined && !isActive(news.live.status);
    if (!changedFields(olds, news).length && isActive(olds.status) && !restoreRequested(olds, news) && !stoppedNow) return { outs: plain({ ...olds, ...news, live: undefined }) };
    // A job moving to another cluster is stopped through the one it runs on: both are reached.
    const moved = movesCluster(olds, news);
    try {
      const outs = await reachable(news, (n) =>
        moved ? reachable({ ...n, backend: olds.backend }, (o) => updateJob(lifecycleDeps, { ...olds, backend: o.backend, objectStore: n.objectStore }, n)) : updateJob(lifecycleDeps, { ...olds, backend: n.backend, objectStore: n.objectStore }, n),
      );
      return { outs: plain({ ...outs, backend: news.backend, objectStore: news.objectStore }) };
    } catch (e) {
      // Keep what runs now (and the savepoint taken) in the state; the dynamic-provider host needs its
      // own __provider among the recorded outputs to serve this resource again.
      if (isUpgradeFailed(e)) {
        const provider = (news as unknown as Record<string, unknown>).__provider;
        throw Object.assign(e, { properties: plain({ ...e.properties, backend: e.onPreviousCluster ? olds.backend : news.backend, objectStore: news.objectStore, __provider: provider }) });
      }
      throw e;
    }
  },
  async delete(_id, props) {
    await reachable(props, (p) => deleteJob(lifecycleDeps, p));
  },
};

export type FlinkSqlJobArgs = { readonly [K in keyof Omit<FlinkSqlJobInputs, "plannedAction" | "restore" | "live">]: pulumi.Input<FlinkSqlJobInputs[K]> };

/**
 * One Flink SQL job with the Flink Kubernetes Operator's lifecycle (see provider.ts). Its id is the job
 * name; `plannedAction` tells a preview what `up` will do to the running job.
 */
export class FlinkSqlJob extends pulumi.dynamic.Resource {
  declare readonly jobId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly savepoints: pulumi.Output<string[]>;
  /** Each kept savepoint with the SQL version that wrote it. */
  declare readonly savepointVersions: pulumi.Output<SavepointVersion[]>;
  /** The running version's SQL version. */
  declare readonly sqlVersion: pulumi.Output<string>;
  declare readonly restoredFrom: pulumi.Output<string | undefined>;
  /** What the upgrade gate saw before the running version counted as started: checkpoints, restarts, seconds. */
  declare readonly gate: pulumi.Output<GateResult | undefined>;
  declare readonly plannedAction: pulumi.Output<string>;

  constructor(name: string, args: FlinkSqlJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      flinkSqlJobProvider,
      name,
      { ...args, jobId: undefined, ref: undefined, status: undefined, savepoints: undefined, savepointVersions: undefined, sqlVersion: undefined, restoredFrom: undefined, gate: undefined, plannedAction: undefined, restore: undefined, live: undefined },
      { ...opts, additionalSecretOutputs: ["secrets"] },
      "rtdw",
      "FlinkSqlJob",
    );
  }
}
