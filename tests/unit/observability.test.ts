import * as YAML from "yaml";
import { Registered, runStack } from "../helpers/mocks";
import { ALERTS } from "../../components/observability/alerts";

type Run = Awaited<ReturnType<typeof runStack>>;

/** Every string value anywhere in a resource's inputs, with its dotted path. */
function stringsWithPaths(v: unknown, path = "", out: { path: string; value: string }[] = []) {
  if (typeof v === "string") out.push({ path, value: v });
  else if (Array.isArray(v)) v.forEach((x, i) => stringsWithPaths(x, `${path}[${i}]`, out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) stringsWithPaths(x, path ? `${path}.${k}` : k, out);
  return out;
}

/** The file content the stack hands to a container, found however the target mounts it (ConfigMap, Secret, Docker upload). */
function fileContent(run: Run, marker: RegExp): { resource: Registered; path: string; value: string; secret: boolean }[] {
  return run.registered.flatMap((r) =>
    stringsWithPaths(r.inputs)
      .filter((s) => marker.test(s.value))
      .map((s) => ({ resource: r, path: s.path, value: s.value, secret: r.type === "kubernetes:core/v1:Secret" || r.secretPaths.some((p) => s.path === p || s.path.startsWith(`${p}.`) || s.path.startsWith(`${p}[`)) })),
  );
}

const WEBHOOK_TOKEN = "t0ken-in-the-webhook-url";
const STACKS: [string, Record<string, string>, string[]][] = [
  ["dev", {}, []],
  ["test", { imageRegistry: "registry.example.com/rtdw", namespace: "rtdw-test", objectStore: "minio", alertWebhooks: JSON.stringify({ ops: `https://hooks.example.com/ops/${WEBHOOK_TOKEN}` }) }, ["alertWebhooks"]],
  ["prod", { imageRegistry: "registry.example.com/rtdw", objectStore: "s3", awsRegion: "eu-central-1" }, []],
];

describe.each(STACKS)("observability on the %s stack (Pulumi mocks)", (stack, config, secret) => {
  let run: Run;
  let prometheus: any;
  beforeAll(async () => {
    run = await runStack(stack, config, secret);
    const found = fileContent(run, /^global:\n\s+scrape_interval/);
    expect(found).toHaveLength(1);
    prometheus = YAML.parse(found[0].value);
  });

  it("Prometheus scrapes every service of the stack that serves metrics, and only those", () => {
    const jobs = prometheus.scrape_configs.map((c: any) => c.job_name).sort();
    // The shared Flink cluster (dev), or each job's own (test, prod): its JobManager, TaskManagers and exporter.
    const flink = (run.cfg.flink.jobClusters.length ? run.cfg.flink.jobClusters.map((c) => c.name) : ["flink"]).flatMap((n) => [`${n}-job-exporter`, `${n}-jobmanager`, `${n}-taskmanager`]);
    const expected = [
      ...flink, "alertmanager", "grafana", "kafka-exporter", "nginx-exporter", "postgres-exporter", "prometheus",
      "redis-exporter", "starrocks-cn", "starrocks-fe", "vector",
      // MinIO only where the stack runs it (prod keeps its data in S3); cAdvisor where there are nodes.
      ...(stack === "prod" ? [] : ["minio"]),
      ...(stack === "dev" ? [] : ["kubelet-cadvisor"]),
    ].sort();
    expect(jobs).toEqual(expected);
    const byJob = Object.fromEntries(prometheus.scrape_configs.map((c: any) => [c.job_name, c]));
    if (stack !== "prod") expect(byJob.minio).toMatchObject({ metrics_path: "/minio/v2/metrics/cluster", authorization: { type: "Bearer", credentials_file: "/etc/prometheus/secrets/minio.secret" } });
    expect(byJob["postgres-exporter"].basic_auth).toEqual({ username: "prometheus", password_file: "/etc/prometheus/secrets/postgres-exporter.secret" });
    const exporter = flink[0];
    expect(byJob[exporter].basic_auth).toEqual({ username: "prometheus", password_file: `/etc/prometheus/secrets/${exporter}.secret` });
    if (stack === "dev") {
      expect(byJob["flink-taskmanager"].dns_sd_configs).toEqual([{ names: ["flink-taskmanager"], type: "A", port: 9249, refresh_interval: "30s" }]);
    } else {
      expect(byJob[flink[2]].kubernetes_sd_configs[0].selectors).toEqual([{ role: "pod", label: `app.kubernetes.io/name=${flink[2]}` }]);
      expect(byJob["starrocks-cn"].relabel_configs[0]).toEqual({ source_labels: ["__meta_kubernetes_pod_container_port_number"], regex: "8040", action: "keep" });
      // Container CPU and memory of this stack's namespace only (nodes are shared).
      expect(byJob["kubelet-cadvisor"].metric_relabel_configs).toEqual([{ source_labels: ["namespace"], regex: stack === "test" ? "rtdw-test" : "rtdw", action: "keep" }]);
    }
    expect(prometheus.rule_files).toEqual(["/etc/prometheus/rules/rtdw-rules.yml"]);
    expect(prometheus.global.external_labels).toEqual({ stack });
    expect(prometheus.alerting.alertmanagers[0]).toMatchObject({ basic_auth: { username: "rtdw" }, static_configs: [{ targets: ["alertmanager:9093"] }] });
  });

  it("the rule file carries every alert, and on Kubernetes the Kafka certificate's end from the state for CertificateExpiresSoon", () => {
    const found = fileContent(run, /^groups:\n/);
    expect(found).toHaveLength(1);
    const groups = YAML.parse(found[0].value).groups;
    expect(groups[0].rules.map((r: any) => r.alert)).toEqual(ALERTS.map((a) => a.name));
    // The mocks give the certificate notAfter 2029-01-01T00:00:00Z; dev (Docker) has no TLS listener.
    const recorded = stack === "dev" ? [] : [{ record: "rtdw_certificate_not_after_timestamp_seconds", expr: `vector(${Date.UTC(2029, 0, 1) / 1000})`, labels: { certificate: "kafka" } }];
    expect(groups.slice(1).flatMap((g: any) => g.rules)).toEqual(recorded);
  });

  it("every credential Prometheus presents is a file from a Secret, never in its configuration", () => {
    const authed = prometheus.scrape_configs.filter((c: any) => c.basic_auth || (c.authorization && c.job_name !== "kubelet-cadvisor"));
    expect(authed.map((c: any) => c.job_name).sort()).toEqual(
      ["alertmanager", ...(run.cfg.flink.jobClusters.length ? run.cfg.flink.jobClusters.map((c) => `${c.name}-job-exporter`) : ["flink-job-exporter"]), "grafana", "kafka-exporter", ...(stack === "prod" ? [] : ["minio"]), "nginx-exporter", "postgres-exporter", "prometheus", "redis-exporter", "vector"].sort(),
    );
    for (const c of authed) {
      const file = c.basic_auth?.password_file ?? c.authorization.credentials_file;
      expect(file).toBe(`/etc/prometheus/secrets/${c.job_name}.secret`);
    }
    // The files exist with content, mounted from secrets.
    const mounted = run.registered.filter((r) => r.type === "kubernetes:core/v1:Secret" || r.type === "docker:index/container:Container");
    const secretFiles = mounted.flatMap((r) =>
      r.type === "kubernetes:core/v1:Secret"
        ? Object.entries(r.inputs.stringData ?? {}).map(([k, v]) => ({ name: k.replace(/^file\d+\./, ""), value: String(v), secret: true }))
        : (r.inputs.uploads ?? []).map((u: any, i: number) => ({ name: String(u.file).split("/").pop(), value: String(u.content), secret: r.secretPaths.some((p) => [`uploads[${i}].content`, `uploads[${i}]`, "uploads"].includes(p)) })),
    );
    for (const c of authed) {
      const f = secretFiles.find((s) => s.name === `${c.job_name}.secret`);
      expect({ job: c.job_name, present: !!f?.value, secret: f?.secret }).toEqual({ job: c.job_name, present: true, secret: true });
    }
  });

  it("the alert rules Prometheus loads are the ones written once in alerts.ts", () => {
    const rules = fileContent(run, /^groups:\n\s+- name: rtdw/);
    expect(rules.length).toBe(1);
    expect(YAML.parse(rules[0].value).groups[0].rules.length).toBeGreaterThanOrEqual(11);
  });

  it("Alertmanager routes by team; its configuration (webhook URLs carry tokens) is only ever a secret", () => {
    const am = fileContent(run, /^route:\n\s+receiver: team-ops/);
    expect(am).toHaveLength(1);
    expect(am[0].secret).toBe(true);
    const parsed = YAML.parse(am[0].value);
    expect(parsed.receivers.map((r: any) => r.name)).toEqual(["team-ops", "team-business", "team-data", "team-infra"]);
    if (stack === "test") {
      expect(parsed.receivers[0].webhook_configs[0].url).toContain(WEBHOOK_TOKEN);
      expect(parsed.receivers[1].webhook_configs).toBeUndefined();
      // The token appears nowhere but in secrets.
      expect(fileContent(run, new RegExp(WEBHOOK_TOKEN)).filter((f) => !f.secret).map((f) => `${f.resource.type} ${f.resource.name} ${f.path}`)).toEqual([]);
    }
    if (stack === "prod") expect(parsed.receivers.every((r: any) => r.webhook_configs?.[0].url.startsWith("https://hooks.example.com/"))).toBe(true);
  });

  it("Grafana keeps its state in PostgreSQL, reads Prometheus and StarRocks through a provisioned data-source file that is a secret", () => {
    const ds = fileContent(run, /^apiVersion: 1\ndatasources:/);
    expect(ds).toHaveLength(1);
    expect(ds[0].secret).toBe(true);
    const parsed = YAML.parse(ds[0].value).datasources;
    expect(parsed.map((d: any) => [d.uid, d.type])).toEqual([["prometheus", "prometheus"], ["starrocks", "mysql"]]);
    expect(parsed[0]).toMatchObject({ url: "http://prometheus:9090", basicAuth: true, basicAuthUser: "rtdw" });
    expect(parsed[0].secureJsonData.basicAuthPassword).toBe(run.credentials.observability!.prometheusPassword);
    const grafanaEnv = fileContent(run, /^grafana$/);
    expect(grafanaEnv.length).toBeGreaterThan(0);
  });

  it("registers Grafana's folder, rule group, contact points, policy and dashboards as one resource, its credentials and webhooks secret", () => {
    const g = run.registered.filter((r) => r.type === "pulumi-nodejs:dynamic/rtdw:GrafanaProvisioning");
    expect(g).toHaveLength(1);
    const inputs = g[0].inputs;
    expect(g[0].secretPaths).toEqual(expect.arrayContaining(["auth", "webhooks"]));
    // The desired state is in the clear, so a preview shows rule and dashboard changes; no webhook URL in it.
    expect(g[0].secretPaths).not.toContain("desired");
    expect(JSON.stringify(inputs.desired)).not.toMatch(/https?:\/\/hooks/);
    expect(inputs.url).toBe(stack === "dev" ? "http://127.0.0.1:3000" : `http://grafana.${config.namespace ?? "rtdw"}.svc.cluster.local:3000`);
    expect(inputs.tunnel).toEqual(stack === "dev" ? undefined : { context: undefined });
    expect(inputs.desired.dashboards.map((d: any) => d.uid)).toEqual(["rtdw-platform", "rtdw-flink-jobs", "rtdw-kafka-lag", "rtdw-data-quality", "rtdw-tracking"]);
    // Prometheus notifies by default: Grafana holds the same rules, paused, so nobody is paged twice.
    expect(inputs.desired.ruleGroup.rules.map((r: any) => r.title).sort()).toEqual(ALERTS.map((a) => a.name).sort());
    expect(inputs.desired.ruleGroup.rules.every((r: any) => r.isPaused)).toBe(true);
    const teamsWithHooks = stack === "prod" ? ["ops", "business", "data", "infra"] : stack === "test" ? ["ops"] : [];
    expect(inputs.desired.contactPoints.map((c: any) => c.name)).toEqual(teamsWithHooks.map((t) => `team-${t}`));
    expect(Object.keys(inputs.webhooks).sort()).toEqual([...teamsWithHooks].sort());
  });
});

describe("observability with Grafana as the alert evaluator (Pulumi mocks)", () => {
  it("Grafana's rules are active and Prometheus sends nothing to Alertmanager", async () => {
    const run = await runStack("test", { imageRegistry: "registry.example.com/rtdw", alertEvaluator: "grafana" });
    const g = run.registered.find((r) => r.type === "pulumi-nodejs:dynamic/rtdw:GrafanaProvisioning")!;
    expect(g.inputs.desired.ruleGroup.rules.every((r: any) => r.isPaused === false)).toBe(true);
    const prometheus = YAML.parse(fileContent(run, /^global:\n\s+scrape_interval/)[0].value);
    expect(prometheus.alerting).toBeUndefined();
    expect(prometheus.rule_files).toEqual(["/etc/prometheus/rules/rtdw-rules.yml"]);
  });
});
