import * as fs from "fs";
import * as path from "path";
import { createHash, randomBytes } from "crypto";
import { DEFAULT_TOPICS } from "../../components/config/services";
import { jobLineage } from "../../components/jobs/lineage";
import { loadJobTable } from "../../components/config/jobTable";
import { KAFKA_ADMIN_USER, KAFKA_SCRAM_MECHANISM, KafkaClient, kafkaClients, renderAccessLines, renderPasswordLines } from "../../components/pipelines/kafkaAccess";
import { ACCESS_SCRIPT, renderTopicLines, TOPIC_SCRIPT } from "../../components/services/kafka";
import { issueServerCertificate } from "../../components/platform/tls";
import { kafkaUserPassword, writePrivate } from "../credentials";
import { KAFKA_BIN, KAFKA_LIBS } from "../install";
import { CONF, ensureDir, LOGS } from "../paths";
import { run } from "../process";
import { kafkaAdmin } from "./clients";
import { REPO_ROOT, SandboxService, ServiceContext } from "./types";

/** Kafka in KRaft mode, one node, ACLs on; topics, users and ACLs from the stacks' own tasks. */
export function kafkaService({ p, s, dir }: ServiceContext): SandboxService {
  const kafkaProps = path.join(CONF, "kafka", "server.properties");
  return {
    name: "kafka",
    port: "kafka",
    after: [],
    startupSeconds: 90,
    prepare() {
      const logs = ensureDir(dir("kafka"));
      // Clients authenticate with SCRAM on their listener; PLAIN stays for the super user on the
      // internal and controller listeners (KRaft controllers cannot check SCRAM: the credentials live in
      // the metadata they serve). Same layout as the stacks (components/services/kafka.ts).
      const tls = kafkaTlsFiles();
      const plain = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${KAFKA_ADMIN_USER}" password="${s.kafkaAdmin}" user_${KAFKA_ADMIN_USER}="${s.kafkaAdmin}";`;
      writePrivate(
        kafkaProps,
        [
          "process.roles=broker,controller",
          "node.id=1",
          `controller.quorum.voters=1@127.0.0.1:${p.kafkaController}`,
          `listeners=CLIENT://127.0.0.1:${p.kafka},CLIENT_TLS://127.0.0.1:${p.kafkaTls},INTERNAL://127.0.0.1:${p.kafkaInternal},CONTROLLER://127.0.0.1:${p.kafkaController}`,
          `advertised.listeners=CLIENT://127.0.0.1:${p.kafka},CLIENT_TLS://localhost:${p.kafkaTls},INTERNAL://127.0.0.1:${p.kafkaInternal}`,
          "inter.broker.listener.name=INTERNAL",
          "controller.listener.names=CONTROLLER",
          "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CLIENT_TLS:SASL_SSL,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
          ...["client", "client_tls"].flatMap((l) => [
            `listener.name.${l}.sasl.enabled.mechanisms=${KAFKA_SCRAM_MECHANISM}`,
            `listener.name.${l}.${KAFKA_SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
          ]),
          // The stacks' TLS: a PEM keystore (PKCS#8 key + certificate) from the same issuer code (components/platform/tls.ts).
          "ssl.keystore.type=PEM",
          `ssl.keystore.location=${tls.keystore}`,
          "listener.name.internal.sasl.enabled.mechanisms=PLAIN",
          `listener.name.internal.plain.sasl.jaas.config=${plain}`,
          "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
          `listener.name.controller.plain.sasl.jaas.config=${plain}`,
          "sasl.mechanism.inter.broker.protocol=PLAIN",
          "sasl.mechanism.controller.protocol=PLAIN",
          "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
          `super.users=User:${KAFKA_ADMIN_USER}`,
          "allow.everyone.if.no.acl.found=false",
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
        const clusterId = randomBytes(16).toString("base64url").replace(/^-/, "A");
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
      const admin = kafkaAdmin(p.kafkaInternal, s);
      await admin.connect();
      try {
        const c = await admin.describeCluster();
        return c.brokers.length === 1;
      } finally {
        await admin.disconnect();
      }
    },
    // The stacks' topic and access tasks, same scripts and same declared topics (dev's partitions and
    // retention) and clients. Each re-runs only when its input changed; the markers live with Kafka's
    // data, so a wiped Kafka re-runs them.
    async bootstrap() {
      const admin = { BOOTSTRAP: `127.0.0.1:${p.kafkaInternal}`, KAFKA_ADMIN_PASSWORD: s.kafkaAdmin, KAFKA_BIN };
      const once = (name: string, fingerprint: string, work: () => void) => {
        const marker = path.join(dir("kafka"), `.rtdw-${name}`);
        if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === fingerprint) return;
        work();
        fs.writeFileSync(marker, fingerprint);
      };
      const lines = renderTopicLines(DEFAULT_TOPICS.dev);
      once("topics", createHash("sha256").update(TOPIC_SCRIPT).update(lines).digest("hex"), () => {
        const topicsFile = path.join(CONF, "kafka", "topics.txt");
        fs.writeFileSync(topicsFile, lines);
        run("bash", [path.join(REPO_ROOT, "components", "services", "kafka-topics.sh")], { env: { ...admin, REPLICATION_FACTOR: "1", TOPICS_FILE: topicsFile } });
      });
      const clients = sandboxKafkaClients();
      const access = renderAccessLines(clients);
      const passwords = renderPasswordLines(Object.fromEntries(clients.map((c) => [c.user, kafkaUserPassword(s, c.user)])));
      once("access", createHash("sha256").update(ACCESS_SCRIPT).update(access).update(passwords).digest("hex"), () => {
        const accessFile = path.join(CONF, "kafka", "access.txt");
        fs.writeFileSync(accessFile, access);
        run("bash", [path.join(REPO_ROOT, "components", "services", "kafka-access.sh")], { env: { ...admin, ACCESS_FILE: accessFile, KAFKA_USER_PASSWORDS: passwords } });
      });
    },
  };
}

/**
 * The TLS listener's certificate, issued once per sandbox like a stack's (ServerCertificate) and kept
 * beside the config: `keystore.pem` (0600) for the broker, `ca.crt` for clients.
 */
export function kafkaTlsFiles(): { keystore: string; ca: string } {
  const dir = path.join(CONF, "kafka", "tls");
  const files = { keystore: path.join(dir, "keystore.pem"), ca: path.join(dir, "ca.crt") };
  if (!fs.existsSync(files.keystore) || !fs.existsSync(files.ca)) {
    const c = issueServerCertificate({ commonName: "localhost", dnsNames: ["localhost"], validityDays: 825, renewBeforeDays: 30 });
    writePrivate(files.keystore, c.privateKey + c.certificate);
    writePrivate(files.ca, c.caCertificate, 0o644);
  }
  return files;
}

/** The platform's Kafka clients (components/pipelines/kafkaAccess.ts): the same users and ACLs as a stack's. */
export function sandboxKafkaClients(): KafkaClient[] {
  return kafkaClients(jobLineage(loadJobTable()));
}
