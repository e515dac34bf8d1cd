import * as fs from "fs";
import * as YAML from "yaml";
import { TEAMS } from "../../components/config/teams";
import { ALERTS, renderAlertmanagerConfig, renderAlertsDoc, renderPrometheusRules, runbookOf } from "../../components/observability/alerts";
import { loadJobTable } from "../../components/config/jobTable";
import { ALERTS_DOC } from "../../scripts/docs";

describe("alerts written once", () => {
  it("are each owned by a team, and every team owns one (prod's config requires a webhook for every team)", () => {
    expect(new Set(ALERTS.map((a) => a.team))).toEqual(new Set(TEAMS));
  });

  it("cover the seeds' four classes with their teams, plus checkpoints, lag, backpressure, dead letters and a service down", () => {
    const team = (n: string) => ALERTS.find((a) => a.name === n)?.team;
    expect({ jobFailure: team("FlinkJobNotRunning"), delay: team("DataDelayOver5Minutes"), quality: team("DataQualityBelow90"), cpu: team("HighCpuUsage"), memory: team("HighMemoryUsage") }).toEqual({
      jobFailure: "ops", delay: "business", quality: "data", cpu: "infra", memory: "infra",
    });
    for (const n of ["FlinkCheckpointFailures", "KafkaConsumerLag", "FlinkBackpressure", "TrackingDeadLetterRate", "ServiceDown", "FlinkJobRestarting"]) expect(team(n)).toBeDefined();
    const notRunning = ALERTS.find((a) => a.name === "FlinkJobNotRunning")!;
    expect(notRunning).toMatchObject({ for: "0m", severity: "critical" });
    // One clause per row of the job table, each naming the job as Flink's reporter labels it.
    for (const j of loadJobTable()) expect(notRunning.expr).toContain(`"job_name", "${j.name.replace(/-/g, "_")}"`);
    expect(notRunning.expr.split(" or ")).toHaveLength(loadJobTable().length);
    expect(notRunning.summary).toContain("{{ $labels.job_name }}");
    expect(ALERTS.find((a) => a.name === "DataDelayOver5Minutes")!.expr).toContain("> 300000");
    expect(ALERTS.find((a) => a.name === "DataQualityBelow90")!.expr).toContain("< 90");
  });

  it("render into one Prometheus rule group with the team and severity labels and a runbook link", () => {
    const rules = YAML.parse(renderPrometheusRules()).groups[0].rules;
    expect(rules).toHaveLength(ALERTS.length);
    for (const [i, r] of rules.entries()) {
      expect(r.labels).toEqual({ severity: ALERTS[i].severity, team: ALERTS[i].team });
      expect(r.annotations.runbook_url).toBe(runbookOf(ALERTS[i]));
    }
  });

  it("route each team to its own receiver in Alertmanager; critical ops alerts without grouping delay", () => {
    const am = YAML.parse(renderAlertmanagerConfig({ ops: "https://h/ops", business: "https://h/b", data: "https://h/d", infra: "https://h/i" }));
    expect(am.receivers.map((r: any) => r.name)).toEqual(TEAMS.map((t) => `team-${t}`));
    expect(am.route.routes[0]).toMatchObject({ receiver: "team-ops", matchers: ['team="ops"', 'severity="critical"'], group_wait: "0s" });
  });

  it("docs/alerts.md is current (regenerate with `npm run docs`)", () => {
    expect(fs.readFileSync(ALERTS_DOC, "utf8")).toBe(renderAlertsDoc());
  });
});
