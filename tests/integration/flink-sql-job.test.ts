import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { JobManagerClient } from "../../components/flink/jobManager";
import { flinkSqlJobProvider, lifecycleDeps } from "../../components/jobs/flinkSqlJob";
import { createJob, deleteJob, FlinkSqlJobInputs, FlinkSqlJobOutputs, readJob, updateJob } from "../../components/jobs/provider";
import { sandboxJobSecrets } from "../../sandbox/jobs";
import { RUN } from "../../sandbox/paths";
import { PaimonReader } from "../helpers/pipelines";
import { providerTestJob } from "../helpers/providerJob";
import { kafkaClient, sandbox } from "../helpers/sandbox";

/**
 * The FlinkSqlJob provider's own functions against the sandbox's real SQL Gateway and JobManager,
 * on a small job of its own (Kafka topic -> Paimon append table) whose output shows lost or
 * duplicated rows: every id is sent once, so the table must hold each exactly once.
 */
describe("FlinkSqlJob lifecycle on the real SQL Gateway + JobManager (sandbox)", () => {
  const run = `p${Date.now().toString(36)}`;
  const topic = `provider.test.${run}`;
  const table = `provtest.out_${run}`;
  const { endpoints, credentials } = sandbox();
  const jm = new JobManagerClient(endpoints.flink.restUrl);
  const paimon = new PaimonReader();
  const savepointRoot = `s3://${endpoints.objectStore.buckets.checkpoints}/savepoints/${run}`;
  const job = providerTestJob({ name: `provider-test-${run}`, topic, table, group: run, startup: "group-offsets", savepointDir: savepointRoot });
  const { script, inputs, send } = job;
  const exactlyAllSent = () => job.exactlyAllSent(paimon);
  const objectsUnder = async (uri: string) => {
    const Minio = await import("minio");
    const u = new URL(endpoints.objectStore.endpoint);
    const c = new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: credentials.objectStore.accessKey, secretKey: credentials.objectStore.secretKey });
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    const names: string[] = [];
    for await (const o of c.listObjectsV2(bucket, prefix, true)) names.push(o.name!);
    return names;
  };

  let state: FlinkSqlJobOutputs;
  /** What the provider's check() puts into the inputs, as a preview would show it. */
  const checked = async (news: FlinkSqlJobInputs) => (await flinkSqlJobProvider.check!(state, news)).inputs!;

  beforeAll(async () => {
    const admin = kafkaClient().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    await paimon.open();
  });
  afterAll(async () => {
    for (const j of await jm.jobs()) if (j.name === `provider-test-${run}` && j.state === "RUNNING") await jm.cancel(j.jid).catch(() => undefined);
    await paimon.close();
  });

  it("create: submits the job; it runs and its outputs hold the job id and status", async () => {
    const r = await createJob(lifecycleDeps, inputs());
    state = r.outs;
    expect(r.id).toBe(`provider-test-${run}`);
    expect(state.status).toBe("RUNNING");
    expect(await jm.state(state.jobId)).toBe("RUNNING");
    // The version carries its SQL version where Flink shows the job's configuration (a takeover reads it).
    expect((await jm.jobParameters(state.jobId))["rtdw.sql-version"]).toBe(state.sqlVersion);
    expect(state.gate?.sinks).toMatch(/^(no new rows reached the sinks|\d+ rows reached the sinks, committed by \d+ checkpoints since)/);
    await send(200);
    await exactlyAllSent();
  });

  it("SQL change in savepoint mode: stops with a savepoint, resubmits from it, no row lost or duplicated", async () => {
    const news = inputs({ script: script("v2") });
    const check = await checked(news);
    // Compiled against the running version on the real SQL Gateway: a changed constant keeps every operator's state.
    expect(check.plannedAction).toBe("savepoint upgrade: stop with a savepoint, resubmit from it (changed: script (sql)); state restorable");
    await send(300); // in flight while the job is stopped and resubmitted
    const before = state.jobId;
    state = await updateJob(lifecycleDeps, state, check);
    expect(state.jobId).not.toBe(before);
    expect(await jm.state(before)).toBe("FINISHED");
    expect(state.savepoints).toHaveLength(1);
    expect(state.restoredFrom).toBe(state.savepoints[0]);
    expect(state.savepoints[0].startsWith(savepointRoot)).toBe(true);
    expect((await jm.checkpoints(state.jobId)).restored?.path).toBe(state.savepoints[0]);
    await send(200);
    await exactlyAllSent();
    expect(await paimon.rows(`SELECT DISTINCT tag FROM ${table} ORDER BY tag`)).toEqual([{ tag: "v1" }, { tag: "v2" }]);
  });

  it("parallelism change: the job is resubmitted with the new parallelism from a savepoint", async () => {
    const news = inputs({ script: script("v2", { parallelism: 2 }) });
    expect((await checked(news)).plannedAction).toContain("changed: script (parallelism.default)");
    state = await updateJob(lifecycleDeps, state, news);
    const detail = (await (await fetch(`${endpoints.flink.restUrl}/jobs/${state.jobId}`)).json()) as { vertices: { parallelism: number }[] };
    expect(Math.max(...detail.vertices.map((v) => v.parallelism))).toBe(2);
    await send(100);
    await exactlyAllSent();
  });

  it("a job cancelled outside Pulumi shows as drift on read (what `pulumi refresh` sees)", async () => {
    await jm.cancel(state.jobId);
    await jm.waitFor(state.jobId, ["CANCELED"]);
    const r = await readJob(lifecycleDeps, state.name, state);
    expect(r.props.status).toBe("CANCELED");
    expect(r.props.jobId).toBe(state.jobId);
    state = r.props;
  });

  it("a restart nonce brings a vanished job back from its newest state: the cancelled job's last retained checkpoint", async () => {
    const news = inputs({ script: script("v2", { parallelism: 2 }), restartNonce: 1 });
    expect((await checked(news)).plannedAction).toContain("changed: restartNonce");
    const cancelled = state.jobId;
    const latest = (await jm.checkpoints(cancelled)).latestPath;
    expect(latest).toContain(cancelled);
    state = await updateJob(lifecycleDeps, state, news);
    expect(state.status).toBe("RUNNING");
    expect(state.restoredFrom).toBe(latest);
    await send(100);
    await exactlyAllSent();
  });

  it("a broken SQL change is rejected with Flink's message and the previous version runs again", async () => {
    const broken = inputs({ script: script("v3", { parallelism: 2, select: "SELECT id, no_such_column FROM src" }), restartNonce: 1 });
    const err = await updateJob(lifecycleDeps, state, broken).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/the new version did not start: .*no_such_column/);
    expect(err?.message).toContain("the previous version was resubmitted from s3://");
    expect(err?.message).not.toContain(credentials.kafka.adminPassword);
    // Pulumi keeps the old state; read finds the resubmitted job by name.
    const r = await readJob(lifecycleDeps, state.name, state);
    expect(r.props.status).toBe("RUNNING");
    state = { ...r.props, savepoints: [...state.savepoints, (err!.message.match(/resubmitted from (\S+) and/) ?? [])[1]].filter(Boolean) };
    await send(100);
    await exactlyAllSent();
  });

  it("a version that starts but restarts in a loop fails the upgrade gate: rolled back to the upgrade's savepoint, nothing lost", async () => {
    // Every record fails its CAST at run time: the job is RUNNING, then restarts on each record it reads.
    const looping = inputs({ script: script("v4", { parallelism: 2, select: "SELECT CAST(CONCAT(CAST(id AS STRING), 'x') AS BIGINT), 'v4' FROM src" }), restartNonce: 1 });
    // Records keep arriving while the job is upgraded: the new version reads some and fails on them,
    // the previous one (resumed from the upgrade's savepoint) reads them again.
    let upgrading = true;
    const feeding = (async () => {
      while (upgrading) {
        await send(5);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const err = await updateJob(lifecycleDeps, state, looping).then(
      () => undefined,
      (e: Error & { properties?: FlinkSqlJobOutputs }) => e,
    );
    upgrading = false;
    await feeding;
    // Caught while its tasks start (Flink already reports it RESTARTING) or by the gate (it restarted since).
    expect(err?.message).toMatch(
      /the new version did not start: (job \w+ is RESTARTING: |provider-test-\w+ \(job \w+\) failed the upgrade gate: it (is RESTARTING after \d+ s|restarted \d+ time\(s\) within \d+ s of its start); Flink's root exception: )java.io.IOException: Failed to deserialize consumer record/,
    );
    const savepoint = (err!.message.match(/resubmitted from (\S+) and runs as job (\w+)/) ?? []).slice(1);
    expect(savepoint[0]).toContain(savepointRoot);
    // What the state records is the previous version, running again, having passed the gate itself.
    expect(err?.properties).toMatchObject({ jobId: savepoint[1], status: "RUNNING", script: state.script });
    expect(err?.properties?.gate?.restarts).toBe(0);
    expect((await jm.checkpoints(savepoint[1])).restored?.path).toBe(savepoint[0]);
    state = { ...err!.properties!, savepoints: [...state.savepoints, savepoint[0]] };
    await send(100);
    await exactlyAllSent();
    expect(Number((await paimon.rows(`SELECT COUNT(*) AS n FROM ${table} WHERE tag = 'v4'`))[0].n)).toBe(0);
  });

  it("a takeover (a deployment that lost its state creates the running job again) whose version fails on every record: the job it took over is resubmitted from the savepoint it was stopped with, nothing lost", async () => {
    const looping = inputs({ script: script("v5", { parallelism: 2, select: "SELECT CAST(CONCAT(CAST(id AS STRING), 'x') AS BIGINT), 'v5' FROM src" }) });
    let creating = true;
    const feeding = (async () => {
      while (creating) {
        await send(5);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const err = await createJob(lifecycleDeps, looping).then(
      () => undefined,
      (e: Error & { properties?: FlinkSqlJobOutputs }) => e,
    );
    creating = false;
    await feeding;
    const back = (err?.message.match(new RegExp(`the job it took over \\(SQL version ${state.sqlVersion}\\) was resubmitted from (\\S+) and runs as job (\\w+)`)) ?? []).slice(1);
    expect(back[0]).toContain(savepointRoot);
    expect(err?.message).toContain("Failed to deserialize consumer record");
    expect(err?.properties).toMatchObject({ jobId: back[1], status: "RUNNING", script: state.script, sqlVersion: state.sqlVersion });
    expect((await jm.checkpoints(back[1])).restored?.path).toBe(back[0]);
    state = { ...err!.properties!, savepoints: [...state.savepoints, back[0]] };
    await send(50);
    await exactlyAllSent();
    expect(Number((await paimon.rows(`SELECT COUNT(*) AS n FROM ${table} WHERE tag = 'v5'`))[0].n)).toBe(0);
  });

  it("a version whose checkpoints never complete runs, but fails the upgrade gate: rolled back, nothing lost", async () => {
    // Its tasks all run; every checkpoint expires (10 ms), and after the cluster's tolerable 3 failures Flink fails it over.
    // Rows flow meanwhile: a checkpoint then flushes the Paimon writer's files to MinIO, which takes longer
    // than 10 ms (an idle job's checkpoint can finish within it, and the version would pass: seen in a full run).
    const slow = script("v5", { parallelism: 2 });
    const failing = inputs({ script: { ...slow, config: { ...slow.config, "execution.checkpointing.timeout": "10 ms" } }, restartNonce: 1 });
    let updating = true;
    const feeding = (async () => {
      while (updating) {
        await send(5);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const err = await updateJob(lifecycleDeps, state, failing).then(
      () => undefined,
      (e: Error & { properties?: FlinkSqlJobOutputs }) => e,
    );
    updating = false;
    await feeding;
    // Seen by the gate as the failover happens (RESTARTING) or after it (a restart counted), with Flink's reason.
    expect(err?.message).toMatch(
      /the new version did not start: provider-test-\w+ \(job \w+\) failed the upgrade gate: it (is RESTARTING after \d+ s|restarted \d+ time\(s\) within \d+ s of its start); Flink's root exception: org.apache.flink.util.FlinkRuntimeException: Exceeded checkpoint tolerable failure threshold/,
    );
    const [savepoint, jobId] = (err!.message.match(/resubmitted from (\S+) and runs as job (\w+)/) ?? []).slice(1);
    expect(savepoint).toContain(savepointRoot);
    expect(err?.properties).toMatchObject({ jobId, status: "RUNNING", script: state.script });
    expect(err?.properties?.gate).toMatchObject({ restarts: 0 });
    expect(err!.properties!.gate!.checkpoints).toBeGreaterThanOrEqual(2);
    state = { ...err!.properties!, savepoints: [...state.savepoints, savepoint] };
    await send(100);
    await exactlyAllSent();
    expect(Number((await paimon.rows(`SELECT COUNT(*) AS n FROM ${table} WHERE tag = 'v5'`))[0].n)).toBe(0);
  });

  it("retention: keeps the newest 3 savepoints and deletes older ones from object storage", async () => {
    const first = state.savepoints[0];
    expect((await objectsUnder(first)).length).toBeGreaterThan(0);
    for (let nonce = 2; nonce <= 4; nonce++) state = await updateJob(lifecycleDeps, state, inputs({ script: script("v2", { parallelism: 2 }), restartNonce: nonce }));
    expect(state.savepoints).toHaveLength(3);
    expect(state.savepoints).not.toContain(first);
    expect(await objectsUnder(first)).toEqual([]);
    for (const sp of state.savepoints) expect((await objectsUnder(sp)).length).toBeGreaterThan(0);
    // Each records the SQL that wrote it, inside the savepoint (it outlives a lost state).
    for (const sp of state.savepoints) expect(await objectsUnder(sp)).toContainEqual(expect.stringMatching(/\/rtdw-version\.json$/));
    expect(state.savepointVersions?.map((v) => v.path)).toEqual(state.savepoints);
    await send(50);
    await exactlyAllSent();
  });

  it("last-state mode: cancels first, then resubmits from the checkpoint Flink retained at the cancel; rows sent during the upgrade arrive exactly once", async () => {
    const news = inputs({ script: script("v2", { parallelism: 2 }), upgradeMode: "last-state", restartNonce: 45 });
    expect((await checked(news)).plannedAction).toMatch(/^last-state upgrade: cancel, resubmit from the latest checkpoint/);
    await send(200);
    const before = state.jobId;
    state = await updateJob(lifecycleDeps, state, news);
    expect(await jm.state(before)).toBe("CANCELED");
    const retained = (await jm.checkpoints(before)).latestPath;
    expect(state.restoredFrom).toBe(retained);
    expect(state.restoredFrom).toMatch(/\/chk-\d+$/);
    await send(100);
    await exactlyAllSent();
  });

  it("stateless mode: cancels and starts with empty state (the source falls back to its committed group offsets)", async () => {
    const news = inputs({ script: script("v2", { parallelism: 2 }), upgradeMode: "stateless", restartNonce: 5 });
    expect((await checked(news)).plannedAction).toMatch(/^stateless upgrade: cancel, resubmit with empty state/);
    const kept = state.savepoints;
    state = await updateJob(lifecycleDeps, state, news);
    expect(state.restoredFrom).toBeUndefined();
    expect((await jm.checkpoints(state.jobId)).restored).toBeUndefined();
    expect(state.savepoints).toEqual(kept);
  });

  it("delete: stops the job with a final savepoint that is kept", async () => {
    state = await updateJob(lifecycleDeps, state, inputs({ script: script("v2", { parallelism: 2 }), restartNonce: 6 }));
    const before = new Set(await objectsUnder(savepointRoot));
    await deleteJob(lifecycleDeps, state);
    expect(await jm.state(state.jobId)).toBe("FINISHED");
    const added = (await objectsUnder(savepointRoot)).filter((o) => !before.has(o));
    expect(added.some((o) => o.endsWith("_metadata"))).toBe(true);
  });

  it("the serialized provider (as Pulumi stores it) holds no secret, and its create runs in a fresh Node process", async () => {
    const sf = await pulumi.runtime.serializeFunction(() => flinkSqlJobProvider, { allowSecrets: false });
    for (const secret of [...Object.values(sandboxJobSecrets()), ...Object.values(credentials.kafka.users), credentials.kafka.adminPassword]) expect(sf.text).not.toContain(secret);
    const file = path.join(RUN, `provider-${run}.js`);
    fs.writeFileSync(file, sf.text);
    const name = `provider-test-${run}-fresh`;
    // A job of its own: its own savepoint directory (a create resumes from the newest savepoint kept there).
    const fresh = { ...inputs(), name, savepointDir: `${savepointRoot}-fresh`, script: { ...script("fresh"), job: name, config: { ...script("fresh").config, "pipeline.name": name } } };
    const out = spawnSync(process.execPath, ["-e", `
      const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
      require(${JSON.stringify(file)}).${sf.exportName}().create(input).then(
        (r) => { console.log(JSON.stringify({ id: r.id, jobId: r.outs.jobId, status: r.outs.status })); },
        (e) => { console.error(e.message); process.exit(1); });`], { input: JSON.stringify(fresh), encoding: "utf8", cwd: path.resolve(__dirname, "../.."), timeout: 300000 });
    fs.rmSync(file, { force: true });
    expect(out.stderr.trim()).toBe("");
    const r = JSON.parse(out.stdout.trim().split("\n").pop()!);
    expect(r).toMatchObject({ id: name, status: "RUNNING" });
    expect(await jm.state(r.jobId)).toBe("RUNNING");
    await jm.cancel(r.jobId);
  });
});
