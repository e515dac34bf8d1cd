import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { TopicClass, TopicSettings, Workload } from "../config";
import { JobLineage } from "../jobs/lineage";
import { EXPORTER_KAFKA_USER, KAFKA_ADMIN_USER, KAFKA_SCRAM_MECHANISM, KafkaClient, kafkaClients, renderAccessLines, renderPasswordLines } from "../pipelines/kafkaAccess";
import { TOPICS } from "../pipelines/topics";
import { portOf, revisionOf, ServiceSpec, Target } from "../platform/service";
import { password } from "../config/secrets";
import { KafkaSecurityProtocol } from "../jobs/render";
import { ServerCertificate } from "../platform/tls";
import { kafkaExporter } from "../observability/exporters";

export interface KafkaArgs {
  /** The brokers' image and sizing (one KRaft controller + broker per replica). */
  readonly server: Workload;
  /** The exporter's image and sizing. */
  readonly exporter: Workload;
  /** Size of each broker's log volume (rtdw:volumes.kafka). */
  readonly volumeGiB: number;
  /** The Kubernetes namespace: the brokers' certificate names its pods' DNS names. */
  readonly namespace: string;
  /** Unique per stack (`<project>/<stack>`): the KRaft cluster id is derived from it, the same on every run. */
  readonly clusterKey: string;
  /** Partitions and retention per topic class (rtdw:kafkaTopics). */
  readonly topics: Readonly<Record<TopicClass, TopicSettings>>;
  /** What each job reads and writes: each job's SCRAM user and ACLs follow from it. */
  readonly lineage: readonly JobLineage[];
  /** Where the brokers and the topic task run. */
  readonly target: Target;
}

/** Where the brokers read their PEM keystore (secret) and the CA every Kafka container trusts. */
export const KAFKA_TLS_DIR = "/etc/kafka/tls";
export const KAFKA_CA_DIR = "/etc/kafka/ca";
/** The brokers' certificate lifetime (the CA lives CA_VALIDITY_DAYS); `pulumi up` renews it before its end. */
export const KAFKA_CERTIFICATE_DAYS = 825;
/** `pulumi up` renews the brokers' certificate (same CA) once it is this close to its end. */
export const KAFKA_CERTIFICATE_RENEW_BEFORE_DAYS = 30;

/** Port of the listener the brokers and the admin tasks use (the super user, SASL/PLAIN); clients use 9092. */
export const KAFKA_INTERNAL_PORT = 9094;

/**
 * Kafka in KRaft mode: every node is broker and controller (1 in dev, 3 in test/prod), replication
 * factor min(3, nodes) with min.insync.replicas 2 when there are three, data on persistent volumes,
 * automatic topic creation off: the topics are declared in code (components/pipelines/topics.ts).
 * Three listeners: CLIENT (9092) where every client logs in with SCRAM-SHA-512 as its own user with
 * only the ACLs its lineage needs (components/pipelines/kafkaAccess.ts); INTERNAL (9094) for
 * broker-to-broker traffic and the admin tasks as the super user; CONTROLLER (9093). The super user
 * uses PLAIN because KRaft controllers cannot check SCRAM (its credentials live in the metadata they
 * serve). Tasks create the topics, then the users and ACLs.
 */
export class Kafka extends pulumi.ComponentResource {
  /** The client listener. */
  readonly bootstrapServers: pulumi.Output<string>;
  /** SASL_SSL on Kubernetes (test, prod), SASL_PLAINTEXT on the one-host Docker network (dev). */
  readonly securityProtocol: KafkaSecurityProtocol;
  /** The CA clients trust for the brokers' certificate, with SASL_SSL. */
  readonly caCertificate?: pulumi.Output<string>;
  /** When the brokers' certificate ends (ISO 8601), with SASL_SSL: watched by the CertificateExpiresSoon alert. */
  readonly certificateNotAfter?: pulumi.Output<string>;
  /** Each client's SCRAM password, by user (jobs, collector, exporter). */
  readonly userPasswords: pulumi.Output<Record<string, string>>;
  readonly clients: readonly KafkaClient[];
  readonly replicationFactor: number;
  /** Completes when the topics, users and ACLs exist. */
  readonly topicsReady: pulumi.Resource;

  constructor(name: string, args: KafkaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rtdw:streaming:Kafka", name, {}, opts);
    const nodes = args.server.sizing.replicas;
    const rf = Math.min(3, nodes);
    const minIsr = rf >= 3 ? 2 : 1;
    this.replicationFactor = rf;
    const adminPassword = password(`${name}-admin-password`, this, "kafkaAdminPassword");
    this.clients = kafkaClients(args.lineage);
    const passwords = Object.fromEntries(this.clients.map((c) => [c.user, password(`${name}-user-${c.user}`, this)]));
    this.userPasswords = pulumi.secret(pulumi.output(passwords));

    const podHost = (i: number) => (args.target.kind === "kubernetes" ? `kafka-${i}.kafka.${args.namespace}.svc.cluster.local` : "kafka");
    const voters = Array.from({ length: nodes }, (_, i) => `${i + 1}@${podHost(i)}:9093`).join(",");
    // KRaft needs one cluster id for all nodes, stable across runs: derived from the stack.
    const clusterId = createHash("sha256").update(`${args.clusterKey}/kafka`).digest().subarray(0, 16).toString("base64url");
    // TLS on every listener where the traffic crosses nodes: a private CA and one certificate for all
    // brokers (kafka-N.kafka.<ns>.svc...), issued once and kept in the state.
    const tls =
      args.target.kind === "kubernetes"
        ? new ServerCertificate(
            `${name}-tls`,
            { commonName: `kafka.${args.namespace}.svc.cluster.local`, dnsNames: [`kafka.${args.namespace}.svc.cluster.local`, `*.kafka.${args.namespace}.svc.cluster.local`, `kafka.${args.namespace}.svc`, `kafka`], validityDays: KAFKA_CERTIFICATE_DAYS, renewBeforeDays: KAFKA_CERTIFICATE_RENEW_BEFORE_DAYS },
            { parent: this },
          )
        : undefined;
    this.securityProtocol = tls ? "SASL_SSL" : "SASL_PLAINTEXT";
    this.caCertificate = tls?.caCertificate;
    this.certificateNotAfter = tls?.notAfter;
    const protocol = this.securityProtocol;
    const tlsEnv: Record<string, string> = tls
      ? { KAFKA_SSL_KEYSTORE_TYPE: "PEM", KAFKA_SSL_KEYSTORE_LOCATION: `${KAFKA_TLS_DIR}/keystore.pem`, KAFKA_SSL_TRUSTSTORE_TYPE: "PEM", KAFKA_SSL_TRUSTSTORE_LOCATION: `${KAFKA_CA_DIR}/ca.crt` }
      : {};
    const caFiles = tls ? [{ dir: KAFKA_CA_DIR, files: { "ca.crt": tls.caCertificate } }] : [];
    const taskTls: Record<string, string> = tls ? { ADMIN_SECURITY_PROTOCOL: "SASL_SSL", ADMIN_TRUSTSTORE_PEM_FILE: `${KAFKA_CA_DIR}/ca.crt` } : {};
    const plain = pulumi.interpolate`org.apache.kafka.common.security.plain.PlainLoginModule required username="${KAFKA_ADMIN_USER}" password="${adminPassword}" user_${KAFKA_ADMIN_USER}="${adminPassword}";`;
    const heapMiB = Math.floor(args.server.sizing.memoryMiB * 0.5);

    const spec: ServiceSpec = {
      name: "kafka",
      image: args.server.image,
      // Node id and advertised address depend on which replica this is (kafka-0 -> node 1).
      command: [
        "bash",
        "-c",
        'ord="${HOSTNAME##*-}"; case "$ord" in ""|*[!0-9]*) ord=0;; esac; export KAFKA_NODE_ID=$((ord + 1)); ' +
          `export KAFKA_ADVERTISED_LISTENERS="CLIENT://$(hostname -f):9092,INTERNAL://$(hostname -f):${KAFKA_INTERNAL_PORT}"; exec /etc/kafka/docker/run`,
      ],
      ports: [
        { name: "kafka", port: 9092 },
        { name: "internal", port: KAFKA_INTERNAL_PORT },
        { name: "controller", port: 9093 },
      ],
      env: {
        CLUSTER_ID: clusterId,
        KAFKA_PROCESS_ROLES: "broker,controller",
        KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
        KAFKA_LISTENERS: `CLIENT://:9092,INTERNAL://:${KAFKA_INTERNAL_PORT},CONTROLLER://:9093`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: `CLIENT:${protocol},INTERNAL:${protocol},CONTROLLER:${protocol}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
        KAFKA_INTER_BROKER_LISTENER_NAME: "INTERNAL",
        KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS: KAFKA_SCRAM_MECHANISM,
        KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG: "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        KAFKA_LISTENER_NAME_INTERNAL_SASL_ENABLED_MECHANISMS: "PLAIN",
        KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS: "PLAIN",
        KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL: "PLAIN",
        KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL: "PLAIN",
        KAFKA_AUTHORIZER_CLASS_NAME: "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        KAFKA_SUPER_USERS: `User:${KAFKA_ADMIN_USER}`,
        KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: "false",
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
        ...tlsEnv,
      },
      secretEnv: {
        KAFKA_LISTENER_NAME_INTERNAL_PLAIN_SASL_JAAS_CONFIG: plain,
        KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG: plain,
      },
      // PEM keystore: the private key (PKCS#8) and the certificate, in one file Kafka reads at start.
      ...(tls ? { secretFiles: [{ dir: KAFKA_TLS_DIR, files: { "keystore.pem": pulumi.secret(pulumi.interpolate`${tls.privateKey}${tls.certificate}`) } }], configFiles: caFiles } : {}),
      volumes: [{ name: "data", mountPath: "/var/lib/kafka/data", sizeGiB: args.volumeGiB, configKey: "volumes.kafka" }],
      stableNetworkIds: true,
      // Each node is a controller voter: one per node, so losing a node never loses the quorum.
      placement: "one-per-node",
      connectsTo: [
        { service: "kafka", port: "internal" },
        { service: "kafka", port: "controller" },
      ],
      sizing: args.server.sizing,
      readiness: { tcp: { port: 9092 } },
      startupSeconds: 180,
      terminationGraceSeconds: 120,
      // The image's entrypoint renders server.properties under /opt/kafka, so the root filesystem stays writable.
      security: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: false },
    };
    const server = args.target.deployService(spec, this);
    this.bootstrapServers = pulumi.interpolate`${server.host}:${portOf(spec, "kafka")}`;

    const internal = pulumi.interpolate`${server.host}:${KAFKA_INTERNAL_PORT}`;
    const taskSecurity = { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, scratchDirs: ["/tmp"] };
    const topicLines = renderTopicLines(args.topics);
    const topics = args.target.runTask(
      {
        name: "kafka-topics",
        revision: revisionOf(TOPIC_SCRIPT, topicLines, rf),
        image: args.server.image,
        command: ["bash", "/task/topics.sh"],
        env: { BOOTSTRAP: internal, REPLICATION_FACTOR: String(rf), ...taskTls },
        secretEnv: { KAFKA_ADMIN_PASSWORD: adminPassword },
        configFiles: [{ dir: "/task", files: { "topics.sh": TOPIC_SCRIPT, "topics.txt": topicLines } }, ...caFiles],
        security: taskSecurity,
        connectsTo: [{ service: "kafka", port: "internal" }],
      },
      this,
      server.resources,
    );
    // Users and ACLs after the topics: an ACL may name a topic only once it exists to be useful.
    const accessLines = renderAccessLines(this.clients);
    this.topicsReady = args.target.runTask(
      {
        name: "kafka-access",
        revision: revisionOf(ACCESS_SCRIPT, accessLines),
        image: args.server.image,
        command: ["bash", "/task/access.sh"],
        env: { BOOTSTRAP: internal, ...taskTls },
        secretEnv: { KAFKA_ADMIN_PASSWORD: adminPassword, KAFKA_USER_PASSWORDS: this.userPasswords.apply(renderPasswordLines) },
        configFiles: [{ dir: "/task", files: { "access.sh": ACCESS_SCRIPT, "access.txt": accessLines } }, ...caFiles],
        security: taskSecurity,
        connectsTo: [{ service: "kafka", port: "internal" }],
      },
      this,
      [topics],
    );
    args.target.deployService(
      kafkaExporter(args.exporter, { bootstrapServers: this.bootstrapServers, caCertificate: this.caCertificate, user: EXPORTER_KAFKA_USER, password: this.userPasswords.apply((p) => p[EXPORTER_KAFKA_USER]), scrapePassword: password(`${name}-exporter-scrape-password`, this) }),
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
/** Converges the SCRAM users and their ACLs (kafka-access.sh). */
export const ACCESS_SCRIPT = fs.readFileSync(path.join(__dirname, "kafka-access.sh"), "utf8");
