import { spawnSync } from "child_process";
import { localLakehouse, sandboxJobEnvironment, sandboxJobSecrets } from "../../sandbox/jobs";
import { withSecrets } from "../../components/jobs/render";
import { DEFAULT_LAKEHOUSE, LakehousePolicy, LakeTable, lakeTables, tableOptions } from "../../components/config/lakehousePolicy";
import { UPKEEP_SCRIPT, upkeepEnv, upkeepStatementLines, upkeepStatements } from "../../components/lakehouse/upkeep";
import { ensureJobs, eventually, explainingJobs, flink, idBlock, PaimonReader, SANDBOX_CHECKPOINT_MS, sendProbeEvents } from "../helpers/pipelines";
import { sandbox } from "../helpers/sandbox";

/**
 * Lakehouse upkeep on the sandbox (real Flink 1.20, Paimon 1.2, MinIO): the ODS writers only append,
 * the pipelines' compaction jobs merge their small files, and the upkeep task (components/lakehouse/
 * upkeep.sh, the runner that lives beside the SQL Gateway on the stacks) drops expired partitions and
 * snapshots and removes orphan files, while every reader still reads exactly the rows written.
 */
const run = Date.now().toString(36);

/** One upkeep run as the stacks' runner does it, over `tables`, with `policy`; its log and exit status. */
function upkeepOnce(policy: LakehousePolicy, tables: readonly LakeTable[]): { status: number | null; log: string } {
  const statements = upkeepStatements(policy, tables, sandboxJobEnvironment()).map((s) => ({ ...s, sql: withSecrets(s.sql, sandboxJobSecrets()) }));
  const r = spawnSync("sh", [UPKEEP_SCRIPT, "--once"], {
    encoding: "utf8",
    timeout: 600000,
    env: { ...process.env, ...upkeepEnv(policy, sandbox().endpoints.flink.sqlGatewayUrl), UPKEEP_STATEMENTS: upkeepStatementLines(statements) },
  });
  return { status: r.status, log: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function objectStore() {
  const { endpoints, credentials } = sandbox();
  const Minio = require("minio") as typeof import("minio");
  const u = new URL(endpoints.objectStore.endpoint);
  const client = new Minio.Client({ endPoint: u.hostname, port: Number(u.port), useSSL: false, accessKey: credentials.objectStore.accessKey, secretKey: credentials.objectStore.secretKey, region: "us-east-1", pathStyle: true });
  const bucket = endpoints.objectStore.buckets.warehouse;
  return {
    put: (key: string) => client.putObject(bucket, key, Buffer.from("written by a writer that crashed before its commit")),
    exists: (key: string) => client.statObject(bucket, key).then(() => true, () => false),
  };
}

describe("lakehouse upkeep on the sandbox (real Flink, Paimon and MinIO)", () => {
  const paimon = new PaimonReader();
  let jobIds: Record<string, string> = {};
  const explained = (body: () => Promise<void>) => () => explainingJobs(jobIds, body);

  beforeAll(async () => {
    jobIds = await ensureJobs(["rt-trk-ods", "rt-trk-dwd", "rt-trk-compaction", "rt-dw-ods-processing", "rt-dw-compaction"]);
    await paimon.open();
  });
  afterAll(() => paimon.close());

  it("the ODS writer only appends; rt-trk-compaction merges its small files, so files per bucket stay bounded over many commits, and ODS and DWD hold every event once", explained(async () => {
    // A day of this run's own, so the partition holds only what this test writes.
    const day = new Date(Date.UTC(2000, 0, 1) + ((idBlock() / 100000) % 36500) * 86400000).toISOString().slice(0, 10);
    const probe = `upkeep-${run}`;
    const rounds = 12;
    const perRound = 25;
    // One round per checkpoint of rt-trk-ods: each becomes its own commit, with its own small file.
    for (let i = 0; i < rounds; i++) {
      await sendProbeEvents(probe, day, i * perRound, perRound);
      await new Promise((r) => setTimeout(r, SANDBOX_CHECKPOINT_MS + 1500));
    }
    const where = `dt = '${day}' AND event = '${probe}'`;
    await eventually("every probe event in ODS", () => paimon.rows(`SELECT COUNT(*) AS n FROM ods.tracking_events WHERE ${where}`), (r) => Number(r[0].n) === rounds * perRound, 180000);

    const files = () => paimon.rows(`SELECT bucket, COUNT(*) AS n FROM ods.\`tracking_events$files\` WHERE \`partition\` LIKE '{${day},%' GROUP BY bucket`);
    const appends = await paimon.rows(`SELECT COUNT(*) AS n FROM ods.\`tracking_events$snapshots\` WHERE commit_kind = 'APPEND'`);
    expect(Number(appends[0].n)).toBeGreaterThan(0);
    // Paimon compacts an append partition once it holds compaction.min.file-num (5) small files.
    const settled = await eventually("the partition's small files merged", files, (r) => r.length > 0 && r.every((b) => Number(b.n) <= 5), 180000);
    expect(settled.length).toBeGreaterThan(0);

    // The merges are the compaction job's commits, never the writer's.
    const kinds = await paimon.rows(`SELECT commit_kind, commit_user FROM ods.\`tracking_events$snapshots\``);
    const writers = new Set(kinds.filter((k) => k.commit_kind === "APPEND").map((k) => k.commit_user));
    const compactors = new Set(kinds.filter((k) => k.commit_kind === "COMPACT").map((k) => k.commit_user));
    expect(compactors.size).toBeGreaterThan(0);
    expect([...compactors].filter((u) => writers.has(u))).toEqual([]);

    // Readers see every event once: batch readers of ODS, and rt-trk-dwd, which streams ODS (a COMPACT snapshot adds no rows).
    expect(await paimon.rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT distinct_id) AS users FROM ods.tracking_events WHERE ${where}`)).toEqual([{ n: rounds * perRound, users: rounds * perRound }]);
    const dwd = await eventually("every probe event in DWD", () => paimon.rows(`SELECT COUNT(*) AS n FROM dwd.tracking_events WHERE ${where}`), (r) => Number(r[0].n) >= rounds * perRound, 180000);
    expect(dwd).toEqual([{ n: rounds * perRound }]);
  }));

  it("the upkeep task drops partitions past retention, expires snapshots past retainMax and removes orphan files past its cutoff; live rows and young files stay", async () => {
    const table = `upkeep_${run}.ev`;
    const t: LakeTable = { name: table, pipeline: "tracking", partitionKeys: ["dt", "hr"], primaryKey: false, retention: "ods" };
    // The validated policy refuses an orphan cutoff under an hour; the test shortens it to seconds on a
    // table no job writes, so the file it plants can be old enough within the test.
    const policy: LakehousePolicy = { ...DEFAULT_LAKEHOUSE.dev, retentionDays: { ods: 30, dwd: 30, rejects: 30 }, snapshots: { retainMin: 1, retainMax: 3, timeRetainedMs: 3_600_000 }, orphanFiles: { everyMs: 3_600_000, olderThanMs: 4000 } };
    const options = Object.entries(tableOptions(t, policy)).map(([k, v]) => `'${k}' = '${v}'`).join(", ");
    await paimon.rows(`CREATE DATABASE IF NOT EXISTS upkeep_${run}`);
    await paimon.rows(`CREATE TABLE ${table} (id BIGINT, v STRING, dt STRING, hr STRING) PARTITIONED BY (dt, hr) WITH (${options})`);
    const today = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
    // Six commits, as a write-only writer makes them: nothing expires them but the compaction job or the upkeep task.
    const { jm } = flink();
    for (let i = 0; i < 6; i++) {
      const [submitted] = await paimon.rows(`INSERT INTO ${table} /*+ OPTIONS('write-only' = 'true') */ VALUES (${i}, 'old', '2020-01-0${1 + (i % 2)}', '10'), (${100 + i}, 'live', '${today}', '10')`);
      expect(await jm.waitFor(String(submitted["job id"]), ["FINISHED"], 120000)).toBe("FINISHED");
    }
    expect(await paimon.rows(`SELECT COUNT(*) AS n FROM upkeep_${run}.\`ev$snapshots\``)).toEqual([{ n: 6 }]);

    // Files no snapshot references, as a TaskManager killed between writing and committing leaves them.
    const os = objectStore();
    const dir = `paimon/upkeep_${run}.db/ev/dt=${today}/hr=10/bucket-0`;
    const old = `${dir}/data-orphan-old-${run}.parquet`;
    const young = `${dir}/data-orphan-young-${run}.parquet`;
    await os.put(old);
    await new Promise((r) => setTimeout(r, 7000));
    await os.put(young);

    const { status, log } = upkeepOnce(policy, [t]);
    expect({ status, log }).toEqual({ status: 0, log: expect.stringContaining(`upkeep: 5 statements, 0 failed`) });
    expect(log).toContain(`upkeep: ok      ${table}: expire partitions older than 30 d`);
    expect(log).not.toContain(sandboxJobSecrets()["paimon.password"]!);

    expect(await os.exists(old)).toBe(false);
    expect(await os.exists(young)).toBe(true);
    expect(await paimon.rows(`SELECT \`partition\` FROM upkeep_${run}.\`ev$partitions\``)).toEqual([{ partition: `{${today}, 10}` }]);
    expect(Number((await paimon.rows(`SELECT COUNT(*) AS n FROM upkeep_${run}.\`ev$snapshots\``))[0].n)).toBeLessThanOrEqual(3);
    expect(await paimon.rows(`SELECT id FROM ${table} ORDER BY id`)).toEqual([100, 101, 102, 103, 104, 105].map((id) => ({ id })));
  });

  it("a statement that fails is named by its label, without credentials, the others still run, and the run exits non-zero", () => {
    const missing: LakeTable = { name: `upkeep_${run}.no_such_table`, pipeline: "tracking", partitionKeys: ["dt"], primaryKey: false, retention: "rejects" };
    const present: LakeTable = { name: `upkeep_${run}.ev`, pipeline: "tracking", partitionKeys: ["dt", "hr"], primaryKey: false, retention: "ods" };
    const { status, log } = upkeepOnce(localLakehouse(), [missing, present]);
    expect(status).toBe(1);
    expect(log).toContain(`upkeep: FAILED  upkeep_${run}.no_such_table: expire partitions older than 36500 d`);
    expect(log).toContain(`upkeep: ok      upkeep_${run}.ev: remove orphan files older than 6 h`);
    expect(log).toContain("upkeep: 8 statements, 3 failed");
    for (const secret of Object.values(sandboxJobSecrets())) if (secret && secret.length >= 4) expect(log).not.toContain(secret);
  });

  it("over every table of the stack with the local stack's policy, every statement succeeds while the jobs write, and the rows stay", async () => {
    const count = async () => (await paimon.rows("SELECT (SELECT COUNT(*) FROM ods.tracking_events WHERE dt < '2026-01-01') AS ods, (SELECT COUNT(*) FROM dwd.tracking_events WHERE dt < '2026-01-01') AS dwd"))[0];
    const before = await count();
    const tables = lakeTables();
    const { status, log } = upkeepOnce(localLakehouse(), tables);
    const statements = 2 + tables.reduce((n, t) => n + (t.retention ? 3 : 2), 0);
    expect({ status, log }).toEqual({ status: 0, log: expect.stringContaining(`upkeep: ${statements} statements, 0 failed`) });
    expect(await count()).toEqual(before);
    const { jm } = flink();
    for (const [job, id] of Object.entries(jobIds)) expect({ job, state: await jm.state(id) }).toEqual({ job, state: "RUNNING" });
  });
});
