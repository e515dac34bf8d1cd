import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { Workload } from "../config";
import { DeployedMetrics, KUBERNETES_API, OutsidePeer, portOf, ServiceSpec, Target } from "../platform/service";

/** The teams' alert webhooks (Alertmanager's receivers, Grafana's contact points): HTTPS beyond the cluster. */
const ALERT_WEBHOOKS: OutsidePeer = { outside: "alert webhooks (HTTPS)", ports: [443] };
/** Each node's kubelet, where Prometheus reads cAdvisor's container metrics. */
const KUBELETS: OutsidePeer = { outside: "kubelets (cAdvisor)", ports: [10250] };
import { password } from "../config/secrets";
import { Team } from "../config/teams";
import { ALERTS, renderAlertmanagerConfig, renderPrometheusRules } from "./alerts";
import { webConfig } from "../platform/metricsAuth";
import { SCRAPE_USER } from "./exporters";
import { renderPrometheusConfig, ScrapeJob, scrapeSecretFile } from "../platform/scrape";

export interface ObservabilityArgs {
  /** Prometheus, Alertmanager and Grafana: each one's image and sizing. */
  readonly prometheus: Workload;
  readonly alertmanager: Workload;
  readonly grafana: Workload;
  /** Their volume sizes (rtdw:volumes.prometheus/alertmanager/grafana). */
  readonly volumesGiB: { readonly prometheus: number; readonly alertmanager: number; readonly grafana: number };
  /** How long Prometheus keeps its series, e.g. "30d". */
  readonly retention: string;
  /** Which evaluates the alerts and notifies (rtdw:alertEvaluator): the other holds the same rules, silent. */
  readonly alertEvaluator: "prometheus" | "grafana";
  /** The stack's name: every series carries it as the `stack` label. */
  readonly stack: string;
  /** The Kubernetes namespace whose kubelets' cAdvisor Prometheus scrapes. */
  readonly namespace: string;
  /** Where the services run; its recorded metrics endpoints are what Prometheus scrapes. */
  readonly target: Target;
  /** Grafana's own database in the platform's PostgreSQL. */
  readonly grafanaDatabase: { readonly host: pulumi.Input<string>; readonly port: pulumi.Input<number>; readonly database: string; readonly user: pulumi.Input<string>; readonly password: pulumi.Input<string> };
  /** Each team's webhook URL (secret; rtdw:alertWebhooks); a team without one gets a receiver that sends nowhere. */
  readonly alertWebhooks: pulumi.Input<Readonly<Partial<Record<Team, string>>>>;
  /** StarRocks' MySQL protocol endpoint (host:port) and user, for the dashboards' SQL panels. */
  readonly starrocks: { readonly hostPort: pulumi.Input<string>; readonly user: string; readonly password: pulumi.Input<string> };
  /** Certificates the stack issued (Kafka's on Kubernetes): their ends become series the expiry alert watches. */
  readonly certificates?: readonly { readonly name: string; readonly notAfter: pulumi.Input<string> }[];
}

const SECRETS_DIR = "/etc/prometheus/secrets";
/** The operator's and Grafana's user on Prometheus and Alertmanager. */
export const PROMETHEUS_USER = "rtdw";

/**
 * Prometheus (scraping every service of the stack that serves metrics, with the alert rules),
 * Alertmanager (routing by team) and Grafana (its database in PostgreSQL, Prometheus and StarRocks as
 * data sources). Dashboards and Grafana's alert rules are registered by the GrafanaProvisioning resource.
 */
export class Observability extends pulumi.ComponentResource {
  readonly prometheusUrl: pulumi.Output<string>;
  readonly alertmanagerUrl: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  /** Password of PROMETHEUS_USER on Prometheus and Alertmanager (secret). */
  readonly prometheusPassword: pulumi.Output<string>;
  /** Grafana's admin password (secret). */
  readonly grafanaAdminPassword: pulumi.Output<string>;
  /** The scrape jobs Prometheus was configured with, by service. */
  readonly scrapeJobs: readonly ScrapeJob[];
  /** The Grafana service's resources, to depend on before provisioning it. */
  readonly grafanaResources: pulumi.Resource[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:observability:Observability", name, {}, opts);
    const t = args.target;
    this.prometheusPassword = password(`${name}-prometheus-password`, this);
    this.grafanaAdminPassword = password(`${name}-grafana-admin-password`, this);
    const grafanaScrapePassword = password(`${name}-grafana-scrape-password`, this);
    const selfAuth = { basic: { username: PROMETHEUS_USER, password: this.prometheusPassword } };

    // Alertmanager first and Grafana too, so that Prometheus' configuration includes them.
    const alertmanagerSpec: ServiceSpec = {
      name: "alertmanager",
      image: args.alertmanager.image,
      args: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager", "--web.config.file=/etc/alertmanager/web.yml", "--cluster.listen-address="],
      ports: [{ name: "web", port: 9093 }],
      // Webhook URLs carry tokens: the whole configuration is a Secret.
      secretFiles: [
        {
          dir: "/etc/alertmanager",
          files: {
            "alertmanager.yml": pulumi.secret(args.alertWebhooks).apply((w) => renderAlertmanagerConfig(w)),
            "web.yml": this.prometheusPassword.apply((pw) => webConfig({ [PROMETHEUS_USER]: pw })),
          },
        },
      ],
      volumes: [{ name: "data", mountPath: "/alertmanager", sizeGiB: args.volumesGiB.alertmanager, configKey: "volumes.alertmanager" }],
      sizing: args.alertmanager.sizing,
      readiness: { tcp: { port: 9093 } },
      metrics: { port: "web", auth: selfAuth },
      security: { runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, runAsNonRoot: true, readOnlyRootFilesystem: true },
      connectsTo: [ALERT_WEBHOOKS],
    };
    const alertmanager = t.deployService(alertmanagerSpec, this);
    this.alertmanagerUrl = pulumi.interpolate`http://${alertmanager.host}:${portOf(alertmanagerSpec, "web")}`;

    const promHost = "prometheus";
    const grafanaSpec: ServiceSpec = {
      name: "grafana",
      image: args.grafana.image,
      ports: [{ name: "http", port: 3000 }],
      env: {
        GF_SECURITY_ADMIN_USER: "admin",
        GF_SECURITY_ADMIN_PASSWORD__FILE: "/etc/grafana-secrets/admin-password",
        GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION: "false",
        GF_USERS_ALLOW_SIGN_UP: "false",
        GF_AUTH_ANONYMOUS_ENABLED: "false",
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        GF_DATABASE_TYPE: "postgres",
        GF_DATABASE_HOST: pulumi.interpolate`${args.grafanaDatabase.host}:${args.grafanaDatabase.port}`,
        GF_DATABASE_NAME: args.grafanaDatabase.database,
        GF_DATABASE_USER: args.grafanaDatabase.user,
        GF_DATABASE_PASSWORD__FILE: "/etc/grafana-secrets/database-password",
        GF_METRICS_ENABLED: "true",
        GF_METRICS_BASIC_AUTH_USERNAME: SCRAPE_USER,
        GF_METRICS_BASIC_AUTH_PASSWORD__FILE: "/etc/grafana-secrets/metrics-password",
        GF_PATHS_PROVISIONING: "/etc/grafana/provisioning",
      },
      secretFiles: [
        { dir: "/etc/grafana-secrets", files: { "admin-password": this.grafanaAdminPassword, "database-password": args.grafanaDatabase.password, "metrics-password": grafanaScrapePassword } },
        {
          dir: "/etc/grafana/provisioning/datasources",
          files: {
            "rtdw.yml": pulumi
              .all([this.prometheusPassword, args.starrocks.hostPort, args.starrocks.password])
              .apply(([promPw, srHostPort, srPw]) => renderGrafanaDatasources({ prometheusUrl: `http://${promHost}:9090`, prometheusUser: PROMETHEUS_USER, prometheusPassword: promPw, starrocksHostPort: srHostPort, starrocksUser: args.starrocks.user, starrocksPassword: srPw })),
          },
        },
      ],
      volumes: [{ name: "data", mountPath: "/var/lib/grafana", sizeGiB: args.volumesGiB.grafana, configKey: "volumes.grafana" }],
      sizing: args.grafana.sizing,
      readiness: { http: { path: "/api/health", port: 3000 } },
      startupSeconds: 120,
      metrics: { port: "http", auth: { basic: { username: SCRAPE_USER, password: grafanaScrapePassword } } },
      security: { runAsUser: 472, runAsGroup: 0, fsGroup: 472, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
      connectsTo: [
        { service: promHost, port: "web" },
        { service: "postgres", port: "postgres" },
        { service: "starrocks-fe", port: "query" },
        // Contact points, when Grafana evaluates the alerts.
        ALERT_WEBHOOKS,
      ],
    };
    const grafana = t.deployService(grafanaSpec, this);
    this.grafanaUrl = pulumi.interpolate`http://${grafana.host}:${portOf(grafanaSpec, "http")}`;
    this.grafanaResources = grafana.resources;

    // Prometheus scrapes itself like any other service; every endpoint recorded so far is in its configuration.
    const self: DeployedMetrics = { job: "prometheus", port: 9090, portName: "web", path: "/metrics", auth: selfAuth };
    const endpoints = [...t.metricsEndpoints(), self];
    this.scrapeJobs = endpoints.map((e) => ({ job: e.job, port: e.port, path: e.path, auth: e.auth ? ("basic" in e.auth ? { kind: "basic" as const, username: e.auth.basic.username } : { kind: "bearer" as const }) : undefined }));
    const prometheusYml = renderPrometheusConfig({
      jobs: this.scrapeJobs,
      discovery: t.kind === "kubernetes" ? { kind: "kubernetes" } : { kind: "docker" },
      secretsDir: SECRETS_DIR,
      ruleFiles: ["/etc/prometheus/rules/rtdw-rules.yml"],
      // When Grafana notifies, Prometheus still evaluates the rules (ALERTS for the dashboards) but sends nothing.
      alertmanagers: args.alertEvaluator === "prometheus" ? { addresses: [`alertmanager:${portOf(alertmanagerSpec, "web")}`], authJob: "alertmanager" } : undefined,
      externalLabels: { stack: args.stack },
      kubeletCadvisor: t.kind === "kubernetes" ? { namespace: args.namespace } : undefined,
    });
    const secretFiles: Record<string, pulumi.Input<string>> = {};
    for (const e of endpoints) {
      if (e.auth) secretFiles[scrapeSecretFile(e.job)] = "basic" in e.auth ? e.auth.basic.password : e.auth.bearer;
    }
    const certificates = args.certificates ?? [];
    const rules = pulumi.all(certificates.map((c) => c.notAfter)).apply((ends) => renderPrometheusRules(ALERTS, certificates.map((c, i) => ({ name: c.name, notAfter: ends[i] }))));
    const prometheusSpec: ServiceSpec = {
      name: promHost,
      image: args.prometheus.image,
      args: [
        "--config.file=/etc/prometheus/config/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        `--storage.tsdb.retention.time=${args.retention}`,
        "--web.config.file=/etc/prometheus/web/web.yml",
      ],
      ports: [{ name: "web", port: 9090 }],
      configFiles: [
        // Sibling directories, never one mount inside another (a ConfigMap volume is read-only).
        { dir: "/etc/prometheus/config", files: { "prometheus.yml": prometheusYml } },
        { dir: "/etc/prometheus/rules", files: { "rtdw-rules.yml": rules } },
      ],
      secretFiles: [
        { dir: SECRETS_DIR, files: secretFiles },
        { dir: "/etc/prometheus/web", files: { "web.yml": this.prometheusPassword.apply((pw) => webConfig({ [PROMETHEUS_USER]: pw })) } },
      ],
      volumes: [{ name: "data", mountPath: "/prometheus", sizeGiB: args.volumesGiB.prometheus, configKey: "volumes.prometheus" }],
      sizing: args.prometheus.sizing,
      readiness: { tcp: { port: 9090 } },
      // Service discovery of the platform's pods; cAdvisor's container metrics through the API server.
      kubernetesAccess: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      // cAdvisor is read from each kubelet (nodes/metrics), never through nodes/proxy, which would allow
      // running commands in any container of any node.
      clusterAccess: [
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
      ],
      security: { runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, runAsNonRoot: true, readOnlyRootFilesystem: true },
      connectsTo: [
        ...endpoints.filter((e) => e.job !== promHost).map((e) => ({ service: e.job, port: e.portName })),
        ...(t.kind === "kubernetes" ? [KUBERNETES_API, KUBELETS] : []),
      ],
    };
    const prometheus = t.deployService(prometheusSpec, this);
    this.prometheusUrl = pulumi.interpolate`http://${prometheus.host}:${portOf(prometheusSpec, "web")}`;
    this.registerOutputs({ prometheusUrl: this.prometheusUrl, alertmanagerUrl: this.alertmanagerUrl, grafanaUrl: this.grafanaUrl });
  }
}

/** Grafana's data-source provisioning file: Prometheus (uid "prometheus") and StarRocks over MySQL (uid "starrocks"). */
export function renderGrafanaDatasources(o: {
  prometheusUrl: string;
  prometheusUser: string;
  prometheusPassword: string;
  starrocksHostPort: string;
  starrocksUser: string;
  starrocksPassword: string;
}): string {
  return YAML.stringify({
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: "prometheus",
        type: "prometheus",
        access: "proxy",
        url: o.prometheusUrl,
        isDefault: true,
        basicAuth: true,
        basicAuthUser: o.prometheusUser,
        secureJsonData: { basicAuthPassword: o.prometheusPassword },
        editable: false,
      },
      {
        name: "StarRocks",
        uid: "starrocks",
        type: "mysql",
        url: o.starrocksHostPort,
        user: o.starrocksUser,
        jsonData: { database: "dws" },
        secureJsonData: { password: o.starrocksPassword },
        editable: false,
      },
    ],
  });
}
