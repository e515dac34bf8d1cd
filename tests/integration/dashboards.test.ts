import { PROMTOOL_BIN } from "../../sandbox/install";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { dashboards } from "../../dashboards";

/** Every PromQL expression of the dashboards parses: each becomes a recording rule for `promtool check rules`. */
describe("dashboards: every Prometheus query is valid PromQL (promtool)", () => {
  it("promtool accepts all the dashboards' expressions", () => {
    const exprs = dashboards().flatMap((d) => (d.panels ?? []).flatMap((p: any) => (p.targets ?? []).filter((t: any) => t.expr).map((t: any) => t.expr as string)));
    expect(exprs.length).toBeGreaterThan(25);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-dash-"));
    const file = path.join(dir, "exprs.yml");
    fs.writeFileSync(file, YAML.stringify({ groups: [{ name: "dashboards", rules: exprs.map((expr, i) => ({ record: `rtdw:dashboard_query_${i}`, expr })) }] }));
    const r = spawnSync(PROMTOOL_BIN, ["check", "rules", file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.status).toBe(0);
  });
});
