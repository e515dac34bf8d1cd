import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ImageBuilds, Workload } from "../config";
import { flinkImageFingerprint } from "../flink/artifacts";
import { BuiltImage } from "../platform/image";
import { portOf, revisionOf, ServiceSpec, Target } from "../platform/service";
import { password } from "../config/secrets";
import { DatabaseCredentials } from "../services/postgres";

export interface StreamParkArgs {
  /** The console's base image (the stack adds a Flink home to it) and sizing. */
  readonly console: Workload;
  /** The pinned Flink image the stack's Flink image is built on: part of what identifies the console's image. */
  readonly flinkBaseImage: string;
  /** Where the built console image goes. */
  readonly images: ImageBuilds;
  /** Where the console and its tasks run. */
  readonly target: Target;
  /** The stack's Flink image: its /opt/flink becomes StreamPark's Flink home. */
  readonly flinkImage: pulumi.Input<string>;
  /** The JobManager Services of the session clusters the console reaches (their REST ports). */
  readonly flinkJobManagers: readonly string[];
  /** PostgreSQL address and StreamPark's database role. */
  readonly postgres: { readonly host: pulumi.Input<string>; readonly port: pulumi.Input<number>; readonly credentials: pulumi.Input<DatabaseCredentials> };
}

export const STREAMPARK_ADMIN_SQL = fs.readFileSync(path.join(__dirname, "admin.sql"), "utf8");
/**
 * The Flink home inside the console's container (the stack's image copies the Flink image's there):
 * StreamPark registers a Flink environment only by a path that exists where it runs. The jobs'
 * backend registers it, and the session cluster, itself (components/jobs/streampark.ts).
 */
export const STREAMPARK_FLINK_HOME = "/opt/flink";

/**
 * StreamPark 2.1.5 (the first 2.1 release with Flink 1.20 shims; its console answers are what the jobs backend follows), for teams that operate jobs from its console:
 * metadata in PostgreSQL through its mounted config.yaml, its schema loaded by a task, the default
 * admin password replaced by a generated secret, and the stack's Flink home and session cluster
 * registered so jobs can target them.
 */
export class StreamPark extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: StreamParkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:flink:StreamPark", name, {}, opts);
    this.adminPassword = password(`${name}-admin-password`, this, "streamparkAdminPassword");
    const image = new BuiltImage(
      `${name}-image`,
      { builds: args.images, context: "streampark/image", repository: "streampark", buildArgs: { BASE: args.console.image, FLINK: args.flinkImage }, fingerprint: [args.console.image, args.flinkBaseImage, ...flinkImageFingerprint()] },
      { parent: this },
    );
    const db = pulumi.output(args.postgres.credentials);
    const jdbcUrl = pulumi.interpolate`jdbc:postgresql://${args.postgres.host}:${args.postgres.port}/${db.database}?stringtype=unspecified`;
    const heapMiB = Math.floor(args.console.sizing.memoryMiB * 0.6);
    const unprivileged = { runAsUser: 10000, runAsGroup: 10000, fsGroup: 10000, runAsNonRoot: true } as const;

    const schema = args.target.runTask(
      {
        name: "streampark-schema",
        revision: revisionOf(STREAMPARK_ADMIN_SQL),
        image: image.ref,
        command: ["sh", "-c", "until pg_isready -q; do sleep 2; done; exec psql -v ON_ERROR_STOP=1 -f /task/admin.sql"],
        env: { PGHOST: args.postgres.host, PGPORT: pulumi.output(args.postgres.port).apply(String), PGDATABASE: db.database, PGUSER: db.user },
        secretEnv: { PGPASSWORD: db.password, STREAMPARK_ADMIN_PASSWORD: this.adminPassword },
        configFiles: [{ dir: "/task", files: { "admin.sql": STREAMPARK_ADMIN_SQL } }],
        security: { ...unprivileged, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
        connectsTo: [{ service: "postgres", port: "postgres" }],
      },
      this,
      [],
    );

    const config = pulumi.interpolate`server:
  port: 10000
datasource:
  dialect: pgsql
  url: ${jdbcUrl}
  username: ${db.user}
  password: ${db.password}
streampark:
  workspace:
    local: /var/lib/streampark
`;
    const spec: ServiceSpec = {
      name: "streampark",
      image: image.ref,
      // The mounted file is copied over the image's default config.yaml before StreamPark starts.
      command: ["sh", "-c", "cp /etc/rtdw-streampark/config.yaml /streampark/conf/config.yaml && exec /streampark/bin/streampark.sh start_docker"],
      ports: [{ name: "http", port: 10000 }],
      env: { JAVA_OPTS: `-Xms${heapMiB}m -Xmx${heapMiB}m`, FLINK_HOME: STREAMPARK_FLINK_HOME },
      secretFiles: [{ dir: "/etc/rtdw-streampark", files: { "config.yaml": config } }],
      sizing: args.console.sizing,
      readiness: { tcp: { port: 10000 } },
      startupSeconds: 240,
      // The stack's image (streampark/image) owns the install and workspace by user 10000.
      security: { ...unprivileged, readOnlyRootFilesystem: false },
      connectsTo: [
        { service: "postgres", port: "postgres" },
        ...args.flinkJobManagers.map((service) => ({ service, port: "rest" })),
      ],
    };
    // The console starts only once its schema exists.
    const server = args.target.deployService(spec, this, [schema]);
    this.url = pulumi.interpolate`http://${server.host}:${portOf(spec, "http")}`;

    this.registerOutputs({ url: this.url });
  }
}
