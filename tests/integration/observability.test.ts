import * as http from "http";
import { Client } from "pg";
import { TEAMS } from "../../components/config/teams";
import { httpGet, httpPost } from "../../sandbox/services";
import { eventually } from "../helpers/pipelines";
import { sandbox } from "../helpers/sandbox";
import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { ports } from "../../sandbox/paths";
import { JobManagerClient } from "../../components/flink/jobManager";
import { submitJobScript } from "../../components/jobs/submit";
import { ALERTS, flinkLabel } from "../../components/observability/alerts";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * The monitoring chain on the sandbox's real processes: rt-dw-monitor's table in PostgreSQL ->
 * postgres_exporter (the stacks' custom query) -> Prometheus (the stacks' rules) -> Alertmanager (the
 * stacks' team routing) -> each team's webhook.
 */
describe("observability chain on the sandbox: PostgreSQL -> postgres_exporter -> Prometheus rules -> Alertmanager -> team webhooks", () => {
  const { endpoints, credentials } = sandbox();
  const promAuth = { user: endpoints.prometheus.username, password: credentials.prometheus.password };
  const query = async (q: string) => JSON.parse((await httpGet(`${endpoints.prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`, promAuth)).body).data.result as { metric: Record<string, string>; value: [number, string] }[];

  it("a table's quality score below 90 becomes rtdw_quality_score and puts the data team's DataQualityBelow90 alert in motion", async () => {
    const table = `probe.t${Date.now()}`;
    const q = endpoints.postgres.databases.quality;
    const pg = new Client({ host: endpoints.postgres.host, port: endpoints.postgres.port, user: q.user, password: credentials.postgres.quality.password, database: q.database });
    await pg.connect();
    try {
      // As rt-dw-monitor writes it: the newest hour of the table, score 100 x (1 - anomaly ratio) x completeness.
      await pg.query(
        `INSERT INTO dq_table_quality (table_name, dt, hr, total_rows, rejected_rows, incomplete_rows, anomaly_ratio, completeness, quality_score, last_event_ts)
         VALUES ($1, '2000-01-01', '00', 100, 10, 0, 0.1, 1.0, 80.0, '2000-01-01 00:00:00'), ($1, '2000-01-01', '01', 100, 20, 0, 0.2, 1.0, 70.5, '2000-01-01 01:30:00')`,
        [table],
      );
      const series = await eventually("rtdw_quality_score of the probe table in Prometheus", () => query(`rtdw_quality_score{table_name="${table}"}`), (r) => r.length === 1, 90000, 3000);
      // The newest hour counts; its last event time is Asia/Shanghai wall-clock time.
      expect(Number(series[0].value[1])).toBe(70.5);
      expect(series[0].metric.job).toBe("postgres-exporter");
      const [ts] = await query(`rtdw_quality_last_event_timestamp_seconds{table_name="${table}"}`);
      expect(Number(ts.value[1])).toBe(Date.parse("2000-01-01T01:30:00+08:00") / 1000);
      const [ratio] = await query(`rtdw_quality_anomaly_ratio{table_name="${table}"}`);
      expect(Number(ratio.value[1])).toBeCloseTo(0.2, 9);
      // The rule from alerts.ts evaluates it: pending now (its `for` is 10 minutes), labelled for the data team.
      const alert = await eventually("DataQualityBelow90 for the probe table", () => query(`ALERTS{alertname="DataQualityBelow90", table_name="${table}"}`), (r) => r.length === 1, 60000, 3000);
      expect(alert[0].metric).toMatchObject({ alertstate: "pending", team: "data", severity: "warning" });
    } finally {
      await pg.query("DELETE FROM dq_table_quality WHERE table_name = $1", [table]);
      await pg.end();
    }
  });

  it("Alertmanager delivers each team's alert to that team's webhook, and only there", async () => {
    const run = `Probe${Date.now()}`;
    const received: { team: string; alertnames: string[] }[] = [];
    const sink = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const payload = JSON.parse(body);
        received.push({ team: String(req.url).slice(1), alertnames: payload.alerts.map((a: any) => a.labels.alertname) });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => sink.listen(Number(new URL(endpoints.alertmanager.alertSinkUrl).port), "127.0.0.1", resolve));
    try {
      const alerts = TEAMS.map((team) => ({ labels: { alertname: `${run}-${team}`, team, severity: team === "ops" ? "critical" : "warning" }, annotations: { summary: "probe" } }));
      const r = await httpPost(`${endpoints.alertmanager.url}/api/v2/alerts`, JSON.stringify(alerts), { "content-type": "application/json", authorization: basic(endpoints.alertmanager.username, credentials.prometheus.password) });
      expect(r.status).toBe(200);
      // Non-critical alerts wait for their group (30 s); the ops team's critical ones go at once.
      const mine = () => received.filter((x) => x.alertnames.some((n) => n.startsWith(run)));
      await eventually("every team's webhook called", async () => mine(), (m) => TEAMS.every((t) => m.some((x) => x.team === t)), 90000, 1000);
      for (const t of TEAMS) {
        const names = mine().filter((x) => x.team === t).flatMap((x) => x.alertnames).filter((n) => n.startsWith(run));
        expect({ team: t, alerts: [...new Set(names)] }).toEqual({ team: t, alerts: [`${run}-${t}`] });
      }
    } finally {
      await new Promise((resolve) => sink.close(resolve));
    }
  });

  it("Alertmanager refuses an unauthenticated client", async () => {
    const r = await httpPost(`${endpoints.alertmanager.url}/api/v2/alerts`, "[]", { "content-type": "application/json" });
    expect(r.status).toBe(401);
  });

  it("a failed job's root exception reaches Prometheus from the job exporter within a minute, under the job_name Flink's metrics use (what FlinkJobNotRunning's summary looks up)", async () => {
    const name = `exporter-probe-${Date.now().toString(36)}`;
    const jm = new JobManagerClient(endpoints.flink.restUrl);
    // No restarts: the first record that cannot be cast fails the job for good, as an exhausted restart strategy would.
    const jobId = await submitJobScript(
      new SqlGatewayClient(endpoints.flink.sqlGatewayUrl),
      {
        job: name,
        config: { "pipeline.name": name, "restart-strategy.type": "none", "table.dml-sync": "false" },
        statements: [
          "CREATE TEMPORARY TABLE src (s STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '1')",
          "CREATE TEMPORARY TABLE snk (n INT) WITH ('connector' = 'blackhole')",
          "INSERT INTO snk SELECT CAST(CONCAT('x', s) AS INT) FROM src",
        ],
      },
      {},
    );
    await jm.waitFor(jobId, ["FAILED"], 120000);
    const failedAt = Date.now();
    const series = await eventually("rtdw_flink_job_exception_info of the failed job in Prometheus", () => query(`rtdw_flink_job_exception_info{job_name="${flinkLabel(name)}"}`), (r) => r.length === 1, 90000, 1000);
    const seconds = Math.round((Date.now() - failedAt) / 1000);
    console.log(`rtdw_flink_job_exception_info{job_name="${flinkLabel(name)}"} in Prometheus ${seconds} s after the job FAILED: ${series[0].metric.exception}`);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(series[0].metric).toMatchObject({ job: "flink-job-exporter", job_id: jobId, state: "FAILED" });
    expect(series[0].metric.exception).toMatch(/NumberFormatException|cast/i);
    // The record's value that failed the cast stays out of the metric.
    expect(series[0].metric.exception).toContain("For input string: '…'");
    // The alert's summary looks the series up by the alert's job_name label, as promtool proves with the same shape.
    expect(ALERTS.find((a) => a.name === "FlinkJobNotRunning")!.summary).toContain('rtdw_flink_job_exception_info{job_name=\\"%s\\"}');
  });

  it("the job exporter refuses a client without Prometheus' credentials", async () => {
    const url = `http://127.0.0.1:${ports().flinkJobExporter}/metrics`;
    expect((await httpGet(url)).status).toBe(401);
    expect((await httpGet(url, { user: "prometheus", password: "not-the-password" })).status).toBe(401);
  });
});
