import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../config";
import { ServiceSpec } from "../platform/service";
import { webConfig } from "../platform/metricsAuth";

/**
 * The Prometheus exporters of services that have no metrics endpoint of their own. Each requires the
 * credentials Prometheus presents (user "prometheus", a password of its own) and says so in its
 * `metrics`, which is how the stack's Prometheus learns to scrape it.
 */

export const SCRAPE_USER = "prometheus";

const unprivileged = { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true, readOnlyRootFilesystem: true } as const;
const scrapeAuth = (scrapePassword: pulumi.Input<string>) => ({ basic: { username: SCRAPE_USER, password: scrapePassword } });
/** exporter-toolkit's web config (basic auth with a bcrypt hash), mounted as a Secret. */
const toolkitWebConfig = (scrapePassword: pulumi.Input<string>) => ({
  dir: "/etc/exporter-web",
  files: { "web.yml": pulumi.output(scrapePassword).apply((pw) => webConfig({ [SCRAPE_USER]: pw })) },
});

/** postgres_exporter as the monitoring role, with the quality-score query (rtdw_quality_* series). */
export function postgresExporter(w: Workload, o: { host: pulumi.Input<string>; database: string; user: string; password: pulumi.Input<string>; queries: string; scrapePassword: pulumi.Input<string> }): ServiceSpec {
  return {
    name: "postgres-exporter",
    image: w.image,
    args: ["--extend.query-path=/etc/postgres-exporter/queries.yml", "--web.config.file=/etc/exporter-web/web.yml", "--web.listen-address=:9187"],
    ports: [{ name: "metrics", port: 9187 }],
    env: { DATA_SOURCE_URI: pulumi.interpolate`${o.host}:5432/${o.database}?sslmode=disable`, DATA_SOURCE_USER: o.user },
    secretEnv: { DATA_SOURCE_PASS: o.password },
    configFiles: [{ dir: "/etc/postgres-exporter", files: { "queries.yml": o.queries } }],
    secretFiles: [toolkitWebConfig(o.scrapePassword)],
    sizing: w.sizing,
    readiness: { tcp: { port: 9187 } },
    metrics: { port: "metrics", auth: scrapeAuth(o.scrapePassword) },
    security: unprivileged,
    connectsTo: [{ service: "postgres", port: "postgres" }],
  };
}

/** redis_exporter: memory, clients, rejected connections, persistence. */
export function redisExporter(w: Workload, o: { host: pulumi.Input<string>; password: pulumi.Input<string>; scrapePassword: pulumi.Input<string> }): ServiceSpec {
  return {
    name: "redis-exporter",
    image: w.image,
    ports: [{ name: "metrics", port: 9121 }],
    env: { REDIS_ADDR: pulumi.interpolate`redis://${o.host}:6379`, REDIS_EXPORTER_BASIC_AUTH_USERNAME: SCRAPE_USER },
    secretEnv: { REDIS_PASSWORD: o.password, REDIS_EXPORTER_BASIC_AUTH_PASSWORD: o.scrapePassword },
    sizing: w.sizing,
    readiness: { tcp: { port: 9121 } },
    metrics: { port: "metrics", auth: scrapeAuth(o.scrapePassword) },
    security: unprivileged,
    connectsTo: [{ service: "redis", port: "redis" }],
  };
}

/**
 * kafka_exporter: consumer-group lag per topic and partition (kafka_consumergroup_lag) and topic
 * offsets (the dead-letter rate). Its SASL password comes from the environment through the shell, so
 * it is never written into the pod spec or a container's command line in the platform's state.
 */
export function kafkaExporter(w: Workload, o: { bootstrapServers: pulumi.Input<string>; caCertificate?: pulumi.Input<string>; user: string; password: pulumi.Input<string>; scrapePassword: pulumi.Input<string> }): ServiceSpec {
  const tls = o.caCertificate === undefined ? "" : " --tls.enabled --tls.ca-file=/etc/kafka-ca/ca.crt";
  return {
    name: "kafka-exporter",
    image: w.image,
    command: ["/bin/sh", "-c"],
    args: [
      `exec /bin/kafka_exporter --kafka.server="$KAFKA_SERVER" --sasl.enabled --sasl.mechanism=scram-sha512 --sasl.username="$KAFKA_USER" --sasl.password="$KAFKA_PASSWORD"${tls} --web.listen-address=:9308 --web.config.file=/etc/exporter-web/web.yml`,
    ],
    ports: [{ name: "metrics", port: 9308 }],
    ...(o.caCertificate === undefined ? {} : { configFiles: [{ dir: "/etc/kafka-ca", files: { "ca.crt": o.caCertificate } }] }),
    env: { KAFKA_SERVER: o.bootstrapServers, KAFKA_USER: o.user },
    secretEnv: { KAFKA_PASSWORD: o.password },
    secretFiles: [toolkitWebConfig(o.scrapePassword)],
    sizing: w.sizing,
    readiness: { tcp: { port: 9308 } },
    metrics: { port: "metrics", auth: scrapeAuth(o.scrapePassword) },
    security: unprivileged,
    connectsTo: [{ service: "kafka", port: "kafka" }],
  };
}

/** NGINX's exporter, reading stub_status on Nginx's internal status port. */
export function nginxExporter(w: Workload, o: { statusUrl: pulumi.Input<string>; scrapePassword: pulumi.Input<string> }): ServiceSpec {
  return {
    name: "nginx-exporter",
    image: w.image,
    args: [pulumi.interpolate`--nginx.scrape-uri=${o.statusUrl}`, "--web.listen-address=:9113", "--web.config.file=/etc/exporter-web/web.yml"],
    ports: [{ name: "metrics", port: 9113 }],
    secretFiles: [toolkitWebConfig(o.scrapePassword)],
    sizing: w.sizing,
    readiness: { tcp: { port: 9113 } },
    metrics: { port: "metrics", auth: scrapeAuth(o.scrapePassword) },
    security: unprivileged,
    connectsTo: [{ service: "nginx", port: "status" }],
  };
}
