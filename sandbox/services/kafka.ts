import * as fs from "fs";
import * as path from "path";
import { createHash, randomBytes } from "crypto";
import { DEFAULT_TOPICS } from "../../components/config/services";
import { renderTopicLines, TOPIC_SCRIPT } from "../../components/services/kafka";
import { writePrivate } from "../credentials";
import { KAFKA_BIN, KAFKA_LIBS } from "../install";
import { CONF, ensureDir, LOGS } from "../paths";
import { run } from "../process";
import { kafkaAdmin } from "./clients";
import { KAFKA_CLIENT_USER, REPO_ROOT, SandboxService, ServiceContext } from "./types";

/** Kafka in KRaft mode, one node, SASL on its client listener; topics from the stacks' own topic task. */
export function kafkaService({ p, s, dir }: ServiceContext): SandboxService {
  const kafkaProps = path.join(CONF, "kafka", "server.properties");
  return {
    name: "kafka",
    port: "kafka",
    after: [],
    startupSeconds: 90,
    prepare() {
      const logs = ensureDir(dir("kafka"));
      const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${s.kafkaAdmin}" user_admin="${s.kafkaAdmin}" user_${KAFKA_CLIENT_USER}="${s.kafkaClient}";`;
      writePrivate(
        kafkaProps,
        [
          "process.roles=broker,controller",
          "node.id=1",
          `controller.quorum.voters=1@127.0.0.1:${p.kafkaController}`,
          `listeners=SASL_PLAINTEXT://127.0.0.1:${p.kafka},CONTROLLER://127.0.0.1:${p.kafkaController}`,
          `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${p.kafka}`,
          "inter.broker.listener.name=SASL_PLAINTEXT",
          "controller.listener.names=CONTROLLER",
          "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
          "sasl.enabled.mechanisms=PLAIN",
          "sasl.mechanism.inter.broker.protocol=PLAIN",
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=${jaas}`,
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
      const admin = kafkaAdmin(p.kafka, s);
      await admin.connect();
      try {
        const c = await admin.describeCluster();
        return c.brokers.length === 1;
      } finally {
        await admin.disconnect();
      }
    },
    // The stacks' topic task, same script and same declared topics (dev's partitions and retention).
    // Re-run only when either changed; the marker lives with Kafka's data, so a wiped Kafka re-runs it.
    async bootstrap() {
      const lines = renderTopicLines(DEFAULT_TOPICS.dev);
      const marker = path.join(dir("kafka"), ".rtdw-topics");
      const fingerprint = createHash("sha256").update(TOPIC_SCRIPT).update(lines).digest("hex");
      if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === fingerprint) return;
      const topicsFile = path.join(CONF, "kafka", "topics.txt");
      fs.writeFileSync(topicsFile, lines);
      run("bash", [path.join(REPO_ROOT, "components", "services", "kafka-topics.sh")], {
        env: { BOOTSTRAP: `127.0.0.1:${p.kafka}`, REPLICATION_FACTOR: "1", KAFKA_ADMIN_PASSWORD: s.kafkaAdmin, KAFKA_BIN, TOPICS_FILE: topicsFile },
      });
      fs.writeFileSync(marker, fingerprint);
    },
  };
}
