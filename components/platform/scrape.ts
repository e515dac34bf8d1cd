import * as YAML from "yaml";

/**
 * What Prometheus scrapes, derived from the services that exist in a stack: each service file says
 * where it serves metrics (ServiceSpec.metrics); the target adapter records it; this module renders
 * the Prometheus configuration for the place Prometheus runs (Kubernetes, Docker or the sandbox).
 */

/** How Prometheus proves itself to a metrics endpoint. The secret is handed over as a file. */
export type ScrapeAuth<Secret> = { readonly basic: { readonly username: string; readonly password: Secret } } | { readonly bearer: Secret };

/** Where a service serves Prometheus metrics: part of what a service file says about itself. */
export interface MetricsEndpoint<Secret = unknown> {
  /** Name of the service port that serves the metrics. */
  readonly port: string;
  /** HTTP path; default /metrics. */
  readonly path?: string;
  /** Credentials Prometheus presents; undefined where the endpoint has none to check (StarRocks). */
  readonly auth?: ScrapeAuth<Secret>;
}

/** One scrape job, resolved to plain data. */
export interface ScrapeJob {
  /** The service name: the job label, the Docker alias, the pods' app.kubernetes.io/name. */
  readonly job: string;
  readonly port: number;
  readonly path: string;
  readonly auth?: { readonly kind: "basic"; readonly username: string } | { readonly kind: "bearer" };
}

/** How targets are found where Prometheus runs. */
export type Discovery =
  /** Pods of the job's service in Prometheus' own namespace, one target per pod. */
  | { readonly kind: "kubernetes" }
  /** Every container answering to the job's network alias (Docker's DNS gives one A record each). */
  | { readonly kind: "docker" }
  /** Fixed addresses per job (the local sandbox: processes on loopback). */
  | { readonly kind: "static"; readonly addresses: Readonly<Record<string, readonly string[]>> };

export interface PrometheusConfigInput {
  readonly jobs: readonly ScrapeJob[];
  readonly discovery: Discovery;
  /** Directory holding one file per authenticated job, named by the job (its password or token). */
  readonly secretsDir: string;
  readonly ruleFiles: readonly string[];
  /** Alertmanager addresses (host:port), and the job whose credentials Prometheus uses for it; none when another system notifies. */
  readonly alertmanagers?: { readonly addresses: readonly string[]; readonly authJob?: string };
  /** Labels on every series and alert leaving this Prometheus (e.g. the stack). */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Container CPU and memory from each node's kubelet (cAdvisor), through the API server, kept for this namespace's pods only. */
  readonly kubeletCadvisor?: { readonly namespace: string };
  readonly scrapeIntervalSeconds?: number;
}

/** The file name, under secretsDir, holding a job's scrape secret. */
export const scrapeSecretFile = (job: string) => `${job}.secret`;

function authBlock(job: ScrapeJob, secretsDir: string): Record<string, unknown> {
  if (!job.auth) return {};
  const file = `${secretsDir.replace(/\/$/, "")}/${scrapeSecretFile(job.job)}`;
  return job.auth.kind === "basic"
    ? { basic_auth: { username: job.auth.username, password_file: file } }
    : { authorization: { type: "Bearer", credentials_file: file } };
}

function discoveryBlock(job: ScrapeJob, d: Discovery): Record<string, unknown> {
  switch (d.kind) {
    case "static": {
      const addresses = d.addresses[job.job];
      if (!addresses?.length) throw new Error(`scrape job "${job.job}" has no address in the static discovery (has: ${Object.keys(d.addresses).join(", ")})`);
      return { static_configs: [{ targets: [...addresses] }] };
    }
    case "docker":
      return { dns_sd_configs: [{ names: [job.job], type: "A", port: job.port, refresh_interval: "30s" }] };
    case "kubernetes":
      return {
        kubernetes_sd_configs: [{ role: "pod", namespaces: { own_namespace: true }, selectors: [{ role: "pod", label: `app.kubernetes.io/name=${job.job}` }] }],
        relabel_configs: [
          // One target per pod: the container port that serves metrics, running pods only.
          { source_labels: ["__meta_kubernetes_pod_container_port_number"], regex: String(job.port), action: "keep" },
          { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Running", action: "keep" },
          { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
          { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
        ],
      };
  }
}

/** prometheus.yml for the given jobs; `promtool check config` is the test that it is valid. */
export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  const seen = new Set<string>();
  for (const j of input.jobs) {
    if (seen.has(j.job)) throw new Error(`two services serve metrics under the job name "${j.job}"`);
    seen.add(j.job);
  }
  const interval = `${input.scrapeIntervalSeconds ?? 15}s`;
  const am = input.alertmanagers;
  const amJob = am?.authJob ? input.jobs.find((j) => j.job === am.authJob) : undefined;
  const scrapeConfigs: Record<string, unknown>[] = [...input.jobs]
    .sort((a, b) => a.job.localeCompare(b.job))
    .map((j) => ({ job_name: j.job, metrics_path: j.path, ...authBlock(j, input.secretsDir), ...discoveryBlock(j, input.discovery) }));
  if (input.kubeletCadvisor) {
    // cAdvisor's container_* series (CPU, memory, limits) from each node's kubelet, authorized as
    // nodes/metrics. Kubelets serve certificates of their own (often self-signed), as kube-prometheus-stack assumes.
    scrapeConfigs.push({
      job_name: "kubelet-cadvisor",
      scheme: "https",
      metrics_path: "/metrics/cadvisor",
      tls_config: { ca_file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", insecure_skip_verify: true },
      authorization: { credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token" },
      kubernetes_sd_configs: [{ role: "node" }],
      relabel_configs: [{ source_labels: ["__meta_kubernetes_node_name"], target_label: "node" }],
      // Nodes run other tenants' pods too: only the platform's own count.
      metric_relabel_configs: [{ source_labels: ["namespace"], regex: input.kubeletCadvisor.namespace.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), action: "keep" }],
    });
  }
  return YAML.stringify({
    global: { scrape_interval: interval, evaluation_interval: interval, ...(input.externalLabels ? { external_labels: { ...input.externalLabels } } : {}) },
    rule_files: [...input.ruleFiles],
    ...(am ? { alerting: { alertmanagers: [{ ...(amJob ? authBlock(amJob, input.secretsDir) : {}), static_configs: [{ targets: [...am.addresses] }] }] } } : {}),
    scrape_configs: scrapeConfigs,
  });
}
