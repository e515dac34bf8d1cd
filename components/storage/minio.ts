import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../config";
import { Target, portOf, revisionOf, ServiceSpec } from "../platform/service";
import { password } from "../config/secrets";
import { minioMetricsToken } from "../platform/metricsAuth";
import { APP_BUCKETS, archiveReaderStatements, archiveWriterStatements, bucketAccessStatements, bucketNames, BucketRole, Connection, isVersioned, lifecycleRules, ObjectStore, ObjectStoreEndpoint } from "./types";

export interface MinioArgs {
  /** The server's image and sizing. */
  readonly server: Workload;
  /** The MinIO client image of the bucket task. */
  readonly clientImage: string;
  /** Size of the data volume (rtdw:volumes.minio). */
  readonly volumeGiB: number;
  /** The stack's name: names the application and backup identities. */
  readonly stack: string;
  /** Buckets are `<prefix>-warehouse`, `-checkpoints`, `-starrocks`, `-backups`. */
  readonly bucketPrefix: string;
  /** Days a deleted checkpoint or savepoint stays recoverable as a noncurrent version. */
  readonly savepointRetentionDays: number;
  /** Days the collector's raw archive keeps an event (rtdw:collector.archiveDays). */
  readonly archiveDays: number;
  /** Where the server and its bootstrap task run. */
  readonly target: Target;
}

const BOOTSTRAP = `#!/bin/sh
# Idempotent: buckets, versioning where it serves recovery, the lifecycle rules, and one least-privilege
# user per client (the application; PostgreSQL's backups; the collector's archive writer).
set -eu
n=0
until mc alias set rtdw "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null; do
  n=$((n+1)); [ "$n" -lt 60 ] || { echo "MinIO at $MINIO_URL did not answer" >&2; exit 1; }; sleep 2
done
for b in $VERSIONED_BUCKETS; do
  mc mb --ignore-existing "rtdw/$b"
  mc version enable "rtdw/$b"
  mc ilm import "rtdw/$b" < "/bootstrap/lifecycle-$b.json"
done
for b in $UNVERSIONED_BUCKETS; do
  mc mb --ignore-existing "rtdw/$b"
  # Versioning suspended where it only keeps deleted data files (a bucket once versioned cannot be unversioned).
  if mc version info "rtdw/$b" | grep -q -i enabled; then mc version suspend "rtdw/$b"; fi
  mc ilm import "rtdw/$b" < "/bootstrap/lifecycle-$b.json"
done
mc admin policy create rtdw rtdw-app /bootstrap/policy.json
mc admin user add rtdw "$APP_ACCESS_KEY" "$APP_SECRET_KEY"
mc admin policy attach rtdw rtdw-app --user "$APP_ACCESS_KEY" 2>/dev/null || true
mc admin policy create rtdw rtdw-backup /bootstrap/backup-policy.json
mc admin user add rtdw "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY"
mc admin policy attach rtdw rtdw-backup --user "$BACKUP_ACCESS_KEY" 2>/dev/null || true
mc admin policy create rtdw rtdw-archive /bootstrap/archive-policy.json
mc admin user add rtdw "$ARCHIVE_ACCESS_KEY" "$ARCHIVE_SECRET_KEY"
mc admin policy attach rtdw rtdw-archive --user "$ARCHIVE_ACCESS_KEY" 2>/dev/null || true
echo "minio bootstrap done: $VERSIONED_BUCKETS (versioned) $UNVERSIONED_BUCKETS"
`;

/** MinIO with the platform's buckets and an application identity limited to them. */
export class Minio extends pulumi.ComponentResource implements ObjectStore {
  readonly connection: Connection<ObjectStoreEndpoint>;
  readonly peer = { service: "minio", port: "s3" } as const;
  readonly kind = "minio" as const;
  /** Root credentials, for operators only (secret). */
  readonly rootPassword: pulumi.Output<string>;

  constructor(name: string, args: MinioArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:storage:Minio", name, {}, opts);
    const rootUser = "rtdw-root";
    this.rootPassword = password(`${name}-root-password`, this, "minioRootPassword");
    const appSecret = password(`${name}-app-secret`, this);
    const appAccessKey = `rtdw-app-${args.stack}`;
    const backupSecret = password(`${name}-backup-secret`, this);
    const backupAccessKey = `rtdw-backup-${args.stack}`;
    const archiveSecret = password(`${name}-archive-secret`, this);
    const archiveAccessKey = `rtdw-archive-${args.stack}`;
    const buckets = bucketNames(args.bucketPrefix);

    const spec: ServiceSpec = {
      name: "minio",
      image: args.server.image,
      args: ["server", "/data", "--address", ":9000", "--console-address", ":9001"],
      ports: [
        { name: "s3", port: 9000 },
        { name: "console", port: 9001 },
      ],
      // Metrics require a JWT signed with the root secret (MinIO's default "jwt" auth type).
      env: { MINIO_ROOT_USER: rootUser, MINIO_BROWSER_REDIRECT: "false" },
      metrics: { port: "s3", path: "/minio/v2/metrics/cluster", auth: { bearer: this.rootPassword.apply((pw) => minioMetricsToken(rootUser, pw)) } },
      secretEnv: { MINIO_ROOT_PASSWORD: this.rootPassword },
      volumes: [{ name: "data", mountPath: "/data", sizeGiB: args.volumeGiB, configKey: "volumes.minio" }],
      sizing: args.server.sizing,
      readiness: { http: { path: "/minio/health/ready", port: 9000 } },
      liveness: { http: { path: "/minio/health/live", port: 9000 } },
      security: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
    };
    const server = args.target.deployService(spec, this);
    const url = pulumi.interpolate`http://${server.host}:${portOf(spec, "s3")}`;

    const allBuckets = Object.values(buckets);
    const policyFor = (roles: readonly BucketRole[]) => JSON.stringify({ Version: "2012-10-17", Statement: bucketAccessStatements(roles.map((r) => `arn:aws:s3:::${buckets[r]}`)) });
    const archiveArn = `arn:aws:s3:::${buckets.archive}`;
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [...bucketAccessStatements(APP_BUCKETS.map((r) => `arn:aws:s3:::${buckets[r]}`)), ...archiveReaderStatements(archiveArn)] });
    const backupPolicy = policyFor(["backups"]);
    const archivePolicy = JSON.stringify({ Version: "2012-10-17", Statement: archiveWriterStatements(archiveArn) });
    const roles = Object.keys(buckets) as BucketRole[];
    const lifecycles = Object.fromEntries(roles.map((role) => [`lifecycle-${buckets[role]}.json`, JSON.stringify({ Rules: lifecycleRules(role, args.savepointRetentionDays, args.archiveDays) })]));
    const bootstrap = args.target.runTask(
      {
        name: "minio-bootstrap",
        revision: revisionOf(BOOTSTRAP, policy, backupPolicy, archivePolicy, JSON.stringify(lifecycles), allBuckets),
        image: args.clientImage,
        command: ["/bin/sh", "/bootstrap/bootstrap.sh"],
        env: {
          MINIO_URL: url,
          VERSIONED_BUCKETS: roles.filter(isVersioned).map((r) => buckets[r]).join(" "),
          UNVERSIONED_BUCKETS: roles.filter((r) => !isVersioned(r)).map((r) => buckets[r]).join(" "),
          APP_ACCESS_KEY: appAccessKey, BACKUP_ACCESS_KEY: backupAccessKey, ARCHIVE_ACCESS_KEY: archiveAccessKey, MINIO_ROOT_USER: rootUser, MC_CONFIG_DIR: "/tmp/mc" },
        secretEnv: { MINIO_ROOT_PASSWORD: this.rootPassword, APP_SECRET_KEY: appSecret, BACKUP_SECRET_KEY: backupSecret, ARCHIVE_SECRET_KEY: archiveSecret },
        configFiles: [{ dir: "/bootstrap", files: { "bootstrap.sh": BOOTSTRAP, "policy.json": policy, "backup-policy.json": backupPolicy, "archive-policy.json": archivePolicy, ...lifecycles } }],
        security: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
        connectsTo: [this.peer],
      },
      this,
      server.resources,
    );

    // The credentials carry the bootstrap as a dependency: whoever uses them waits for the buckets.
    const afterBootstrap = <T>(v: pulumi.Input<T>) => pulumi.all([v, bootstrap.urn]).apply(([x]) => x as T);
    this.connection = {
      kind: pulumi.output("minio" as const),
      endpoint: url,
      region: pulumi.output("us-east-1"),
      pathStyle: pulumi.output(true),
      accessKey: afterBootstrap(appAccessKey),
      secretKey: afterBootstrap(appSecret),
      backupAccessKey: afterBootstrap(backupAccessKey),
      backupSecretKey: afterBootstrap(backupSecret),
      archiveAccessKey: afterBootstrap(archiveAccessKey),
      archiveSecretKey: afterBootstrap(archiveSecret),
      buckets: pulumi.output(buckets),
    };
    this.registerOutputs({ connection: this.connection });
  }
}
