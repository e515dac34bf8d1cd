import { DEFAULT_LAKEHOUSE } from "../../components/config/lakehousePolicy";
import { jobLineage } from "../../components/jobs/lineage";
import { loadJobTable } from "../../components/config/jobTable";
import { COLLECTOR_KAFKA_USER, EXPORTER_KAFKA_USER, kafkaClients, renderAccessLines, renderPasswordLines } from "../../components/pipelines/kafkaAccess";
import { renderSql } from "../../components/jobs/render";
import { jobEnvironment, jobSecrets } from "../../components/jobs/environment";
import { EXAMPLE_ENDPOINTS } from "../helpers/jobInputs";

describe("Kafka users and ACLs derived from the lineage", () => {
  const clients = kafkaClients(jobLineage(loadJobTable()));
  const of = (user: string) => clients.find((c) => c.user === user)!;
  const acl = (user: string) => of(user).acls.map((a) => `${a.resourceType} ${a.patternType} ${a.name} ${a.operation}`).sort();

  it("one user per job that touches Kafka, the collector and the exporter; none for jobs that do not", () => {
    expect(clients.map((c) => c.user)).toEqual([
      "rt-dw-cdc-ingestion",
      "rt-dw-ods-processing",
      "rt-trk-ods",
      "rt-trk-replay",
      COLLECTOR_KAFKA_USER,
      EXPORTER_KAFKA_USER,
    ].sort((a, b) => a.localeCompare(b)));
  });

  it("the CDC job writes the cdc topics (and their transactions) and reads nothing", () => {
    const topics = ["order_items", "orders", "payments", "products", "users"].map((t) => `cdc.shop.${t}`);
    expect(acl("rt-dw-cdc-ingestion")).toEqual(
      [...topics.map((t) => `topic literal ${t} Write`), ...topics.map((t) => `transactional-id prefixed rtdw-${t} Write`)].sort(),
    );
  });

  it("each reading job reads exactly its SQL's topics, in a consumer group of its own name", () => {
    expect(acl("rt-trk-ods")).toEqual(["group literal rt-trk-ods Read", "topic literal tracking.events Read"]);
    expect(acl("rt-dw-ods-processing")).toContain("group literal rt-dw-ods-processing Read");
    expect(acl("rt-dw-ods-processing").filter((a) => a.startsWith("topic"))).toHaveLength(5);
    expect(acl("rt-dw-ods-processing").some((a) => a.endsWith("Write"))).toBe(false);
  });

  it("the collector writes the tracking topics only; the replay reads its topic only; the exporter only describes", () => {
    expect(acl(COLLECTOR_KAFKA_USER)).toEqual(["topic literal tracking.dead-letter Write", "topic literal tracking.events Write", "topic literal tracking.replay Write"]);
    expect(acl("rt-trk-replay")).toEqual(["group literal rt-trk-replay Read", "topic literal tracking.replay Read"]);
    expect(of(EXPORTER_KAFKA_USER).acls.every((a) => a.operation === "Describe")).toBe(true);
  });

  it("renders the access task's input and refuses passwords kafka-configs would split", () => {
    const lines = renderAccessLines(clients).trim().split("\n");
    expect(lines).toContain("user rt-trk-ods");
    expect(lines).toContain("allow rt-trk-ods topic literal tracking.events Read");
    expect(renderPasswordLines({ b: "B".repeat(20), a: "a1".repeat(10) })).toBe(`a ${"a1".repeat(10)}\nb ${"B".repeat(20)}\n`);
    expect(() => renderPasswordLines({ a: "abc,def=ghi]jklmnop" })).toThrow(/Kafka password of a: expected at least 16 letters and digits/);
  });

  it("a job's SQL logs in with SCRAM as the job itself, its password substituted only at submission", () => {
    const env = jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod, "rt-trk-ods");
    const sql = renderSql("CREATE TEMPORARY TABLE t (${kafka.rawColumns}) WITH (${kafka.rawSource:tracking.events,rt-trk-ods});", env);
    expect(sql).toContain("'properties.sasl.mechanism' = 'SCRAM-SHA-512'");
    expect(sql).toContain('ScramLoginModule required username="rt-trk-ods" password="${secret:kafka.password}"');
    const base = { "paimon.password": "p", "s3.secretKey": "s", "mysql.password": "m", "starrocks.password": "r", "quality.password": "q" };
    expect(jobSecrets(base, { "rt-trk-ods": "own", "rt-dw-ods-processing": "other" }, "rt-trk-ods")["kafka.password"]).toBe("own");
    expect(jobSecrets(base, { "rt-trk-ods": "own" }, "rt-trk-dwd")["kafka.password"]).toBeUndefined();
    const noJob = { ...env, kafka: { ...env.kafka, user: undefined } };
    expect(() => renderSql("CREATE TEMPORARY TABLE t (${kafka.rawColumns}) WITH (${kafka.rawSource:tracking.events,x});", noJob)).toThrow(/rendered without the job whose user it connects as/);
  });
});
