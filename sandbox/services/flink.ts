import * as path from "path";
import { SandboxSecrets, writePrivate } from "../credentials";
import { FLINK_HOME } from "../install";
import { CONF, DATA, ensureDir, PortName } from "../paths";
import { logFile, ProcessSpec, run } from "../process";
import { FLINK_VERSION } from "../versions";
import { flinkProperties } from "../../components/flink/properties";
import { httpGet } from "./clients";
import { BUCKETS, SandboxService, ServiceContext } from "./types";

/** Java 17 needs these for Flink 1.20 (what Flink's own scripts pass in env.java.opts.all). */
const JAVA17_OPENS = [
  "-XX:+IgnoreUnrecognizedVMOptions",
  ...["java.base/sun.net.util", "java.rmi/sun.rmi.registry", "jdk.compiler/com.sun.tools.javac.api", "jdk.compiler/com.sun.tools.javac.file",
    "jdk.compiler/com.sun.tools.javac.parser", "jdk.compiler/com.sun.tools.javac.tree", "jdk.compiler/com.sun.tools.javac.util",
    "java.security.jgss/sun.security.krb5"].map((m) => `--add-exports=${m}=ALL-UNNAMED`),
  ...["java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch", "java.lang.reflect", "java.text", "java.time", "java.util",
    "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks"].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
];

const LOG4J =
  "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.name = ConsoleAppender\nappender.console.type = CONSOLE\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\nlogger.akka.name = org.apache.pekko\nlogger.akka.level = WARN\nlogger.kafka.name = org.apache.kafka\nlogger.kafka.level = WARN\nlogger.hadoop.name = org.apache.hadoop\nlogger.hadoop.level = WARN\n";

/** A Flink process of the sandbox, configured from `confDir`. */
function flinkJava(confDir: string, name: string, jvm: string[], cls: string, args: string[], extraCp = ""): ProcessSpec {
  return {
    name,
    command: "java",
    args: [
      ...jvm, ...JAVA17_OPENS,
      `-Dlog.file=${logFile(name)}`, `-Dlog4j.configurationFile=file:${path.join(confDir, "log4j-console.properties")}`,
      "-cp", `${FLINK_HOME}/lib/*${extraCp}`, cls, ...args,
    ],
    env: { FLINK_CONF_DIR: confDir, FLINK_PLUGINS_DIR: path.join(FLINK_HOME, "plugins"), FLINK_LIB_DIR: path.join(FLINK_HOME, "lib") },
  };
}

/** JVM flags and dynamic config Flink's own scripts compute with BashJavaUtils. */
function resourceParams(confDir: string, kind: "JM" | "TM") {
  const out = run("java", ["-cp", `${FLINK_HOME}/bin/bash-java-utils.jar:${FLINK_HOME}/lib/flink-dist-${FLINK_VERSION}.jar`, "org.apache.flink.runtime.util.bash.BashJavaUtils", `GET_${kind}_RESOURCE_PARAMS`, "--configDir", confDir]);
  const results = out.split("\n").filter((l) => l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")).map((l) => l.slice("BASH_JAVA_UTILS_EXEC_RESULT:".length).trim());
  if (!results.length) throw new Error(`BashJavaUtils GET_${kind}_RESOURCE_PARAMS printed no result:\n${out.slice(-2000)}`);
  const jvm = results[0].split(/\s+/).filter(Boolean);
  const dynamic = (results[1] ?? "").split(/\s+/).filter(Boolean);
  return { jvm, dynamic };
}

/** The processes of one standalone session cluster whose config.yaml is in `confDir`. */
function sessionClusterProcesses(confDir: string, names: { jobManager: string; taskManager: string }, metrics: { jobManager: number; taskManager: number }) {
  return {
    jobManager: (): ProcessSpec => {
      const r = resourceParams(confDir, "JM");
      return flinkJava(confDir, names.jobManager, r.jvm, "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", ["--configDir", confDir, ...r.dynamic, "-D", `metrics.reporter.prom.port=${metrics.jobManager}`]);
    },
    taskManager: (): ProcessSpec => {
      const r = resourceParams(confDir, "TM");
      return flinkJava(confDir, names.taskManager, r.jvm, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", ["--configDir", confDir, ...r.dynamic, "-D", `metrics.reporter.prom.port=${metrics.taskManager}`]);
    },
  };
}

/**
 * The sandbox's session clusters: the SQL Gateway's own, which runs every job no other cluster names
 * (and what tests submit by hand), and one for the tracking pipeline's jobs, so the local stack's jobs
 * run on two clusters through the same routing (rest.address/rest.port) as a cluster per job on
 * Kubernetes. The second is sized for its jobs at parallelism 1, plus two slots for an upgrade's overlap.
 */
export interface SandboxCluster {
  /** Process names are <name>-jobmanager and <name>-taskmanager. */
  readonly name: string;
  readonly ports: { readonly rest: PortName; readonly rpc: PortName; readonly jobManagerMetrics: PortName; readonly taskManagerMetrics: PortName; readonly jobExporter: PortName };
  readonly shape: Omit<SessionClusterShape, "restPort" | "rpcPort">;
  /** The pipeline whose jobs it runs; unset for the gateway's own cluster. */
  readonly pipeline?: string;
}

export const SANDBOX_CLUSTERS: readonly SandboxCluster[] = [
  { name: "flink", ports: { rest: "flinkRest", rpc: "flinkRpc", jobManagerMetrics: "flinkJmMetrics", taskManagerMetrics: "flinkTmMetrics", jobExporter: "flinkJobExporter" }, shape: { jobManagerMemoryMiB: 1024, taskManagerMemoryMiB: 4096, slots: 16 } },
  { name: "flink-trk", ports: { rest: "flinkTrkRest", rpc: "flinkTrkRpc", jobManagerMetrics: "flinkTrkJmMetrics", taskManagerMetrics: "flinkTrkTmMetrics", jobExporter: "flinkTrkJobExporter" }, shape: { jobManagerMemoryMiB: 768, taskManagerMemoryMiB: 2048, slots: 6 }, pipeline: "tracking" },
];

/** One session cluster of the sandbox: its JobManager and its TaskManager. */
function sessionClusterServices(c: SandboxCluster, { p, s, dir }: ServiceContext): SandboxService[] {
  const confDir = path.join(CONF, c.name);
  const names = { jobManager: `${c.name}-jobmanager`, taskManager: `${c.name}-taskmanager` };
  const processes = sessionClusterProcesses(confDir, names, { jobManager: p[c.ports.jobManagerMetrics], taskManager: p[c.ports.taskManagerMetrics] });
  const rest = `http://127.0.0.1:${p[c.ports.rest]}`;
  const jobManager: SandboxService = {
    name: names.jobManager,
    port: c.ports.rest,
    after: ["minio"],
    startupSeconds: 90,
    prepare() {
      ensureDir(confDir);
      writePrivate(path.join(confDir, "config.yaml"), flinkConfig(p, s, { ...c.shape, restPort: p[c.ports.rest], rpcPort: p[c.ports.rpc] }));
      writePrivate(path.join(confDir, "log4j-console.properties"), LOG4J, 0o644);
      ensureDir(dir("flink"));
    },
    process: processes.jobManager,
    healthy: async () => (await httpGet(`${rest}/config`)).status === 200,
  };
  const taskManager: SandboxService = {
    name: names.taskManager,
    port: c.ports.rest,
    after: [names.jobManager],
    startupSeconds: 90,
    prepare() {},
    process: processes.taskManager,
    async healthy() {
      const r = await httpGet(`${rest}/overview`);
      return r.status === 200 && JSON.parse(r.body).taskmanagers >= 1;
    },
  };
  return [jobManager, taskManager];
}

/** Flink 1.20: the sandbox's session clusters (SANDBOX_CLUSTERS) and the SQL Gateway, whose own cluster is the first. */
export function flinkServices(ctx: ServiceContext): SandboxService[] {
  const { p } = ctx;
  const flinkConf = path.join(CONF, SANDBOX_CLUSTERS[0].name);
  const sqlGateway: SandboxService = {
    name: "flink-sql-gateway",
    port: "sqlGateway",
    after: ["flink-jobmanager"],
    startupSeconds: 90,
    prepare() {},
    process: () => flinkJava(flinkConf, "flink-sql-gateway", ["-Xms256m", "-Xmx768m"], "org.apache.flink.table.gateway.SqlGateway", [], `:${FLINK_HOME}/opt/flink-sql-gateway-${FLINK_VERSION}.jar`),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.sqlGateway}/v1/info`)).status === 200;
    },
  };
  return [...SANDBOX_CLUSTERS.flatMap((c) => sessionClusterServices(c, ctx)), sqlGateway];
}

/** What tells one of the sandbox's session clusters from another: its size and, beside the first, its ports. */
export interface SessionClusterShape {
  readonly jobManagerMemoryMiB: number;
  readonly taskManagerMemoryMiB: number;
  readonly slots: number;
  readonly restPort?: number;
  readonly rpcPort?: number;
}

/**
 * The deployed clusters' config.yaml (components/flink/properties.ts), with what the sandbox must do
 * differently, each for a named reason. Holds the MinIO key, so it is written 0600.
 */
export function flinkConfig(p: Record<PortName, number>, s: SandboxSecrets, cluster: SessionClusterShape = SANDBOX_CLUSTERS[0].shape): string {
  const deployed = flinkProperties(
    { jobManagerMemoryMiB: cluster.jobManagerMemoryMiB, taskManagerMemoryMiB: cluster.taskManagerMemoryMiB, slotsPerTaskManager: cluster.slots },
    { checkpointsBucket: BUCKETS.checkpoints, s3Endpoint: `http://127.0.0.1:${p.minio}`, pathStyle: true },
  );
  const sandbox: Record<string, string | undefined> = {
    // Local processes on one host: everything on loopback, on the sandbox's own ports.
    "jobmanager.rpc.address": "127.0.0.1",
    "jobmanager.rpc.port": String(cluster.rpcPort ?? p.flinkRpc),
    "jobmanager.bind-host": "127.0.0.1",
    "taskmanager.bind-host": "127.0.0.1",
    "taskmanager.host": "127.0.0.1",
    "rest.address": "127.0.0.1",
    "rest.bind-address": "127.0.0.1",
    "rest.port": String(cluster.restPort ?? p.flinkRest),
    "sql-gateway.endpoint.rest.address": "127.0.0.1",
    "sql-gateway.endpoint.rest.bind-address": "127.0.0.1",
    "sql-gateway.endpoint.rest.port": String(p.sqlGateway),
    // Fixed in the clusters so NetworkPolicies can name them; here Flink picks free ones (no policy, a shared host).
    "blob.server.port": undefined,
    "taskmanager.rpc.port": undefined,
    "taskmanager.data.port": undefined,
    "metrics.internal.query-service.port": undefined,
    // JobManager and TaskManager share the host: each gets its own metrics port on its command line.
    "metrics.reporter.prom.port": undefined,
    // 16 slots in a 4 GiB TaskManager on 2 cores: RocksDB would get ~28 MiB of managed memory per slot.
    // Heap state instead; savepoints are in the canonical format, so what the tests prove restores on RocksDB.
    "state.backend.type": "hashmap",
    "state.backend.incremental": undefined,
    "taskmanager.memory.managed.fraction": "0.15",
    // The local stack checkpoints every 5 s (tests wait on commits): no 10 s pause between checkpoints.
    "execution.checkpointing.min-pause": undefined,
    "restart-strategy.exponential-delay.max-backoff": "10 s",
    "execution.target": "remote",
    // The clusters pass the object store's key as AWS_* secrets in the pod's environment; local processes read it here.
    "s3.access-key": "rtdw-root",
    "s3.secret-key": s.minioRoot,
    // Flink's own CLI and the tests' clients load classes repeatedly into one JVM.
    "classloader.check-leaked-classloader": "false",
    "io.tmp.dirs": path.join(DATA, "flink"),
  };
  const merged: Record<string, string | undefined> = { ...deployed, ...sandbox };
  return `# Generated by the sandbox from components/flink/properties.ts; holds the MinIO key, so it is mode 0600.\n${Object.entries(merged)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n`;
}
