import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { StackConfig, TopicClass, TopicSettings } from "../config";
import { TOPICS } from "../pipelines/topics";
import { portOf, revisionOf, ServiceSpec, Target } from "../platform/service";
import { password } from "../secrets";
import { kafkaExporter } from "../observability/exporters";

export interface KafkaArgs {
  /** The validated stack config (replicas, sizing, topic partitions and retention). */
  readonly config: StackConfig;
  /** Where the brokers and the topic task run. */
  readonly target: Target;
}

/** The user every platform client (Flink, Vector) authenticates as. */
export const KAFKA_CLIENT_USER = "rtdw";

/**
 * Kafka in KRaft mode: every node is broker and controller (1 in dev, 3 in test/prod), SASL/PLAIN on
 * both listeners, replication factor min(3, nodes) with min.insync.replicas 2 when there are three,
 * data on persistent volumes, automatic topic creation off: the topics are declared in code
 * (components/pipelines/topics.ts) and created or altered by a task.
 */
export class Kafka extends pulumi.ComponentResource {
  readonly bootstrapServers: pulumi.Output<string>;
  readonly clientUser = KAFKA_CLIENT_USER;
  readonly clientPassword: pulumi.Output<string>;
  readonly replicationFactor: number;
  /** Completes when the topics exist. */
  readonly topicsReady: pulumi.Resource;

  constructor(name: string, args: KafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:streaming:Kafka", name, {}, opts);
    const cfg = args.config;
    const nodes = cfg.sizing.kafka.replicas;
    const rf = Math.min(3, nodes);
    const minIsr = rf >= 3 ? 2 : 1;
    this.replicationFactor = rf;
    const adminPassword = password(`${name}-admin-password`, this);
    this.clientPassword = password(`${name}-client-password`, this, "kafkaPassword");

    const podHost = (i: number) => (args.target.kind === "kubernetes" ? `kafka-${i}.kafka.${cfg.namespace}.svc.cluster.local` : "kafka");
    const voters = Array.from({ length: nodes }, (_, i) => `${i + 1}@${podHost(i)}:9093`).join(",");
    // KRaft needs one cluster id for all nodes, stable across runs: derived from the stack.
    const clusterId = createHash("sha256").update(`${cfg.project}/${cfg.stack}/kafka`).digest().subarray(0, 16).toString("base64url");
    const jaas = pulumi.interpolate`org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${adminPassword}" user_admin="${adminPassword}" user_${KAFKA_CLIENT_USER}="${this.clientPassword}";`;
    const heapMiB = Math.floor(cfg.sizing.kafka.memoryMiB * 0.5);

    const spec: ServiceSpec = {
      name: "kafka",
      image: cfg.images.kafka,
      // Node id and advertised address depend on which replica this is (kafka-0 -> node 1).
      command: [
        "bash",
        "-c",
        'ord="${HOSTNAME##*-}"; case "$ord" in ""|*[!0-9]*) ord=0;; esac; export KAFKA_NODE_ID=$((ord + 1)); ' +
          'export KAFKA_ADVERTISED_LISTENERS="SASL_PLAINTEXT://$(hostname -f):9092"; exec /etc/kafka/docker/run',
      ],
      ports: [
        { name: "kafka", port: 9092 },
        { name: "controller", port: 9093 },
      ],
      env: {
        CLUSTER_ID: clusterId,
        KAFKA_PROCESS_ROLES: "broker,controller",
        KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
        KAFKA_LISTENERS: "SASL_PLAINTEXT://:9092,CONTROLLER://:9093",
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
        KAFKA_INTER_BROKER_LISTENER_NAME: "SASL_PLAINTEXT",
        KAFKA_SASL_ENABLED_MECHANISMS: "PLAIN",
        KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL: "PLAIN",
        KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL: "PLAIN",
        KAFKA_SUPER_USERS: "User:admin",
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
        KAFKA_DEFAULT_REPLICATION_FACTOR: String(rf),
        KAFKA_MIN_INSYNC_REPLICAS: String(minIsr),
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(rf),
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(rf),
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(minIsr),
        KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: "false",
        // The image's VOLUME is not where it writes unless told (it defaults to /tmp/kraft-combined-logs).
        KAFKA_LOG_DIRS: "/var/lib/kafka/data/logs",
        KAFKA_HEAP_OPTS: `-Xms${heapMiB}m -Xmx${heapMiB}m`,
      },
      secretEnv: {
        KAFKA_LISTENER_NAME_SASL__PLAINTEXT_PLAIN_SASL_JAAS_CONFIG: jaas,
        KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG: jaas,
        KAFKA_SASL_JAAS_CONFIG: pulumi.interpolate`org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${adminPassword}";`,
      },
      volumes: [{ name: "data", mountPath: "/var/lib/kafka/data", sizeGiB: cfg.volumesGiB.kafka }],
      stableNetworkIds: true,
      // Each node is a controller voter: one per node, so losing a node never loses the quorum.
      placement: "one-per-node",
      connectsTo: [
        { service: "kafka", port: "kafka" },
        { service: "kafka", port: "controller" },
      ],
      sizing: cfg.sizing.kafka,
      readiness: { tcp: { port: 9092 } },
      startupSeconds: 180,
      terminationGraceSeconds: 120,
      // The image's entrypoint renders server.properties under /opt/kafka, so the root filesystem stays writable.
      security: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: false },
    };
    const server = args.target.deployService(spec, this);
    this.bootstrapServers = pulumi.interpolate`${server.host}:${portOf(spec, "kafka")}`;

    const topicLines = renderTopicLines(cfg.kafkaTopics);
    this.topicsReady = args.target.runTask(
      {
        name: "kafka-topics",
        revision: revisionOf(TOPIC_SCRIPT, topicLines, rf),
        image: cfg.images.kafka,
        command: ["bash", "/task/topics.sh"],
        env: { BOOTSTRAP: this.bootstrapServers, REPLICATION_FACTOR: String(rf) },
        secretEnv: { KAFKA_ADMIN_PASSWORD: adminPassword },
        configFiles: [{ dir: "/task", files: { "topics.sh": TOPIC_SCRIPT, "topics.txt": topicLines } }],
        security: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] },
        connectsTo: [{ service: "kafka", port: "kafka" }],
      },
      this,
      server.resources,
    );
    args.target.deployService(
      kafkaExporter(cfg, { bootstrapServers: this.bootstrapServers, user: KAFKA_CLIENT_USER, password: this.clientPassword, scrapePassword: password(`${name}-exporter-scrape-password`, this) }),
      this,
      [this.topicsReady],
    );
    this.registerOutputs({ bootstrapServers: this.bootstrapServers });
  }
}

/** The topic script's input, one line per declared topic: name partitions retention.ms cleanup.policy. */
export function renderTopicLines(settings: Readonly<Record<TopicClass, TopicSettings>>): string {
  return TOPICS.map((t) => {
    const s = settings[t.class];
    return `${t.name} ${s.partitions} ${s.retentionHours * 3_600_000} ${t.cleanupPolicy}`;
  }).join("\n") + "\n";
}

/**
 * Creates missing topics and converges existing ones: partitions only grow (Kafka cannot shrink
 * them), retention and cleanup policy are set every run. Credentials come from the environment.
 */
export const TOPIC_SCRIPT = fs.readFileSync(path.join(__dirname, "kafka-topics.sh"), "utf8");
