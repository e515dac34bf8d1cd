import { JobManagerClient } from "../../components/flink/jobManager";
import { flinkSqlJobProvider, lifecycleDeps } from "../../components/jobs/flinkSqlJob";
import { BackendConfig, createJob, FlinkSqlJobOutputs, updateJob } from "../../components/jobs/provider";
import { eventually, PaimonReader } from "../helpers/pipelines";
import { providerTestJob } from "../helpers/providerJob";
import { kafkaClient, sandbox } from "../helpers/sandbox";
import { httpGet } from "../../sandbox/services/clients";
import { requestJson } from "../../components/platform/http";
import { localStackJobs } from "../../sandbox/stack";
import { runningPid } from "../../sandbox/process";
import { up as sandboxUp } from "../../sandbox/index";
import { sandboxJobManagers } from "../../sandbox/jobManagers";

/**
 * One SQL Gateway, jobs on more than one session cluster (the seeds' job model: each job on its own
 * cluster, sized by its row): the sandbox's two real Flink 1.20.3 session clusters, the SQL Gateway's
 * own and flink-trk. The FlinkSqlJob provider moves a job from the gateway's cluster to flink-trk with a
 * savepoint and upgrades it there.
 * The job reads its topic from the earliest offset: a version that started without the savepoint's
 * state would read every record again, so exact rows prove the state went along.
 */
describe("session clusters: one SQL Gateway submits each job to its own cluster", () => {
  const run = `sc${Date.now().toString(36)}`;
  const topic = `clusters.test.${run}`;
  const table = `provtest.clusters_${run}`;
  const name = `cluster-test-${run}`;
  const { endpoints } = sandbox();
  const home = new JobManagerClient(endpoints.flink.restUrl);
  const paimon = new PaimonReader();
  // The second cluster: the one the tracking jobs run on, which has two slots to spare.
  const second = endpoints.flink.clusters.find((c) => c.name === "flink-trk")!;
  const own = new JobManagerClient(second.restUrl);
  let state: FlinkSqlJobOutputs;

  const job = providerTestJob({ name, topic, table, group: run, startup: "earliest-offset", savepointDir: `s3://${endpoints.objectStore.buckets.checkpoints}/savepoints/${run}` });
  // Created on the sandbox's own cluster (the gateway's), moved to the second by its backend's cluster.
  const { script, send, inputs } = job;
  const onSecond = (): BackendConfig => ({ kind: "sql-gateway", sqlGatewayUrl: endpoints.flink.sqlGatewayUrl, jobManagerUrl: second.restUrl, cluster: { address: second.address, port: second.port } });
  const exactlyAllSent = () => job.exactlyAllSent(paimon);
  const running = async (jm: JobManagerClient) => (await jm.jobs()).filter((j) => j.name === name && j.state === "RUNNING").map((j) => j.jid);

  beforeAll(async () => {
    const admin = kafkaClient().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    await paimon.open();
  }, 120_000);
  afterAll(async () => {
    for (const jm of [home, own]) for (const jid of await running(jm).catch(() => [])) await jm.cancel(jid).catch(() => undefined);
    await paimon.close();
  });

  it("a job on the gateway's own cluster moves to its own cluster with a savepoint: preview names the move, no row lost or read twice", async () => {
    state = (await createJob(lifecycleDeps, inputs())).outs;
    expect(await running(home)).toEqual([state.jobId]);
    await send(100);
    await exactlyAllSent();

    const news = inputs({ backend: onSecond() });
    const check = (await flinkSqlJobProvider.check!(state, news)).inputs!;
    expect(check.plannedAction).toBe(`savepoint upgrade: stop with a savepoint, resubmit from it (changed: cluster (moves from the gateway's own cluster to 127.0.0.1:${second.port}))`);
    const before = state.jobId;
    await send(50); // in flight while the job moves
    state = await updateJob(lifecycleDeps, state, check);
    // Stopped where it ran, started on the second cluster from that savepoint; none of it left on the first.
    expect(await home.state(before)).toBe("FINISHED");
    expect(await running(home)).toEqual([]);
    expect(await running(own)).toEqual([state.jobId]);
    expect(state.restoredFrom).toBe(state.savepoints[0]);
    expect((await own.checkpoints(state.jobId)).restored?.path).toBe(state.savepoints[0]);
    await send(100);
    await exactlyAllSent();
  }, 600_000);

  it("a SQL change of the job on its own cluster is a savepoint upgrade there, judged on the one gateway", async () => {
    const news = inputs({ backend: onSecond(), script: script("v2") });
    const check = (await flinkSqlJobProvider.check!(state, news)).inputs!;
    expect(check.plannedAction).toBe("savepoint upgrade: stop with a savepoint, resubmit from it (changed: script (sql)); state restorable");
    const before = state.jobId;
    state = await updateJob(lifecycleDeps, state, check);
    expect(await own.state(before)).toBe("FINISHED");
    expect(await running(own)).toEqual([state.jobId]);
    expect(await running(home)).toEqual([]);
    await send(100);
    await exactlyAllSent();
    expect(await paimon.rows(`SELECT DISTINCT tag FROM ${table} ORDER BY tag`)).toEqual([{ tag: "v1" }, { tag: "v2" }]);
  }, 600_000);
});

/**
 * The local stack's own jobs, deployed by the real engine (`pulumi up --stack local`), on the sandbox's
 * two session clusters: the tracking pipeline's on flink-trk, the rest on the SQL Gateway's own, by the
 * platform file's routing (the same rest.address/rest.port sessions as a cluster per job on Kubernetes).
 * The savepoint upgrade and the cancel-refresh-up resume through the engine are engine-lifecycle's
 * (rt-trk-dws, on flink-trk); the rebuild of every job on both clusters is rebuild's.
 */
describe("the local stack's jobs on two session clusters, through the engine", () => {
  const { endpoints, credentials } = sandbox();
  const trk = endpoints.flink.clusters.find((c) => c.name === "flink-trk")!;
  const gatewayOwn = new JobManagerClient(endpoints.flink.restUrl);
  const trkJm = new JobManagerClient(trk.restUrl);
  const promAuth = { user: endpoints.prometheus.username, password: credentials.prometheus.password };
  const query = async (q: string) => JSON.parse((await httpGet(`${endpoints.prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`, promAuth)).body).data.result as { metric: Record<string, string>; value: [number, string] }[];
  const runningOn = async (jm: JobManagerClient) => (await jm.jobs()).filter((j) => j.state === "RUNNING").map((j) => j.jid);

  it("each job runs on the cluster the routing names and on no other; both clusters' JobManager, TaskManager and job exporter are scraped", async () => {
    expect(trk.jobs).toEqual(["rt-trk-ods", "rt-trk-dwd", "rt-trk-dws", "rt-trk-compaction"]);
    const jobs = await localStackJobs();
    const [own, second] = [await runningOn(gatewayOwn), await runningOn(trkJm)];
    const where = Object.fromEntries(Object.entries(jobs).map(([name, j]) => [name, [own.includes(j.jobId) ? "gateway's own" : "", second.includes(j.jobId) ? "flink-trk" : ""].filter(Boolean).join("+")]));
    expect(where).toEqual(Object.fromEntries(Object.keys(jobs).map((name) => [name, trk.jobs.includes(name) ? "flink-trk" : "gateway's own"])));
    const up = await eventually(
      "both clusters' scrape targets up",
      () => query('up{job=~"flink-jobmanager|flink-taskmanager|flink-job-exporter"} == 1'),
      (r) => r.length === 6,
      90_000,
      3000,
    );
    expect(up.map((r) => r.metric.job).sort()).toEqual(["flink-job-exporter", "flink-job-exporter", "flink-jobmanager", "flink-jobmanager", "flink-taskmanager", "flink-taskmanager"]);
  });

  it("flink-trk's TaskManager killed: its jobs fail over (their cluster's exporter reports it by job name), the other cluster's jobs keep running with their restart counts; the TaskManager back, its jobs run again", async () => {
    const jobs = await localStackJobs();
    const tracking = trk.jobs.map((n) => jobs[n].jobId);
    const others = Object.entries(jobs).filter(([n]) => !trk.jobs.includes(n)).map(([, j]) => j.jobId);
    const restartsBefore = Object.fromEntries(await Promise.all(others.map(async (j) => [j, await gatewayOwn.restarts(j)] as const)));
    const pid = runningPid("flink-trk-taskmanager");
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    process.kill(pid!, "SIGKILL");
    try {
      const dws = jobs["rt-trk-dws"].jobId;
      // A failure after the kill (the history may hold earlier ones): the lost TaskManager, or the restart that then found no slots.
      const newest = async () => (await requestJson<{ exceptionHistory?: { entries?: { timestamp: number; exceptionName?: string; stacktrace?: string }[] } }>("GET", `${trk.restUrl}/jobs/${dws}/exceptions?maxExceptions=1`)).exceptionHistory?.entries?.[0];
      const failure = await eventually("rt-trk-dws fails over on flink-trk", newest, (e) => !!e && e.timestamp >= killedAt, 120_000, 1000);
      expect(`${failure!.exceptionName} ${failure!.stacktrace}`).toMatch(/TaskManager|heartbeat|disconnect|Connection|NoResourceAvailableException/i);
      // Alerts look a failed job up by job_name (Flink's label form): flink-trk's own exporter names it.
      await eventually("flink-trk's job exporter reports rt-trk-dws", () => query('rtdw_flink_job_exception_info{job_name="rt_trk_dws"}'), (r) => r.length > 0, 120_000, 3000);
      const restartsAfter = Object.fromEntries(await Promise.all(others.map(async (j) => [j, await gatewayOwn.restarts(j)] as const)));
      expect(restartsAfter).toEqual(restartsBefore);
      expect((await gatewayOwn.jobs()).filter((j) => others.includes(j.jid)).map((j) => j.state)).toEqual(others.map(() => "RUNNING"));
    } finally {
      // The sandbox starts what is not running: the TaskManager comes back and registers with its JobManager.
      await sandboxUp();
    }
    const all = sandboxJobManagers();
    // Restarting while no TaskManager had slots, each runs all its tasks again once the TaskManager is back.
    for (const id of tracking) await eventually(`${id} runs all its tasks again`, () => all.waitForRunningTasks(id, 2000).then(() => "running", (e: Error) => e.message), (m) => m === "running", 240_000, 2000);
  }, 600_000);
});
