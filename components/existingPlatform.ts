import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "./config";
import { FlinkJobs } from "./jobs/jobs";
import { catalogEnvironment } from "./jobs/environment";
import { LakeTables } from "./lakehouse/tables";
import { DwsTables } from "./starrocks/dwsTable";
import { JobLineage, jobLineage } from "./jobs/lineage";
import { ALERTS, renderPrometheusRules } from "./observability/alerts";
import { PrometheusRuleFile } from "./observability/ruleFile";
import { declaredTopics, KafkaTopics } from "./pipelines/kafkaTopics";
import { kafkaClients } from "./pipelines/kafkaAccess";
import { ExistingPlatform, existingJobCredentials, existingJobEndpoints, existingKafkaPasswords } from "./existingPlatformFile";

export interface OnExistingPlatformArgs {
  /** The validated stack config (target "sandbox"): the job table, its scaling, topics, time zone. */
  readonly config: StackConfig;
  /** The running platform, read from rtdw:platformFile. Its passwords become Pulumi secrets here. */
  readonly platform: ExistingPlatform;
}

/**
 * What the stack registers on a platform that already runs (the local sandbox): the pipelines' Kafka
 * topics, one FlinkSqlJob per row of the job table (the same FlinkJobs component the provisioned
 * stacks use) and the alert rules loaded into its Prometheus.
 */
export class OnExistingPlatform extends pulumi.ComponentResource {
  readonly topics: KafkaTopics;
  readonly lake: LakeTables;
  readonly dws?: DwsTables;
  readonly jobs: FlinkJobs;
  readonly rules: PrometheusRuleFile;
  readonly lineage: readonly JobLineage[];

  constructor(name: string, args: OnExistingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:index:OnExistingPlatform", name, {}, opts);
    const { config: cfg, platform: p } = args;

    this.topics = new KafkaTopics(
      "kafka-topics",
      {
        bootstrapServers: p.kafka.admin.bootstrapServers,
        adminUser: p.kafka.admin.user,
        adminPassword: pulumi.secret(p.kafka.admin.password),
        replicationFactor: 1,
        topics: declaredTopics(cfg.kafkaTopics),
      },
      { parent: this },
    );

    this.lineage = jobLineage(cfg.jobs);
    const kafkaPasswords = existingKafkaPasswords(p, kafkaClients(this.lineage).map((c) => c.user));
    const endpoints = existingJobEndpoints(p, cfg.timeZone);
    const credentials = existingJobCredentials(p);
    this.lake = new LakeTables(
      "lake",
      {
        pipelines: [...new Set(cfg.jobs.map((j) => j.pipeline))],
        sqlGatewayUrl: p.flink.sqlGatewayUrl,
        environment: catalogEnvironment(endpoints, cfg.lakehouse),
        secrets: pulumi.secret({ "paimon.password": credentials["paimon.password"], "s3.secretKey": credentials["s3.secretKey"] }),
      },
      { parent: this },
    );
    const dwsAdmin = p.dws.admin;
    if (dwsAdmin) {
      this.dws = new DwsTables(
        "dws",
        { address: p.dws.jdbcUrl.replace(/^jdbc:mysql:/, "mysql:").replace(/\/[^/]*$/, ""), user: dwsAdmin.user, password: pulumi.secret(dwsAdmin.password), server: p.dws.kind === "starrocks" ? "starrocks" : "mysql", materializedViewRefreshMinutes: cfg.lakehouse.materializedViewRefreshMinutes },
        { parent: this },
      );
    }
    // The same routing as a cluster per job on Kubernetes: the one gateway, the job's cluster named by its
    // session. A platform serves more than one stack: a cluster may list jobs this stack's table has not.
    const onCluster = (job: string) => {
      const c = p.flink.clusters.find((x) => x.jobs.includes(job));
      return c
        ? { kind: "sql-gateway" as const, sqlGatewayUrl: p.flink.sqlGatewayUrl, jobManagerUrl: c.restUrl, cluster: { address: c.address, port: c.port } }
        : { kind: "sql-gateway" as const, sqlGatewayUrl: p.flink.sqlGatewayUrl, jobManagerUrl: p.flink.restUrl };
    };
    this.jobs = new FlinkJobs(
      "jobs",
      {
        jobs: cfg.jobs,
        parallelism: cfg.flink.parallelism,
        checkpointIntervalMs: cfg.flink.checkpointIntervalMs,
        restartNonces: cfg.jobRestartNonces,
        lakehouse: cfg.lakehouse,
        tables: this.lake.tables,
        dwsTables: this.dws?.tables,
        catalog: this.lake.databases,
        // The running platform's jobs go through its SQL Gateway (the backend below).
        endpoints,
        credentials: pulumi.secret(credentials),
        kafkaPasswords: pulumi.secret(kafkaPasswords),
        backend: onCluster,
        gatewayBackend: onCluster,
        checkpointsBucket: p.objectStore.buckets.checkpoints,
        objectStore: { endpoint: p.objectStore.endpoint, region: p.objectStore.region, accessKey: p.objectStore.accessKey },
      },
      { parent: this, dependsOn: [this.topics] },
    );

    this.rules = new PrometheusRuleFile(
      "alert-rules",
      {
        prometheusUrl: p.prometheus.url,
        user: p.prometheus.user,
        password: pulumi.secret(p.prometheus.password),
        file: `${p.prometheus.rulesDir}/rtdw-${cfg.stack}.yml`,
        content: renderPrometheusRules(),
        alerts: ALERTS.map((a) => a.name),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
