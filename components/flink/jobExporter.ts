import * as pulumi from "@pulumi/pulumi";
import { Sizing } from "../config";
import { ServiceSpec } from "../platform/service";
import { FLINK_PORTS } from "./properties";
import { FUNCTIONS_JAR } from "./artifacts";

/** Where the exporter serves rtdw_flink_job_exception_info (behind basic auth). */
export const JOB_EXPORTER_PORT = 9252;

/** The Java class in the stack's Flink image (components/flink/image/functions) that exports the root exceptions. */
export const JOB_EXPORTER_CLASS = "rtdw.flink.JobFailureExporter";

/**
 * Flink's metrics carry no text, and an alert on a failed job should say why it failed: this service
 * reads each job's newest root exception from the JobManager's REST API and serves it as a label of
 * rtdw_flink_job_exception_info, which the job alerts look up by job_name. It runs from the stack's
 * Flink image with only the project's functions jar on its class path (the class needs nothing else).
 */
export function jobExporterSpec(o: { image: pulumi.Input<string>; sizing: Sizing; restUrl: pulumi.Input<string>; scrapeUser: string; scrapePassword: pulumi.Input<string>; cluster?: string }): ServiceSpec {
  const prefix = o.cluster ?? "flink";
  return {
    name: `${prefix}-job-exporter`,
    image: o.image,
    command: ["java"],
    args: [...jobExporterJvmFlags(o.sizing.memoryMiB), "-cp", `/opt/flink/lib/${FUNCTIONS_JAR}`, JOB_EXPORTER_CLASS],
    env: { FLINK_REST_URL: o.restUrl, LISTEN_PORT: String(JOB_EXPORTER_PORT), SCRAPE_USER: o.scrapeUser, POLL_SECONDS: "5" },
    secretEnv: { SCRAPE_PASSWORD: o.scrapePassword },
    ports: [{ name: "metrics", port: JOB_EXPORTER_PORT }],
    sizing: o.sizing,
    readiness: { tcp: { port: JOB_EXPORTER_PORT } },
    metrics: { port: "metrics", auth: { basic: { username: o.scrapeUser, password: o.scrapePassword } } },
    security: { runAsUser: 9999, runAsGroup: 9999, runAsNonRoot: true, readOnlyRootFilesystem: true },
    connectsTo: [{ service: `${prefix}-jobmanager`, port: "rest" }],
  };
}

/**
 * A small JVM inside the container's limit: the heap at a quarter of it, metaspace, class space and
 * JIT code capped (C1 with one compiler thread: the exporter does little work), no perf-data file on
 * the read-only root. Measured with the dev limit (64 MiB): 36 MB anonymous, 58 MB resident with the
 * JVM's own mapped files (2026-12-06, OpenJDK 17).
 */
export function jobExporterJvmFlags(memoryMiB: number): string[] {
  return [
    "-Xms8m", `-Xmx${Math.max(16, Math.floor(memoryMiB / 4))}m`, "-Xss256k", "-XX:MaxMetaspaceSize=16m", "-XX:CompressedClassSpaceSize=8m", "-XX:ReservedCodeCacheSize=8m",
    "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:MaxDirectMemorySize=4m",
  ];
}

/** The JobManager's REST address as the exporter reaches it (the JobManager Service). */
export const jobManagerRestUrl = (host: pulumi.Input<string>) => pulumi.interpolate`http://${host}:${FLINK_PORTS.rest}`;
