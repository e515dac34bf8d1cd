/**
 * Everything the sandbox installs, pinned. The Maven mirror this project can reach lacks some
 * artifacts (no flink-dist, no flink-sql-connector-kafka for 1.20, flink-s3-fs-* only up to 1.20.1),
 * so the choices below are the newest that resolve and work together:
 * - Flink 1.20.3: lib/ from PyPI apache-flink-libraries (it bundles flink-dist), the SQL Gateway from Maven;
 * - the thin flink-connector-kafka 3.4.0-1.20 plus kafka-clients (the fat sql- jar is not published here);
 * - Flink CDC 3.3.0 (supports Flink 1.19-1.20; 3.0.x does not support 1.20) with the MySQL driver it needs;
 * - Paimon 1.2.0 for Flink 1.20 with paimon-s3: 1.0 has no JDBC lock for PostgreSQL (its catalog fails with
 *   "No enum constant ...JdbcProtocol.POSTGRESQL", verified); 1.1+ has it, and on S3, where rename is
 *   not atomic, the catalog lock is what makes concurrent commits safe;
 * - flink-s3-fs-hadoop 1.20.1 as a plugin (plugins are isolated; the 1.20 line shares the FS API).
 */
export const FLINK_VERSION = "1.20.3";
export const KAFKA_VERSION = "3.9.1";
export const PAIMON_VERSION = "1.2.0";
export const FLINK_CDC_VERSION = "3.3.0";
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
    artifacts: [`org.apache.kafka:kafka_2.13:${KAFKA_VERSION}`, "ch.qos.reload4j:reload4j:1.2.25", "org.slf4j:slf4j-reload4j:1.7.36"],
  },
  {
    name: "flink-connectors",
    transitive: false,
    artifacts: [
      `org.apache.paimon:paimon-flink-1.20:${PAIMON_VERSION}`,
      `org.apache.paimon:paimon-s3:${PAIMON_VERSION}`,
      "org.apache.flink:flink-connector-kafka:3.4.0-1.20",
      `org.apache.kafka:kafka-clients:${KAFKA_VERSION}`,
      `org.apache.flink:flink-sql-connector-mysql-cdc:${FLINK_CDC_VERSION}`,
      "com.mysql:mysql-connector-j:8.0.33",
      "org.postgresql:postgresql:42.7.4",
      "org.apache.flink:flink-connector-jdbc:3.3.0-1.20",
      // Paimon's catalog loads org.apache.hadoop.conf.Configuration even for S3 warehouses (verified).
      "org.apache.flink:flink-shaded-hadoop-2-uber:2.8.3-10.0",
    ],
  },
  { name: "flink-opt", transitive: false, artifacts: [`org.apache.flink:flink-sql-gateway:${FLINK_VERSION}`] },
  { name: "flink-s3", transitive: false, artifacts: ["org.apache.flink:flink-s3-fs-hadoop:1.20.1"] },
];

/** Debian packages: name -> a binary that proves it is installed. */
export const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  "postgresql": "/usr/lib/postgresql/15/bin/postgres",
  "redis-server": "/usr/bin/redis-server",
  "mariadb-server": "/usr/sbin/mariadbd",
  "nginx-light": "/usr/sbin/nginx",
  "prometheus": "/usr/bin/prometheus",
  "prometheus-alertmanager": "/usr/bin/prometheus-alertmanager",
};
