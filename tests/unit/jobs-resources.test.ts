import { loadJobTable } from "../../components/config/jobTable";
import { ofType, runStack } from "../helpers/mocks";

const FLINK_SQL_JOB = "pulumi-nodejs:dynamic/rtdw:FlinkSqlJob";

/** Every string found anywhere in a value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => strings(x, out));
  return out;
}

describe.each(["dev", "test", "prod"])("%s stack: one FlinkSqlJob per row of the job table", (stack) => {
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack, stack === "dev" ? {} : { imageRegistry: "registry.example.com/rtdw", ...(stack === "prod" ? { objectStore: "s3", awsRegion: "eu-central-1" } : {}) });
  }, 60000);

  it("registers each job with its SQL, the stack's parallelism, its checkpoint interval and upgrade mode", () => {
    const jobs = ofType(run.registered, FLINK_SQL_JOB);
    const table = loadJobTable();
    expect(jobs.map((j) => j.name).sort()).toEqual(table.map((t) => `jobs-${t.name}`).sort());
    for (const row of table) {
      const j = jobs.find((x) => x.name === `jobs-${row.name}`)!.inputs;
      expect(j.name).toBe(row.name);
      expect(j.upgradeMode).toBe(row.upgradeMode);
      expect(j.script.config).toMatchObject({
        "pipeline.name": row.name,
        "parallelism.default": String(run.cfg.flink.parallelism[row.name]),
        "execution.checkpointing.interval": `${row.checkpointIntervalMs} ms`,
        "table.local-time-zone": "Asia/Shanghai",
      });
      expect(j.script.statements[0]).toMatch(/^CREATE CATALOG rtdw WITH/);
      expect(j.script.statements[j.script.statements.length - 1]).toMatch(/^(EXECUTE STATEMENT SET|INSERT INTO|CALL sys\.compact_database\()/);
      expect(j.savepointDir).toBe(`s3://${(run.endpoints as any).objectStore.buckets.checkpoints}/savepoints/${row.name}`);
      expect(j.savepointsToKeep).toBe(3);
      expect(j.restartNonce).toBe(0);
    }
  });

  it("keeps credentials out of the SQL and the provider: they travel only in the secret `secrets` input", () => {
    const c = run.credentials as any;
    const secrets = [c.objectStore.secretKey, ...Object.values(c.kafka.users), c.starrocks.rootPassword, c.streampark.adminPassword, ...Object.values(c.postgres).map((p: any) => p.password), "source-password-for-tests-0001"];
    for (const j of ofType(run.registered, FLINK_SQL_JOB)) {
      expect(j.secretPaths).toContain("secrets");
      // Only a job with a Kafka user gets a Kafka password, and it is that user's own.
      const kafkaUser = j.inputs.name in c.kafka.users;
      expect(Object.keys(j.inputs.secrets).sort()).toEqual([...(kafkaUser ? ["kafka.password"] : []), "mysql.password", "paimon.password", "quality.password", "s3.secretKey", "starrocks.password", "streampark.password"]);
      if (kafkaUser) expect(j.inputs.secrets["kafka.password"]).toBe(c.kafka.users[j.inputs.name]);
      const { secrets: _s, ...rest } = j.inputs;
      const text = strings(rest).join("\n");
      for (const s of secrets) expect(text).not.toContain(s);
      expect(text).toContain("${secret:paimon.password}");
    }
  });

  it("reaches the backend from the deploying machine: published 127.0.0.1 ports on docker, a Kubernetes API tunnel otherwise", () => {
    const jobs = ofType(run.registered, FLINK_SQL_JOB).map((r) => r.inputs);
    const inCluster = /^http:\/\/[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?:\d+$/;
    if (stack === "dev") {
      // dev: the SQL Gateway (StreamPark is there to look at, not the default backend).
      for (const j of jobs) {
        expect(j.backend.kind).toBe("sql-gateway");
        expect(j.backend.sqlGatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(j.backend.jobManagerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(j.tunnel).toBeUndefined();
      }
    } else {
      // test, prod: StreamPark (the seeds' console) by default, the compaction jobs through the gateway.
      for (const j of jobs) {
        expect(j.backend.kind).toBe(/compaction/.test(j.name) ? "sql-gateway" : "streampark");
        if (j.backend.kind === "streampark") expect(j.backend.url).toMatch(inCluster);
        // StreamPark compiles no plans: every job's state verdict is compiled on the gateway.
        expect(j.backend.sqlGatewayUrl).toMatch(inCluster);
        expect(j.backend.jobManagerUrl).toMatch(inCluster);
        expect(j.tunnel).toEqual({});
      }
    }
  });
});

describe("the StreamPark backend is chosen by stack config", () => {
  it("with a cluster per job (test's default) each job is registered on its own cluster in StreamPark; with a shared one, on the stack's; never on a sandbox", async () => {
    const perJob = await runStack("test", { imageRegistry: "registry.example.com/rtdw" });
    const j = ofType(perJob.registered, FLINK_SQL_JOB).find((r) => r.inputs.name === "rt-dw-cdc-ingestion")!.inputs;
    expect(j.backend).toMatchObject({ kind: "streampark", user: "admin", teamId: "100000", clusterName: "rtdw-test-flink-dw-cdc-ingestion", flinkEnvName: "flink-1.20" });
    expect(new URL(j.backend.clusterAddress).hostname.split(".")[0]).toBe("flink-dw-cdc-ingestion-jobmanager");
    // One registered cluster per StreamPark job, none shared.
    const names = ofType(perJob.registered, FLINK_SQL_JOB).filter((r) => r.inputs.backend.kind === "streampark").map((r) => r.inputs.backend.clusterName);
    expect(new Set(names).size).toBe(names.length);

    const run = await runStack("test", { imageRegistry: "registry.example.com/rtdw", jobBackend: "streampark", flink: JSON.stringify({ clusters: "shared", spareSlots: 2 }) });
    const shared = ofType(run.registered, FLINK_SQL_JOB).find((r) => r.inputs.name === "rt-dw-cdc-ingestion")!.inputs;
    expect(shared.backend).toMatchObject({ kind: "streampark", clusterName: "rtdw-test" });
    // StreamPark 2.1's SQL parser has no CALL: the compaction jobs go through the SQL Gateway.
    const kinds = Object.fromEntries(ofType(run.registered, FLINK_SQL_JOB).map((r) => [r.inputs.name, r.inputs.backend.kind]));
    expect(Object.entries(kinds).filter(([, k]) => k === "sql-gateway").map(([n]) => n).sort()).toEqual(["rt-dw-compaction", "rt-trk-compaction"]);
    expect(Object.values(kinds).filter((k) => k === "streampark")).toHaveLength(8);
    // dev keeps the gateway unless asked.
    const dev = await runStack("dev", {});
    expect(new Set(ofType(dev.registered, FLINK_SQL_JOB).map((r) => r.inputs.backend.kind))).toEqual(new Set(["sql-gateway"]));
  }, 60000);
});
