import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, SASLOptions } from "kafkajs";
import { COLLECTOR_KAFKA_USER, renderAccessLines, renderPasswordLines } from "../../components/pipelines/kafkaAccess";
import { sandboxKafka } from "../../sandbox";
import { loadOrCreateSecrets } from "../../sandbox/credentials";
import { KAFKA_BIN } from "../../sandbox/install";
import { sandboxKafkaClients } from "../../sandbox/services/kafka";
import { sandbox } from "../helpers/sandbox";

jest.setTimeout(240_000);

/** Every ALLOW ACL on the broker as `user type pattern name OPERATION`, from the super user's view. */
async function brokerAcls(): Promise<string[]> {
  const admin = sandboxKafka("acl-test-admin", true).admin();
  await admin.connect();
  try {
    const r = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const type: Record<number, string> = { [AclResourceTypes.TOPIC]: "topic", [AclResourceTypes.GROUP]: "group", [AclResourceTypes.CLUSTER]: "cluster", [AclResourceTypes.TRANSACTIONAL_ID]: "transactional-id" };
    const pattern: Record<number, string> = { [ResourcePatternTypes.LITERAL]: "literal", [ResourcePatternTypes.PREFIXED]: "prefixed" };
    const op = Object.fromEntries(Object.entries(AclOperationTypes).map(([k, v]) => [v, k]));
    return r.resources
      .flatMap((res) => res.acls.filter((a) => a.permissionType === AclPermissionTypes.ALLOW).map((a) => `${a.principal.replace(/^User:/, "")} ${type[res.resourceType]} ${pattern[res.resourcePatternType]} ${res.resourceName} ${op[a.operation]}`))
      .sort();
  } finally {
    await admin.disconnect();
  }
}

const declaredAcls = () =>
  sandboxKafkaClients()
    .flatMap((c) => c.acls.map((a) => `${c.user} ${a.resourceType} ${a.patternType} ${a.name} ${a.operation.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}`))
    .sort();

/** Runs the stacks' access task (components/services/kafka-access.sh) against the sandbox's broker. */
function runAccessTask(): string {
  const { endpoints, credentials } = sandbox();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-access-"));
  fs.writeFileSync(path.join(dir, "access.txt"), renderAccessLines(sandboxKafkaClients()));
  const r = spawnSync("bash", [path.join(__dirname, "..", "..", "components", "services", "kafka-access.sh")], {
    encoding: "utf8",
    env: {
      ...process.env,
      BOOTSTRAP: endpoints.kafka.adminBootstrapServers,
      KAFKA_ADMIN_PASSWORD: credentials.kafka.adminPassword,
      KAFKA_BIN,
      ACCESS_FILE: path.join(dir, "access.txt"),
      KAFKA_USER_PASSWORDS: renderPasswordLines(credentials.kafka.users),
    },
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`kafka-access.sh failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe("Kafka: every client its own SCRAM user with only its lineage's ACLs (sandbox broker, StandardAuthorizer)", () => {
  it("the broker holds exactly the declared ACLs", async () => {
    expect(await brokerAcls()).toEqual(declaredAcls());
  });

  it("a job reads its own topic in its own group, and is refused another job's topic and group", async () => {
    const admin = sandboxKafka("acl-test-trk-ods", true, "rt-trk-ods").admin();
    await admin.connect();
    try {
      expect((await admin.fetchTopicOffsets("tracking.events")).length).toBeGreaterThan(0);
      await expect(admin.fetchTopicOffsets("cdc.shop.users")).rejects.toThrow(/not authorized|authorization failed/i);
      // Same user, same topic: its own group answers, another job's group is refused. (kafkajs reports the
      // broker's GROUP_AUTHORIZATION_FAILED on FindCoordinator as "Failed to find group coordinator".)
      await expect(admin.fetchOffsets({ groupId: "rt-trk-ods", topics: ["tracking.events"] })).resolves.toEqual([expect.objectContaining({ topic: "tracking.events" })]);
      await expect(admin.fetchOffsets({ groupId: "rt-dw-ods-processing", topics: ["tracking.events"] })).rejects.toThrow(/group coordinator|not authorized/i);
    } finally {
      await admin.disconnect();
    }
  });

  it("the collector may write the tracking topics only: a write to a CDC topic is refused", async () => {
    const producer = sandboxKafka("acl-test-collector", true, COLLECTOR_KAFKA_USER).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: "cdc.shop.users", messages: [{ value: "{}" }] })).rejects.toThrow(/not authorized|authorization failed/i);
    } finally {
      await producer.disconnect();
    }
  });

  it("the client listener takes SCRAM only: PLAIN and a wrong password are refused", async () => {
    const { endpoints } = sandbox();
    const { Kafka, logLevel } = await import("kafkajs");
    const attempt = async (sasl: SASLOptions) => {
      const admin = new Kafka({ clientId: "acl-test-login", brokers: [endpoints.kafka.bootstrapServers], sasl, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      try {
        await admin.connect();
        await admin.listTopics();
      } finally {
        await admin.disconnect();
      }
    };
    const secret = loadOrCreateSecrets().kafkaAdmin;
    await expect(attempt({ mechanism: "plain", username: "admin", password: secret })).rejects.toThrow(/SASL mechanism/i);
    await expect(attempt({ mechanism: "scram-sha-512", username: "rt-trk-ods", password: "not-the-password-0000" })).rejects.toThrow(/authentication failed|SASL/i);
  });

  it("the access task converges: a stale ACL and a user no longer declared are removed, declared rights stay", async () => {
    const { endpoints, credentials } = sandbox();
    const admin = sandboxKafka("acl-test-admin", true).admin();
    await admin.connect();
    try {
      await admin.createAcls({
        acl: [
          { resourceType: AclResourceTypes.TOPIC, resourceName: "cdc.shop.users", resourcePatternType: ResourcePatternTypes.LITERAL, principal: "User:rt-trk-ods", host: "*", operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW },
          { resourceType: AclResourceTypes.TOPIC, resourceName: "tracking.events", resourcePatternType: ResourcePatternTypes.LITERAL, principal: "User:rt-retired-job", host: "*", operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kafka-admin-")), "admin.properties");
    fs.writeFileSync(cfg, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${credentials.kafka.adminPassword}";\n`, { mode: 0o600 });
    const configs = (...args: string[]) => spawnSync(path.join(KAFKA_BIN, "kafka-configs.sh"), ["--bootstrap-server", endpoints.kafka.adminBootstrapServers, "--command-config", cfg, ...args], { encoding: "utf8" });
    expect(configs("--alter", "--entity-type", "users", "--entity-name", "rt-retired-job", "--add-config", "SCRAM-SHA-512=[password=retiredretired0000]").status).toBe(0);
    expect(await brokerAcls()).toContain("rt-trk-ods topic literal cdc.shop.users WRITE");

    const out = runAccessTask();
    expect(out).toContain("removed ACL: rt-trk-ods TOPIC LITERAL cdc.shop.users WRITE");
    expect(out).toContain("removed ACL: rt-retired-job TOPIC LITERAL tracking.events READ");
    expect(out).toContain("Kafka user rt-retired-job is no longer declared");
    expect(await brokerAcls()).toEqual(declaredAcls());
    const users = configs("--describe", "--entity-type", "users").stdout;
    expect(users).not.toContain("'rt-retired-job'");
    for (const c of sandboxKafkaClients()) expect(users).toContain(`'${c.user}'`);
    fs.rmSync(path.dirname(cfg), { recursive: true, force: true });
    // The tracking job still reads what it read before (its credential was re-set, not changed).
    const reader = sandboxKafka("acl-test-after", true, "rt-trk-ods").admin();
    await reader.connect();
    await expect(reader.fetchTopicOffsets("tracking.events")).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ partition: 0 })]));
    await reader.disconnect();
  });

  describe("over TLS, as the test and prod stacks run the client listener (SASL_SSL, PEM keystore from ServerCertificate)", () => {
    it("a client that trusts the stack's CA logs in with SCRAM; one that does not is refused at the handshake", async () => {
      const { endpoints, credentials } = sandbox();
      const { Kafka, logLevel } = await import("kafkajs");
      const ca = fs.readFileSync(endpoints.kafka.tls.caFile, "utf8");
      const client = (ssl: { ca?: string[] }) =>
        new Kafka({ clientId: "tls-test", brokers: [endpoints.kafka.tls.bootstrapServers], ssl, sasl: { mechanism: "scram-sha-512", username: "rt-trk-ods", password: credentials.kafka.users["rt-trk-ods"] }, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      const trusted = client({ ca: [ca] });
      await trusted.connect();
      try {
        expect(await trusted.fetchTopicOffsets("tracking.events")).toEqual(expect.arrayContaining([expect.objectContaining({ partition: 0 })]));
      } finally {
        await trusted.disconnect();
      }
      const untrusted = client({});
      await expect(untrusted.connect()).rejects.toThrow(/certificate/i);
      await untrusted.disconnect();
    });

    it("Kafka's Java client takes the CA the way the jobs' SQL passes it (ssl.truststore.certificates, PEM inline) and sees only its ACL's topics", () => {
      const { endpoints, credentials } = sandbox();
      const ca = fs.readFileSync(endpoints.kafka.tls.caFile, "utf8").trim();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-tls-"));
      const cfg = path.join(dir, "client.properties");
      fs.writeFileSync(
        cfg,
        [
          "security.protocol=SASL_SSL",
          "sasl.mechanism=SCRAM-SHA-512",
          `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="rt-trk-ods" password="${credentials.kafka.users["rt-trk-ods"]}";`,
          "ssl.truststore.type=PEM",
          // A properties file needs the PEM's newlines escaped; the SQL option carries them as they are.
          `ssl.truststore.certificates=${ca.replace(/\n/g, "\\n")}`,
          "",
        ].join("\n"),
        { mode: 0o600 },
      );
      const r = spawnSync(path.join(KAFKA_BIN, "kafka-topics.sh"), ["--bootstrap-server", endpoints.kafka.tls.bootstrapServers, "--command-config", cfg, "--list"], { encoding: "utf8" });
      fs.rmSync(dir, { recursive: true, force: true });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim().split("\n")).toEqual(["tracking.events"]);
    });
  });
});
