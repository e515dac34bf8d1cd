import { PROMTOOL_BIN } from "../../sandbox/install";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { TEAMS } from "../../components/config/teams";
import { ALERTS, renderAlertmanagerConfig, renderPrometheusRules, renderRuleTests, runbookOf } from "../../components/observability/alerts";
import { httpGet } from "../../sandbox/services";
import { eventually } from "../helpers/pipelines";
import { sandbox } from "../helpers/sandbox";

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/**
 * The alerts written once in components/observability/alerts.ts, checked with Prometheus' and
 * Alertmanager's own tools (promtool, amtool, installed with the sandbox) and loaded into the
 * sandbox's real Prometheus.
 */
describe("alerts: promtool, amtool and the sandbox's Prometheus", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-alerts-"));
  const webhooks = Object.fromEntries(TEAMS.map((t) => [t, `https://hooks.example.com/${t}`])) as Record<(typeof TEAMS)[number], string>;
  beforeAll(() => {
    fs.writeFileSync(path.join(dir, "rules.yml"), renderPrometheusRules());
    fs.writeFileSync(path.join(dir, "tests.yml"), renderRuleTests("rules.yml"));
    fs.writeFileSync(path.join(dir, "alertmanager.yml"), renderAlertmanagerConfig(webhooks));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the rule file is valid and has the seeds' four classes plus the platform's alerts", () => {
    const r = run(PROMTOOL_BIN, ["check", "rules", "rules.yml"], dir);
    expect(r.out).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(r.code).toBe(0);
    const teams = new Set(ALERTS.map((a) => a.team));
    expect([...teams].sort()).toEqual(["business", "data", "infra", "ops"]);
  });

  it("promtool test rules: every alert fires on its example at the right time with its team label, and stays silent on a healthy series", () => {
    const r = run(PROMTOOL_BIN, ["test", "rules", "tests.yml"], dir);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
    // The cases really are there: two per alert, each naming the team it must reach.
    const tests = fs.readFileSync(path.join(dir, "tests.yml"), "utf8");
    for (const a of ALERTS) expect(tests).toContain(`${a.name} fires`);
    expect((tests.match(/exp_alerts: \[\]/g) ?? []).length).toBe(ALERTS.length);
  });

  it("a broken expectation makes promtool fail (the test above can fail)", () => {
    const a = ALERTS[0];
    fs.writeFileSync(path.join(dir, "broken.yml"), renderRuleTests("rules.yml", [{ ...a, team: "data" }]));
    const r = run(PROMTOOL_BIN, ["test", "rules", "broken.yml"], dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("FAILED");
  });

  it("promtool: a certificate's end recorded from the state fires CertificateExpiresSoon under 14 days, not before", () => {
    // promtool's clock starts at the epoch: an end 10 days after it is 9d 22h 30m away at 90m.
    const rules = (notAfter: string) => renderPrometheusRules(ALERTS, [{ name: "kafka", notAfter }]);
    fs.writeFileSync(path.join(dir, "certs-soon.yml"), rules(new Date(10 * 86400_000).toISOString()));
    fs.writeFileSync(path.join(dir, "certs-later.yml"), rules(new Date(20 * 86400_000).toISOString()));
    expect(run(PROMTOOL_BIN, ["check", "rules", "certs-soon.yml"], dir).out).toContain(`SUCCESS: ${ALERTS.length + 1} rules found`);
    const expiry = ALERTS.find((a) => a.name === "CertificateExpiresSoon")!;
    const test = (ruleFile: string, exp: unknown[]) =>
      YAML.stringify({ rule_files: [ruleFile], evaluation_interval: "1m", tests: [{ interval: "1m", input_series: [], alert_rule_test: [{ eval_time: "90m", alertname: expiry.name, exp_alerts: exp }] }] });
    const firing = { exp_labels: { severity: "warning", team: "infra", certificate: "kafka" }, exp_annotations: { summary: "The kafka certificate expires in 9d 22h 30m 0s", runbook_url: runbookOf(expiry) } };
    fs.writeFileSync(path.join(dir, "certs-soon-test.yml"), test("certs-soon.yml", [firing]));
    fs.writeFileSync(path.join(dir, "certs-later-test.yml"), test("certs-later.yml", []));
    fs.writeFileSync(path.join(dir, "certs-later-wrong.yml"), test("certs-later.yml", [firing]));
    for (const f of ["certs-soon-test.yml", "certs-later-test.yml"]) {
      const r = run(PROMTOOL_BIN, ["test", "rules", f], dir);
      expect({ f, code: r.code, out: r.out.includes("SUCCESS") }).toEqual({ f, code: 0, out: true });
    }
    expect(run(PROMTOOL_BIN, ["test", "rules", "certs-later-wrong.yml"], dir).code).not.toBe(0);
  });

  it("amtool: the routing is valid and each team's alert reaches that team's receiver", () => {
    expect(run("amtool", ["check-config", "alertmanager.yml"], dir).code).toBe(0);
    for (const a of ALERTS) {
      const r = run("amtool", ["config", "routes", "test", "--config.file=alertmanager.yml", `alertname=${a.name}`, `team=${a.team}`, `severity=${a.severity}`], dir);
      // amtool prints the matched receiver on stdout (and a warning about --config.file on stderr).
      expect({ alert: a.name, receiver: r.stdout.trim() }).toEqual({ alert: a.name, receiver: `team-${a.team}` });
    }
  });

  it("the sandbox's Prometheus loaded every rule, and every scrape target is up", async () => {
    const { endpoints, credentials } = sandbox();
    const auth = { user: endpoints.prometheus.username, password: credentials.prometheus.password };
    const rules = JSON.parse((await httpGet(`${endpoints.prometheus.url}/api/v1/rules?type=alert`, auth)).body);
    const loaded = rules.data.groups.flatMap((g: any) => g.rules.map((r: any) => ({ name: r.name, health: r.health, team: r.labels.team })));
    expect(loaded.map((r: any) => r.name).sort()).toEqual(ALERTS.map((a) => a.name).sort());
    for (const r of loaded) expect(r.health === "ok" || r.health === "unknown").toBe(true);
    // Health is that of the last scrape (every 15 s): a TaskManager restarted by an earlier suite
    // counts as up once it has been scraped again.
    const down = async () => {
      const targets = JSON.parse((await httpGet(`${endpoints.prometheus.url}/api/v1/targets?state=active`, auth)).body).data.activeTargets;
      expect(targets.length).toBeGreaterThan(3);
      return targets.filter((t: any) => t.health !== "up").map((t: any) => `${t.labels.job} ${t.scrapeUrl}: ${t.lastError}`);
    };
    expect(await eventually("every scrape target up", down, (d) => d.length === 0, 60000, 5000)).toEqual([]);
  });
});
