import * as pulumi from "@pulumi/pulumi";
import { StackConfig, sizingTotals } from "./config";
import { PlatformCredentials, PlatformEndpoints } from "./contracts";
import { createTarget } from "./platform/targets";
import { DatabaseName, DATABASES, Postgres } from "./services/postgres";
import { Redis } from "./services/redis";
import { Kafka } from "./services/kafka";
import { FlinkCluster } from "./flink/cluster";
import { StreamPark } from "./streampark/streampark";
import { StarRocks } from "./starrocks/starrocks";
import { Collector } from "./collector/collector";
import { JobLineage, jobLineage } from "./jobs/lineage";
import { Minio } from "./storage/minio";
import { S3Store } from "./storage/s3";
import { ObjectStore } from "./storage/types";

type OutputsOf<T> = pulumi.Output<T>;

/** The platform: every service of the stack, composed. index.ts only exports what this returns. */
export class Platform extends pulumi.ComponentResource {
  readonly endpoints: OutputsOf<PlatformEndpoints>;
  readonly credentials: OutputsOf<PlatformCredentials>;
  readonly sizing: ReturnType<typeof sizingTotals>;
  /** Which tables each job of the job table reads and writes, derived from its SQL. */
  readonly lineage: readonly JobLineage[];

  constructor(name: string, cfg: StackConfig, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:index:Platform", name, {}, opts);
    const target = createTarget(cfg, this);

    const objectStore: ObjectStore =
      cfg.objectStore.kind === "s3"
        ? new S3Store("objectstore", { config: cfg }, { parent: this })
        : new Minio("objectstore", { config: cfg, target }, { parent: this });
    const postgres = new Postgres("postgres", { config: cfg, target }, { parent: this });
    const redis = new Redis("redis", { config: cfg, target }, { parent: this });
    const kafka = new Kafka("kafka", { config: cfg, target }, { parent: this });
    const flink = new FlinkCluster("flink", { config: cfg, target, objectStore: objectStore.connection }, { parent: this });
    const streampark = new StreamPark(
      "streampark",
      {
        config: cfg,
        target,
        flinkImage: flink.image,
        flinkRestUrl: flink.restUrl,
        postgres: { host: postgres.host, port: postgres.port, credentials: postgres.databases.streampark },
      },
      { parent: this },
    );
    const starrocks = new StarRocks("starrocks", { config: cfg, target, objectStore: objectStore.connection }, { parent: this });
    const collector = new Collector(
      "collector",
      {
        config: cfg,
        target,
        kafka: { bootstrapServers: kafka.bootstrapServers, user: kafka.clientUser, password: kafka.clientPassword },
        redis: { host: redis.host, port: redis.port, password: redis.password },
      },
      { parent: this, dependsOn: [kafka.topicsReady] },
    );

    const os = objectStore.connection;
    const dbNames = Object.keys(DATABASES) as DatabaseName[];
    this.endpoints = pulumi.output({
      objectStore: { kind: os.kind, endpoint: os.endpoint, region: os.region, pathStyle: os.pathStyle, buckets: os.buckets },
      postgres: {
        host: postgres.host,
        port: postgres.port,
        databases: Object.fromEntries(
          dbNames.map((k) => [
            k,
            { database: DATABASES[k], user: postgres.databases[k].apply((c) => c.user), jdbcUrl: postgres.jdbcUrl(k) },
          ]),
        ) as Record<DatabaseName, { database: string; user: pulumi.Output<string>; jdbcUrl: pulumi.Output<string> }>,
      },
      redis: { host: redis.host, port: redis.port },
      kafka: { bootstrapServers: kafka.bootstrapServers, user: kafka.clientUser, replicationFactor: kafka.replicationFactor },
      flink: { restUrl: flink.restUrl, sqlGatewayUrl: flink.sqlGatewayUrl, image: flink.image, slots: flink.slots },
      streampark: { url: streampark.url },
      starrocks: { jdbcUrl: starrocks.jdbcUrl, loadUrl: starrocks.loadUrl, user: "root" },
      collector: { url: collector.url },
    }) as OutputsOf<PlatformEndpoints>;
    this.credentials = pulumi.secret({
      objectStore: { accessKey: os.accessKey, secretKey: os.secretKey },
      postgres: Object.fromEntries(dbNames.map((k) => [k, { password: postgres.databases[k].apply((c) => c.password) }])) as Record<
        DatabaseName,
        { password: pulumi.Output<string> }
      >,
      redis: { password: redis.password },
      kafka: { password: kafka.clientPassword },
      streampark: { adminPassword: streampark.adminPassword },
      starrocks: { rootPassword: starrocks.rootPassword },
    }) as OutputsOf<PlatformCredentials>;
    this.sizing = sizingTotals(cfg.sizing);
    this.lineage = jobLineage(cfg.jobs);
    this.registerOutputs({ endpoints: this.endpoints, credentials: this.credentials });
  }
}
