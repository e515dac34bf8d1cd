import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { createHash } from "crypto";
import { DEFAULT_TOPICS } from "../components/config/services";
import { renderTopicLines, TOPIC_SCRIPT } from "../components/services/kafka";
import { BOOTSTRAP_SQL, DATABASES, POSTGRES_MONITOR_ROLE, postgresExporterQueries } from "../components/services/postgres";
import { starrocksDwsAsMysql } from "../components/jobs/sinks";
import { renderAlertmanagerConfig, TEAMS } from "../components/observability/alerts";
import { minioMetricsToken, webConfig } from "../components/observability/credentials";
import { renderPrometheusConfig, ScrapeJob, scrapeSecretFile } from "../components/observability/scrape";
import { SQL_DIR } from "../components/jobs/table";
import { loadOrCreateSecrets, SandboxSecrets, writePrivate } from "./credentials";
import { renderNginxConf } from "../components/collector/nginx";
import { FLINK_HOME, KAFKA_BIN, KAFKA_LIBS, MINIO_BIN, VRL_HARNESS_BIN } from "./install";
import { CONF, DATA, ensureDir, LOGS, PortName, ports, RUN } from "./paths";
import { chownR, logFile, ProcessSpec, run } from "./process";
import { FLINK_VERSION, SANDBOX_TIME_ZONE } from "./versions";

/** One local service: how to prepare it, start it and tell that it is healthy. */
export interface SandboxService {
  readonly name: string;
  /** The port `status` shows and the collision check guards. */
  readonly port: PortName;
  /** Services that must be healthy first. */
  readonly after: readonly string[];
  /** Seconds `up` waits for health. */
  readonly startupSeconds: number;
  /** Idempotent: writes config, initialises data folders. */
  prepare(): void;
  process(): ProcessSpec;
  healthy(): Promise<boolean>;
  /** Idempotent work after the first healthy check (users, buckets, databases). */
  bootstrap?(): Promise<void>;
}

const REPO_ROOT = path.resolve(__dirname, "..");

export const BUCKETS = { warehouse: "rtdw-sandbox-warehouse", checkpoints: "rtdw-sandbox-checkpoints", starrocks: "rtdw-sandbox-starrocks" };
export const KAFKA_CLIENT_USER = "rtdw";
export const MARIADB_DATABASE = "shop";
/** Stands in for StarRocks' dws database (StarRocks speaks the MySQL protocol). */
export const MARIADB_DWS_DATABASE = "dws";

// ---------- small clients used by the health checks ----------

export function httpGet(url: string, auth?: { user: string; password: string }, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
    const req = http.get(url, { headers, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export function httpPost(url: string, body: string, headers: Record<string, string> = {}, timeoutMs = 3000): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-length": Buffer.byteLength(body), ...headers }, timeout: timeoutMs }, (res) => {
      let out = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (out += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: out, headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Sends raw lines over TCP and resolves with what came back before `until` matched. */
function tcpExchange(port: number, payload: string, until: RegExp, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    const done = (e?: Error) => {
      sock.destroy();
      e ? reject(e) : resolve(got);
    };
    sock.setTimeout(timeoutMs, () => done(new Error("timeout")));
    sock.on("connect", () => sock.write(payload));
    sock.on("data", (d) => {
      got += d.toString();
      if (until.test(got)) done();
    });
    sock.on("error", done);
  });
}

const pgBin = (tool: string) => {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  return path.join(root, versions[0], "bin", tool);
};

const JAVA17_OPENS = [
  "-XX:+IgnoreUnrecognizedVMOptions",
  ...["java.base/sun.net.util", "java.rmi/sun.rmi.registry", "jdk.compiler/com.sun.tools.javac.api", "jdk.compiler/com.sun.tools.javac.file",
    "jdk.compiler/com.sun.tools.javac.parser", "jdk.compiler/com.sun.tools.javac.tree", "jdk.compiler/com.sun.tools.javac.util",
    "java.security.jgss/sun.security.krb5"].map((m) => `--add-exports=${m}=ALL-UNNAMED`),
  ...["java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch", "java.lang.reflect", "java.text", "java.time", "java.util",
    "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks"].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
];

// ---------- the services ----------

export function sandboxServices(): SandboxService[] {
  const p = ports();
  const s = loadOrCreateSecrets();
  const dir = (name: string) => path.join(DATA, name);
  // Folders stay traversable for the service users (postgres, mysql); files with secrets are 0600.
  const conf = (name: string) => ensureDir(path.join(CONF, name));

  const postgres: SandboxService = {
    name: "postgres",
    port: "postgres",
    after: [],
    startupSeconds: 60,
    prepare() {
      const data = dir("postgres");
      const sock = ensureDir(path.join(RUN, "postgres"));
      chownR(sock, "postgres");
      if (fs.existsSync(path.join(data, "PG_VERSION"))) return;
      ensureDir(data, 0o700);
      chownR(data, "postgres");
      const pw = path.join(RUN, "postgres", "initdb.pw");
      writePrivate(pw, s.postgresAdmin);
      chownR(pw, "postgres");
      try {
        run(pgBin("initdb"), ["-D", data, "-U", "rtdw_admin", `--pwfile=${pw}`, "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C.UTF-8"], { user: "postgres" });
      } finally {
        fs.rmSync(pw, { force: true });
      }
    },
    process: () => ({
      name: "postgres",
      command: pgBin("postgres"),
      args: ["-D", dir("postgres"), "-c", `port=${p.postgres}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${path.join(RUN, "postgres")}`, "-c", "shared_buffers=128MB", "-c", "password_encryption=scram-sha-256",
        // Every Flink job and SQL Gateway session opens its own Paimon JDBC catalog pool, and a job
        // restarted many times (the engine lifecycle suite) leaves its pool behind until the JVM's GC
        // closes it: room for those, beyond PostgreSQL's default 100.
        "-c", "max_connections=400"],
      user: "postgres",
    }),
    async healthy() {
      const { Client } = await import("pg");
      const c = new Client({ host: "127.0.0.1", port: p.postgres, user: "rtdw_admin", password: s.postgresAdmin, database: "postgres", connectionTimeoutMillis: 2000 });
      await c.connect();
      try {
        await c.query("select 1");
        return true;
      } finally {
        await c.end();
      }
    },
    async bootstrap() {
      const sqlFile = path.join(CONF, "postgres-bootstrap.sql");
      fs.writeFileSync(sqlFile, BOOTSTRAP_SQL);
      run("psql", ["-v", "ON_ERROR_STOP=1", "-q", "-f", sqlFile], {
        env: {
          PGHOST: "127.0.0.1", PGPORT: String(p.postgres), PGUSER: "rtdw_admin", PGDATABASE: "postgres", PGPASSWORD: s.postgresAdmin,
          ...Object.fromEntries(Object.entries(s.postgres).map(([k, v]) => [`${k.toUpperCase()}_PASSWORD`, v])),
          MONITOR_PASSWORD: s.postgresMonitor,
        },
      });
    },
  };

  const mariadbSock = path.join(RUN, "mariadb", "mariadb.sock");
  const mariadb: SandboxService = {
    name: "mariadb",
    port: "mariadb",
    after: [],
    startupSeconds: 60,
    prepare() {
      const data = dir("mariadb");
      ensureDir(path.join(RUN, "mariadb"));
      chownR(path.join(RUN, "mariadb"), "mysql");
      fs.writeFileSync(
        path.join(conf("mariadb"), "my.cnf"),
        `[mysqld]
datadir=${data}
socket=${mariadbSock}
pid-file=${path.join(RUN, "mariadb", "mariadbd.pid")}
port=${p.mariadb}
bind-address=127.0.0.1
skip-name-resolve
# The CDC source: Flink CDC requires row-based binlog with full row images.
server-id=1
log-bin=mysql-bin
binlog_format=ROW
binlog_row_image=FULL
expire_logs_days=2
innodb_buffer_pool_size=128M
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
`,
      );
      fs.chmodSync(path.join(CONF, "mariadb"), 0o755);
      if (fs.existsSync(path.join(data, "mysql"))) return;
      ensureDir(data);
      chownR(data, "mysql");
      run("mariadb-install-db", [`--defaults-file=${path.join(CONF, "mariadb", "my.cnf")}`, "--user=mysql", "--auth-root-authentication-method=socket", "--skip-test-db"]);
    },
    process: () => ({ name: "mariadb", command: "mariadbd", args: [`--defaults-file=${path.join(CONF, "mariadb", "my.cnf")}`], user: "mysql" }),
    async healthy() {
      run("mariadb-admin", [`--socket=${mariadbSock}`, "-uroot", "ping"]);
      return true;
    },
    async bootstrap() {
      // Root stays socket-only; the pipeline gets two password users with the least they need.
      run("mariadb", [`--socket=${mariadbSock}`, "-uroot"], {
        input: `CREATE DATABASE IF NOT EXISTS ${MARIADB_DATABASE} CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'rtdw_app'@'127.0.0.1' IDENTIFIED BY '${s.mariadbApp}';
ALTER USER 'rtdw_app'@'127.0.0.1' IDENTIFIED BY '${s.mariadbApp}';
GRANT ALL PRIVILEGES ON ${MARIADB_DATABASE}.* TO 'rtdw_app'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'rtdw_cdc'@'127.0.0.1' IDENTIFIED BY '${s.mariadbCdc}';
ALTER USER 'rtdw_cdc'@'127.0.0.1' IDENTIFIED BY '${s.mariadbCdc}';
GRANT SELECT, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, LOCK TABLES ON *.* TO 'rtdw_cdc'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS ${MARIADB_DWS_DATABASE} CHARACTER SET utf8mb4;
GRANT ALL PRIVILEGES ON ${MARIADB_DWS_DATABASE}.* TO 'rtdw_app'@'127.0.0.1';
FLUSH PRIVILEGES;
USE ${MARIADB_DATABASE};
${fs.readFileSync(path.join(SQL_DIR, "source", "shop.sql"), "utf8")}
-- StarRocks cannot run here: its DWS tables, same columns and keys, receive the DWS jobs' rows.
USE ${MARIADB_DWS_DATABASE};
${starrocksDwsAsMysql().map((t) => `${t};`).join("\n")}
`,
      });
    },
  };

  const redis: SandboxService = {
    name: "redis",
    port: "redis",
    after: [],
    startupSeconds: 30,
    prepare() {
      ensureDir(dir("redis"));
      writePrivate(
        path.join(conf("redis"), "redis.conf"),
        `bind 127.0.0.1\nport ${p.redis}\nprotected-mode yes\nrequirepass ${s.redis}\ndir ${dir("redis")}\nappendonly yes\nappendfsync everysec\nsave 900 1\nmaxmemory 256mb\nmaxmemory-policy noeviction\n`,
      );
    },
    process: () => ({ name: "redis", command: "redis-server", args: [path.join(CONF, "redis", "redis.conf")] }),
    async healthy() {
      const out = await tcpExchange(p.redis, `AUTH ${s.redis}\r\nPING\r\n`, /PONG|ERR|WRONGPASS/);
      return /\+OK\r\n\+PONG/.test(out);
    },
  };

  const minio: SandboxService = {
    name: "minio",
    port: "minio",
    after: [],
    startupSeconds: 60,
    prepare() {
      ensureDir(dir("minio"));
    },
    process: () => ({
      name: "minio",
      command: MINIO_BIN,
      args: ["server", dir("minio"), "--address", `127.0.0.1:${p.minio}`, "--console-address", `127.0.0.1:${p.minioConsole}`, "--quiet"],
      env: { MINIO_ROOT_USER: "rtdw-root", MINIO_ROOT_PASSWORD: s.minioRoot, MINIO_BROWSER: "off" },
    }),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.minio}/minio/health/ready`)).status === 200;
    },
    async bootstrap() {
      const Minio = await import("minio");
      const client = new Minio.Client({ endPoint: "127.0.0.1", port: p.minio, useSSL: false, accessKey: "rtdw-root", secretKey: s.minioRoot });
      for (const b of Object.values(BUCKETS)) {
        if (!(await client.bucketExists(b))) await client.makeBucket(b, "us-east-1");
        await client.setBucketVersioning(b, { Status: "Enabled" });
      }
    },
  };

  const kafkaProps = path.join(CONF, "kafka", "server.properties");
  const kafka: SandboxService = {
    name: "kafka",
    port: "kafka",
    after: [],
    startupSeconds: 90,
    prepare() {
      const logs = ensureDir(dir("kafka"));
      const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${s.kafkaAdmin}" user_admin="${s.kafkaAdmin}" user_${KAFKA_CLIENT_USER}="${s.kafkaClient}";`;
      writePrivate(
        kafkaProps,
        [
          "process.roles=broker,controller",
          "node.id=1",
          `controller.quorum.voters=1@127.0.0.1:${p.kafkaController}`,
          `listeners=SASL_PLAINTEXT://127.0.0.1:${p.kafka},CONTROLLER://127.0.0.1:${p.kafkaController}`,
          `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${p.kafka}`,
          "inter.broker.listener.name=SASL_PLAINTEXT",
          "controller.listener.names=CONTROLLER",
          "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
          "sasl.enabled.mechanisms=PLAIN",
          "sasl.mechanism.inter.broker.protocol=PLAIN",
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=${jaas}`,
          `log.dirs=${logs}`,
          "num.partitions=1",
          "auto.create.topics.enable=false",
          "offsets.topic.replication.factor=1",
          "transaction.state.log.replication.factor=1",
          "transaction.state.log.min.isr=1",
          "transaction.max.timeout.ms=3600000",
          "group.initial.rebalance.delay.ms=0",
          "log.retention.hours=48",
          "",
        ].join("\n"),
      );
      writePrivate(path.join(CONF, "kafka", "log4j.properties"), "log4j.rootLogger=INFO, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\nlog4j.logger.kafka=INFO\nlog4j.logger.org.apache.kafka=WARN\n", 0o644);
      if (!fs.existsSync(path.join(logs, "meta.properties"))) {
        const clusterId = Buffer.from(require("crypto").randomBytes(16)).toString("base64url").replace(/^-/, "A");
        run("java", ["-cp", `${KAFKA_LIBS}/*`, `-Dlog4j.configuration=file:${path.join(CONF, "kafka", "log4j.properties")}`, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", kafkaProps, "--ignore-formatted"]);
      }
    },
    process: () => ({
      name: "kafka",
      command: "java",
      args: [
        "-Xms512m", "-Xmx512m", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
        `-Dlog4j.configuration=file:${path.join(CONF, "kafka", "log4j.properties")}`, `-Dkafka.logs.dir=${LOGS}`,
        "-cp", `${KAFKA_LIBS}/*`, "kafka.Kafka", kafkaProps,
      ],
    }),
    async healthy() {
      const admin = kafkaAdmin(p.kafka, s);
      await admin.connect();
      try {
        const c = await admin.describeCluster();
        return c.brokers.length === 1;
      } finally {
        await admin.disconnect();
      }
    },
    // The stacks' topic task, same script and same declared topics (dev's partitions and retention).
    // Re-run only when either changed; the marker lives with Kafka's data, so a wiped Kafka re-runs it.
    async bootstrap() {
      const lines = renderTopicLines(DEFAULT_TOPICS.dev);
      const marker = path.join(dir("kafka"), ".rtdw-topics");
      const fingerprint = createHash("sha256").update(TOPIC_SCRIPT).update(lines).digest("hex");
      if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === fingerprint) return;
      const topicsFile = path.join(CONF, "kafka", "topics.txt");
      fs.writeFileSync(topicsFile, lines);
      run("bash", [path.join(REPO_ROOT, "components", "services", "kafka-topics.sh")], {
        env: { BOOTSTRAP: `127.0.0.1:${p.kafka}`, REPLICATION_FACTOR: "1", KAFKA_ADMIN_PASSWORD: s.kafkaAdmin, KAFKA_BIN, TOPICS_FILE: topicsFile },
      });
      fs.writeFileSync(marker, fingerprint);
    },
  };

  const flinkConf = path.join(CONF, "flink");
  const flinkJava = (name: string, jvm: string[], cls: string, args: string[], extraCp = ""): ProcessSpec => ({
    name,
    command: "java",
    args: [
      ...jvm, ...JAVA17_OPENS,
      `-Dlog.file=${logFile(name)}`, `-Dlog4j.configurationFile=file:${path.join(flinkConf, "log4j-console.properties")}`,
      "-cp", `${FLINK_HOME}/lib/*${extraCp}`, cls, ...args,
    ],
    env: { FLINK_CONF_DIR: flinkConf, FLINK_PLUGINS_DIR: path.join(FLINK_HOME, "plugins"), FLINK_LIB_DIR: path.join(FLINK_HOME, "lib") },
  });
  /** JVM flags and dynamic config Flink's own scripts compute with BashJavaUtils. */
  const resourceParams = (kind: "JM" | "TM") => {
    const out = run("java", ["-cp", `${FLINK_HOME}/bin/bash-java-utils.jar:${FLINK_HOME}/lib/flink-dist-${FLINK_VERSION}.jar`, "org.apache.flink.runtime.util.bash.BashJavaUtils", `GET_${kind}_RESOURCE_PARAMS`, "--configDir", flinkConf]);
    const results = out.split("\n").filter((l) => l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")).map((l) => l.slice("BASH_JAVA_UTILS_EXEC_RESULT:".length).trim());
    if (!results.length) throw new Error(`BashJavaUtils GET_${kind}_RESOURCE_PARAMS printed no result:\n${out.slice(-2000)}`);
    const jvm = results[0].split(/\s+/).filter(Boolean);
    const dynamic = (results[1] ?? "").split(/\s+/).filter(Boolean);
    return { jvm, dynamic };
  };
  const flinkRestHealthy = async () => (await httpGet(`http://127.0.0.1:${p.flinkRest}/config`)).status === 200;

  const flinkJobManager: SandboxService = {
    name: "flink-jobmanager",
    port: "flinkRest",
    after: ["minio"],
    startupSeconds: 90,
    prepare() {
      ensureDir(flinkConf);
      writePrivate(path.join(flinkConf, "config.yaml"), flinkConfig(p, s));
      writePrivate(
        path.join(flinkConf, "log4j-console.properties"),
        "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.name = ConsoleAppender\nappender.console.type = CONSOLE\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\nlogger.akka.name = org.apache.pekko\nlogger.akka.level = WARN\nlogger.kafka.name = org.apache.kafka\nlogger.kafka.level = WARN\nlogger.hadoop.name = org.apache.hadoop\nlogger.hadoop.level = WARN\n",
        0o644,
      );
      ensureDir(dir("flink"));
    },
    process() {
      const r = resourceParams("JM");
      return flinkJava("flink-jobmanager", r.jvm, "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", ["--configDir", flinkConf, ...r.dynamic, "-D", `metrics.reporter.prom.port=${p.flinkJmMetrics}`]);
    },
    healthy: flinkRestHealthy,
  };

  const flinkTaskManager: SandboxService = {
    name: "flink-taskmanager",
    port: "flinkRest",
    after: ["flink-jobmanager"],
    startupSeconds: 90,
    prepare() {},
    process() {
      const r = resourceParams("TM");
      return flinkJava("flink-taskmanager", r.jvm, "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", ["--configDir", flinkConf, ...r.dynamic, "-D", `metrics.reporter.prom.port=${p.flinkTmMetrics}`]);
    },
    async healthy() {
      const r = await httpGet(`http://127.0.0.1:${p.flinkRest}/overview`);
      return r.status === 200 && JSON.parse(r.body).taskmanagers >= 1;
    },
  };

  const sqlGateway: SandboxService = {
    name: "flink-sql-gateway",
    port: "sqlGateway",
    after: ["flink-jobmanager"],
    startupSeconds: 90,
    prepare() {},
    process: () => flinkJava("flink-sql-gateway", ["-Xms256m", "-Xmx768m"], "org.apache.flink.table.gateway.SqlGateway", [], `:${FLINK_HOME}/opt/flink-sql-gateway-${FLINK_VERSION}.jar`),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.sqlGateway}/v1/info`)).status === 200;
    },
  };

  // The stacks' Nginx config (renderNginxConf), in front of the Vector stand-in.
  const nginx: SandboxService = {
    name: "nginx",
    port: "nginx",
    after: [],
    startupSeconds: 20,
    prepare() {
      const temp = ensureDir(dir("nginx"));
      for (const t of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.chmodSync(ensureDir(path.join(temp, t)), 0o777);
      const user = process.getuid?.() === 0 ? "user nobody nogroup;\n" : "";
      fs.writeFileSync(
        path.join(conf("nginx"), "nginx.conf"),
        user +
          renderNginxConf({
            listen: `127.0.0.1:${p.nginx}`,
            statusListen: `127.0.0.1:${p.nginxStatus}`,
            upstream: `127.0.0.1:${p.collector}`,
            accessLog: path.join(LOGS, "nginx-access.log"),
            errorLog: path.join(LOGS, "nginx-error.log"),
            pidFile: path.join(RUN, "nginx.pidfile"),
            tempDir: temp,
            trustedProxies: [],
          }),
      );
      fs.chmodSync(path.join(CONF, "nginx"), 0o755);
    },
    // As the image runs it: the foreground flag on the command line, not in the config.
    process: () => ({ name: "nginx", command: "nginx", args: ["-g", "daemon off;", "-p", dir("nginx"), "-c", path.join(CONF, "nginx", "nginx.conf")] }),
    async healthy() {
      return (await httpGet(`http://127.0.0.1:${p.nginx}/healthz`)).status === 200;
    },
  };

  const collector: SandboxService = {
    name: "vector-standin",
    port: "collector",
    after: ["kafka", "redis"],
    startupSeconds: 30,
    prepare() {
      if (!fs.existsSync(VRL_HARNESS_BIN)) throw new Error(`the VRL harness is not built (${VRL_HARNESS_BIN}); run: npm run sandbox -- install`);
    },
    process: () => ({
      name: "vector-standin",
      command: process.execPath,
      args: ["--require", "@swc-node/register", path.join(REPO_ROOT, "sandbox", "collector.ts")],
      cwd: REPO_ROOT,
      env: {
        COLLECTOR_PORT: String(p.collector),
        KAFKA_BOOTSTRAP: `127.0.0.1:${p.kafka}`,
        KAFKA_USER: KAFKA_CLIENT_USER,
        KAFKA_PASSWORD: s.kafkaClient,
        REDIS_PORT: String(p.redis),
        REDISCLI_AUTH: s.redis,
        EVENTS_TOPIC: "tracking.events",
        DEAD_LETTER_TOPIC: "tracking.dead-letter",
        VRL_HARNESS_BIN,
      },
    }),
    async healthy() {
      // An empty POST makes no event (as in Vector) and proves the server answers.
      return (await httpPost(`http://127.0.0.1:${p.collector}/`, "")).status === 200;
    },
  };

  const promAuth = { user: "rtdw", password: s.prometheus };
  // Prometheus and Alertmanager take the operator's user; the exporters take Prometheus' own.
  const webConfigFile = (name: string, users: Record<string, string>) => {
    const file = path.join(CONF, name, "web.yml");
    writePrivate(file, webConfig(users));
    return file;
  };
  const webConfigOfPrometheus = () => webConfigFile("prometheus", { rtdw: s.prometheus });
  const scrapeAuth = { user: "prometheus", password: s.scrape };

  // An exporter from Debian, healthy once it reports its service up (`<upMetric> 1`).
  const exporter = (o: { name: string; port: PortName; after: string; command: string; args: string[]; env?: Record<string, string>; upMetric: string; auth?: typeof scrapeAuth; prepare?: () => void }): SandboxService => ({
    name: o.name,
    port: o.port,
    after: [o.after],
    startupSeconds: 30,
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
    startupSeconds: 30,
    prepare() {
      ensureDir(conf("prometheus"));
      ensureDir(dir("prometheus"));
      webConfigOfPrometheus();
      writePrivate(path.join(CONF, "prometheus", "prometheus.yml"), prometheusConfig(p));
      const secrets = path.join(CONF, "prometheus", "secrets");
      for (const [job, secret] of Object.entries(scrapeSecrets(s))) writePrivate(path.join(secrets, scrapeSecretFile(job)), secret);
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
  };

  const alertmanager: SandboxService = {
    name: "alertmanager",
    port: "alertmanager",
    after: [],
    startupSeconds: 30,
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

  return [postgres, mariadb, redis, minio, kafka, collector, nginx, prometheus, alertmanager, flinkJobManager, flinkTaskManager, sqlGateway, postgresExporter, redisExporter, nginxExporter];
}

export function kafkaAdmin(port: number, s: SandboxSecrets) {
  const { Kafka, logLevel } = require("kafkajs") as typeof import("kafkajs");
  return new Kafka({
    clientId: "rtdw-sandbox",
    brokers: [`127.0.0.1:${port}`],
    sasl: { mechanism: "plain", username: "admin", password: s.kafkaAdmin },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
}

function flinkConfig(p: Record<PortName, number>, s: SandboxSecrets): string {
  return `# Generated by the sandbox; holds the MinIO key, so it is mode 0600.
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: ${p.flinkRpc}
jobmanager.bind-host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: ${p.flinkRest}
jobmanager.memory.process.size: 1024m
taskmanager.memory.process.size: 4096m
taskmanager.memory.managed.fraction: 0.15
taskmanager.numberOfTaskSlots: 16
parallelism.default: 1
execution.target: remote
state.backend.type: hashmap
execution.checkpointing.dir: s3://${BUCKETS.checkpoints}/checkpoints
execution.checkpointing.savepoint-dir: s3://${BUCKETS.checkpoints}/savepoints
execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
restart-strategy.type: exponential-delay
restart-strategy.exponential-delay.max-backoff: 10 s
s3.endpoint: http://127.0.0.1:${p.minio}
s3.path.style.access: true
s3.access-key: rtdw-root
s3.secret-key: ${s.minioRoot}
metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
sql-gateway.endpoint.rest.address: 127.0.0.1
sql-gateway.endpoint.rest.bind-address: 127.0.0.1
sql-gateway.endpoint.rest.port: ${p.sqlGateway}
classloader.check-leaked-classloader: false
io.tmp.dirs: ${path.join(DATA, "flink")}
`;
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
  ];
  return { jobs: jobs.map(([j]) => j), addresses: Object.fromEntries(jobs.map(([j, port]) => [j.job, [`127.0.0.1:${port}`]])) };
}

/** The secret each authenticated scrape job presents, by job. */
function scrapeSecrets(s: SandboxSecrets): Record<string, string> {
  return { prometheus: s.prometheus, alertmanager: s.prometheus, minio: minioMetricsToken("rtdw-root", s.minioRoot), "postgres-exporter": s.scrape };
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
