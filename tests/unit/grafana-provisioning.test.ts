import * as http from "http";
import { AddressInfo } from "net";
import { dashboards } from "../../dashboards";
import { Team } from "../../components/config/teams";
import { ALERTS } from "../../components/observability/alerts";
import { GRAFANA_DEFAULT_CONTACT_POINT, grafanaDesired, grafanaRuleUid } from "../../components/observability/grafana";
import { GrafanaProvisioningInputs, grafanaProvisioningProvider as provider } from "../../components/observability/grafanaProvisioning";

/**
 * Grafana cannot run here: this is an in-process stand-in that answers as Grafana's alerting
 * provisioning, folder and dashboard APIs are documented to (409 for an existing folder, 404 for an
 * unknown contact point, a policy may only name existing contact points, a contact point in use cannot
 * be deleted, everything needs the admin's credentials). The request bodies themselves are checked
 * against Grafana's OpenAPI in tests/integration/grafana-contract.test.ts.
 */
class FakeGrafana {
  folders = new Map<string, string>();
  contactPoints = new Map<string, { name: string; settings: { url: string } }>();
  policy: any = { receiver: GRAFANA_DEFAULT_CONTACT_POINT };
  ruleGroups = new Map<string, any>();
  dashboards = new Map<string, string>();
  log: string[] = [];
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const [status, out] = this.handle(req.method!, req.url!, body ? JSON.parse(body) : undefined, req.headers.authorization);
      this.log.push(`${req.method} ${req.url} ${status}`);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(out ?? {}));
    });
  });

  constructor(private readonly password: string) {}

  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private receivers(route: any): string[] {
    return [route.receiver, ...(route.routes ?? []).flatMap((r: any) => this.receivers(r))].filter(Boolean);
  }

  handle(method: string, url: string, body: any, auth?: string): [number, unknown?] {
    if (auth !== `Basic ${Buffer.from(`admin:${this.password}`).toString("base64")}`) return [401, { message: "Unauthorized" }];
    const [path, query] = url.split("?");
    let m: RegExpExecArray | null;
    if (method === "POST" && path === "/api/folders") {
      if (this.folders.has(body.uid)) return [409, { message: "a folder with the same uid already exists" }];
      this.folders.set(body.uid, body.title);
      return [200, { uid: body.uid }];
    }
    if ((m = /^\/api\/folders\/([^/]+)$/.exec(path))) {
      const uid = decodeURIComponent(m[1]);
      if (!this.folders.has(uid)) return [404, { message: "folder not found" }];
      if (method === "GET") return [200, { uid, title: this.folders.get(uid) }];
      if (method === "PUT") return this.folders.set(uid, body.title), [200];
      if (method === "DELETE") {
        if (query !== "forceDeleteRules=true" && [...this.ruleGroups.values()].some((g) => g.folderUid === uid)) return [400, { message: "folder contains alert rules" }];
        for (const [k, f] of this.dashboards) if (f === uid) this.dashboards.delete(k);
        for (const [k, g] of this.ruleGroups) if (g.folderUid === uid) this.ruleGroups.delete(k);
        this.folders.delete(uid);
        return [200];
      }
    }
    if ((m = /^\/api\/v1\/provisioning\/contact-points(?:\/([^/]+))?$/.exec(path))) {
      const uid = m[1] && decodeURIComponent(m[1]);
      if (method === "GET" && !uid) return [200, [...this.contactPoints.entries()].map(([k, v]) => ({ ...v, uid: k }))];
      if (method === "POST") return this.contactPoints.set(body.uid, body), [202, body];
      if (!uid || !this.contactPoints.has(uid)) return [404, { message: "contact point not found" }];
      if (method === "PUT") return this.contactPoints.set(uid, body), [202];
      if (method === "DELETE") {
        if (this.receivers(this.policy).includes(this.contactPoints.get(uid)!.name)) return [409, { message: "contact point is used by a notification policy" }];
        return this.contactPoints.delete(uid), [202];
      }
    }
    if (path === "/api/v1/provisioning/policies") {
      if (method === "DELETE") return (this.policy = { receiver: GRAFANA_DEFAULT_CONTACT_POINT }), [202];
      const known = new Set([GRAFANA_DEFAULT_CONTACT_POINT, ...[...this.contactPoints.values()].map((c) => c.name)]);
      const missing = this.receivers(body).filter((r) => !known.has(r));
      if (missing.length) return [400, { message: `receiver '${missing[0]}' does not exist` }];
      return (this.policy = body), [202];
    }
    if (method === "GET" && (m = /^\/api\/v1\/provisioning\/folder\/([^/]+)\/rule-groups\/([^/]+)$/.exec(path))) {
      const g = this.ruleGroups.get(`${m[1]}/${m[2]}`);
      return g ? [200, g] : [404, { message: "rule group does not exist" }];
    }
    if (method === "GET" && (m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path))) {
      return this.dashboards.has(decodeURIComponent(m[1])) ? [200, { dashboard: { uid: m[1] } }] : [404, { message: "Dashboard not found" }];
    }
    if (method === "PUT" && (m = /^\/api\/v1\/provisioning\/folder\/([^/]+)\/rule-groups\/([^/]+)$/.exec(path))) {
      if (!this.folders.has(m[1])) return [404, { message: "folder does not exist" }];
      return this.ruleGroups.set(`${m[1]}/${m[2]}`, body), [200, body];
    }
    if (method === "POST" && path === "/api/dashboards/db") {
      if (!this.folders.has(body.folderUid)) return [400, { message: "folder not found" }];
      if (this.dashboards.has(body.dashboard.uid) && !body.overwrite) return [412, { status: "version-mismatch" }];
      return this.dashboards.set(body.dashboard.uid, body.folderUid), [200, { uid: body.dashboard.uid, status: "success" }];
    }
    if (method === "DELETE" && (m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path))) {
      return this.dashboards.delete(decodeURIComponent(m[1])) ? [200] : [404, { message: "Dashboard not found" }];
    }
    return [404, { message: `no route ${method} ${path}` }];
  }
}

describe("GrafanaProvisioning's lifecycle against a stand-in with Grafana's documented API behaviour (contract; Grafana cannot run here)", () => {
  const grafana = new FakeGrafana("grafana-admin-password-0001");
  const all = dashboards() as any[];
  type Over = Partial<Omit<Parameters<typeof grafanaDesired>[0], "teamsWithWebhooks">> & { webhooks?: Partial<Record<Team, string>> };
  const inputs = ({ webhooks = { ops: "https://hooks.example.com/ops", data: "https://hooks.example.com/data" }, ...over }: Over = {}, password = "grafana-admin-password-0001"): GrafanaProvisioningInputs => ({
    url: grafana.url,
    auth: { user: "admin", password },
    readyTimeoutSeconds: 2,
    desired: grafanaDesired({ stack: "test", teamsWithWebhooks: Object.keys(webhooks) as Team[], dashboards: all, evaluate: false, ...over }),
    webhooks,
  });
  beforeAll(() => new Promise<void>((r) => grafana.server.listen(0, "127.0.0.1", r)));
  afterAll(() => new Promise((r) => grafana.server.close(r)));

  it("create on a fresh Grafana: folder, the teams' contact points, the policy routing by team, the rule group with stable uids, the dashboards", async () => {
    const { id, outs } = await provider.create!(inputs());
    expect(id).toBe("grafana-rtdw");
    expect([...grafana.folders.keys()]).toEqual(["rtdw"]);
    expect([...grafana.contactPoints.keys()].sort()).toEqual(["rtdw-team-data", "rtdw-team-ops"]);
    // The URL (a secret input) reaches Grafana; the stored desired state names it by placeholder only.
    expect(grafana.contactPoints.get("rtdw-team-ops")!.settings.url).toBe("https://hooks.example.com/ops");
    expect(JSON.stringify(outs?.desired)).not.toContain("hooks.example.com");
    expect(grafana.policy.routes.find((r: any) => JSON.stringify(r.object_matchers) === JSON.stringify([["team", "=", "data"]])).receiver).toBe("team-data");
    // A team without a webhook goes to Grafana's default contact point rather than nowhere.
    expect(grafana.policy.routes.find((r: any) => JSON.stringify(r.object_matchers) === JSON.stringify([["team", "=", "business"]])).receiver).toBe(GRAFANA_DEFAULT_CONTACT_POINT);
    const group = grafana.ruleGroups.get("rtdw/rtdw");
    expect(group.rules.map((r: any) => r.uid)).toEqual(ALERTS.map((a) => grafanaRuleUid(a.name)));
    expect(group.rules.every((r: any) => r.isPaused === true)).toBe(true);
    expect([...grafana.dashboards.keys()]).toEqual(all.map((d) => d.uid));
    expect(outs?.rules).toHaveLength(ALERTS.length);
    // Contact points were new: each PUT answered 404, then the POST created it.
    expect(grafana.log.filter((l) => l.includes("contact-points"))).toEqual([
      "PUT /api/v1/provisioning/contact-points/rtdw-team-ops 404", "POST /api/v1/provisioning/contact-points 202",
      "PUT /api/v1/provisioning/contact-points/rtdw-team-data 404", "POST /api/v1/provisioning/contact-points 202",
    ]);
  });

  it("a second apply converges in place (existing folder and contact points updated), Grafana notifying now", async () => {
    grafana.log = [];
    const olds = { ...inputs(), digest: "", dashboards: [], rules: [] };
    await provider.update!("grafana-rtdw", olds, inputs({ evaluate: true }));
    expect(grafana.log).toContain("POST /api/folders 409");
    expect(grafana.log).toContain("PUT /api/folders/rtdw 200");
    expect(grafana.log.filter((l) => l.startsWith("POST /api/v1/provisioning/contact-points"))).toEqual([]);
    expect(grafana.ruleGroups.get("rtdw/rtdw").rules.every((r: any) => r.isPaused === false)).toBe(true);
  });

  it("update removes what is no longer wanted: a dashboard and a team's contact point (after the policy stops naming it)", async () => {
    const before = inputs();
    const after = inputs({ webhooks: { ops: "https://hooks.example.com/ops" }, dashboards: all.slice(0, 4) });
    const diff = await provider.diff!("grafana-rtdw", { ...before, digest: "x", dashboards: [], rules: [] }, after);
    expect(diff.changes).toBe(true);
    await provider.update!("grafana-rtdw", { ...before, digest: "x", dashboards: [], rules: [] }, after);
    expect([...grafana.dashboards.keys()]).toEqual(all.slice(0, 4).map((d) => d.uid));
    expect([...grafana.contactPoints.keys()]).toEqual(["rtdw-team-ops"]);
  });

  it("refresh finds what Grafana lost (a dashboard deleted by hand, a lost database) and the next up provisions it again", async () => {
    const current = { ...inputs({ webhooks: { ops: "https://hooks.example.com/ops" }, dashboards: all.slice(0, 4) }), digest: "", dashboards: [], rules: [] };
    const applied = (await provider.update!("grafana-rtdw", current, current)).outs!;
    expect((await provider.read!("grafana-rtdw", applied)).props).toEqual(applied);
    grafana.dashboards.delete(all[1].uid);
    const drifted = (await provider.read!("grafana-rtdw", applied)).props!;
    expect(drifted.digest).toBe(`missing: dashboard ${all[1].uid}`);
    expect((await provider.diff!("grafana-rtdw", drifted, current)).changes).toBe(true);
    await provider.update!("grafana-rtdw", drifted, current);
    expect(grafana.dashboards.has(all[1].uid)).toBe(true);
    // A Grafana that lost its database: the folder is gone, so everything is; up provisions it all again.
    for (const m of [grafana.folders, grafana.ruleGroups, grafana.dashboards, grafana.contactPoints]) m.clear();
    grafana.policy = { receiver: GRAFANA_DEFAULT_CONTACT_POINT };
    const lost = (await provider.read!("grafana-rtdw", applied)).props!;
    expect(lost.digest).toBe("missing: folder rtdw");
    await provider.update!("grafana-rtdw", lost, current);
    expect({ folders: grafana.folders.size, groups: grafana.ruleGroups.size, dashboards: grafana.dashboards.size, contactPoints: grafana.contactPoints.size }).toEqual({ folders: 1, groups: 1, dashboards: 4, contactPoints: 1 });
  });

  it("delete resets the policy, removes the folder with its rules and dashboards, then the contact points", async () => {
    const props = { ...inputs({ webhooks: { ops: "https://hooks.example.com/ops" }, dashboards: all.slice(0, 4) }), digest: "", dashboards: [], rules: [] };
    await provider.delete!("grafana-rtdw", props);
    expect({ folders: grafana.folders.size, groups: grafana.ruleGroups.size, dashboards: grafana.dashboards.size, contactPoints: grafana.contactPoints.size }).toEqual({ folders: 0, groups: 0, dashboards: 0, contactPoints: 0 });
    expect(grafana.policy).toEqual({ receiver: GRAFANA_DEFAULT_CONTACT_POINT });
  });

  it("a changed webhook URL alone is a change (the desired state is the same)", async () => {
    const before = inputs();
    const after = inputs({ webhooks: { ops: "https://hooks.example.com/ops-rotated", data: "https://hooks.example.com/data" } });
    expect(after.desired).toEqual(before.desired);
    expect((await provider.diff!("grafana-rtdw", { ...before, digest: (await import("../../components/observability/grafanaProvisioning")).digestOf(before.desired), dashboards: [], rules: [] }, after)).changes).toBe(true);
  });

  it("a wrong admin password is reported with the operation and Grafana's answer", async () => {
    await expect(provider.create!(inputs({}, "not-the-password-0000"))).rejects.toThrow(/Grafana createFolder \(POST \/api\/folders\) failed: .*401/);
  });

  it("an unreachable Grafana is retried with backoff, then reported plainly", async () => {
    const t0 = Date.now();
    await expect(provider.create!({ ...inputs(), url: "http://127.0.0.1:9" })).rejects.toThrow(/Grafana createFolder \(POST \/api\/folders\) failed: .*gave up after 3 attempts/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it("check refuses inputs it cannot use, naming them", async () => {
    const r = await provider.check!({} as any, { ...inputs(), url: "grafana:3000", auth: { user: "admin", password: "" } });
    expect(r.failures?.map((f) => f.property)).toEqual(["url", "auth"]);
  });
});
