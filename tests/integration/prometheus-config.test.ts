import { PROMTOOL_BIN } from "../../sandbox/install";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderPrometheusRules } from "../../components/observability/alerts";
import { runStack } from "../helpers/mocks";

/** The one string anywhere in the stack's resources that is a Prometheus configuration. */
function prometheusYml(run: Awaited<ReturnType<typeof runStack>>): string {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string" && /^global:\n\s+scrape_interval/.test(v)) found.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  run.registered.forEach((r) => walk(r.inputs));
  expect(found).toHaveLength(1);
  return found[0];
}

/**
 * The Prometheus configuration each stack generates from its services, checked by Prometheus' own
 * promtool (installed with the sandbox), with the files it references laid out as the pod mounts them.
 */
describe("generated Prometheus configuration: promtool check config", () => {
  const stacks: [string, Record<string, string>][] = [
    ["dev", {}],
    ["test", { imageRegistry: "registry.example.com/rtdw", objectStore: "minio" }],
    ["prod", { imageRegistry: "registry.example.com/rtdw", objectStore: "s3", awsRegion: "eu-central-1" }],
  ];

  it.each(stacks)("%s: valid, with every rule file and credential file it names", async (stack, config) => {
    const run = await runStack(stack, config);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rtdw-prom-${stack}-`));
    try {
      // Re-root the pod's absolute paths into the temporary directory.
      const yml = prometheusYml(run)
        .replace(/\/etc\/prometheus\//g, `${dir}/`)
        .replace(/\/var\/run\/secrets\/kubernetes\.io\/serviceaccount\//g, `${dir}/serviceaccount/`);
      fs.mkdirSync(path.join(dir, "serviceaccount"));
      for (const f of ["token", "ca.crt"]) fs.writeFileSync(path.join(dir, "serviceaccount", f), "x");
      fs.writeFileSync(path.join(dir, "prometheus.yml"), yml);
      fs.mkdirSync(path.join(dir, "rules"));
      fs.writeFileSync(path.join(dir, "rules", "rtdw-rules.yml"), renderPrometheusRules());
      fs.mkdirSync(path.join(dir, "secrets"));
      for (const f of yml.match(/secrets\/[\w.-]+\.secret/g) ?? []) fs.writeFileSync(path.join(dir, f), "x");
      const r = spawnSync(PROMTOOL_BIN, ["check", "config", path.join(dir, "prometheus.yml")], { encoding: "utf8" });
      expect({ code: r.status, out: `${r.stdout}${r.stderr}` }).toMatchObject({ code: 0, out: expect.stringContaining("SUCCESS") });
      // The rules file really was read: promtool names how many rules it found.
      expect(`${r.stdout}${r.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("promtool rejects a broken configuration (the check above can fail)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-prom-broken-"));
    try {
      fs.writeFileSync(path.join(dir, "prometheus.yml"), "scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs: [{ role: nodez }]\n");
      const r = spawnSync(PROMTOOL_BIN, ["check", "config", path.join(dir, "prometheus.yml")], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
