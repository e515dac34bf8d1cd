import { requestJson } from "../../components/platform/http";
import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { kafkaClient, kafkaSqlOptions, paimonCatalogSql, sandbox } from "../helpers/sandbox";

/**
 * The sandbox smoke test: a Paimon table in a JDBC catalog (PostgreSQL) with its warehouse on
 * MinIO, a streaming Flink job from a Kafka topic into it, and exactly the rows sent read back.
 */
describe("sandbox smoke: Kafka -> Flink -> Paimon (JDBC catalog in PostgreSQL, warehouse on MinIO)", () => {
  const { endpoints } = sandbox();
  const gw = new SqlGatewayClient(endpoints.flink.sqlGatewayUrl);
  const run = Date.now().toString(36);
  const topic = `smoke-${run}`;
  const table = `paimon_smoke.smoke.events_${run}`;
  const sent = Array.from({ length: 250 }, (_, i) => ({ id: i + 1, name: `user-${i % 17}`, amount: Math.round(i * 137.5) / 100 }));
  let session = "";
  let jobId: string | undefined;

  beforeAll(async () => {
    const kafka = kafkaClient();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: sent.map((r) => ({ key: String(r.id), value: JSON.stringify(r) })) });
    await producer.disconnect();
    session = await gw.openSession({ "execution.checkpointing.interval": "2 s" }, `smoke-${run}`);
  });

  afterAll(async () => {
    if (jobId) await requestJson("PATCH", `${endpoints.flink.restUrl}/jobs/${jobId}?mode=cancel`).catch(() => undefined);
    if (session) await gw.closeSession(session).catch(() => undefined);
  });

  it("streams every Kafka record into the Paimon table exactly once", async () => {
    await gw.execute(session, paimonCatalogSql("paimon_smoke", "rtdw_smoke", "smoke"));
    await gw.execute(session, "CREATE DATABASE IF NOT EXISTS paimon_smoke.smoke");
    await gw.execute(session, `CREATE TABLE ${table} (id BIGINT, name STRING, amount DOUBLE) WITH ('bucket' = '-1')`);
    await gw.execute(
      session,
      `CREATE TEMPORARY TABLE src_${run} (id BIGINT, name STRING, amount DOUBLE) WITH (
  'connector' = 'kafka', 'topic' = '${topic}', 'format' = 'json',
  'scan.startup.mode' = 'earliest-offset', 'properties.group.id' = 'smoke-${run}',
  ${kafkaSqlOptions()}
)`,
    );
    const insert = await gw.execute(session, `INSERT INTO ${table} SELECT id, name, amount FROM src_${run}`);
    jobId = insert.jobId;
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);

    const state = await requestJson<{ state: string }>("GET", `${endpoints.flink.restUrl}/jobs/${jobId}`);
    expect(["RUNNING", "CREATED", "INITIALIZING"]).toContain(state.state);

    // Paimon makes rows visible at each checkpoint: poll the table in batch mode until all arrived.
    let rows: unknown[][] = [];
    const deadline = Date.now() + 180000;
    while (Date.now() < deadline) {
      rows = (await gw.execute(session, `SELECT id, name, amount FROM ${table}`, { "execution.runtime-mode": "batch" })).rows;
      if (rows.length >= sent.length) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const got = rows.map(([id, name, amount]) => ({ id: Number(id), name, amount: Number(amount) })).sort((a, b) => a.id - b.id);
    expect(got).toEqual(sent);
  });

  it("registered the table in the JDBC catalog in PostgreSQL and wrote its files to MinIO", async () => {
    const { Client } = await import("pg");
    const { endpoints: e, credentials: c } = sandbox();
    const pg = new Client({ host: e.postgres.host, port: e.postgres.port, user: e.postgres.databases.paimon.user, password: c.postgres.paimon.password, database: e.postgres.databases.paimon.database });
    await pg.connect();
    const r = await pg.query("SELECT table_name FROM paimon_tables WHERE catalog_key = 'rtdw_smoke' AND database_name = 'smoke'");
    await pg.end();
    expect(r.rows.map((x) => x.table_name)).toContain(`events_${run}`);

    const Minio = await import("minio");
    const mc = new Minio.Client({ endPoint: "127.0.0.1", port: Number(new URL(e.objectStore.endpoint).port), useSSL: false, accessKey: c.objectStore.accessKey, secretKey: c.objectStore.secretKey });
    const names: string[] = [];
    for await (const o of mc.listObjectsV2(e.objectStore.buckets.warehouse, `smoke/smoke.db/events_${run}/`, true)) names.push((o as { name: string }).name);
    expect(names.some((n) => n.includes("/snapshot/"))).toBe(true);
    expect(names.some((n) => /\/bucket-\d+\/data-.*\.(orc|parquet)$/.test(n))).toBe(true);
  });
});
