import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { JobManagerClient } from "../../components/flink/jobManager";
import { eventually } from "../helpers/pipelines";
import { paimonCatalogSql, sandbox } from "../helpers/sandbox";

/**
 * Why the jobs' streaming reads carry a consumer-id (sql/): a job stopped with a savepoint resumes at
 * the snapshot it had reached; if that snapshot expired meanwhile (Paimon keeps snapshots for an hour
 * by default) it cannot resume at all. Here retention is squeezed to one snapshot so the gap takes
 * seconds: without a consumer the resumed job fails on the expired snapshot; with one (as the jobs
 * read) the snapshot is kept and every row arrives once.
 */
describe("Paimon streaming reads resume after their snapshots would have expired only with a consumer-id (real Flink + Paimon)", () => {
  const { endpoints } = sandbox();
  const gw = new SqlGatewayClient(endpoints.flink.sqlGatewayUrl);
  const jm = new JobManagerClient(endpoints.flink.restUrl);
  const run = Date.now().toString(36);
  const started: string[] = [];
  let admin = "";

  beforeAll(async () => {
    admin = await gw.openSession({ "execution.runtime-mode": "batch" }, `consumer-${run}`);
    await gw.execute(admin, paimonCatalogSql("paimon_consumer", "rtdw_consumer", "consumer"));
    await gw.execute(admin, "CREATE DATABASE IF NOT EXISTS paimon_consumer.t");
  });
  afterAll(async () => {
    for (const id of started) await jm.cancel(id).catch(() => undefined);
    if (admin) await gw.closeSession(admin).catch(() => undefined);
  });

  /** One append commit (one snapshot), waited for. */
  const append = async (table: string, from: number, n: number) => {
    const rows = Array.from({ length: n }, (_, i) => `(${from + i}, 'v${from + i}')`).join(", ");
    const r = await gw.execute(admin, `INSERT INTO ${table} VALUES ${rows}`);
    if (r.jobId) expect(await jm.waitFor(r.jobId, ["FINISHED"], 120000)).toBe("FINISHED");
  };

  /** Streams src into out; from `savepoint` when given. */
  const stream = async (src: string, out: string, hint: string, savepoint?: string) => {
    const session = await gw.openSession({ "execution.checkpointing.interval": "1 s", ...(savepoint ? { "execution.savepoint.path": savepoint } : {}) }, `consumer-stream-${run}`);
    await gw.execute(session, paimonCatalogSql("paimon_consumer", "rtdw_consumer", "consumer"));
    const r = await gw.execute(session, `INSERT INTO ${out} SELECT id, v FROM ${src} ${hint}`);
    await gw.closeSession(session).catch(() => undefined);
    started.push(r.jobId!);
    return r.jobId!;
  };

  const count = async (table: string) => Number((await gw.execute(admin, `SELECT COUNT(*), COUNT(DISTINCT id) FROM ${table}`)).rows[0][0]);

  it.each([
    ["with a consumer-id (as the jobs read)", "/*+ OPTIONS('consumer-id' = 'resume-test') */", true],
    ["without one", "", false],
  ])("%s", async (name, hint, resumes) => {
    const tag = `${run}_${resumes ? "c" : "n"}`;
    const src = `paimon_consumer.t.src_${tag}`;
    const out = `paimon_consumer.t.out_${tag}`;
    // Keep one snapshot only, for as little as a second: what an hour of commits does to a real table.
    // Paimon accepts a consumer-id only on a table whose consumers expire (the jobs' catalog sets it by default).
    await gw.execute(
      admin,
      `CREATE TABLE ${src} (id BIGINT, v STRING) WITH ('bucket' = '-1', 'snapshot.num-retained.min' = '1', 'snapshot.num-retained.max' = '1', 'snapshot.time-retained' = '1 s', 'consumer.expiration-time' = '1 h')`,
    );
    await gw.execute(admin, `CREATE TABLE ${out} (id BIGINT, v STRING) WITH ('bucket' = '-1')`);
    await append(src, 1, 10);
    const first = await stream(src, out, hint);
    await eventually(`${name}: the first rows`, () => count(out), (n) => n === 10, 120000, 2000);
    await jm.waitForCheckpoints(first, 1, 60000);
    const savepoint = await jm.stopWithSavepoint(first);

    // Commits while the job is stopped: each expires the snapshots before it, unless a consumer holds them.
    for (let b = 1; b <= 3; b++) {
      await new Promise((r) => setTimeout(r, 1500));
      await append(src, 10 * b + 1, 10);
    }

    const resumed = await stream(src, out, hint, savepoint);
    if (resumes) {
      const n = await eventually(`${name}: every row once after the resume`, () => count(out), (x) => x >= 40, 120000, 2000);
      expect(n).toBe(40);
      expect(await jm.state(resumed)).toBe("RUNNING");
    } else {
      const cause = await eventually(`${name}: the resumed job's failure`, async () => (await jm.failureCause(resumed).catch(() => undefined)) ?? "", (c) => c.length > 0, 120000, 2000);
      expect(cause).toMatch(/snapshot with id \d+ has expired|OutOfRangeException|Global failure/);
      expect(await count(out)).toBe(10);
    }
  }, 600_000);
});
