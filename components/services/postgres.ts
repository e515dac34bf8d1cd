import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ImageBuilds, Sizing, Workload } from "../config";
import { BackupPolicy } from "../config/backupPolicy";
import { portOf, revisionOf, ServiceSpec, Target } from "../platform/service";
import { password } from "../config/secrets";
import { postgresExporter } from "../observability/exporters";
import { BuiltImage } from "../platform/image";
import { ObjectStore } from "../storage/types";
import { archiveSettings, BACKUP_SCHEDULER_SH, BACKUP_SECRET_ENV, BackupRepository, pgBackRestConf, S3_TLS_HOP_SH, S3_TLS_PORT, s3TlsHopConf } from "./pgbackrest";

/** One application database and the role that owns it. */
export interface DatabaseCredentials {
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

/** The databases the platform keeps in PostgreSQL. */
export const DATABASES = {
  /** Paimon JDBC catalog metadata. */
  paimon: "paimon_catalog",
  /** StreamPark's metadata store. */
  streampark: "streampark",
  /** Grafana's database (dashboards, alert state). */
  grafana: "grafana",
  /** Latest data-quality scores (rt-dw-monitor), read by the PostgreSQL exporter and Grafana. */
  quality: "rtdw_quality",
} as const;
export type DatabaseName = keyof typeof DATABASES;

/** One value per database, keyed by its name: a record the compiler knows is complete. */
export function perDatabase<T>(value: (name: DatabaseName, database: string) => T): Record<DatabaseName, T> {
  return { paimon: value("paimon", DATABASES.paimon), quality: value("quality", DATABASES.quality), streampark: value("streampark", DATABASES.streampark), grafana: value("grafana", DATABASES.grafana) };
}

export interface PostgresArgs {
  /** The server's base image (the stack adds pgBackRest and stunnel to it) and sizing. */
  readonly server: Workload;
  /** The backup scheduler's sizing (a sidecar on the server's image). */
  readonly backupSizing: Sizing;
  /** The exporter's image and sizing. */
  readonly exporter: Workload;
  /** Size of the data volume (rtdw:volumes.postgres). */
  readonly volumeGiB: number;
  /** What the backups keep and how often they run (rtdw:postgresBackups). */
  readonly backups: BackupPolicy;
  /** The jobs' time zone: the exporter's freshness queries read dt/hr partitions in it. */
  readonly timeZone: string;
  /** Where the built server image goes. */
  readonly images: ImageBuilds;
  /** Where the server and its bootstrap task run. */
  readonly target: Target;
  /** Where the WAL archive and base backups go (its backups bucket, with the backup-only identity). */
  readonly objectStore: ObjectStore;
}

/** Paths in the PostgreSQL pod: all on the data volume, so the server and the backup sidecar share them. */
const VOLUME = "/var/lib/postgresql/data";
const BACKUP_PATHS = {
  conf: "/etc/rtdw-backup/pgbackrest.conf",
  socket: `${VOLUME}/run`,
  work: `${VOLUME}/pgbackrest`,
  tls: `${VOLUME}/pgbackrest/tls`,
  stunnel: "/etc/rtdw-backup/stunnel.conf",
};

/** The sidecar with MinIO: the TLS hop kept running (archive_command needs it too), and the scheduler. */
const HOP_AND_SCHEDULER_SH = `(while :; do sh /etc/rtdw-backup/s3-tls-hop.sh; echo "TLS hop to MinIO exited; restarting in 5 s" >&2; sleep 5; done) &
exec sh /etc/rtdw-backup/scheduler.sh`;

/** The image's entrypoint, after creating the folders the server and its sidecar share. */
const SERVER_START_SH = `mkdir -p ${BACKUP_PATHS.socket} ${BACKUP_PATHS.tls} && exec docker-entrypoint.sh "$@"`;

/**
 * Idempotent: each role is created if missing and its password (re)set, so rotating a password is
 * a config change; each database is owned by its role and closed to PUBLIC. Passwords come from the
 * environment (psql \getenv, as <KEY>_PASSWORD), never from this file. The local sandbox runs the same script.
 */
/** The exporter's role: pg_monitor's statistics and read access to the quality scores, nothing else. */
export const POSTGRES_MONITOR_ROLE = "rtdw_monitor";

export const BOOTSTRAP_SQL = Object.entries(DATABASES)
  .map(([key, db]) => {
    const role = `${db}_app`;
    const v = `${key}_pw`;
    return `\\getenv ${v} ${key.toUpperCase()}_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', '${role}') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') \\gexec
ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'${v}';
SELECT format('CREATE DATABASE %I OWNER %I', '${db}', '${role}') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${db}') \\gexec
REVOKE ALL ON DATABASE ${db} FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role};
`;
  })
  .join("\n")
  .concat(
    `
\\getenv monitor_pw MONITOR_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', '${POSTGRES_MONITOR_ROLE}') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_MONITOR_ROLE}') \\gexec
ALTER ROLE ${POSTGRES_MONITOR_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'monitor_pw';
GRANT pg_monitor TO ${POSTGRES_MONITOR_ROLE};
GRANT CONNECT ON DATABASE ${DATABASES.quality} TO ${POSTGRES_MONITOR_ROLE};
`,
    // Schemas owned by the application role, so the app never needs more than its own database.
    `\n\\connect ${DATABASES.quality}\nSET ROLE ${DATABASES.quality}_app;\n`,
    fs.readFileSync(path.resolve(__dirname, "../../sql/postgres/rtdw_quality.sql"), "utf8"),
    `\nGRANT SELECT ON dq_table_quality TO ${POSTGRES_MONITOR_ROLE};\n`,
  );

/**
 * postgres_exporter's custom query: the newest hour's score of each table, as rtdw_quality_score,
 * _anomaly_ratio, _completeness and _last_event_timestamp_seconds (the alerts and the quality
 * dashboard read these). last_event_ts is wall-clock time in the jobs' time zone.
 */
export function postgresExporterQueries(timeZone: string): string {
  const tz = timeZone.replace(/'/g, "''");
  return YAML.stringify({
    rtdw_quality: {
      query: `SELECT table_name, quality_score AS score, anomaly_ratio, completeness, EXTRACT(EPOCH FROM last_event_ts AT TIME ZONE '${tz}') AS last_event_timestamp_seconds
FROM (SELECT DISTINCT ON (table_name) * FROM dq_table_quality ORDER BY table_name, dt DESC, hr DESC) newest`,
      master: true,
      metrics: [
        { table_name: { usage: "LABEL", description: "Source table (database.table)" } },
        { score: { usage: "GAUGE", description: "Quality score 0-100 of the newest hour: 100 x (1 - anomaly ratio) x completeness" } },
        { anomaly_ratio: { usage: "GAUGE", description: "Rejected rows / total rows of the newest hour" } },
        { completeness: { usage: "GAUGE", description: "Share of rows with every required field, newest hour" } },
        { last_event_timestamp_seconds: { usage: "GAUGE", description: "Source time of the newest change seen, Unix seconds" } },
      ],
    },
    // pgBackRest's archive_command as PostgreSQL sees it: a segment it could not archive stays on the
    // volume (and is retried) — what a lost volume would lose, and what fills the volume meanwhile.
    rtdw_wal_archive: {
      query: `SELECT archived_count, failed_count,
  CASE WHEN last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time > last_archived_time) THEN 1 ELSE 0 END AS failing
FROM pg_stat_archiver`,
      master: true,
      metrics: [
        { archived_count: { usage: "COUNTER", description: "WAL segments archived by pgBackRest" } },
        { failed_count: { usage: "COUNTER", description: "Failed attempts to archive a WAL segment" } },
        { failing: { usage: "GAUGE", description: "1 while the newest archive attempt failed" } },
      ],
    },
  });
}

/** PostgreSQL 16: catalog and metadata store, with one least-privilege role per application. */
export class Postgres extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** Superuser password, for operators only (secret). */
  readonly adminPassword: pulumi.Output<string>;
  readonly databases: Readonly<Record<DatabaseName, pulumi.Output<DatabaseCredentials>>>;

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:data:Postgres", name, {}, opts);
    const adminUser = "rtdw_admin";
    this.adminPassword = password(`${name}-admin-password`, this, "postgresPassword");
    const sharedBuffersMiB = Math.max(32, Math.floor(args.server.sizing.memoryMiB / 4));

    // The server image with pgBackRest (WAL archive, backups, restore) and stunnel (the TLS hop to MinIO).
    const image = new BuiltImage(
      `${name}-image`,
      { builds: args.images, context: "services/postgres-image", buildArgs: { BASE: args.server.image }, fingerprint: { base: args.server.image }, repository: "postgres" },
      { parent: this },
    );
    const os = args.objectStore.connection;
    const minio = args.objectStore.kind === "minio";
    // AWS S3 directly over HTTPS; MinIO through the sidecar's loopback hop (pgbackrest.ts).
    const repository = pulumi.all([os.endpoint, os.region, os.buckets]).apply(([endpoint, region, buckets]): BackupRepository => {
      const u = new URL(endpoint);
      return minio
        ? { host: "127.0.0.1", port: S3_TLS_PORT, bucket: buckets.backups, region, uriStyle: "path", verifyTls: false }
        : { host: u.hostname, port: Number(u.port || 443), bucket: buckets.backups, region, uriStyle: "host", verifyTls: true };
    });
    const pgbackrestConf = repository.apply((repo) => pgBackRestConf(repo, args.backups, { pgPath: `${VOLUME}/pgdata`, pgPort: 5432, socketPath: BACKUP_PATHS.socket, pgUser: adminUser, workPath: BACKUP_PATHS.work }));
    const cipher = password(`${name}-backup-cipher`, this, "postgresBackupCipher");
    const backupSecrets = { [BACKUP_SECRET_ENV.accessKey]: os.backupAccessKey, [BACKUP_SECRET_ENV.secretKey]: os.backupSecretKey, [BACKUP_SECRET_ENV.cipherPass]: cipher };
    const backupConfig = {
      dir: "/etc/rtdw-backup",
      files: {
        "pgbackrest.conf": pgbackrestConf,
        "scheduler.sh": BACKUP_SCHEDULER_SH,
        ...(minio ? { "stunnel.conf": pulumi.output(os.endpoint).apply((e) => { const u = new URL(e); return s3TlsHopConf({ acceptPort: S3_TLS_PORT, connectHost: u.hostname, connectPort: Number(u.port || 80), certFile: `${BACKUP_PATHS.tls}/hop.crt`, keyFile: `${BACKUP_PATHS.tls}/hop.key` }); }), "s3-tls-hop.sh": S3_TLS_HOP_SH } : {}),
      },
    };

    const spec: ServiceSpec = {
      name: "postgres",
      image: image.ref,
      command: ["sh", "-c", SERVER_START_SH, "rtdw-postgres"],
      args: [
        "postgres", "-c", `shared_buffers=${sharedBuffersMiB}MB`, "-c", "max_connections=200", "-c", "password_encryption=scram-sha-256",
        "-c", `unix_socket_directories=/var/run/postgresql,${BACKUP_PATHS.socket}`,
        ...archiveSettings(BACKUP_PATHS.conf, args.backups),
      ],
      ports: [{ name: "postgres", port: 5432 }],
      env: { POSTGRES_USER: adminUser, POSTGRES_DB: "postgres", PGDATA: `${VOLUME}/pgdata` },
      // archive_command runs in the server's container: the repository's keys and passphrase reach pgBackRest from here.
      secretEnv: { POSTGRES_PASSWORD: this.adminPassword, ...backupSecrets },
      configFiles: [backupConfig],
      connectsTo: [args.objectStore.peer],
      sidecars: [
        {
          name: "backup",
          image: image.ref,
          command: ["sh", "-c", minio ? HOP_AND_SCHEDULER_SH : "exec sh /etc/rtdw-backup/scheduler.sh"],
          env: {
            PGBACKREST_CONFIG: BACKUP_PATHS.conf, PGHOST: BACKUP_PATHS.socket, PGPORT: "5432", BACKUP_WORK: BACKUP_PATHS.work,
            FULL_EVERY_DAYS: String(args.backups.fullEveryDays), DIFF_EVERY_HOURS: String(args.backups.diffEveryHours),
            TLS_DIR: BACKUP_PATHS.tls, STUNNEL_CONF: "/etc/rtdw-backup/stunnel.conf",
          },
          secretEnv: backupSecrets,
          configFiles: [backupConfig],
          sizing: args.backupSizing,
          scratchDirs: ["/tmp"],
          connectsTo: [args.objectStore.peer],
        },
      ],
      volumes: [{ name: "data", mountPath: VOLUME, sizeGiB: args.volumeGiB, configKey: "volumes.postgres" }],
      sizing: args.server.sizing,
      readiness: { exec: ["pg_isready", "-h", "127.0.0.1", "-U", adminUser, "-d", "postgres"] },
      startupSeconds: 120,
      security: { runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/var/run/postgresql", "/tmp"] },
    };
    const server = args.target.deployService(spec, this);
    this.host = server.host;
    this.port = pulumi.output(portOf(spec, "postgres"));

    const passwords = perDatabase((k) => password(`${name}-${k}-password`, this));

    const monitorPassword = password(`${name}-monitor-password`, this);
    const bootstrap = args.target.runTask(
      {
        name: "postgres-bootstrap",
        revision: revisionOf(BOOTSTRAP_SQL),
        image: args.server.image,
        command: ["sh", "-c", 'until pg_isready -q; do sleep 2; done; exec psql -v ON_ERROR_STOP=1 -f /bootstrap/bootstrap.sql'],
        env: { PGHOST: server.host, PGPORT: "5432", PGUSER: adminUser, PGDATABASE: "postgres" },
        secretEnv: {
          PGPASSWORD: this.adminPassword,
          ...Object.fromEntries(Object.entries(passwords).map(([k, v]) => [`${k.toUpperCase()}_PASSWORD`, v])),
          MONITOR_PASSWORD: monitorPassword,
        },
        configFiles: [{ dir: "/bootstrap", files: { "bootstrap.sql": BOOTSTRAP_SQL } }],
        security: { runAsUser: 999, runAsGroup: 999, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
        connectsTo: [{ service: "postgres", port: "postgres" }],
      },
      this,
      server.resources,
    );

    args.target.deployService(
      postgresExporter(args.exporter, {
        host: server.host,
        database: DATABASES.quality,
        user: POSTGRES_MONITOR_ROLE,
        password: monitorPassword,
        queries: postgresExporterQueries(args.timeZone),
        scrapePassword: password(`${name}-exporter-scrape-password`, this),
      }),
      this,
      [bootstrap],
    );

    this.databases = perDatabase((k, db) => pulumi.all([passwords[k], bootstrap.urn]).apply(([pw]): DatabaseCredentials => ({ database: db, user: `${db}_app`, password: pw })));
    this.registerOutputs({ host: this.host, port: this.port });
  }

  /** JDBC URL of one database, built from the server's own address output. */
  jdbcUrl(db: DatabaseName): pulumi.Output<string> {
    return pulumi.interpolate`jdbc:postgresql://${this.host}:${this.port}/${DATABASES[db]}`;
  }
}
