import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * The Flink distribution and every jar the SQL jobs need, pinned with Maven Central's SHA-1. One list
 * feeds both the cluster image (image/Dockerfile, via a build argument) and the local sandbox, so what
 * the sandbox proves is what the clusters run.
 *
 * Choices (the Maven mirror reachable here decides what can be proven; see README "Versions"):
 * - Flink 1.20.3; the thin flink-connector-kafka 3.4.0-1.20 plus kafka-clients (the fat sql- jar for 1.20
 *   is not published on the mirror);
 * - Flink CDC 3.3.0 (supports Flink 1.19-1.20; 3.0.x does not support 1.20), with the MySQL driver it
 *   no longer bundles;
 * - Paimon 1.2.0: 1.0's JDBC catalog has no PostgreSQL lock ("No enum constant ...JdbcProtocol.POSTGRESQL");
 *   on S3, where rename is not atomic, that lock is what makes concurrent commits safe. Its catalog
 *   loads Hadoop's Configuration even for S3 warehouses, hence the shaded Hadoop jar;
 * - the StarRocks connector: no `_flink-1.20` build is published (maven-metadata lists 1.2.10_flink-1.19
 *   as the latest; StarRocks/starrocks-connector-for-apache-flink#409, "Add support for flink 1.20",
 *   only changes the docs table), so the 1.19 build is used; the sandbox plans a StarRocks sink with it
 *   on Flink 1.20;
 * - flink-s3-fs-hadoop 1.20.1 as a plugin (the newest 1.20 build on the mirror; plugins are isolated).
 */
export const FLINK_VERSION = "1.20.3";
export const KAFKA_VERSION = "3.9.1";
export const PAIMON_VERSION = "1.2.0";
export const FLINK_CDC_VERSION = "3.3.0";

export interface Jar {
  /** groupId:artifactId:version */
  readonly coordinates: string;
  readonly sha1: string;
  /** Where it goes under FLINK_HOME: lib/ (classpath), opt/ (the gateway) or a plugin folder. */
  readonly dir: "lib" | "opt" | `plugins/${string}`;
}

export const FLINK_JARS: readonly Jar[] = [
  { coordinates: `org.apache.paimon:paimon-flink-1.20:${PAIMON_VERSION}`, sha1: "b9f8762c6e575f6786f1d156a18d51682ffc975c", dir: "lib" },
  { coordinates: `org.apache.paimon:paimon-s3:${PAIMON_VERSION}`, sha1: "ed55bcfe18fd7723b7d545bb3d58f0609c0bb792", dir: "lib" },
  { coordinates: "org.apache.flink:flink-connector-kafka:3.4.0-1.20", sha1: "9c2d67f9193978acfa88bda2a8125616311a6485", dir: "lib" },
  { coordinates: `org.apache.kafka:kafka-clients:${KAFKA_VERSION}`, sha1: "86ca079953ed5606257ff298c24666b26da6985b", dir: "lib" },
  { coordinates: `org.apache.flink:flink-sql-connector-mysql-cdc:${FLINK_CDC_VERSION}`, sha1: "e4fb0fd75c6fa6229fc01bc7b1b13ff8ef6e832e", dir: "lib" },
  { coordinates: "com.mysql:mysql-connector-j:8.0.33", sha1: "9e64d997873abc4318620264703d3fdb6b02dd5a", dir: "lib" },
  { coordinates: "org.postgresql:postgresql:42.7.4", sha1: "264310fd7b2cd76738787dc0b9f7ea2e3b11adc1", dir: "lib" },
  { coordinates: "org.apache.flink:flink-connector-jdbc:3.3.0-1.20", sha1: "292553dba07f5e004065da539611a5c3d20ccd0f", dir: "lib" },
  { coordinates: "org.apache.flink:flink-shaded-hadoop-2-uber:2.8.3-10.0", sha1: "5dd57b5d38965c0f70e3f63d2581755df6c296bb", dir: "lib" },
  { coordinates: "com.starrocks:flink-connector-starrocks:1.2.10_flink-1.19", sha1: "734066c9467d5a6db6a519afb007c437fdea13fc", dir: "lib" },
  { coordinates: `org.apache.flink:flink-sql-gateway:${FLINK_VERSION}`, sha1: "d53e3fc9565790417bccf4a8d9f8d51499366133", dir: "opt" },
  { coordinates: "org.apache.flink:flink-s3-fs-hadoop:1.20.1", sha1: "cc028d89fdb51aba820c732c76941df0b5eb1916", dir: "plugins/s3-fs-hadoop" },
];

export const MAVEN_CENTRAL = "https://repo1.maven.org/maven2";

export function jarFileName(j: Jar): string {
  const [, artifact, version] = j.coordinates.split(":");
  return `${artifact}-${version}.jar`;
}

export function jarUrl(j: Jar, repository = MAVEN_CENTRAL): string {
  const [group, artifact, version] = j.coordinates.split(":");
  return `${repository}/${group.replace(/\./g, "/")}/${artifact}/${version}/${jarFileName(j)}`;
}

/**
 * The project's own SQL functions (image/functions, a Maven module): built into lib/ of the image
 * (image/Dockerfile) and of the sandbox (sandbox/install.ts), so a job may call them by class name.
 */
export const FUNCTIONS_DIR = path.resolve(__dirname, "image", "functions");
export const FUNCTIONS_JAR = "rtdw-flink-functions.jar";

/** SHA-256 over the functions' sources: part of the image tag, so a change to them rebuilds the image. */
export function functionsFingerprint(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "target") walk(f);
      } else files.push(f);
    }
  };
  walk(FUNCTIONS_DIR);
  const h = createHash("sha256");
  for (const f of files) h.update(path.relative(FUNCTIONS_DIR, f)).update("\0").update(fs.readFileSync(f)).update("\0");
  return h.digest("hex");
}

/** What decides the Flink image's content besides its base: the jar list and our functions. */
export function flinkImageFingerprint(): string[] {
  return [jarManifest(), functionsFingerprint()];
}

/** The image's build argument: one "dir url sha1" line per jar. */
export function jarManifest(repository = MAVEN_CENTRAL): string {
  return FLINK_JARS.map((j) => `${j.dir} ${jarUrl(j, repository)} ${j.sha1}`).join("\n");
}
