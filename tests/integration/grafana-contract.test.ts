import { spawnSync } from "child_process";
import { dashboards } from "../../dashboards";
import { Team, TEAMS } from "../../components/config/teams";
import { GrafanaRequest, grafanaDesired, provisioningRequests, readRequests, removalRequests, withWebhooks } from "../../components/observability/grafana";
import { GRAFANA_CONTRACT_BIN } from "../../sandbox/install";

interface Checked {
  op: string;
  path: string;
  ok: boolean;
  error?: string;
  clientSent?: string;
}

/** Runs the checker (tests/grafana-contract) on requests; each with its fallback. */
function check(requests: readonly GrafanaRequest[]): { code: number | null; results: Checked[] } {
  const flat: GrafanaRequest[] = [];
  for (const r of requests) {
    flat.push(r);
    if (r.fallback) flat.push(r.fallback);
  }
  const p = spawnSync(GRAFANA_CONTRACT_BIN, [], { input: JSON.stringify(flat.map(({ op, method, path, body }) => ({ op, method, path, body }))), encoding: "utf8" });
  if (!p.stdout) throw new Error(`the checker printed nothing (exit ${p.status}): ${p.stderr}`);
  return { code: p.status, results: JSON.parse(p.stdout) };
}

const webhooks = Object.fromEntries(TEAMS.map((t) => [t, `https://hooks.example.com/${t}`]));

/**
 * Grafana cannot run here. Its API contract can: every request the GrafanaProvisioning resource sends
 * is decoded strictly into the model of Grafana's generated Go client (grafana-openapi-client-go,
 * generated from Grafana's OpenAPI spec), validated by it, and replayed through that client to
 * compare the method and path it sends for the same operation.
 */
describe("contract: the stack's Grafana requests against Grafana's OpenAPI (grafana-openapi-client-go)", () => {
  it.each([
    ["Prometheus notifies (Grafana's rules paused), every team with a webhook", false, webhooks],
    ["Grafana notifies, two teams without a webhook", true, { ops: "https://hooks.example.com/ops", data: "https://hooks.example.com/data" }],
  ])("%s: folder, contact points, policy, rule group, dashboards, their removal and refresh's reads all match", (_name, evaluate, hooks) => {
    const desired = withWebhooks(grafanaDesired({ stack: "prod", teamsWithWebhooks: Object.keys(hooks) as Team[], dashboards: dashboards() as any[], evaluate }), hooks);
    const reads = readRequests(desired);
    const requests = [...provisioningRequests(desired), ...removalRequests(desired), reads.folder, reads.ruleGroup, reads.contactPoints, ...reads.dashboards];
    const { code, results } = check(requests);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(code).toBe(0);
    expect([...new Set(results.map((r) => r.op))].sort()).toEqual(
      [
        "createFolder", "deleteContactPoint", "deleteDashboard", "deleteFolder", "getContactPoints", "getDashboard", "getFolder", "getRuleGroup",
        "postContactPoint", "postDashboard", "putContactPoint", "putPolicyTree", "putRuleGroup", "resetPolicyTree", "updateFolder",
      ],
    );
    expect(results.filter((r) => r.op === "postDashboard")).toHaveLength(5);
    expect(results.filter((r) => r.op === "putContactPoint")).toHaveLength(Object.keys(hooks).length);
  });

  it("the checker rejects what Grafana would: a rule without its condition, an unknown field, a bad enum, a wrong path", () => {
    const desired = withWebhooks(grafanaDesired({ stack: "dev", teamsWithWebhooks: [...TEAMS], dashboards: [], evaluate: false }), webhooks);
    const [rule] = desired.ruleGroup.rules;
    const { condition: _dropped, ...noCondition } = rule;
    const cases: GrafanaRequest[] = [
      { op: "putRuleGroup", method: "PUT", path: "/api/v1/provisioning/folder/rtdw/rule-groups/rtdw", body: { ...desired.ruleGroup, rules: [noCondition] } },
      { op: "putContactPoint", method: "PUT", path: "/api/v1/provisioning/contact-points/x", body: { ...desired.contactPoints[0], urll: "https://typo" } },
      { op: "putRuleGroup", method: "PUT", path: "/api/v1/provisioning/folder/rtdw/rule-groups/rtdw", body: { ...desired.ruleGroup, rules: [{ ...rule, noDataState: "Silent" }] } },
      { op: "putPolicyTree", method: "PUT", path: "/api/v1/provisioning/policy", body: desired.policy },
    ];
    const { code, results } = check(cases);
    expect(code).toBe(1);
    expect(results.map((r) => r.ok)).toEqual([false, false, false, false]);
    expect(results[0].error).toMatch(/condition.*required/i);
    expect(results[1].error).toMatch(/unknown field "urll"/);
    expect(results[2].error).toMatch(/noDataState/);
    expect(results[3].error).toContain('Grafana\'s client sends "PUT /api/v1/provisioning/policies"');
  });
});
