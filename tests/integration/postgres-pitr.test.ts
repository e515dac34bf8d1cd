import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { JobManagerClient } from "../../components/flink/jobManager";
import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { loadOrCreateSecrets } from "../../sandbox/credentials";
import { DATA, ensureDir } from "../../sandbox/paths";
import { chownR, freePort, start, stop } from "../../sandbox/process";
import { pgbackrest, pgBackRestEnv } from "../../sandbox/services/pgbackrest";
import { pgBin } from "../../sandbox/services/postgres";
import { httpGet } from "../../sandbox/services";
import { eventually } from "../helpers/pipelines";
import { paimonCatalogSql, sandbox } from "../helpers/sandbox";

/**
 * The sandbox's PostgreSQL archives every WAL segment with pgBackRest to MinIO, as the stacks' does.
 * Catalog changes are made through Flink (Paimon's JDBC catalog), some before and some after a base
 * backup, then a point in time is chosen and more changes follow it. The data directory is then
 * restored from the repository alone into an empty folder (what an operator does after losing the
 * volume), to that point in time, and started as a new server: the catalog's rows are exactly those
 * of that moment, and Flink reads the Paimon tables through the restored catalog row for row.
 */
describe("PostgreSQL point-in-time recovery with pgBackRest (real PostgreSQL, pgBackRest, MinIO, Flink + Paimon)", () => {
  const { endpoints } = sandbox();
  const s = loadOrCreateSecrets();
  const gw = new SqlGatewayClient(endpoints.flink.sqlGatewayUrl);
  const jm = new JobManagerClient(endpoints.flink.restUrl);
  const run = Date.now().toString(36);
  const db = `p_${run}`;
  const restoreDir = path.join(DATA, `pitr-restore-${run}`);
  const restoredName = `pitr-restored-${run}`;
  let session = "";
  const live = () =>
    new Client({ host: "127.0.0.1", port: endpoints.postgres.port, user: "rtdw_admin", password: s.postgresAdmin, database: endpoints.postgres.databases.paimon.database });

  /** Every row of the catalog's tables but the commit locks (held for moments by the running jobs). */
  const catalogRows = async (c: Client) => {
    const tables = (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'paimon_distributed_locks' ORDER BY 1")).rows.map((r) => r.table_name as string);
    const out: Record<string, unknown[]> = {};
    for (const t of tables) out[t] = (await c.query(`SELECT * FROM "${t}" ORDER BY 1, 2, 3`)).rows;
    return out;
  };
  const sql = async (statement: string) => {
    const r = await gw.execute(session, statement);
    if (r.jobId) expect(await jm.waitFor(r.jobId, ["FINISHED"], 120000)).toBe("FINISHED");
    return r.rows;
  };

  beforeAll(async () => {
    session = await gw.openSession({ "execution.runtime-mode": "batch" }, `pitr-${run}`);
    await gw.execute(session, paimonCatalogSql("pitr", "rtdw_pitr", "pitr"));
    await gw.execute(session, "USE CATALOG pitr");
  });
  afterAll(async () => {
    await stop(restoredName, { signal: "SIGINT", graceMs: 10000, last: "SIGQUIT" }).catch(() => undefined);
    fs.rmSync(restoreDir, { recursive: true, force: true });
    if (session) {
      await gw.execute(session, "USE CATALOG pitr").catch(() => undefined);
      await gw.execute(session, `DROP DATABASE IF EXISTS ${db} CASCADE`).catch(() => undefined);
      await gw.closeSession(session).catch(() => undefined);
    }
  });

  it("reports the WAL archive to Prometheus: segments archived, none failing (the stacks' exporter query, PostgresWalArchiveFailing's input)", async () => {
    const { credentials } = sandbox();
    const auth = { user: endpoints.prometheus.username, password: credentials.prometheus.password };
    const value = async (q: string) => {
      const r = JSON.parse((await httpGet(`${endpoints.prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`, auth)).body).data.result as { value: [number, string] }[];
      return r.length ? Number(r[0].value[1]) : undefined;
    };
    const archived = await eventually("rtdw_wal_archive_archived_count scraped", () => value("max(rtdw_wal_archive_archived_count)"), (v) => (v ?? 0) > 0, 90000, 3000);
    expect(archived).toBeGreaterThan(0);
    expect(await value("max(rtdw_wal_archive_failing)")).toBe(0);
  });

  it("restores the data directory to a point in time: the catalog as it was, every Paimon table readable", async () => {
    await sql(`CREATE DATABASE ${db}`);
    await sql(`CREATE TABLE ${db}.orders (id BIGINT, amount DECIMAL(10, 2), PRIMARY KEY (id) NOT ENFORCED) WITH ('bucket' = '1')`);
    await sql(`INSERT INTO ${db}.orders VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, ${(i + 1) * 1.5})`).join(", ")}`);

    // The base backup; what follows it is in the WAL archive only.
    const backup = pgbackrest(s, ["backup", "--type=full"]);
    expect(backup).toMatch(/backup command end: completed successfully/);

    await sql(`CREATE TABLE ${db}.customers (id BIGINT, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('bucket' = '1')`);
    await sql(`INSERT INTO ${db}.customers VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger')`);

    const c = live();
    await c.connect();
    let target = "";
    let atTarget: Record<string, unknown[]> = {};
    try {
      atTarget = await catalogRows(c);
      target = (await c.query("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS t")).rows[0].t;
      await new Promise((r) => setTimeout(r, 1500));
      // After the point in time: these must not come back.
      await sql(`CREATE TABLE ${db}.late (id BIGINT) WITH ('bucket' = '-1')`);
      await sql(`CREATE DATABASE ${db}_late`);
      const afterTarget = await catalogRows(c);
      expect(afterTarget).not.toEqual(atTarget);
      // Close the segment holding those commits and wait until pgBackRest has archived it.
      const segment = (await c.query("SELECT pg_walfile_name(pg_switch_wal()) AS w")).rows[0].w as string;
      await eventually(`WAL segment ${segment} archived`, async () => (await c.query("SELECT last_archived_wal, failed_count FROM pg_stat_archiver")).rows[0], (r) => (r.last_archived_wal ?? "") >= segment, 60000, 1000);
    } finally {
      await c.end();
    }
    const ours = (rows: unknown[]) => (rows as { database_name: string; table_name: string }[]).filter((r) => r.database_name === db).map((r) => r.table_name).sort();
    expect(ours(atTarget.paimon_tables)).toEqual(["customers", "orders"]);

    // The volume is gone: restore into an empty folder from the repository alone, to the point in time.
    ensureDir(restoreDir, 0o700);
    chownR(restoreDir, "postgres");
    const restored = pgbackrest(s, ["restore", `--pg1-path=${restoreDir}`, "--type=time", `--target=${target}`, "--target-action=promote", "--archive-mode=off"]);
    expect(restored).toMatch(/restore command end: completed successfully/);
    const port = await freePort();
    start({
      name: restoredName,
      command: pgBin("postgres"),
      args: ["-D", restoreDir, "-c", `port=${port}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${restoreDir}`, "-c", "archive_mode=off",
        // Recovery needs at least the primary's connection slots.
        "-c", "max_connections=400"],
      // restore_command (archive-get) fetches the WAL to replay with the repository's keys.
      env: pgBackRestEnv(s),
      user: "postgres",
    });
    const r = new Client({ host: "127.0.0.1", port, user: "rtdw_admin", password: s.postgresAdmin, database: endpoints.postgres.databases.paimon.database });
    await eventually(
      "the restored server promoted",
      async () => {
        const probe = new Client({ host: "127.0.0.1", port, user: "rtdw_admin", password: s.postgresAdmin, database: "postgres", connectionTimeoutMillis: 2000 });
        try {
          await probe.connect();
          return (await probe.query("SELECT pg_is_in_recovery() AS rec")).rows[0].rec as boolean;
        } catch {
          return true;
        } finally {
          await probe.end().catch(() => undefined);
        }
      },
      (inRecovery) => !inRecovery,
      120000,
      1000,
    );
    await r.connect();
    try {
      expect(await catalogRows(r)).toEqual(atTarget);
    } finally {
      await r.end();
    }

    // Flink reads the tables through the restored catalog (data files on MinIO, metadata from the restored server).
    const jdbcUrl = `jdbc:postgresql://127.0.0.1:${port}/${endpoints.postgres.databases.paimon.database}`;
    await gw.execute(session, paimonCatalogSql("pitr_restored", "rtdw_pitr", "pitr", jdbcUrl));
    const tables = (await sql(`SHOW TABLES IN pitr_restored.${db}`)).map((row) => String(row[0])).sort();
    expect(tables).toEqual(["customers", "orders"]);
    const dbs = (await sql("SHOW DATABASES IN pitr_restored")).map((row) => String(row[0]));
    expect(dbs).toContain(db);
    expect(dbs).not.toContain(`${db}_late`);
    const orders = await sql(`SELECT id, CAST(amount AS STRING) FROM pitr_restored.${db}.orders ORDER BY id`);
    expect(orders).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, (((i + 1) * 15) / 10).toFixed(2)]));
    expect(await sql(`SELECT id, name FROM pitr_restored.${db}.customers ORDER BY id`)).toEqual([[1, "ada"], [2, "grace"], [3, "edsger"]]);
  });
});
