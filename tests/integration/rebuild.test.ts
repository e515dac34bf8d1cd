import { spawnSync } from "child_process";
import * as path from "path";
import { Connection } from "mysql2/promise";
import { stateBackend } from "../../sandbox/engine";
import { runningPid } from "../../sandbox/process";
import { stateKey, stateVersions } from "../../sandbox/stateBucket";
import { loadJobTable } from "../../components/config/jobTable";
import { ensureJobs, eventually, flink, idBlock, PaimonReader, sendProbeEvents, shopConnection } from "../helpers/pipelines";
import { sandbox } from "../helpers/sandbox";
import type { RebuildReport } from "../../scripts/rebuild";
import { SANDBOX_CLUSTERS } from "../../sandbox/services/flink";

/**
 * The disaster the rebuild is for, on the sandbox: rows are written, some still in flight, then Flink
 * is killed (JobManager and TaskManager, SIGKILL: no savepoint, the cluster forgets every job) and the
 * `local` stack's Pulumi state is deleted from its bucket. `npm run rebuild -- --stack local`, run as a
 * user runs it, must bring back the state (from the bucket's versions), Flink and every job, each
 * stateful one from its newest retained checkpoint found by job name; afterwards DWD and DWS hold
 * every row exactly once. RPO (rows written but not yet in DWS at the kill) and RTO (the rebuild's wall
 * time) are printed.
 */
describe("disaster rebuild: Flink killed and the Pulumi state deleted, npm run rebuild restores both and every row arrives exactly once", () => {
  const B = idBlock();
  const day = new Date(Date.UTC(2003, 0, 1) + ((B / 100000) % 30000) * 86400000).toISOString().slice(0, 10);
  const probe = `RebuildProbe${B}`;
  const repo = path.resolve(__dirname, "..", "..");
  let db: Connection;
  let dws: Connection;
  let orders = 0;
  let events = 0;

  const writeOrders = async (n: number) => {
    const rows = Array.from({ length: n }, (_, i) => `(${B + 100 + orders + i}, ${B + 1}, 'created', 10.00, '${day} 09:00:00')`);
    await db.query(`INSERT INTO orders (id, user_id, status, total_amount, created_at) VALUES ${rows.join(", ")}`);
    orders += n;
  };
  const sendEvents = async (n: number) => {
    events += await sendProbeEvents(probe, day, events, n);
  };
  const dwsOrders = async () => Number(((await dws.query("SELECT order_count FROM dws_trade_daily WHERE dt = ?", [day]))[0] as { order_count: number }[])[0]?.order_count ?? 0);
  const dwsPv = async () => Number(((await dws.query("SELECT pv FROM dws_trk_event_hourly WHERE dt = ? AND hr = '10' AND event = ?", [day, probe]))[0] as { pv: number }[])[0]?.pv ?? 0);

  beforeAll(async () => {
    await ensureJobs(loadJobTable().map((j) => j.name));
    db = await shopConnection();
    dws = await shopConnection(sandbox().endpoints.mysql.dwsDatabase);
    await db.query(`INSERT INTO users (id, name, email, phone, city, created_at) VALUES (${B + 1}, 'Rebuild', 'rebuild@example.com', '13800000009', 'hangzhou', '${day} 08:00:00')`);
  });
  afterAll(async () => {
    await db?.end();
    await dws?.end();
  });

  it("rows written, Flink killed mid-stream, state deleted; rebuild: state restored, jobs resumed from their checkpoints by name, DWD and DWS exact", async () => {
    // Before the disaster: everything written so far reached DWS (and is in some checkpoint).
    await writeOrders(20);
    await sendEvents(30);
    await eventually("DWS before the disaster", async () => [await dwsOrders(), await dwsPv()], ([o, p]) => o === orders && p === events, 240000);

    // In flight at the disaster: written, not all of it processed and checkpointed yet.
    await writeOrders(15);
    await sendEvents(25);
    await new Promise((r) => setTimeout(r, 1500));
    // Every session cluster of the sandbox (the jobs run on two): the whole of Flink is lost.
    for (const svc of SANDBOX_CLUSTERS.flatMap((c) => [`${c.name}-taskmanager`, `${c.name}-jobmanager`])) {
      const pid = runningPid(svc);
      expect({ svc, running: pid !== undefined }).toEqual({ svc, running: true });
      process.kill(pid!, "SIGKILL");
    }
    const atKill = { orders: await dwsOrders(), events: await dwsPv() };
    const atRisk = orders + events - atKill.orders - atKill.events;

    // The state is deleted from its bucket (a delete marker in the versioned bucket, as an accident leaves it).
    const backend = stateBackend()!;
    const Minio = require("minio") as typeof import("minio");
    const u = new URL(backend.s3.endpoint!);
    await new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: backend.accessKey, secretKey: backend.secretKey, region: "us-east-1", pathStyle: true }).removeObject(backend.s3.bucket, stateKey(backend.s3, "rtdw", "local"));
    expect((await stateVersions(backend.s3, "rtdw", "local", backend.accessKey, backend.secretKey))[0].deleteMarker).toBe(true);

    // The rebuild, as a user runs it.
    const t0 = Date.now();
    const r = spawnSync("bash", ["scripts/run.sh", "scripts/rebuild.ts", "--stack", "local"], { cwd: repo, encoding: "utf8", timeout: 900000 });
    const rto = (Date.now() - t0) / 1000;
    const reportLine = (r.stdout ?? "").split("\n").find((l) => l.startsWith("REBUILD_REPORT "));
    if (r.status !== 0 || !reportLine) {
      // The engine's diagnostics (each failed resource's error) come before its long outputs: show them, then the end.
      const out = (r.stdout ?? "") + (r.stderr ?? "");
      const at = out.indexOf("Diagnostics:");
      throw new Error(`npm run rebuild failed (exit ${r.status}):\n${at >= 0 ? `${out.slice(at, at + 6000)}\n…\n` : ""}${out.slice(-3000)}`);
    }
    const report = JSON.parse(reportLine.slice("REBUILD_REPORT ".length)) as RebuildReport;
    expect(report.state).toBe("restored");

    // Every job runs again on the new cluster; each stateful one resumed from its own retained state, found by its name.
    const { jm } = flink();
    for (const job of loadJobTable()) {
      const j = report.jobs[job.name];
      expect({ job: job.name, status: j?.status }).toEqual({ job: job.name, status: "RUNNING" });
      if (job.upgradeMode !== "stateless") expect({ job: job.name, from: j.restoredFrom }).toEqual({ job: job.name, from: expect.stringMatching(new RegExp(`/(checkpoints|savepoints)/${job.name}/`)) });
    }
    expect((await jm.jobs()).filter((j) => j.state === "RUNNING").length).toBeGreaterThanOrEqual(loadJobTable().length);

    // Nothing lost, nothing twice: DWS reaches exactly what was written, DWD holds each order once.
    await eventually("DWS after the rebuild", async () => [await dwsOrders(), await dwsPv()], ([o, p]) => o >= orders && p >= events, 300000);
    expect({ orders: await dwsOrders(), events: await dwsPv() }).toEqual({ orders, events });
    const paimon = await new PaimonReader().open();
    try {
      const dwd = await paimon.rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM dwd.orders WHERE id BETWEEN ${B + 100} AND ${B + 199}`);
      expect(dwd.map((x) => ({ n: Number(x.n), ids: Number(x.ids) }))).toEqual([{ n: orders, ids: orders }]);
      const dwdEvents = await paimon.rows(`SELECT COUNT(*) AS n FROM dwd.tracking_events WHERE event = '${probe}'`);
      expect(Number(dwdEvents[0].n)).toBe(events);
    } finally {
      await paimon.close();
    }
    process.stderr.write(`[rebuild] RTO ${rto.toFixed(0)} s (rebuild ${report.seconds.toFixed(0)} s); rows in flight at the kill (not yet in DWS): ${atRisk} of ${orders + events}, all delivered exactly once after the rebuild (RPO 0 rows: sources replay from the checkpoints' offsets)\n`);
  }, 1500000);

  it("npm run preview -- --stack local, as a reviewer runs it, reports the rebuilt stack: no job and no other resource changes", () => {
    const out = path.join(require("os").tmpdir(), `rtdw-preview-${B}.md`);
    const r = spawnSync("bash", ["scripts/run.sh", "scripts/preview.ts", "--stack", "local", "--out", out], { cwd: repo, encoding: "utf8", timeout: 600000 });
    if (r.status !== 0) throw new Error(`npm run preview failed (exit ${r.status}):\n${((r.stdout ?? "") + (r.stderr ?? "")).slice(-4000)}`);
    const report = require("fs").readFileSync(out, "utf8") as string;
    expect(report).toContain("## Preview of stack `local`");
    expect(report).toContain(`### Flink jobs (0 of ${loadJobTable().length} change)`);
    expect(report).toContain("### Other resources (0 change)");
  }, 600000);
});
