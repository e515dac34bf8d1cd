import * as fs from "fs";
import * as path from "path";
import { Connection } from "mysql2/promise";
import { ALERTS } from "../../components/observability/alerts";
import { forgetStack, pulumi, PulumiResult } from "../../sandbox/engine";
import { CONF } from "../../sandbox/paths";
import { PROMETHEUS_RULES_DIR } from "../../sandbox";
import { loadOrCreateSecrets } from "../../sandbox/credentials";
import { upLocalStack } from "../../sandbox/stack";
import { loadJobTable } from "../../components/config/jobTable";
import { eventually, flink, idBlock, sendProbeEvents, shopConnection } from "../helpers/pipelines";
import { renderPreviewReport, surroundings } from "../../scripts/previewReport";
import { sandbox, sandboxObjects } from "../helpers/sandbox";
import { copyProject } from "../helpers/project";
import { httpGet } from "../../sandbox/services";

/**
 * The job lifecycle as users run it: the real Pulumi engine (the CLI and Node.js language host built
 * from the module proxy, the dynamic-provider plugin of @pulumi/pulumi) on a stack of its own over the
 * running sandbox, from a copy of the project so the test can edit SQL as a user would.
 *   preview -> up -> preview (no change) -> SQL change: preview --diff, up (savepoint upgrade, counts
 *   continue) -> job cancelled through Flink's REST API: refresh, preview, up (resumed, counts continue)
 *   -> a change that does not start: up fails with Flink's message, the previous version runs, the
 *   savepoint is in the state -> the upgrade gate's faults (checkpoints that expire, a restart loop, a
 *   sink refused by a missing grant, a savepoint that cannot be restored): each rolled back, counts
 *   exact -> restoreFrom: previous -> a change that reshapes state -> destroy (final savepoints kept).
 * After every step the state holds no password or key of the sandbox in plaintext.
 */
const STACK = "lifecycle";
const JOB = "rt-trk-dws";
const DWS_SQL = path.join("sql", "tracking", "dws.sql");
const HOURLY_FROM = "FROM dwd.tracking_events /*+ OPTIONS('consumer-id' = 'rt-trk-dws-hourly') */ GROUP BY dt, hr, event";

interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly newState?: { readonly type: string; readonly inputs?: Record<string, unknown> };
  readonly diffReasons?: string[];
}

describe("the real Pulumi engine drives the job lifecycle on the sandbox (preview, up, refresh, destroy)", () => {
  let project: string;
  let dws: Connection;
  const probe = `LifecycleProbe${idBlock()}`;
  // A day of this run's own (Asia/Shanghai), so the probe's DWS row is this test's alone.
  const day = new Date(Date.UTC(2001, 0, 1) + ((idBlock() / 100000) % 30000) * 86400000).toISOString().slice(0, 10);
  let sent = 0;

  const run = async (args: string[]): Promise<PulumiResult> => pulumi(STACK, args, { cwd: project, quiet: true });
  const ok = async (args: string[]): Promise<PulumiResult> => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${(r.stdout + r.stderr).slice(-6000)}`);
    return r;
  };
  const preview = async (): Promise<PreviewStep[]> => (JSON.parse((await ok(["preview", "--json"])).stdout) as { steps: PreviewStep[] }).steps;
  const jobSteps = (steps: PreviewStep[]) => steps.filter((s) => s.urn.includes("rtdw:FlinkSqlJob"));
  const outputs = async () => JSON.parse((await ok(["stack", "output", "--json", "--show-secrets"])).stdout) as { jobs: Record<string, { jobId: string; status: string }>; alertsLoaded: string[] };
  const jobState = async () => {
    const state = JSON.parse((await ok(["stack", "export"])).stdout) as { deployment: { resources: { urn: string; outputs?: Record<string, unknown>; inputs?: Record<string, unknown> }[] } };
    return state.deployment.resources.find((r) => r.urn.endsWith(`jobs-${JOB}`))!;
  };
  /** Every password and key of the sandbox, the engine's passphrase included. */
  const secretValues = () => {
    const s = loadOrCreateSecrets();
    return [...Object.values(s).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v as Record<string, string>))), fs.readFileSync(path.join(CONF, "pulumi-passphrase"), "utf8")];
  };
  /** None may be in the state. */
  const assertNoPlaintextSecrets = async () => {
    const state = (await ok(["stack", "export"])).stdout;
    const values = secretValues();
    const found = values.filter((v) => v.length >= 8 && state.includes(v));
    expect({ plaintextSecretsInState: found.length }).toEqual({ plaintextSecretsInState: 0 });
    expect(state).toContain("4dabf18193072939515e22adb298388d"); // Pulumi's secret signature: the credentials are there, encrypted
  };

  const send = async (n: number) => {
    sent += await sendProbeEvents(probe, day, sent, n);
  };
  const pv = async () => {
    const [rows] = await dws.query("SELECT pv FROM dws_trk_event_hourly WHERE dt = ? AND hr = '10' AND event = ?", [day, probe]);
    return Number((rows as { pv: number }[])[0]?.pv ?? 0);
  };
  /** Files a test changed, put back after it whatever happened, so one failure does not carry into the next test. */
  const toRestore = new Map<string, string>();
  const editing = (file: string) => {
    const content = fs.readFileSync(file, "utf8");
    if (!toRestore.has(file)) toRestore.set(file, content);
    return content;
  };
  afterEach(() => {
    for (const [file, content] of toRestore) fs.writeFileSync(file, content);
    toRestore.clear();
  });
  /** Sends a probe event every 2 s while `body` runs, so rows reach the new version during its gate. */
  const sendingWhile = async <T>(body: Promise<T>): Promise<T> => {
    let done = false;
    const loop = (async () => {
      while (!done) {
        await send(1);
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    try {
      return await body;
    } finally {
      done = true;
      await loop;
    }
  };
  /** After a failed upgrade: the previous version runs again (a new job id) from the upgrade's savepoint, the counts are exact, and going back to the good SQL changes nothing. */
  const rolledBack = async (text: string, before: string, file: string, good: string, which = "the previous version") => {
    expect(text).toMatch(new RegExp(`${which} was resubmitted from s3://\\S+/savepoints/${JOB}/savepoint-\\S+ and runs as job [0-9a-f]{32}`));
    const now = (await jobState()).outputs!;
    expect(now.jobId).not.toBe(before);
    expect(await flink().jm.state(now.jobId as string)).toBe("RUNNING");
    await countsContinue();
    // Back to the version that runs. The engine retries a resource whose update failed (an update is
    // planned), and the provider leaves the running job alone; after that, nothing to change.
    fs.writeFileSync(file, good);
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await jobState()).outputs?.jobId).toBe(now.jobId);
    expect(jobSteps(await preview()).filter((s) => s.op !== "same")).toEqual([]);
  };
  /** The DWS count of the probe event reaches exactly what was sent: nothing lost, nothing counted twice, state kept. */
  const countsContinue = () => eventually(`DWS pv of ${probe}`, pv, (n) => n >= sent, 180000).then((n) => expect(n).toBe(sent));

  beforeAll(async () => {
    project = copyProject("rtdw-lifecycle-", STACK);
    dws = await shopConnection(sandbox().endpoints.mysql.dwsDatabase);
    // A run interrupted before its destroy leaves the stack behind: start from none (its jobs are taken over below).
    await forgetStack(STACK, project);
  });
  afterAll(async () => {
    await dws?.end();
    // Whatever happened above, leave the sandbox as the other suites expect it: the `local` stack's jobs running.
    if (project) await run(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    await upLocalStack({ quiet: true });
    if (project) fs.rmSync(project, { recursive: true, force: true });
  }, 900000);

  it("preview plans one FlinkSqlJob create per row of the job table, each saying what up will do, plus the topics and the alert rules", async () => {
    const steps = await preview();
    const jobs = jobSteps(steps);
    expect(jobs.map((s) => s.op)).toEqual(Array(loadJobTable().length).fill("create"));
    for (const j of jobs) expect(String(j.newState?.inputs?.plannedAction)).toMatch(/^submit/);
    expect(steps.filter((s) => /KafkaTopics|PrometheusRuleFile/.test(s.urn)).map((s) => s.op)).toEqual(["create", "create"]);
  }, 180000);

  it("up: every job RUNNING on Flink, the alert rules loaded in Prometheus; nothing in the state in plaintext", async () => {
    await ok(["up", "--yes", "--skip-preview"]);
    const out = await outputs();
    expect(Object.values(out.jobs).map((j) => j.status)).toEqual(Array(loadJobTable().length).fill("RUNNING"));
    const { jm } = flink();
    for (const j of Object.values(out.jobs)) expect(await jm.state(j.jobId)).toBe("RUNNING");
    // Each job passed the gate; the outputs say what it saw (checkpoints, restarts, its sinks).
    for (const j of Object.values(out.jobs) as unknown as { gate: { checkpoints: number; restarts: number; sinks: string } }[]) {
      expect(j.gate).toMatchObject({ checkpoints: expect.any(Number), restarts: 0, sinks: expect.stringMatching(/rows reached the sinks, committed by \d+ checkpoints since|no new rows reached the sinks/) });
      expect(j.gate.checkpoints).toBeGreaterThanOrEqual(2);
    }
    expect([...out.alertsLoaded].sort()).toEqual(ALERTS.map((a) => a.name).sort());
    expect(fs.existsSync(path.join(PROMETHEUS_RULES_DIR, `rtdw-${STACK}.yml`))).toBe(true);
    await assertNoPlaintextSecrets();
    await send(3);
    await countsContinue();
  }, 900000);

  it("a second preview changes nothing", async () => {
    const steps = await preview();
    expect(steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn}`)).toEqual([]);
  }, 180000);

  it("a SQL change that keeps state (a new filter): preview --diff names the job, the upgrade and 'state restorable'; the review report shows it; up upgrades through a savepoint and the counts continue", async () => {
    const file = path.join(project, DWS_SQL);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(HOURLY_FROM, HOURLY_FROM.replace("*/ GROUP BY", "*/ WHERE event <> 'NeverSent' GROUP BY")));
    const steps = jobSteps(await preview()).filter((s) => s.op !== "same");
    expect(steps.map((s) => s.urn.split("::").pop())).toEqual([`jobs-${JOB}`]);
    // Both versions compiled on the real SQL Gateway: the filter joins the Calc before the aggregate, every operator keeps its id.
    expect(steps[0].newState?.inputs?.plannedAction).toBe("savepoint upgrade: stop with a savepoint, resubmit from it (changed: script (sql)); state restorable");
    const diff = (await ok(["preview", "--diff"])).stdout;
    expect(diff).toContain("NeverSent");
    expect(diff).toContain(`jobs-${JOB}`);

    // What a reviewer reads (npm run preview): the job, its verdict, the changed SQL, what it reaches; no secret.
    const report = renderPreviewReport(STACK, JSON.parse((await ok(["preview", "--diff", "--json"])).stdout), surroundings(), secretValues());
    expect(report).toContain(`#### \`${JOB}\` — update`);
    expect(report).toContain("| state | **state restorable** |");
    expect(report).toMatch(/^\+ .*WHERE event <> 'NeverSent' GROUP BY dt, hr, event/m);
    expect(report).toMatch(/\| downstream tables \| `starrocks:dws\.dws_trk_event_daily`, `starrocks:dws\.dws_trk_event_hourly`, `starrocks:dws\.dws_trk_funnel_daily` \|/);
    expect(report).toMatch(/\| alerts \| .*FlinkJobNotRunning|\| alerts \| .*FlinkJobRestarting/);
    expect(report).toContain("### Other resources (0 change)");

    const before = (await outputs()).jobs[JOB].jobId;
    await ok(["up", "--yes", "--skip-preview"]);
    const after = (await outputs()).jobs[JOB].jobId;
    expect(after).not.toBe(before);
    const restored = (await flink().jm.checkpoints(after)).restored?.path ?? "";
    expect(restored).toMatch(new RegExp(`/savepoints/${JOB}/savepoint-`));
    await send(2);
    await countsContinue();
    await assertNoPlaintextSecrets();
  }, 900000);

  it("a job cancelled outside Pulumi: FlinkJobNotRunning names it within a minute; preview plans the resume without a refresh; refresh shows CANCELED; up resumes it from its newest state and the counts continue", async () => {
    const { jm } = flink();
    const id = (await outputs()).jobs[JOB].jobId;
    // The sandbox's Prometheus (scrape and rule evaluation every 15 s) with the stack's rules.
    const { endpoints, credentials } = sandbox();
    const firing = async () => {
      const body = (await httpGet(`${endpoints.prometheus.url}/api/v1/alerts`, { user: endpoints.prometheus.username, password: credentials.prometheus.password })).body;
      return (JSON.parse(body).data.alerts as { labels: Record<string, string>; state: string }[]).filter((a) => a.labels.alertname === "FlinkJobNotRunning" && a.state === "firing").map((a) => a.labels.job_name);
    };
    // Silent while the job runs (its upgrade above may have left it firing for an evaluation).
    await eventually("FlinkJobNotRunning silent for the running job", firing, (names) => !names.includes(JOB.replace(/-/g, "_")), 90000, 1000);
    await jm.cancel(id);
    const cancelled = Date.now();
    await jm.waitFor(id, ["CANCELED"], 60000);
    await send(1); // arrives while the job is down: counted once after the resume
    await eventually("FlinkJobNotRunning for the cancelled job", firing, (names) => names.includes(JOB.replace(/-/g, "_")), 90000, 1000);
    const alertSeconds = Math.round((Date.now() - cancelled) / 1000);
    console.log(`FlinkJobNotRunning{job_name="${JOB.replace(/-/g, "_")}"} firing ${alertSeconds} s after the cancel`);
    expect(alertSeconds).toBeLessThanOrEqual(60);
    // No refresh yet: the preview sees that no job of the name runs and plans the resume.
    const unrefreshed = jobSteps(await preview()).filter((s) => s.op !== "same");
    expect(unrefreshed.map((s) => s.urn.split("::").pop())).toEqual([`jobs-${JOB}`]);
    expect(String(unrefreshed[0].newState?.inputs?.plannedAction)).toMatch(/^resume from s3:\/\/.+ \(job was CANCELED\)$/);
    await ok(["refresh", "--yes", "--skip-preview"]);
    // Refresh reads the resources (the stack outputs are the program's, updated by the next up).
    expect((await jobState()).outputs?.status).toBe("CANCELED");
    const steps = jobSteps(await preview()).filter((s) => s.op !== "same");
    expect(steps.map((s) => s.urn.split("::").pop())).toEqual([`jobs-${JOB}`]);
    expect(String(steps[0].newState?.inputs?.plannedAction)).toMatch(new RegExp(`^resume from s3://.+ \\(job was CANCELED\\)$`));
    await ok(["up", "--yes", "--skip-preview"]);
    const resumed = (await outputs()).jobs[JOB];
    expect(resumed.status).toBe("RUNNING");
    expect(resumed.jobId).not.toBe(id);
    expect((await jm.checkpoints(resumed.jobId)).restored?.path).toBeDefined();
    await countsContinue();
    await assertNoPlaintextSecrets();
  }, 900000);

  it("a change that does not start: up fails with Flink's message, the previous version runs, the savepoint is recorded in the state", async () => {
    const file = path.join(project, DWS_SQL);
    const good = editing(file);
    fs.writeFileSync(file, good.replace("COUNT(DISTINCT distinct_id)", "COUNT(DISTINCT no_such_column)"));
    const before = (await outputs()).jobs[JOB].jobId;
    const r = await run(["up", "--yes", "--skip-preview"]);
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    expect(text).toContain("the new version did not start");
    expect(text).toMatch(/no_such_column/);
    const kept = /Its state is kept at (s3:\/\/\S+?)\./.exec(text)?.[1];
    expect(kept).toMatch(new RegExp(`/savepoints/${JOB}/savepoint-`));
    const state = await jobState();
    expect(state.outputs?.savepoints).toContain(kept);
    const running = state.outputs?.jobId as string;
    expect(running).not.toBe(before);
    expect(await flink().jm.state(running)).toBe("RUNNING");
    await send(1);
    await countsContinue();
    fs.writeFileSync(file, good);
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await outputs()).jobs[JOB].status).toBe("RUNNING");
    await assertNoPlaintextSecrets();
  }, 900000);

  it("a version whose checkpoints all expire (a 10 ms checkpoint timeout set in its SQL): up fails the upgrade gate with Flink's reason, the previous version runs again from the upgrade's savepoint, counts exact", async () => {
    const file = path.join(project, DWS_SQL);
    const good = editing(file);
    fs.writeFileSync(file, `SET 'execution.checkpointing.timeout' = '10 ms';\n${good}`);
    const before = (await outputs()).jobs[JOB].jobId;
    await send(2);
    // Rows keep coming while the version is judged, so each checkpoint has writes to flush and outlasts
    // 10 ms (an idle job's checkpoint can finish within it: seen in flink-sql-job's twin of this fault).
    const r = await sendingWhile(run(["up", "--yes", "--skip-preview"]));
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    // The failover Flink makes of expired checkpoints is seen as RESTARTING or a counted restart; or none completed in time.
    expect(text).toMatch(/is RESTARTING|failed the upgrade gate: it (restarted \d+ time\(s\)|is RESTARTING|is FAILED|completed [01] of 2 checkpoints)/);
    await rolledBack(text, before, file, good);
  }, 900000);

  it("a version that fails on every row (a CAST no event name survives) restarts in a loop: up fails the gate naming the restart and Flink's cause, the previous version runs again from the upgrade's savepoint, counts exact", async () => {
    const file = path.join(project, DWS_SQL);
    const good = editing(file);
    expect(good).toContain("WHERE event <> 'NeverSent'");
    fs.writeFileSync(file, good.replace("WHERE event <> 'NeverSent'", "WHERE event <> 'NeverSent' AND CAST(SUBSTRING(event, 1, 1) AS INT) >= 0"));
    const before = (await outputs()).jobs[JOB].jobId;
    const r = await sendingWhile(run(["up", "--yes", "--skip-preview"]));
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    // Caught while its tasks start (Flink already reports it RESTARTING) or by the gate (it restarted since).
    expect(text).toMatch(/the new version did not start: (job \w+ is RESTARTING: |\S+ \(job \w+\) failed the upgrade gate: it (restarted \d+ time\(s\)|is RESTARTING|is FAILED)[^;]*; Flink's root exception: )[^\n]*(NumberFormatException|cast)/i);
    await rolledBack(text, before, file, good);
  }, 900000);

  it("a version that writes where its user has no grant (a DWS table the writer may not insert into): the sink refuses at runtime; up fails the gate naming the restart and the database's denial, the previous version runs again, counts exact", async () => {
    await dws.query("CREATE TABLE IF NOT EXISTS dws_trk_event_hourly_unwritable LIKE dws_trk_event_hourly");
    const file = path.join(project, DWS_SQL);
    const good = editing(file);
    fs.writeFileSync(file, good.replace("INSERT INTO dws_trk_event_hourly\n", "INSERT INTO dws_trk_event_hourly /*+ OPTIONS('table-name' = 'dws_trk_event_hourly_unwritable') */\n"));
    const before = (await outputs()).jobs[JOB].jobId;
    const r = await sendingWhile(run(["up", "--yes", "--skip-preview"]));
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    expect(text).toMatch(/the new version did not start: (job \w+ is RESTARTING: |\S+ \(job \w+\) failed the upgrade gate: it (restarted \d+ time\(s\)|is RESTARTING|is FAILED|committed no checkpoint after rows reached its sinks)[^;]*; Flink's root exception: )[^\n]*INSERT(, UPDATE)? command denied to user 'rtdw_dws'/);
    const [[unwritable]] = (await dws.query("SELECT COUNT(*) AS n FROM dws_trk_event_hourly_unwritable")) as unknown as [{ n: number }[]];
    expect(Number(unwritable.n)).toBe(0);
    await rolledBack(text, before, file, good);
  }, 900000);

  it("restoreFrom a savepoint that cannot be restored (its metadata damaged): up fails with Flink's reason, the version that ran is resubmitted from the savepoint just taken, counts exact", async () => {
    const table = path.join(project, "sql", "jobs.yaml");
    const committed = editing(table);
    const newest = ((await jobState()).outputs?.savepoints as string[]).at(-1)!;
    const objects = sandboxObjects();
    const { bucket, key } = objects.split(newest);
    // A copy outside the job's savepoint directory (retention and 'previous' never see it), its version record intact, its _metadata garbage.
    const damaged = `s3://${bucket}/damaged-savepoints/${JOB}/${path.basename(key)}-${idBlock()}`;
    const to = objects.split(damaged).key;
    const record = await objects.client.getObject(bucket, `${key}/rtdw-version.json`).then(async (s) => Buffer.concat(await s.toArray()));
    await objects.client.putObject(bucket, `${to}/rtdw-version.json`, record);
    await objects.client.putObject(bucket, `${to}/_metadata`, Buffer.from("not a savepoint"));
    fs.writeFileSync(table, committed.replace(`sql: tracking/dws.sql\n`, `sql: tracking/dws.sql\n    restoreFrom: ${damaged}\n`));
    const [step] = jobSteps(await preview()).filter((s) => s.op !== "same");
    expect(String(step?.newState?.inputs?.plannedAction)).toMatch(new RegExp(`^restore from ${damaged.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(written by SQL version [0-9a-f]{12}`));
    const before = (await jobState()).outputs!;
    await send(2);
    const r = await run(["up", "--yes", "--skip-preview"]);
    expect(r.code).not.toBe(0);
    const text = r.stdout + r.stderr;
    expect(text).toContain(`${JOB}: the restore from ${damaged} did not start: `);
    await rolledBack(text, before.jobId as string, table, committed, "the version that ran");
  }, 900000);

  it("restoreFrom: previous in the job table: preview names the savepoint the last upgrade took, the SQL version that wrote it and the verdict; up restores it, the counts are exact; the stack outputs list each kept savepoint with its SQL version", async () => {
    const table = path.join(project, "sql", "jobs.yaml");
    const committed = editing(table);
    const before = await jobState();
    const newest = (before.outputs?.savepoints as string[]).at(-1)!;
    fs.writeFileSync(table, committed.replace(`sql: tracking/dws.sql\n`, `sql: tracking/dws.sql\n    restoreFrom: previous\n`));
    const [step] = jobSteps(await preview()).filter((s) => s.op !== "same");
    const planned = String(step?.newState?.inputs?.plannedAction);
    expect(planned).toMatch(new RegExp(`^restore from ${newest.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(written by SQL version [0-9a-f]{12} at \\S+; running: [0-9a-f]{12}\\): stop the running version with a savepoint \\(kept for rollback\\), start the current SQL from it; state restorable$`));
    const id = before.outputs?.jobId as string;
    await send(2);
    await ok(["up", "--yes", "--skip-preview"]);
    const after = (await jobState()).outputs!;
    expect(after.jobId).not.toBe(id);
    expect(after.restoredFrom).toBe(newest);
    expect((await flink().jm.checkpoints(after.jobId as string)).restored?.path).toBe(newest);
    // Rewound to that savepoint, the job reads Kafka again from the offsets it held: every event counted once.
    await countsContinue();
    const out = (await outputs()).jobs[JOB] as unknown as { sqlVersion: string; savepoints: { path: string; sqlVersion: string }[] };
    expect(out.sqlVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(out.savepoints.length).toBeGreaterThan(0);
    for (const sp of out.savepoints) expect(sp).toEqual({ path: expect.stringContaining(`/savepoints/${JOB}/savepoint-`), sqlVersion: expect.stringMatching(/^[0-9a-f]{12}$/), takenAt: expect.any(String) });
    // The line stays harmless: a restore acts once. Removed, nothing happens to the job.
    expect(jobSteps(await preview()).filter((s) => s.op !== "same")).toEqual([]);
    fs.writeFileSync(table, committed);
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await jobState()).outputs?.jobId).toBe(after.jobId);
    await assertNoPlaintextSecrets();
  }, 900000);

  it("a change that reshapes state (a new grouping key): preview reports it, up refuses it and changes nothing; with the job table's opt-in it proceeds", async () => {
    const file = path.join(project, DWS_SQL);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("*/ WHERE event <> 'NeverSent' GROUP BY dt, hr, event", "*/ WHERE event <> 'NeverSent' GROUP BY dt, hr, event, is_core"));
    const [step] = jobSteps(await preview()).filter((s) => s.op !== "same");
    const planned = String(step?.newState?.inputs?.plannedAction);
    expect(planned).toMatch(/; state NOT restorable \(.*GroupAggregate\(groupBy=\[dt, hr, event\] aggregates=\[COUNT, COUNT DISTINCT, COUNT\]\) -> GroupAggregate\(groupBy=\[dt, hr, event, is_core\]/);
    expect(planned).toMatch(/REFUSED by up unless sql\/jobs.yaml sets allowNonRestoredState: true/);

    const before = (await outputs()).jobs[JOB].jobId;
    const refused = await run(["up", "--yes", "--skip-preview"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/rt-trk-dws: the new SQL would not restore the job's state .* Nothing was changed: the job runs as before/);
    expect(await flink().jm.state(before)).toBe("RUNNING");
    expect((await jobState()).outputs?.jobId).toBe(before);

    const table = path.join(project, "sql", "jobs.yaml");
    fs.writeFileSync(table, fs.readFileSync(table, "utf8").replace(`sql: tracking/dws.sql\n`, `sql: tracking/dws.sql\n    allowNonRestoredState: true\n`));
    const [accepted] = jobSteps(await preview()).filter((s) => s.op !== "same");
    expect(String(accepted.newState?.inputs?.plannedAction)).toMatch(/accepted \(allowNonRestoredState\), the job starts with empty state$/);
    await ok(["up", "--yes", "--skip-preview"]);
    const after = (await jobState()).outputs!;
    expect(after.jobId).not.toBe(before);
    expect(after.status).toBe("RUNNING");
    expect(after.restoredFrom).toBeUndefined();
    expect(await flink().jm.state(after.jobId as string)).toBe("RUNNING");

    // Back to the committed SQL (again a reshape, still opted in), so the savepoints this stack leaves
    // behind fit the `local` stack's version of the job, which resumes from them by name afterwards.
    fs.writeFileSync(file, fs.readFileSync(path.join(__dirname, "..", "..", DWS_SQL), "utf8"));
    await ok(["up", "--yes", "--skip-preview"]);
    expect((await jobState()).outputs?.status).toBe("RUNNING");
  }, 900000);

  it("destroy stops every stateful job with a final savepoint that is kept, and removes the alert rules", async () => {
    const ids = (await outputs()).jobs;
    await ok(["destroy", "--yes", "--skip-preview"]);
    const { jm } = flink();
    for (const [name, j] of Object.entries(ids)) {
      expect({ name, state: await jm.state(j.jobId) }).toEqual({ name, state: expect.stringMatching(/FINISHED|CANCELED/) });
      expect(await jm.findActive(name)).toBeUndefined();
      if (loadJobTable().find((x) => x.name === name)?.upgradeMode !== "stateless") expect({ name, savepoint: await jm.latestSavepoint(j.jobId) }).toEqual({ name, savepoint: expect.stringContaining(`/savepoints/${name}/`) });
    }
    expect(fs.existsSync(path.join(PROMETHEUS_RULES_DIR, `rtdw-${STACK}.yml`))).toBe(false);
  }, 900000);
});
