import * as pulumi from "@pulumi/pulumi";
import { imageBuilds, podGroups, StackConfig, sizingTotals, suppliedSecret, workload } from "./config";
import { PlatformCredentials, PlatformEndpoints } from "./contracts";
import { COLLECTOR_KAFKA_USER, KAFKA_SCRAM_MECHANISM } from "./pipelines/kafkaAccess";
import { createTarget } from "./platform/targets";
import { Peer, Target } from "./platform/service";
import { DATABASES, perDatabase, Postgres } from "./services/postgres";
import { Redis } from "./services/redis";
import { Kafka } from "./services/kafka";
import { FlinkCluster } from "./flink/cluster";
import { FLINK_PORTS } from "./flink/properties";
import { StreamPark, STREAMPARK_FLINK_HOME } from "./streampark/streampark";
import { jobClusterName } from "./config/flinkSizing";
import { StarRocks } from "./starrocks/starrocks";
import { DwsTables } from "./starrocks/dwsTable";
import { Collector } from "./collector/collector";
import { JobLineage, jobLineage } from "./jobs/lineage";
import { FlinkJobs } from "./jobs/jobs";
import { LakeTables } from "./lakehouse/tables";
import { catalogEnvironment, JobCredentials, JobEndpoints } from "./jobs/environment";
import { withSecrets } from "./jobs/render";
import { lakeTables } from "./config/lakehousePolicy";
import { upkeepSidecar, upkeepStatementLines, upkeepStatements } from "./lakehouse/upkeep";
import { Minio } from "./storage/minio";
import { S3Store } from "./storage/s3";
import { ObjectStore } from "./storage/types";
import { Observability } from "./observability/observability";
import { GrafanaProvisioning } from "./observability/grafanaProvisioning";
import { grafanaDesired } from "./observability/grafana";
import { Team } from "./config/teams";
import { dashboards } from "../dashboards";
import { password } from "./config/secrets";
import { SCRAPE_USER } from "./observability/exporters";

/** What the applications need of the services. */
interface ApplicationDeps {
  readonly observability: Observability;
  readonly webhooks: pulumi.Output<Partial<Record<Team, string>>>;
  readonly postgres: Postgres;
  readonly os: ObjectStore["connection"];
  readonly kafka: Kafka;
  readonly starrocks: StarRocks;
  readonly flink: FlinkCluster;
  readonly streampark: StreamPark;
  /** A service URL as the deploying machine reaches it. */
  readonly local: (url: pulumi.Input<string>) => pulumi.Output<string>;
}

/** The platform: every service of the stack, composed. index.ts only exports what this returns. */
export class Platform extends pulumi.ComponentResource {
  readonly endpoints: pulumi.Output<PlatformEndpoints>;
  readonly credentials: pulumi.Output<PlatformCredentials>;
  readonly sizing: ReturnType<typeof sizingTotals>;
  /** Which tables each job of the job table reads and writes, derived from its SQL. */
  readonly lineage: readonly JobLineage[];
  /** One FlinkSqlJob per row of the job table (not with rtdw:deploy "platform"). */
  readonly jobs?: FlinkJobs;
  /** Grafana's folder, alert rules, contact points, policy and dashboards (not with rtdw:deploy "platform"). */
  readonly grafana?: GrafanaProvisioning;

  constructor(name: string, cfg: StackConfig, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:index:Platform", name, {}, opts);
    const target = createTarget(cfg, this);

    const objectStore: ObjectStore =
      cfg.objectStore.kind === "s3"
        ? new S3Store("objectstore", { stack: cfg.stack, region: cfg.objectStore.awsRegion, bucketPrefix: cfg.objectStore.bucketPrefix, savepointRetentionDays: cfg.objectStore.savepointRetentionDays, archiveDays: cfg.archiveDays, protect: cfg.protectStateful }, { parent: this })
        : new Minio(
            "objectstore",
            { server: workload(cfg, "minio"), clientImage: cfg.images.mc, volumeGiB: cfg.volumesGiB.minio, stack: cfg.stack, bucketPrefix: cfg.objectStore.bucketPrefix, savepointRetentionDays: cfg.objectStore.savepointRetentionDays, archiveDays: cfg.archiveDays, target },
            { parent: this },
          );
    const postgres = new Postgres(
      "postgres",
      {
        server: workload(cfg, "postgres"),
        backupSizing: cfg.sizing.postgresBackup,
        exporter: workload(cfg, "postgresExporter"),
        volumeGiB: cfg.volumesGiB.postgres,
        backups: cfg.postgresBackups,
        timeZone: cfg.timeZone,
        images: imageBuilds(cfg),
        target,
        objectStore,
      },
      { parent: this },
    );
    const redis = new Redis("redis", { server: workload(cfg, "redis"), exporter: workload(cfg, "redisExporter"), volumeGiB: cfg.volumesGiB.redis, target }, { parent: this });
    const kafka = new Kafka(
      "kafka",
      { server: workload(cfg, "kafka"), exporter: workload(cfg, "kafkaExporter"), volumeGiB: cfg.volumesGiB.kafka, namespace: cfg.namespace, clusterKey: `${cfg.project}/${cfg.stack}`, topics: cfg.kafkaTopics, lineage: jobLineage(cfg.jobs), target },
      { parent: this },
    );
    // What the jobs' SQL reaches (sql/jobs.yaml): catalog and quality databases, topics, warehouse,
    // StarRocks (Stream Load on the FE, redirected to a compute node) and the business MySQL.
    const catalogPeers: Peer[] = [objectStore.peer, { service: "postgres", port: "postgres" }];
    const kafkaPeers: Peer[] = [{ service: "kafka", port: "kafka" }];
    const starrocksPeers: Peer[] = [
      { service: "starrocks-fe", port: "query" },
      { service: "starrocks-fe", port: "http" },
      { service: "starrocks-cn", port: "http" },
    ];
    const sourcePeers: Peer[] = [{ outside: "business MySQL", ports: [cfg.source.port] }];
    // A job's own cluster reaches what its SQL reads and writes (the lineage), the catalog and object store always.
    const lineage = new Map(jobLineage(cfg.jobs).map((l) => [l.job, l]));
    const jobPeers = (job?: string): Peer[] => {
      const l = job === undefined ? undefined : lineage.get(job);
      const uses = (system: string) => !l || [...l.reads, ...l.writes, ...l.maintains].some((t) => t.startsWith(`${system}:`));
      return [...catalogPeers, ...(uses("kafka") ? kafkaPeers : []), ...(uses("starrocks") ? starrocksPeers : []), ...(uses("mysql") ? sourcePeers : [])];
    };
    const flink = new FlinkCluster("flink", {
        baseImage: cfg.images.flink,
        images: imageBuilds(cfg),
        sizing: { jobManager: cfg.sizing.flinkJobManager, taskManager: cfg.sizing.flinkTaskManager, sqlGateway: cfg.sizing.sqlGateway, jobExporter: cfg.sizing.flinkJobExporter },
        scrape: { user: SCRAPE_USER, password: password("flink-job-exporter-scrape-password", this) },
        flink: cfg.flink,
        namespace: cfg.namespace,
        clusterId: `rtdw-${cfg.stack}`,
        target, objectStore: objectStore.connection, jobPeers, catalogPeers, gatewaySidecars: [
          upkeepSidecar({ policy: cfg.lakehouse, image: cfg.images.curl, sizing: cfg.sizing.lakehouseUpkeep, sqlGatewayPort: FLINK_PORTS.sqlGateway, statements: lakehouseUpkeep(cfg, postgres, objectStore.connection) }),
        ] }, { parent: this });
    const streampark = new StreamPark(
      "streampark",
      {
        console: workload(cfg, "streampark"),
        flinkBaseImage: cfg.images.flink,
        images: imageBuilds(cfg),
        target,
        flinkImage: flink.image,
        flinkJobManagers: cfg.flink.jobClusters.length ? cfg.flink.jobClusters.map((c) => `${c.name}-jobmanager`) : ["flink-jobmanager"],
        postgres: { host: postgres.host, port: postgres.port, credentials: postgres.databases.streampark },
      },
      { parent: this },
    );
    const starrocks = new StarRocks(
      "starrocks",
      {
        frontend: workload(cfg, "starrocksFe"),
        computeNode: workload(cfg, "starrocksCn"),
        volumesGiB: { frontend: cfg.volumesGiB.starrocksFe, computeNode: cfg.volumesGiB.starrocksCn },
        namespace: cfg.namespace,
        materializedViewRefreshMinutes: cfg.lakehouse.materializedViewRefreshMinutes,
        rootRevision: cfg.starrocksRootRevision,
        target,
        objectStore: objectStore.connection,
        objectStorePeer: objectStore.peer,
      },
      { parent: this },
    );
    const collector = new Collector(
      "collector",
      {
        nginx: workload(cfg, "nginx"),
        vector: workload(cfg, "vector"),
        exporter: workload(cfg, "nginxExporter"),
        bufferVolumeGiB: cfg.volumesGiB.vector,
        limits: cfg.collector,
        geoip: cfg.geoip,
        images: imageBuilds(cfg),
        target,
        kafka: { bootstrapServers: kafka.bootstrapServers, user: COLLECTOR_KAFKA_USER, password: kafka.userPasswords.apply((p) => p[COLLECTOR_KAFKA_USER]), caCertificate: kafka.caCertificate },
        redis: { host: redis.host, port: redis.port, password: redis.password },
        archive: {
          bucket: objectStore.connection.buckets.apply((b) => b.archive),
          region: objectStore.connection.region,
          endpoint: objectStore.kind === "minio" ? objectStore.connection.endpoint : undefined,
          accessKey: objectStore.connection.archiveAccessKey,
          secretKey: objectStore.connection.archiveSecretKey,
          peer: objectStore.peer,
        },
      },
      { parent: this, dependsOn: [kafka.topicsReady] },
    );

    const os = objectStore.connection;

    // The providers reach APIs from the deploying machine: published 127.0.0.1 ports on docker, a Kubernetes API tunnel otherwise.
    const local = (url: pulumi.Input<string>) => target.fromDeployer(url);

    // Each team's alert webhook (secret): Alertmanager's receivers and Grafana's contact points.
    const webhooks = (suppliedSecret("alertWebhooks") ?? pulumi.secret("{}")).apply((w) => JSON.parse(w) as Partial<Record<Team, string>>);
    // Last among the services: Prometheus scrapes every service deployed before it that serves metrics.
    const observability = new Observability(
      "observability",
      {
        prometheus: workload(cfg, "prometheus"),
        alertmanager: workload(cfg, "alertmanager"),
        grafana: workload(cfg, "grafana"),
        volumesGiB: { prometheus: cfg.volumesGiB.prometheus, alertmanager: cfg.volumesGiB.alertmanager, grafana: cfg.volumesGiB.grafana },
        retention: cfg.profile === "prod" ? "30d" : "7d",
        alertEvaluator: cfg.alertEvaluator,
        stack: cfg.stack,
        namespace: cfg.namespace,
        target,
        alertWebhooks: webhooks,
        certificates: kafka.certificateNotAfter ? [{ name: "kafka", notAfter: kafka.certificateNotAfter }] : [],
        grafanaDatabase: {
          host: postgres.host,
          port: postgres.port,
          database: DATABASES.grafana,
          user: postgres.databases.grafana.apply((g) => g.user),
          password: postgres.databases.grafana.apply((g) => g.password),
        },
        // Grafana reads dws only (its own StarRocks user); root stays with the bootstrap and operators.
        starrocks: { hostPort: starrocks.jdbcUrl.apply((u) => u.replace(/^jdbc:mysql:\/\//, "")), user: starrocks.dwsReader.user, password: starrocks.dwsReader.password },
      },
      { parent: this },
    );
    // "platform" stops here: the services, their tasks and their policies, without what must talk to
    // running services (Grafana's API, the jobs' backend), e.g. to bring a cluster up, or check one.
    if (cfg.deploy === "all") {
      const applications = this.applications(cfg, target, { observability, webhooks, postgres, os, kafka, starrocks, flink, streampark, local });
      this.grafana = applications.grafana;
      this.jobs = applications.jobs;
    }
    // Every service and task is declared: the network policies follow from what each connects to.
    target.finish();
    this.endpoints = pulumi.output({
      objectStore: { kind: os.kind, endpoint: os.endpoint, region: os.region, pathStyle: os.pathStyle, buckets: os.buckets },
      postgres: {
        host: postgres.host,
        port: postgres.port,
        databases: perDatabase((k, database) => ({ database, user: postgres.databases[k].apply((c) => c.user), jdbcUrl: postgres.jdbcUrl(k) })),
      },
      redis: { host: redis.host, port: redis.port },
      kafka: { bootstrapServers: kafka.bootstrapServers, securityProtocol: kafka.securityProtocol, saslMechanism: KAFKA_SCRAM_MECHANISM, users: kafka.clients.map((c) => c.user), replicationFactor: kafka.replicationFactor },
      flink: {
        restUrl: flink.restUrl,
        clusters: cfg.flink.jobClusters.length ? pulumi.output(Object.fromEntries(Object.entries(flink.jobClusters).map(([job, c]) => [job, c.restUrl]))) : undefined,
        sqlGatewayUrl: flink.sqlGatewayUrl,
        image: flink.image,
        slots: flink.slots,
      },
      streampark: { url: streampark.url },
      observability: { prometheusUrl: observability.prometheusUrl, alertmanagerUrl: observability.alertmanagerUrl, grafanaUrl: observability.grafanaUrl },
      starrocks: { jdbcUrl: starrocks.jdbcUrl, loadUrl: starrocks.loadUrl, user: "root" },
      collector: { url: collector.url },
    });
    this.credentials = pulumi.secret({
      objectStore: { accessKey: os.accessKey, secretKey: os.secretKey },
      postgres: perDatabase((k) => ({ password: postgres.databases[k].apply((c) => c.password) })),
      redis: { password: redis.password },
      kafka: { users: kafka.userPasswords },
      streampark: { adminPassword: streampark.adminPassword },
      starrocks: { rootPassword: starrocks.rootPassword },
      observability: { prometheusPassword: observability.prometheusPassword, grafanaAdminPassword: observability.grafanaAdminPassword },
    });
    this.sizing = sizingTotals(podGroups(cfg));
    this.lineage = jobLineage(cfg.jobs);
    this.registerOutputs({ endpoints: this.endpoints, credentials: this.credentials });
  }

  /** What talks to running services: Grafana's provisioning and the jobs (with the lake check after them). */
  private applications(cfg: StackConfig, target: Target, d: ApplicationDeps): { grafana: GrafanaProvisioning; jobs: FlinkJobs } {
    const { observability, webhooks, postgres, os, kafka, starrocks, flink, streampark, local } = d;
    const grafana = new GrafanaProvisioning(
      "grafana-provisioning",
      {
        url: local(observability.grafanaUrl),
        tunnel: target.kind === "kubernetes" ? { context: cfg.kubernetesContext } : undefined,
        auth: observability.grafanaAdminPassword.apply((password) => ({ user: "admin", password })),
        // Which teams have a webhook is not secret; their URLs are.
        desired: pulumi.unsecret(webhooks).apply((w) =>
          grafanaDesired({ stack: cfg.stack, teamsWithWebhooks: Object.keys(w) as Team[], dashboards: dashboards().map((d) => ({ ...d })), evaluate: cfg.alertEvaluator === "grafana" }),
        ),
        webhooks,
      },
      { parent: this, dependsOn: observability.grafanaResources },
    );

    // The jobs. Rendered against in-cluster addresses (Flink runs there); the provider reaches the
    // backend from the deploying machine: published 127.0.0.1 ports on docker, a Kubernetes API tunnel otherwise.
    const sourcePassword = new pulumi.Config(cfg.project).requireSecret("sourcePassword");
    // pulumi.output unwraps an object of outputs with each field's own type: a wrong wire does not compile.
    const endpoints = pulumi
      .output({ paimonUrl: postgres.jdbcUrl("paimon"), paimon: postgres.databases.paimon, buckets: os.buckets, endpoint: os.endpoint, accessKey: os.accessKey, pathStyle: os.pathStyle, bootstrap: kafka.bootstrapServers, kafkaCa: kafka.caCertificate ?? "", srJdbc: starrocks.jdbcUrl, srLoad: starrocks.loadUrl, qualityUrl: postgres.jdbcUrl("quality"), quality: postgres.databases.quality })
      .apply((v): JobEndpoints => ({
        paimon: { jdbcUrl: v.paimonUrl, user: v.paimon.user },
        objectStore: { endpoint: v.endpoint, accessKey: v.accessKey, pathStyle: v.pathStyle, warehouseBucket: v.buckets.warehouse },
        kafka: { bootstrap: v.bootstrap, securityProtocol: kafka.securityProtocol, ...(v.kafkaCa ? { caCertificate: v.kafkaCa } : {}) },
        source: cfg.source,
        timeZone: cfg.timeZone,
        dws: { kind: "starrocks", jdbcUrl: v.srJdbc, loadUrl: v.srLoad, user: starrocks.dwsWriter.user, database: "dws" },
        quality: { jdbcUrl: v.qualityUrl, user: v.quality.user },
      }));
    const credentials = pulumi
      .output({ paimon: postgres.databases.paimon, s3: os.secretKey, source: sourcePassword, sr: starrocks.dwsWriter.password, quality: postgres.databases.quality })
      .apply((v): JobCredentials => ({
        "paimon.password": v.paimon.password,
        "s3.secretKey": v.s3,
        "mysql.password": v.source,
        "starrocks.password": v.sr,
        "quality.password": v.quality.password,
      }));
    const tunnel = target.kind === "kubernetes" ? { context: cfg.kubernetesContext } : undefined;
    // Each job on its own cluster (rest.address/rest.port of its gateway sessions), or all on the shared one.
    const sharedRest = flink.restUrl ?? pulumi.output("");
    const gatewayBackend = (job: string) => {
      const own = flink.jobClusters[job];
      if (cfg.flink.jobClusters.length && !own) throw new Error(`job ${job} has no session cluster of its own`);
      return own
        ? pulumi.all([local(flink.sqlGatewayUrl), local(own.restUrl), own.address]).apply(([sqlGatewayUrl, jobManagerUrl, address]) => ({ kind: "sql-gateway" as const, sqlGatewayUrl, jobManagerUrl, cluster: { address, port: own.port } }))
        : pulumi.all([local(flink.sqlGatewayUrl), local(sharedRest)]).apply(([sqlGatewayUrl, jobManagerUrl]) => ({ kind: "sql-gateway" as const, sqlGatewayUrl, jobManagerUrl }));
    };
    // Through StreamPark each job's cluster is registered in the console as a remote cluster of its
    // own, named as its Deployments are, so the console shows every job on the cluster it runs on.
    const streamparkBackend = (job: string) => {
      const own = flink.jobClusters[job];
      if (cfg.flink.jobClusters.length && !own) throw new Error(`job ${job} has no session cluster of its own`);
      const rest = own ? own.restUrl : sharedRest;
      return pulumi.all([local(streampark.url), rest, local(rest), local(flink.sqlGatewayUrl)]).apply(([url, clusterAddress, jobManagerUrl, sqlGatewayUrl]) => ({
        kind: "streampark" as const,
        url,
        user: "admin",
        teamId: "100000",
        clusterName: own ? `rtdw-${cfg.stack}-${jobClusterName(job)}` : `rtdw-${cfg.stack}`,
        clusterAddress,
        flinkEnvName: "flink-1.20",
        flinkHome: STREAMPARK_FLINK_HOME,
        jobManagerUrl,
        sqlGatewayUrl,
      }));
    };
    const lake = new LakeTables(
      "lake",
      {
        pipelines: [...new Set(cfg.jobs.map((j) => j.pipeline))],
        sqlGatewayUrl: local(flink.sqlGatewayUrl),
        tunnel,
        environment: endpoints.apply((e) => catalogEnvironment(e, cfg.lakehouse)),
        secrets: credentials.apply((c) => ({ "paimon.password": c["paimon.password"], "s3.secretKey": c["s3.secretKey"] })),
        protect: cfg.protectStateful,
      },
      { parent: this, dependsOn: [flink, postgres] },
    );
    // The DWS tables as resources (schema diffed in preview, altered in place), after the bootstrap
    // that created the database and its users; owned by root, like the rest of the schema.
    const dws = new DwsTables(
      "dws",
      {
        address: local(starrocks.jdbcUrl.apply((u) => u.replace(/^jdbc:mysql:/, "mysql:"))),
        tunnel,
        user: "root",
        password: starrocks.rootPassword,
        server: "starrocks",
        materializedViewRefreshMinutes: cfg.lakehouse.materializedViewRefreshMinutes,
      },
      { parent: this, dependsOn: [starrocks] },
    );
    const jobs = new FlinkJobs(
      "jobs",
      {
        jobs: cfg.jobs,
        parallelism: cfg.flink.parallelism,
        checkpointIntervalMs: cfg.flink.checkpointIntervalMs,
        restartNonces: cfg.jobRestartNonces,
        lakehouse: cfg.lakehouse,
        tables: lake.tables,
        dwsTables: dws.tables,
        catalog: lake.databases,
        endpoints,
        credentials,
        kafkaPasswords: kafka.userPasswords,
        streamparkPassword: streampark.adminPassword,
        gatewayBackend: gatewayBackend,
        backend: (job) => (cfg.jobBackend === "sql-gateway" ? gatewayBackend(job) : streamparkBackend(job)),
        tunnel,
        checkpointsBucket: os.buckets.apply((b) => b.checkpoints),
        objectStore: pulumi.all([local(os.endpoint), os.region, os.accessKey]).apply(([endpoint, region, accessKey]) => ({ endpoint, region, accessKey })),
      },
      { parent: this, dependsOn: [flink, kafka.topicsReady, starrocks, postgres, streampark] },
    );
    // The jobs created the lake: StarRocks' catalog must list its tables, or it is on the wrong path.
    const pipelines = new Set(cfg.jobs.map((j) => j.pipeline));
    starrocks.checkLakeCatalog(target, lakeTables().filter((t) => pipelines.has(t.pipeline)).map((t) => t.name), [jobs], this);
    return { grafana, jobs };
  }
}

/** The upkeep task's statements over the tables of the stack's pipelines, credentials in: a secret. */
function lakehouseUpkeep(cfg: StackConfig, postgres: Postgres, os: ObjectStore["connection"]): pulumi.Output<string> {
  const pipelines = new Set(cfg.jobs.map((j) => j.pipeline));
  const tables = lakeTables().filter((t) => pipelines.has(t.pipeline));
  return pulumi.secret(
    pulumi
      .output({ paimonUrl: postgres.jdbcUrl("paimon"), paimon: postgres.databases.paimon, buckets: os.buckets, endpoint: os.endpoint, accessKey: os.accessKey, pathStyle: os.pathStyle, secretKey: os.secretKey })
      .apply((v) => {
        const env = catalogEnvironment({ paimon: { jdbcUrl: v.paimonUrl, user: v.paimon.user }, objectStore: { endpoint: v.endpoint, accessKey: v.accessKey, pathStyle: v.pathStyle, warehouseBucket: v.buckets.warehouse }, timeZone: cfg.timeZone }, cfg.lakehouse);
        const secrets = { "paimon.password": v.paimon.password, "s3.secretKey": v.secretKey };
        return upkeepStatementLines(upkeepStatements(cfg.lakehouse, tables, env).map((s) => ({ ...s, sql: withSecrets(s.sql, secrets) })));
      }),
  );
}
