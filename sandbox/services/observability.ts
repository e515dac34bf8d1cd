import * as fs from "fs";
import * as path from "path";
import { DATABASES, POSTGRES_MONITOR_ROLE, postgresExporterQueries } from "../../components/services/postgres";
import { TEAMS } from "../../components/config/teams";
import { renderAlertmanagerConfig } from "../../components/observability/alerts";
import { minioMetricsToken, webConfig } from "../../components/platform/metricsAuth";
import { renderPrometheusConfig, ScrapeJob, scrapeSecretFile } from "../../components/platform/scrape";
import { SandboxSecrets, writePrivate } from "../credentials";
import { CONF, ensureDir, PortName } from "../paths";
import { SANDBOX_TIME_ZONE } from "../versions";
import { httpGet, httpPost } from "./clients";
import { SandboxService, ServiceContext } from "./types";
import { FLINK_HOME } from "../install";
import { JOB_EXPORTER_CLASS, jobExporterJvmFlags } from "../../components/flink/jobExporter";
import { FUNCTIONS_JAR } from "../../components/flink/artifacts";
import { SANDBOX_CLUSTERS } from "./flink";
import { DEFAULT_SIZING } from "../../components/config/services";

/** Prometheus and Alertmanager with the stacks' configuration, and the exporters for services without metrics of their own. */
export function observabilityServices({ p, s, dir, conf }: ServiceContext): SandboxService[] {
  const promAuth = { user: "rtdw", password: s.prometheus };
  // Prometheus and Alertmanager take the operator's user; the exporters take Prometheus' own.
  const webConfigFile = (name: string, users: Record<string, string>) => {
    const file = path.join(CONF, name, "web.yml");
    writePrivate(file, webConfig(users));
    return file;
  };
  const webConfigOfPrometheus = () => webConfigFile("prometheus", { rtdw: s.prometheus });
  const scrapeAuth = { user: "prometheus", password: s.scrape };
  const writeScrapeConfig = () => {
    writePrivate(path.join(CONF, "prometheus", "prometheus.yml"), prometheusConfig(p));
    const secrets = path.join(CONF, "prometheus", "secrets");
    for (const [job, secret] of Object.entries(scrapeSecrets(s))) writePrivate(path.join(secrets, scrapeSecretFile(job)), secret);
  };

  // An exporter from Debian, healthy once it reports its service up (`<upMetric> 1`).
  const exporter = (o: { name: string; port: PortName; after: string; command: string; args: string[]; env?: Record<string, string>; upMetric: string; auth?: typeof scrapeAuth; prepare?: () => void }): SandboxService => ({
    name: o.name,
    port: o.port,
    after: [o.after],
    // Generous: healthy means it reached its service, and a loaded 2-core CI machine took over 30 s.
    startupSeconds: 90,
    prepare: o.prepare ?? (() => {}),
    process: () => ({ name: o.name, command: o.command, args: o.args, env: o.env }),
    async healthy() {
      const r = await httpGet(`http://127.0.0.1:${p[o.port]}/metrics`, o.auth);
      return r.status === 200 && new RegExp(`^${o.upMetric} 1$`, "m").test(r.body);
    },
  });
  const postgresExporter = exporter({
    name: "postgres-exporter", port: "postgresExporter", after: "postgres", command: "prometheus-postgres-exporter", upMetric: "pg_up", auth: scrapeAuth,
    prepare() {
      webConfigFile("postgres-exporter", { prometheus: s.scrape });
      fs.writeFileSync(path.join(CONF, "postgres-exporter", "queries.yml"), postgresExporterQueries(SANDBOX_TIME_ZONE));
    },
    args: [
      `--web.listen-address=127.0.0.1:${p.postgresExporter}`, `--web.config.file=${path.join(CONF, "postgres-exporter", "web.yml")}`,
      `--extend.query-path=${path.join(CONF, "postgres-exporter", "queries.yml")}`,
    ],
    env: { DATA_SOURCE_NAME: `postgresql://${POSTGRES_MONITOR_ROLE}:${s.postgresMonitor}@127.0.0.1:${p.postgres}/${DATABASES.quality}?sslmode=disable` },
  });
  // Debian's redis_exporter (1.45) and nginx exporter (0.x) cannot require credentials; they listen on loopback only.
  const redisExporter = exporter({
    name: "redis-exporter", port: "redisExporter", after: "redis", command: "prometheus-redis-exporter", upMetric: "redis_up",
    args: ["-web.listen-address", `127.0.0.1:${p.redisExporter}`, "-redis.addr", `redis://127.0.0.1:${p.redis}`],
    env: { REDIS_PASSWORD: s.redis },
  });
  const nginxExporter = exporter({
    name: "nginx-exporter", port: "nginxExporter", after: "nginx", command: "prometheus-nginx-exporter", upMetric: "nginx_up",
    args: ["-web.listen-address", `127.0.0.1:${p.nginxExporter}`, "-nginx.scrape-uri", `http://127.0.0.1:${p.nginxStatus}/stub_status`],
  });

  const prometheus: SandboxService = {
    name: "prometheus",
    port: "prometheus",
    after: [],
    // Both start beside the JVMs and databases: on a loaded 2-core CI machine Alertmanager logged
    // its first line late and its checks then timed out, missing a 30 s window.
    startupSeconds: 90,
    prepare() {
      ensureDir(conf("prometheus"));
      ensureDir(dir("prometheus"));
      webConfigOfPrometheus();
      writeScrapeConfig();
      // The alert rules are the `local` stack's to load (PrometheusRuleFile); Prometheus reads whatever is there.
      ensureDir(path.join(CONF, "prometheus", "rules"));
      fs.rmSync(path.join(CONF, "prometheus", "rtdw-rules.yml"), { force: true });
    },
    process: () => ({
      name: "prometheus",
      command: "prometheus",
      args: [
        `--config.file=${path.join(CONF, "prometheus", "prometheus.yml")}`, `--storage.tsdb.path=${dir("prometheus")}`,
        `--web.listen-address=127.0.0.1:${p.prometheus}`, `--web.config.file=${path.join(CONF, "prometheus", "web.yml")}`,
        "--storage.tsdb.retention.time=1d", "--web.enable-lifecycle",
      ],
    }),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.prometheus}/-/ready`, promAuth)).status === 200;
    },
    // A sandbox kept from an earlier version learns the scrape jobs added since (a new exporter) without a restart.
    async bootstrap() {
      const file = path.join(CONF, "prometheus", "prometheus.yml");
      const before = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
      writeScrapeConfig();
      if (fs.readFileSync(file, "utf8") === before) return;
      const r = await httpPost(`http://127.0.0.1:${p.prometheus}/-/reload`, "", { authorization: `Basic ${Buffer.from(`${promAuth.user}:${promAuth.password}`).toString("base64")}` });
      if (r.status !== 200) throw new Error(`Prometheus refused to reload its changed configuration: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    },
  };

  const alertmanager: SandboxService = {
    name: "alertmanager",
    port: "alertmanager",
    after: [],
    startupSeconds: 90,
    prepare() {
      ensureDir(dir("alertmanager"));
      ensureDir(conf("prometheus"));
      webConfigOfPrometheus();
      // The stacks' routing, each team's webhook on loopback.
      writePrivate(path.join(conf("alertmanager"), "alertmanager.yml"), renderAlertmanagerConfig(Object.fromEntries(TEAMS.map((t) => [t, `http://127.0.0.1:${p.alertSink}/${t}`]))));
    },
    process: () => ({
      name: "alertmanager",
      command: "prometheus-alertmanager",
      args: [
        `--config.file=${path.join(CONF, "alertmanager", "alertmanager.yml")}`, `--storage.path=${dir("alertmanager")}`,
        `--web.listen-address=127.0.0.1:${p.alertmanager}`, `--web.config.file=${path.join(CONF, "prometheus", "web.yml")}`,
        "--cluster.listen-address=",
      ],
    }),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.alertmanager}/-/ready`, promAuth)).status === 200;
    },
  };
  // The stacks' job exporter: the same class from the functions jar in Flink's lib/, the dev stack's heap.
  // One per session cluster, as each job's cluster has its own on Kubernetes: the exporter reads one REST API.
  const flinkJobExporters = SANDBOX_CLUSTERS.map((c) =>
    exporter({
      name: c.name === "flink" ? "flink-job-exporter" : `${c.name}-job-exporter`, port: c.ports.jobExporter, after: `${c.name}-jobmanager`, command: "java", upMetric: "rtdw_flink_rest_up", auth: scrapeAuth,
      args: [...jobExporterJvmFlags(DEFAULT_SIZING.dev.flinkJobExporter.memoryMiB), "-cp", path.join(FLINK_HOME, "lib", FUNCTIONS_JAR), JOB_EXPORTER_CLASS],
      env: { FLINK_REST_URL: `http://127.0.0.1:${p[c.ports.rest]}`, LISTEN_ADDRESS: "127.0.0.1", LISTEN_PORT: String(p[c.ports.jobExporter]), SCRAPE_USER: scrapeAuth.user, SCRAPE_PASSWORD: scrapeAuth.password },
    }),
  );
  return [prometheus, alertmanager, postgresExporter, redisExporter, nginxExporter, ...flinkJobExporters];
}

/** The sandbox's scrape jobs: the stacks' job names, on loopback addresses. */
export function sandboxScrapeJobs(p: Record<PortName, number>): { jobs: ScrapeJob[]; addresses: Record<string, string[]> } {
  const jobs: [ScrapeJob, number][] = [
    [{ job: "prometheus", port: p.prometheus, path: "/metrics", auth: { kind: "basic", username: "rtdw" } }, p.prometheus],
    [{ job: "alertmanager", port: p.alertmanager, path: "/metrics", auth: { kind: "basic", username: "rtdw" } }, p.alertmanager],
    [{ job: "minio", port: p.minio, path: "/minio/v2/metrics/cluster", auth: { kind: "bearer" } }, p.minio],
    [{ job: "flink-jobmanager", port: p.flinkJmMetrics, path: "/metrics" }, p.flinkJmMetrics],
    [{ job: "flink-taskmanager", port: p.flinkTmMetrics, path: "/metrics" }, p.flinkTmMetrics],
    [{ job: "postgres-exporter", port: p.postgresExporter, path: "/metrics", auth: { kind: "basic", username: "prometheus" } }, p.postgresExporter],
    [{ job: "redis-exporter", port: p.redisExporter, path: "/metrics" }, p.redisExporter],
    [{ job: "nginx-exporter", port: p.nginxExporter, path: "/metrics" }, p.nginxExporter],
    [{ job: "flink-job-exporter", port: p.flinkJobExporter, path: "/metrics", auth: { kind: "basic", username: "prometheus" } }, p.flinkJobExporter],
  ];
  // Every session cluster's JobManager, TaskManager and job exporter under the same scrape job, as on Kubernetes.
  const clusterPorts: Record<string, PortName[]> = {
    "flink-jobmanager": SANDBOX_CLUSTERS.map((c) => c.ports.jobManagerMetrics),
    "flink-taskmanager": SANDBOX_CLUSTERS.map((c) => c.ports.taskManagerMetrics),
    "flink-job-exporter": SANDBOX_CLUSTERS.map((c) => c.ports.jobExporter),
  };
  return {
    jobs: jobs.map(([j]) => j),
    addresses: Object.fromEntries(jobs.map(([j, port]) => [j.job, (clusterPorts[j.job]?.map((n) => p[n]) ?? [port]).map((at) => `127.0.0.1:${at}`)])),
  };
}

/** The secret each authenticated scrape job presents, by job. */
function scrapeSecrets(s: SandboxSecrets): Record<string, string> {
  return { prometheus: s.prometheus, alertmanager: s.prometheus, minio: minioMetricsToken("rtdw-root", s.minioRoot), "postgres-exporter": s.scrape, "flink-job-exporter": s.scrape };
}

function prometheusConfig(p: Record<PortName, number>): string {
  const { jobs, addresses } = sandboxScrapeJobs(p);
  return renderPrometheusConfig({
    jobs,
    discovery: { kind: "static", addresses },
    secretsDir: path.join(CONF, "prometheus", "secrets"),
    ruleFiles: [path.join(CONF, "prometheus", "rules", "*.yml")],
    alertmanagers: { addresses: [`127.0.0.1:${p.alertmanager}`], authJob: "alertmanager" },
    externalLabels: { stack: "sandbox" },
  });
}
