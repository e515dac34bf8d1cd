import { FLINK_JARS, KAFKA_VERSION } from "../components/flink/artifacts";

export { FLINK_VERSION, KAFKA_VERSION } from "../components/flink/artifacts";

/**
 * Everything the sandbox installs, pinned. Flink's own jars are the cluster image's list
 * (components/flink/artifacts.ts); Flink 1.20.3's lib/ comes from PyPI's apache-flink-libraries, since
 * the reachable Maven mirror has no flink-dist.
 */
/** Last commit of minio/minio (2026-02-12), after the CVE-2025-62506 fix; the module proxy serves it. */
export const MINIO_MODULE = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c";

export interface MavenSet {
  /** Folder name under cache/maven and what the jars are for. */
  readonly name: string;
  /** Resolve transitive runtime dependencies (a server) or copy exactly these jars (connectors). */
  readonly transitive: boolean;
  readonly artifacts: readonly string[];
}

export const MAVEN_SETS: readonly MavenSet[] = [
  {
    name: "kafka",
    transitive: true,
    artifacts: [`org.apache.kafka:kafka_2.13:${KAFKA_VERSION}`, `org.apache.kafka:kafka-tools:${KAFKA_VERSION}`, "ch.qos.reload4j:reload4j:1.2.25", "org.slf4j:slf4j-reload4j:1.7.36"],
  },
  // Every Flink jar of the image, verified against its pinned SHA-1 after download (install.ts).
  { name: "flink-jars", transitive: false, artifacts: FLINK_JARS.map((j) => j.coordinates) },
];

/** Debian packages: name -> a binary that proves it is installed. */
export const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  "postgresql": "/usr/lib/postgresql/15/bin/postgres",
  "redis-server": "/usr/bin/redis-server",
  "mariadb-server": "/usr/sbin/mariadbd",
  "nginx-light": "/usr/sbin/nginx",
  "prometheus": "/usr/bin/prometheus",
  "prometheus-alertmanager": "/usr/bin/prometheus-alertmanager",
  // The exporters the stacks run as images, from Debian (older releases; same metrics and query format).
  "prometheus-postgres-exporter": "/usr/bin/prometheus-postgres-exporter",
  "prometheus-redis-exporter": "/usr/bin/prometheus-redis-exporter",
  "prometheus-nginx-exporter": "/usr/bin/prometheus-nginx-exporter",
  // PostgreSQL's WAL archive and base backups, and the TLS hop pgBackRest needs in front of MinIO.
  "pgbackrest": "/usr/bin/pgbackrest",
  "stunnel4": "/usr/bin/stunnel4",
};

/** The business time zone the sandbox's jobs run in (the stacks' default rtdw:timeZone). */
export const SANDBOX_TIME_ZONE = "Asia/Shanghai";
