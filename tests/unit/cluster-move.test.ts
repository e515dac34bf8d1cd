import type { JobBackend } from "../../components/jobs/backend";
import { BackendConfig, changedFields, checkState, describeAction, FlinkSqlJobOutputs, GATE_CHECKPOINTS, isUpgradeFailed, LifecycleDeps, movesCluster, updateJob } from "../../components/jobs/provider";
import { clusterProperties } from "../../components/flink/sqlGateway";
import { jobInputs } from "../helpers/jobInputs";

/**
 * A job moving from one session cluster to another (one SQL Gateway, each job on its own cluster):
 * decisions against two scripted clusters, told apart by their REST URL. The real move, through the
 * real gateway onto a second real cluster, is tests/integration/session-clusters.test.ts.
 */
function clusters(o: { failOn?: string } = {}) {
  const calls: string[] = [];
  let next = 2;
  const on = (at: string): JobBackend => ({
    kind: "sql-gateway",
    ready: async () => undefined,
    submit: async (r) => {
      const jobId = `j${next++}`;
      calls.push(`${at}: submit ${jobId} restore=${r.restorePath ?? "-"}`);
      return { jobId };
    },
    state: async (j) => (j.jobId === "j1" && at === "A" ? "RUNNING" : undefined) as never,
    failureCause: async () => "java.lang.IllegalStateException: boom",
    jobParameters: async () => ({}),
    stopWithSavepoint: async (j) => (calls.push(`${at}: stop-with-savepoint ${j.jobId}`), `s3://b/savepoints/rt-trk-dws/savepoint-${at}`),
    cancel: async (j) => void calls.push(`${at}: cancel ${j.jobId}`),
    latestCheckpoint: async () => undefined,
    waitUntilRunning: async () => undefined,
    progress: async (j) =>
      at === o.failOn && j.jobId !== "j1" && calls.filter((c) => c.startsWith(`${at}: submit`)).length === 1
        ? { state: "RUNNING", completedCheckpoints: 0, failedCheckpoints: 0, restarts: 1 }
        : { state: "RUNNING", completedCheckpoints: GATE_CHECKPOINTS, failedCheckpoints: 0, restarts: 0 },
    findActive: async () => undefined,
    newest: async () => undefined,
  });
  const byUrl: Record<string, JobBackend> = { "http://jm-a:8081": on("A"), "http://jm-b:8081": on("B") };
  const deps: LifecycleDeps = {
    backend: (cfg) => byUrl[(cfg as { jobManagerUrl: string }).jobManagerUrl],
    deletePrefix: async () => undefined,
    listSavepoints: async () => [],
    gatePace: { pollMs: 1, metricsLagMs: 0 },
  };
  return { calls, deps };
}

const shared: BackendConfig = { kind: "sql-gateway", sqlGatewayUrl: "http://gw:8083", jobManagerUrl: "http://jm-a:8081" };
const own: BackendConfig = { kind: "sql-gateway", sqlGatewayUrl: "http://gw:8083", jobManagerUrl: "http://jm-b:8081", cluster: { address: "flink-jm-rt-trk-dws", port: 8081 } };
const olds: FlinkSqlJobOutputs = { ...jobInputs({ backend: shared }), jobId: "j1", status: "RUNNING", savepoints: [] };
const news = jobInputs({ backend: own, gateTimeoutSeconds: 0.05 });

describe("a job moving to its own session cluster", () => {
  it("is a move only when the cluster the gateway submits to changes, and the preview names both clusters", () => {
    expect(movesCluster(olds, news)).toBe(true);
    expect(movesCluster(olds, { backend: { ...shared, jobManagerUrl: "http://127.0.0.1:18081" } })).toBe(false);
    expect(movesCluster(news, { backend: { ...own, cluster: { address: "flink-jm-rt-trk-dws", port: 8081 } } })).toBe(false);
    expect(describeAction(olds, news)).toBe("savepoint upgrade: stop with a savepoint, resubmit from it (changed: cluster (moves from the gateway's own cluster to flink-jm-rt-trk-dws:8081))");
  });

  it("stops with a savepoint on the cluster it ran on and starts from it on the new one", async () => {
    const { calls, deps } = clusters();
    const outs = await updateJob(deps, olds, news);
    expect(calls).toEqual(["A: stop-with-savepoint j1", "B: submit j2 restore=s3://b/savepoints/rt-trk-dws/savepoint-A"]);
    expect(outs).toMatchObject({ jobId: "j2", status: "RUNNING", backend: own, restoredFrom: "s3://b/savepoints/rt-trk-dws/savepoint-A" });
  });

  it("a new cluster on which the job does not start: the version that ran goes back to its cluster from the savepoint, and the state says where it runs", async () => {
    const { calls, deps } = clusters({ failOn: "B" });
    const e = await updateJob(deps, olds, news).then(() => undefined, (x: unknown) => x);
    expect(isUpgradeFailed(e)).toBe(true);
    if (!isUpgradeFailed(e)) return;
    expect(calls).toEqual(["A: stop-with-savepoint j1", "B: submit j2 restore=s3://b/savepoints/rt-trk-dws/savepoint-A", "B: cancel j2", "A: submit j3 restore=s3://b/savepoints/rt-trk-dws/savepoint-A"]);
    expect(e.onPreviousCluster).toBe(true);
    expect(e.properties).toMatchObject({ jobId: "j3", status: "RUNNING", backend: shared });
    expect(e.message).toMatch(/the previous version was resubmitted on the cluster it ran on from s3:\/\/b\/savepoints\/rt-trk-dws\/savepoint-A and runs as job j3/);
  });

  it("a gateway session is sent to a cluster by rest.address and rest.port, and left to the gateway's own without one", () => {
    expect(clusterProperties({ address: "flink-jm-rt-trk-dws", port: 8081 })).toEqual({ "rest.address": "flink-jm-rt-trk-dws", "rest.port": "8081" });
    expect(clusterProperties(undefined)).toEqual({});
  });

  it("a backend reached at another URL runs the same job: recorded, not an upgrade; another console or backend kind is a move", () => {
    const reached = { backend: { ...own, sqlGatewayUrl: "http://gw-2:8083", jobManagerUrl: "http://127.0.0.1:28081" } };
    const running = { ...jobInputs({ backend: own }), jobId: "j1", status: "RUNNING", savepoints: [] } as FlinkSqlJobOutputs;
    expect(changedFields(running, jobInputs(reached))).toEqual([]);
    expect(describeAction(running, jobInputs(reached))).toBe("no change to the job (only how the stack reaches it changed)");
    const sp = (url: string): BackendConfig => ({ kind: "streampark", url, user: "admin", teamId: "100000", clusterName: "rtdw-test-flink-trk-dws", clusterAddress: "http://flink-trk-dws-jobmanager:8081", flinkEnvName: "flink-1.20", flinkHome: "/opt/flink", jobManagerUrl: "http://jm-b:8081" });
    expect(movesCluster({ backend: sp("http://streampark:10000") }, { backend: sp("http://streampark-2:10000") })).toBe(true);
    expect(movesCluster({ backend: own }, { backend: sp("http://streampark:10000") })).toBe(true);
    expect(describeAction(running, jobInputs({ backend: sp("http://streampark:10000") }))).toMatch(/changed: cluster \(moves from flink-jm-rt-trk-dws:8081 to StreamPark's cluster rtdw-test-flink-trk-dws \(http:\/\/flink-trk-dws-jobmanager:8081\)\)/);
  });

  it("a StreamPark job's state verdict is compiled on the stack's SQL Gateway (StreamPark compiles none); without one it is unknown", async () => {
    const sp: BackendConfig = { kind: "streampark", url: "http://streampark:10000", user: "admin", teamId: "100000", clusterName: "c", clusterAddress: "http://jm:8081", flinkEnvName: "flink-1.20", flinkHome: "/opt/flink", jobManagerUrl: "http://jm:8081" };
    const compiledOn: string[] = [];
    const deps = { ...clusters().deps, explain: async (cfg: { sqlGatewayUrl: string }) => (compiledOn.push(cfg.sqlGatewayUrl), "{}") } as LifecycleDeps;
    const script = { job: "rt-trk-dws", config: {}, statements: ["INSERT INTO a SELECT 2"] };
    await checkState(deps, { script }, jobInputs({ backend: { ...sp, sqlGatewayUrl: "http://gw:8083" } }));
    expect(compiledOn).toEqual(["http://gw:8083", "http://gw:8083"]);
    expect(await checkState(deps, { script }, jobInputs({ backend: sp }))).toEqual({ kind: "unknown", reason: "no SQL Gateway to compile the plans on" });
  });
});
