import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderTopicLines, TOPIC_SCRIPT } from "../../components/services/kafka";
import { DEFAULT_TOPICS } from "../../components/config/services";
import { TOPICS } from "../../components/pipelines/topics";
import { loadOrCreateSecrets } from "../../sandbox/credentials";
import { KAFKA_BIN } from "../../sandbox/install";
import { kafkaClient, sandbox } from "../helpers/sandbox";

/**
 * The stacks' topic task (components/services/kafka-topics.sh, the script the Kubernetes Job and the
 * Docker task run with the Kafka image's bin/) against the sandbox's real Kafka 3.9 (KRaft, SASL).
 */
describe("Kafka topic task on real Kafka: create, grow, never shrink, converge retention", () => {
  const { endpoints } = sandbox();
  const run = Date.now().toString(36);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-topics-"));
  const script = path.join(dir, "topics.sh");
  fs.writeFileSync(script, TOPIC_SCRIPT);
  const a = `it-${run}-a`, b = `it-${run}-b`;

  const converge = (lines: string) => {
    fs.writeFileSync(path.join(dir, "topics.txt"), lines);
    const r = spawnSync("bash", [script], {
      env: { ...process.env, BOOTSTRAP: endpoints.kafka.adminBootstrapServers, REPLICATION_FACTOR: "1", KAFKA_ADMIN_PASSWORD: loadOrCreateSecrets().kafkaAdmin, KAFKA_BIN, TOPICS_FILE: path.join(dir, "topics.txt") },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`topics.sh failed (${r.status}): ${r.stderr}`);
    return r.stdout + r.stderr;
  };
  const describeTopics = async (names: string[]) => {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const configs = await admin.describeConfigs({ resources: names.map((name) => ({ type: 2, name, configNames: ["retention.ms", "cleanup.policy"] })), includeSynonyms: false });
      return Object.fromEntries(
        meta.topics.map((t) => {
          const c = configs.resources.find((r) => r.resourceName === t.name)!.configEntries;
          const get = (n: string) => c.find((e) => e.configName === n)?.configValue;
          return [t.name, { partitions: t.partitions.length, retentionMs: get("retention.ms"), cleanup: get("cleanup.policy") }];
        }),
      );
    } finally {
      await admin.disconnect();
    }
  };

  it("created every declared topic in the sandbox with dev's partitions and retention", async () => {
    const got = await describeTopics(TOPICS.map((t) => t.name));
    for (const t of TOPICS) {
      const want = DEFAULT_TOPICS.dev[t.class];
      expect(got[t.name].partitions).toBeGreaterThanOrEqual(want.partitions);
      expect(got[t.name]).toMatchObject({ retentionMs: String(want.retentionHours * 3_600_000), cleanup: "delete" });
    }
    expect(renderTopicLines(DEFAULT_TOPICS.dev).trim().split("\n")).toHaveLength(TOPICS.length);
  });

  it("creates missing topics, grows partitions, refuses to shrink, and re-applies retention", async () => {
    converge(`${a} 2 3600000 delete\n${b} 3 7200000 delete\n`);
    expect(await describeTopics([a, b])).toEqual({
      [a]: { partitions: 2, retentionMs: "3600000", cleanup: "delete" },
      [b]: { partitions: 3, retentionMs: "7200000", cleanup: "delete" },
    });
    const out = converge(`${a} 4 86400000 delete\n${b} 1 7200000 delete\n`);
    expect(out).toContain(`topic ${b} has 3 partitions; Kafka cannot shrink it to 1 (left as is)`);
    expect(await describeTopics([a, b])).toEqual({
      [a]: { partitions: 4, retentionMs: "86400000", cleanup: "delete" },
      [b]: { partitions: 3, retentionMs: "7200000", cleanup: "delete" },
    });
  });

  afterAll(async () => {
    const admin = kafkaClient().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [a, b] }).catch(() => undefined);
    await admin.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
