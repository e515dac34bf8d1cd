import * as fs from "fs";
import * as path from "path";
import { PlatformCredentials, PlatformEndpoints } from "../components/contracts";
import { ExistingPlatform } from "../components/existingPlatformFile";
import { DATABASES, DatabaseName } from "../components/services/postgres";
import { KAFKA_ADMIN_USER, KAFKA_SCRAM_MECHANISM } from "../components/pipelines/kafkaAccess";
import { kafkaUserPassword, loadOrCreateSecrets, writePrivate } from "./credentials";
import { FLINK_HOME, install } from "./install";
import { CONF, HOME, ports } from "./paths";
import { logFile, portInUse, processStartedAt, runningPid, start, stop, waitHealthy } from "./process";
import { kafkaTlsFiles, sandboxKafkaClients } from "./services/kafka";
import { BUCKETS, MARIADB_DATABASE, MARIADB_DWS_DATABASE, SandboxService, sandboxServices } from "./services";
import { SANDBOX_CLUSTERS } from "./services/flink";
import { loadJobTable } from "../components/config/jobTable";

/**
 * The stack's output shape for what the sandbox runs (StreamPark, StarRocks and Vector cannot run
 * here), plus the sandbox's extras: the MySQL source, Prometheus, Alertmanager.
 */
export interface SandboxEndpoints extends Omit<PlatformEndpoints, "kafka" | "flink" | "streampark" | "starrocks" | "collector"> {
  /** Clients log in with SCRAM on `bootstrapServers`, each as its own user; the super user with PLAIN on `adminBootstrapServers`. */
  readonly kafka: {
    readonly bootstrapServers: string;
    readonly securityProtocol: "SASL_PLAINTEXT";
    readonly saslMechanism: typeof KAFKA_SCRAM_MECHANISM;
    readonly users: readonly string[];
    /** The same client listener over TLS (SASL_SSL) as the test/prod stacks run it, and the CA its certificate is signed with. */
    readonly tls: { readonly bootstrapServers: string; readonly caFile: string };
    readonly adminBootstrapServers: string;
    readonly adminUser: string;
  };
  /**
   * `restUrl` is the SQL Gateway's own cluster, which runs every job no other cluster lists; each of
   * `clusters` runs the jobs it names, reached by the gateway at address:port (rest.address/rest.port).
   */
  readonly flink: {
    readonly restUrl: string;
    readonly sqlGatewayUrl: string;
    readonly clusters: readonly { readonly name: string; readonly restUrl: string; readonly address: string; readonly port: number; readonly jobs: readonly string[] }[];
  };
  readonly mysql: { readonly host: string; readonly port: number; readonly database: string; /** the StarRocks stand-in (sandbox only) */ readonly dwsDatabase: string; readonly user: string; readonly cdcUser: string; /** the DWS jobs' writer (stand-in only) */ readonly dwsUser: string };
  readonly nginx: { readonly url: string };
  readonly prometheus: { readonly url: string; readonly username: string };
  readonly alertmanager: { readonly url: string; readonly username: string; /** Team webhooks are <alertSinkUrl>/<team>. */ readonly alertSinkUrl: string };
}
export interface SandboxCredentials extends Omit<PlatformCredentials, "streampark" | "starrocks"> {
  readonly kafka: { readonly users: Readonly<Record<string, string>>; readonly adminPassword: string };
  readonly mysql: { readonly password: string; readonly cdcPassword: string; readonly dwsPassword: string };
  readonly prometheus: { readonly password: string };
}

export const ENDPOINTS_FILE = path.join(HOME, "endpoints.json");
export const CREDENTIALS_FILE = path.join(CONF, "credentials.json");
/** What the `local` stack reads (rtdw:platformFile): the sandbox as an existing platform, passwords included (0600). */
export const PLATFORM_FILE = path.join(CONF, "platform.json");
/** Prometheus loads every rule file here; the `local` stack writes the alert rules into it. */
export const PROMETHEUS_RULES_DIR = path.join(CONF, "prometheus", "rules");

function say(msg: string) {
  process.stderr.write(`[sandbox] ${msg}\n`);
}

/** Same shape as the Pulumi stack's `endpoints` and `credentials` outputs (plus the sandbox extras). */
export function describe(): { endpoints: SandboxEndpoints; credentials: SandboxCredentials } {
  const p = ports();
  const s = loadOrCreateSecrets();
  const dbs = Object.keys(DATABASES) as DatabaseName[];
  const kafkaUsers = sandboxKafkaClients().map((c) => c.user);
  const endpoints: SandboxEndpoints = {
    objectStore: { kind: "minio", endpoint: `http://127.0.0.1:${p.minio}`, region: "us-east-1", pathStyle: true, buckets: BUCKETS },
    postgres: {
      host: "127.0.0.1",
      port: p.postgres,
      databases: Object.fromEntries(
        dbs.map((k) => [k, { database: DATABASES[k], user: `${DATABASES[k]}_app`, jdbcUrl: `jdbc:postgresql://127.0.0.1:${p.postgres}/${DATABASES[k]}` }]),
      ) as SandboxEndpoints["postgres"]["databases"],
    },
    redis: { host: "127.0.0.1", port: p.redis },
    kafka: {
      bootstrapServers: `127.0.0.1:${p.kafka}`,
      securityProtocol: "SASL_PLAINTEXT",
      saslMechanism: KAFKA_SCRAM_MECHANISM,
      users: kafkaUsers,
      tls: { bootstrapServers: `localhost:${p.kafkaTls}`, caFile: kafkaTlsFiles().ca },
      adminBootstrapServers: `127.0.0.1:${p.kafkaInternal}`,
      adminUser: KAFKA_ADMIN_USER,
    },
    flink: {
      restUrl: `http://127.0.0.1:${p[SANDBOX_CLUSTERS[0].ports.rest]}`,
      sqlGatewayUrl: `http://127.0.0.1:${p.sqlGateway}`,
      clusters: SANDBOX_CLUSTERS.slice(1).map((c) => ({
        name: c.name,
        restUrl: `http://127.0.0.1:${p[c.ports.rest]}`,
        address: "127.0.0.1",
        port: p[c.ports.rest],
        jobs: loadJobTable().filter((j) => j.pipeline === c.pipeline).map((j) => j.name),
      })),
    },
    mysql: { host: "127.0.0.1", port: p.mariadb, database: MARIADB_DATABASE, dwsDatabase: MARIADB_DWS_DATABASE, user: "rtdw_app", cdcUser: "rtdw_cdc", dwsUser: "rtdw_dws" },
    nginx: { url: `http://127.0.0.1:${p.nginx}` },
    prometheus: { url: `http://127.0.0.1:${p.prometheus}`, username: "rtdw" },
    alertmanager: { url: `http://127.0.0.1:${p.alertmanager}`, username: "rtdw", alertSinkUrl: `http://127.0.0.1:${p.alertSink}` },
  };
  const credentials: SandboxCredentials = {
    // The sandbox uses MinIO's generated root key; the stacks create a bucket-scoped user.
    objectStore: { accessKey: "rtdw-root", secretKey: s.minioRoot },
    postgres: Object.fromEntries(dbs.map((k) => [k, { password: s.postgres[k] }])) as SandboxCredentials["postgres"],
    redis: { password: s.redis },
    kafka: { users: Object.fromEntries(kafkaUsers.map((u) => [u, kafkaUserPassword(s, u)])), adminPassword: s.kafkaAdmin },
    mysql: { password: s.mariadbApp, cdcPassword: s.mariadbCdc, dwsPassword: s.mariadbDws },
    prometheus: { password: s.prometheus },
  };
  return { endpoints, credentials };
}

/** The sandbox as an existing platform (components/existingPlatformFile.ts): what the `local` stack deploys onto. */
export function platformDescription(): ExistingPlatform {
  const { endpoints: e, credentials: c } = describe();
  return {
    version: 1,
    name: "sandbox",
    objectStore: { endpoint: e.objectStore.endpoint, region: e.objectStore.region, pathStyle: e.objectStore.pathStyle, accessKey: c.objectStore.accessKey, secretKey: c.objectStore.secretKey, buckets: { warehouse: e.objectStore.buckets.warehouse, checkpoints: e.objectStore.buckets.checkpoints } },
    kafka: {
      bootstrapServers: e.kafka.bootstrapServers,
      securityProtocol: e.kafka.securityProtocol,
      users: c.kafka.users,
      admin: { user: e.kafka.adminUser, password: c.kafka.adminPassword, bootstrapServers: e.kafka.adminBootstrapServers },
    },
    flink: { restUrl: e.flink.restUrl, sqlGatewayUrl: e.flink.sqlGatewayUrl, clusters: e.flink.clusters.map((c) => ({ ...c, jobs: [...c.jobs] })) },
    paimon: { jdbcUrl: e.postgres.databases.paimon.jdbcUrl, user: e.postgres.databases.paimon.user, password: c.postgres.paimon.password },
    quality: { jdbcUrl: e.postgres.databases.quality.jdbcUrl, user: e.postgres.databases.quality.user, password: c.postgres.quality.password },
    // StarRocks cannot run here: MariaDB holds the DWS tables with StarRocks' columns and keys.
    // rtdw_app owns the stand-in's dws database (as root owns StarRocks' on the stacks): the stack manages its tables.
    dws: { kind: "jdbc", jdbcUrl: `jdbc:mysql://${e.mysql.host}:${e.mysql.port}/${e.mysql.dwsDatabase}`, user: e.mysql.dwsUser, password: c.mysql.dwsPassword, admin: { user: e.mysql.user, password: c.mysql.password } },
    source: { host: e.mysql.host, port: e.mysql.port, database: e.mysql.database, user: e.mysql.cdcUser, password: c.mysql.cdcPassword },
    prometheus: { url: e.prometheus.url, user: e.prometheus.username, password: c.prometheus.password, rulesDir: PROMETHEUS_RULES_DIR },
  };
}

async function startOne(svc: SandboxService): Promise<void> {
  const pid = runningPid(svc.name);
  if (pid === undefined) {
    const port = ports()[svc.port];
    const owner = sandboxServices().find((o) => o.port === svc.port && o.name !== svc.name && runningPid(o.name) !== undefined);
    if (!owner && (await portInUse(port))) {
      throw new Error(`port ${port} for ${svc.name} is already in use by another process; choose another with RTDW_SANDBOX_PORT_${svc.port.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
    }
    svc.prepare();
  }
  const running = pid ?? start(svc.process());
  await waitHealthy(svc.name, () => svc.healthy(), svc.startupSeconds * 1000, running);
  // Idempotent (users, buckets, databases), so a reused sandbox is brought up to date as well.
  // Retried with backoff: a freshly started server may still drop a connection (MinIO answered a
  // bucket call with "socket hang up" right after its health check passed).
  if (svc.bootstrap) {
    const waitsMs = [1000, 3000, 9000];
    for (let attempt = 0; ; attempt++) {
      try {
        await svc.bootstrap();
        break;
      } catch (e) {
        if (attempt >= waitsMs.length) throw new Error(`${svc.name} started but its bootstrap failed (${attempt + 1} attempts): ${(e as Error).message}\n  log: ${logFile(svc.name)}`);
        say(`${svc.name} bootstrap failed (${(e as Error).message.split("\n")[0]}); retrying in ${waitsMs[attempt] / 1000} s`);
        await new Promise((r) => setTimeout(r, waitsMs[attempt]));
      }
    }
  }
}

/** Installs what is missing, then starts every service in dependency order, in parallel where possible. */
export async function up(): Promise<{ endpoints: SandboxEndpoints; credentials: SandboxCredentials; seconds: number }> {
  const t0 = Date.now();
  const { flinkJarsChanged } = install();
  const tInstalled = Date.now();
  const services = sandboxServices();
  // Also a Flink process older than a jar in its lib: an `up` stopped between placing a jar and the
  // restart (or a jar placed by `install`) left it running on the old classes.
  const libDir = path.join(FLINK_HOME, "lib");
  const newestJar = Math.max(0, ...fs.readdirSync(libDir).filter((f) => f.endsWith(".jar")).map((f) => fs.statSync(path.join(libDir, f)).mtimeMs));
  const stale = services.filter((s) => s.name.startsWith("flink-")).filter((s) => {
    const pid = runningPid(s.name);
    const started = pid === undefined ? undefined : processStartedAt(pid);
    return started !== undefined && started + 1000 < newestJar;
  });
  if (stale.length && !flinkJarsChanged.length) flinkJarsChanged.push(`newer than ${stale.map((s) => s.name).join(", ")}`);
  if (flinkJarsChanged.length) {
    // A running Flink still has the old classes loaded: restart it, dependants first. Its jobs stop
    // with it, as after `down`; `pulumi up --refresh` resumes them from their last checkpoints.
    const flink = startOrder(services).filter((s) => s.name.startsWith("flink-")).reverse();
    const stopped: string[] = [];
    for (const svc of flink) if (await stop(svc.name, svc.stop)) stopped.push(svc.name);
    if (stopped.length) say(`Flink's jars changed (${flinkJarsChanged.join(", ")}): restarting ${stopped.join(", ")}`);
  }
  const done = new Map<string, Promise<void>>();
  const startAfterDeps = (svc: SandboxService): Promise<void> => {
    if (!done.has(svc.name)) {
      const deps = svc.after.map((d) => startAfterDeps(services.find((x) => x.name === d)!));
      done.set(svc.name, Promise.all(deps).then(() => startOne(svc)));
    }
    return done.get(svc.name)!;
  };
  const results = await Promise.allSettled(services.map(startAfterDeps));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
  if (failures.length) throw new Error(`sandbox up failed:\n${failures.join("\n")}`);
  const d = describe();
  fs.writeFileSync(ENDPOINTS_FILE, JSON.stringify(d.endpoints, null, 2));
  writePrivate(CREDENTIALS_FILE, JSON.stringify(d.credentials, null, 2));
  writePrivate(PLATFORM_FILE, JSON.stringify(platformDescription(), null, 2));
  const seconds = (Date.now() - tInstalled) / 1000;
  say(`all ${services.length} services healthy in ${seconds.toFixed(1)} s (install check ${((tInstalled - t0) / 1000).toFixed(1)} s); endpoints: ${ENDPOINTS_FILE}`);
  return { ...d, seconds };
}

/** Services ordered so that each comes after those it starts after (`after`), list order otherwise. */
export function startOrder(services: readonly SandboxService[]): SandboxService[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: SandboxService[] = [];
  const visit = (s: SandboxService, path: string[]) => {
    if (ordered.includes(s)) return;
    if (path.includes(s.name)) throw new Error(`sandbox services start after each other in a cycle: ${[...path, s.name].join(" -> ")}`);
    for (const d of s.after) visit(byName.get(d) ?? (() => { throw new Error(`${s.name} starts after unknown service ${d}`); })(), [...path, s.name]);
    ordered.push(s);
  };
  for (const s of services) visit(s, []);
  return ordered;
}

/**
 * Stops exactly the processes `up` started (by pid), dependants first: PostgreSQL archives its last
 * WAL through the TLS hop to MinIO while it shuts down, so those stop after it.
 */
export async function down(): Promise<string[]> {
  const stopped: string[] = [];
  for (const svc of startOrder(sandboxServices()).reverse()) {
    if (await stop(svc.name, svc.stop)) stopped.push(svc.name);
  }
  return stopped;
}

export interface ServiceStatus {
  readonly name: string;
  readonly healthy: boolean;
  readonly port: number;
  readonly pid?: number;
}

export async function status(): Promise<ServiceStatus[]> {
  const p = ports();
  return Promise.all(
    sandboxServices().map(async (svc) => {
      const pid = runningPid(svc.name);
      let healthy = false;
      if (pid !== undefined) {
        try {
          healthy = await svc.healthy();
        } catch {
          healthy = false;
        }
      }
      return { name: svc.name, healthy, port: p[svc.port], pid };
    }),
  );
}

/**
 * A kafkajs client for the sandbox's broker: by default the super user on the internal listener (the
 * tests and the bench act as the operator: they create topics and feed any of them); `as` a client's
 * user, that client's SCRAM login with only its own ACLs.
 */
export function sandboxKafka(clientId: string, quiet = false, as?: string) {
  const { endpoints, credentials } = describe();
  const { Kafka, logLevel } = require("kafkajs") as typeof import("kafkajs");
  const password = as === undefined ? undefined : credentials.kafka.users[as];
  if (as !== undefined && password === undefined) throw new Error(`no Kafka user ${as} in the sandbox (users: ${endpoints.kafka.users.join(", ")})`);
  return new Kafka({
    clientId,
    brokers: [as === undefined ? endpoints.kafka.adminBootstrapServers : endpoints.kafka.bootstrapServers],
    sasl: as === undefined ? { mechanism: "plain", username: endpoints.kafka.adminUser, password: credentials.kafka.adminPassword } : { mechanism: "scram-sha-512", username: as, password: password! },
    logLevel: quiet ? logLevel.ERROR : logLevel.WARN,
  });
}
