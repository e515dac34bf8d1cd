import * as fs from "fs";
import * as path from "path";
import { SQL_DIR } from "../../components/config/jobTable";
import type { FlinkSqlJobInputs } from "../../components/jobs/provider";
import { renderSql, splitStatements } from "../../components/jobs/render";
import type { JobScript } from "../../components/jobs/script";
import { sandboxJobEnvironment, sandboxJobSecrets } from "../../sandbox/jobs";
import { eventually, PaimonReader } from "./pipelines";
import { kafkaClient, kafkaSqlOptions, sandbox } from "./sandbox";

/**
 * A small job of a test's own for the FlinkSqlJob provider on the sandbox: Kafka topic -> Paimon
 * append table (id, tag), whose output shows lost or duplicated rows (every id is sent once).
 */
export function providerTestJob(o: { name: string; topic: string; table: string; group: string; startup: "group-offsets" | "earliest-offset"; savepointDir: string }) {
  const { endpoints, credentials } = sandbox();
  let sent = 0;
  const script = (tag: string, s: { parallelism?: number; select?: string } = {}): JobScript => {
    const catalog = splitStatements(renderSql(fs.readFileSync(path.join(SQL_DIR, "catalog.sql"), "utf8"), sandboxJobEnvironment(), "catalog.sql"));
    const startup = o.startup === "group-offsets" ? "'scan.startup.mode' = 'group-offsets', 'properties.auto.offset.reset' = 'earliest'" : "'scan.startup.mode' = 'earliest-offset'";
    return {
      job: o.name,
      config: { "pipeline.name": o.name, "parallelism.default": String(s.parallelism ?? 1), "execution.checkpointing.interval": "2 s", "table.dml-sync": "false" },
      statements: [
        ...catalog,
        `CREATE DATABASE IF NOT EXISTS ${o.table.split(".")[0]}`,
        `CREATE TABLE IF NOT EXISTS ${o.table} (id BIGINT, tag STRING)`,
        `CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'kafka', 'topic' = '${o.topic}', ${kafkaSqlOptions({ placeholder: true })}, 'properties.group.id' = '${o.group}', ${startup}, 'format' = 'json')`,
        `INSERT INTO ${o.table} ${s.select ?? `SELECT id, '${tag}' FROM src`}`,
      ],
    };
  };
  const inputs = (over: Partial<FlinkSqlJobInputs> = {}): FlinkSqlJobInputs => ({
    name: o.name,
    script: script("v1"),
    upgradeMode: "savepoint",
    restartNonce: 0,
    backend: { kind: "sql-gateway", sqlGatewayUrl: endpoints.flink.sqlGatewayUrl, jobManagerUrl: endpoints.flink.restUrl },
    savepointDir: o.savepointDir,
    savepointsToKeep: 3,
    objectStore: { endpoint: endpoints.objectStore.endpoint, region: endpoints.objectStore.region, accessKey: credentials.objectStore.accessKey },
    readyTimeoutSeconds: 30,
    startTimeoutSeconds: 120,
    secrets: { ...sandboxJobSecrets(), "kafka.password": credentials.kafka.adminPassword },
    ...over,
  });
  /** Sends the next `n` ids to the topic. */
  const send = async (n: number) => {
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic: o.topic, messages: Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: sent + i }) })) });
    await producer.disconnect();
    sent += n;
  };
  /** Waits until the table holds every id sent, then expects each exactly once. */
  const exactlyAllSent = async (paimon: PaimonReader) => {
    const counts = () => paimon.rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM ${o.table}`).then((r) => ({ n: Number(r[0].n), d: Number(r[0].d) }));
    const c = await eventually("every id once in the output", counts, (x) => x.n >= sent, 120_000, 2000);
    expect(c).toEqual({ n: sent, d: sent });
  };
  return { script, inputs, send, exactlyAllSent };
}
