import * as fs from "fs";
import * as path from "path";
import { parseStackConfig, PROFILES } from "../../components/config";
import { configErrorOf } from "../helpers/config";
import { jobEnvironment } from "../../components/jobs/environment";
import { tableStatements } from "../../components/lakehouse/tables";
import { planSchemaChange } from "../../components/config/tableSchema";
import { jobLineage } from "../../components/jobs/lineage";
import { SECRET_NAMES } from "../../components/jobs/render";
import { jobScript } from "../../components/jobs/script";
import { loadJobTable, SQL_DIR } from "../../components/config/jobTable";
import { compactedByJob, DEFAULT_LAKEHOUSE, lakehousePolicyProblems, lakeTables, LakehousePolicy, tableOptions } from "../../components/config/lakehousePolicy";
import { OLDER_THAN_MARKER, upkeepStatementLines, upkeepStatements } from "../../components/lakehouse/upkeep";
import { EXAMPLE_ENDPOINTS } from "../helpers/jobInputs";

const parse = (stack: string, lakehouse?: unknown) =>
  parseStackConfig(
    "rtdw",
    stack,
    { "rtdw:sourcePassword": "source-password-0001", ...(lakehouse === undefined ? {} : { "rtdw:lakehouse": JSON.stringify(lakehouse) }) },
    new Set(["rtdw:sourcePassword"]),
  );
const problemsOf = configErrorOf;

describe("lakehouse policy (rtdw:lakehouse)", () => {
  it.each(PROFILES)("%s: the profile's defaults are valid against the job table's checkpoint intervals", (p) => {
    const longest = Math.max(...loadJobTable().map((j) => j.checkpointIntervalMs));
    expect(lakehousePolicyProblems(DEFAULT_LAKEHOUSE[p], longest, (k) => `rtdw:${k}`)).toEqual([]);
  });

  it("reads the stack's values over the profile's defaults", () => {
    const c = parse("dev", { retention: { ods: "3 d" }, snapshots: { retainMax: 20, timeRetained: "2 h" }, orphanFiles: { olderThan: "12 h" } });
    expect(c.lakehouse.retentionDays).toEqual({ ...DEFAULT_LAKEHOUSE.dev.retentionDays, ods: 3 });
    expect(c.lakehouse.snapshots).toEqual({ retainMin: DEFAULT_LAKEHOUSE.dev.snapshots.retainMin, retainMax: 20, timeRetainedMs: 2 * 3_600_000 });
    expect(c.lakehouse.orphanFiles.olderThanMs).toBe(12 * 3_600_000);
  });

  it("fails the preview on a policy that would lose data or protect nothing, naming the key", () => {
    expect(problemsOf(() => parse("dev", { retention: { dwd: "two weeks" } }))).toMatch(/rtdw:lakehouse.*dwd.*expected whole days such as "90 d"/s);
    expect(problemsOf(() => parse("dev", { orphanFiles: { olderThan: "5 min" } }))).toContain("rtdw:lakehouse.orphanFiles.olderThan: 5 min is below 1 h: files a writer has written but not yet committed");
    expect(problemsOf(() => parse("dev", { snapshots: { timeRetained: "1 min" } }))).toContain("rtdw:lakehouse.snapshots.timeRetained: 1 min is shorter than two checkpoint intervals (10 min)");
    expect(problemsOf(() => parse("dev", { consumerExpiration: "1 h" }))).toContain("rtdw:lakehouse.consumerExpiration: 1 h must be longer than lakehouse.snapshots.timeRetained (1 h)");
    expect(problemsOf(() => parse("dev", { snapshots: { retainMin: 30, retainMax: 10 } }))).toContain("rtdw:lakehouse.snapshots.retainMax: 10 is below retainMin (30)");
    expect(problemsOf(() => parse("dev", { orphans: {} }))).toMatch(/rtdw:lakehouse.*orphans/);
  });

  it("a shorter checkpoint interval on the stack is what the checks use", () => {
    // The local sandbox checkpoints every 5 s: a minute of snapshots is then plenty.
    const policy: LakehousePolicy = { ...DEFAULT_LAKEHOUSE.dev, snapshots: { ...DEFAULT_LAKEHOUSE.dev.snapshots, timeRetainedMs: 60_000 } };
    expect(lakehousePolicyProblems(policy, 5000, (k) => k)).toEqual([]);
    expect(lakehousePolicyProblems(policy, 60_000, (k) => k)).toHaveLength(1);
  });
});

describe("which tables are compacted where", () => {
  const jobs = loadJobTable();
  const tables = lakeTables();
  const lineage = jobLineage(jobs);

  it("lists every table of both pipelines' DDL, each ODS, DWD and reject table partitioned by dt with its retention class", () => {
    expect(tables.map((t) => t.name).sort()).toEqual(
      ["dq.dwd_rejects", "dq.ods_rejects", "dq.table_quality_hourly", "dq.tracking_rejects", "dwd.order_items", "dwd.orders", "dwd.payments", "dwd.products", "dwd.tracking_events", "dwd.users", "ods.shop_order_items", "ods.shop_orders", "ods.shop_payments", "ods.shop_products", "ods.shop_users", "ods.tracking_core_events", "ods.tracking_events"].sort(),
    );
    const classOf = Object.fromEntries(tables.map((t) => [t.name, t.retention ?? "-"]));
    expect(classOf).toMatchObject({ "ods.shop_orders": "ods", "ods.tracking_events": "ods", "dwd.tracking_events": "dwd", "dwd.orders": "-", "dq.ods_rejects": "rejects", "dq.table_quality_hourly": "-" });
  });

  it("a table is written write-only exactly when a compaction job of its pipeline maintains it", () => {
    for (const t of tables) {
      const writers = jobs.filter((j) => new RegExp(`INSERT INTO ${t.name.replace(".", "\\.")}\\b`).test(fs.readFileSync(path.join(SQL_DIR, j.sql), "utf8")));
      expect(writers.length).toBeGreaterThan(0);
      for (const w of writers) {
        const hinted = new RegExp(`INSERT INTO ${t.name.replace(".", "\\.")} /\\*\\+ OPTIONS\\('write-only' = 'true'\\) \\*/`).test(fs.readFileSync(path.join(SQL_DIR, w.sql), "utf8"));
        expect({ table: t.name, writer: w.name, writeOnly: hinted }).toEqual({ table: t.name, writer: w.name, writeOnly: compactedByJob(t) });
      }
      const maintainers = lineage.filter((l) => l.maintains.includes(`paimon:${t.name}`)).map((l) => l.job);
      expect({ table: t.name, maintainers: maintainers.length }).toEqual({ table: t.name, maintainers: compactedByJob(t) ? 1 : 0 });
      for (const m of maintainers) expect(jobs.find((j) => j.name === m)!.pipeline).toBe(t.pipeline);
    }
  });

  it("each compaction job submits one streaming job with the ODS class's options, and restarts stateless", () => {
    const env = jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod);
    for (const name of ["rt-dw-compaction", "rt-trk-compaction"]) {
      const job = jobs.find((j) => j.name === name)!;
      expect(job.upgradeMode).toBe("stateless");
      const last = jobScript(job, env).statements.at(-1)!;
      expect(last).toMatch(/^CALL sys\.compact_database\(including_databases => 'ods', mode => 'combined'/);
      expect(last).toContain("partition.expiration-time=90 d,");
      expect(last).toContain("snapshot.num-retained.max=200,");
      expect(last).toContain("consumer.expiration-time=7 d,");
    }
  });
});

describe("the policy reaches every table", () => {
  const env = jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod);

  it("new tables are created with it, and a table made under another policy is brought to it in place", () => {
    const tables = ["warehouse", "tracking"].flatMap((p) => tableStatements(env, p));
    const ddl = tables.map((t) => t.create);
    expect(ddl.find((s) => s.startsWith("CREATE TABLE IF NOT EXISTS ods.tracking_events"))).toContain("'partition.expiration-time' = '90 d'");
    expect(ddl.find((s) => s.startsWith("CREATE TABLE IF NOT EXISTS dq.ods_rejects"))).toContain("'partition.expiration-time' = '30 d'");
    expect(ddl.find((s) => s.startsWith("CREATE TABLE IF NOT EXISTS dwd.orders"))).not.toContain("partition.expiration-time");
    const before = jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.dev);
    for (const t of lakeTables()) {
      const old = tableStatements(before, t.pipeline).find((x) => x.name === t.name)!.declared;
      const now = tables.find((x) => x.name === t.name)!.declared;
      const plan = planSchemaChange(old, now, "rtdw", old);
      expect({ table: t.name, refused: plan.refused }).toEqual({ table: t.name, refused: [] });
      const set = plan.statements.find((s) => s.startsWith(`ALTER TABLE rtdw.${t.name.split(".").map((p) => `\`${p}\``).join(".")} SET (`));
      expect(set).toBeDefined();
      for (const [k, v] of Object.entries(tableOptions(t, DEFAULT_LAKEHOUSE.prod))) if (old.options[k] !== v) expect(set).toContain(`'${k}' = '${v}'`);
    }
  });

  it("the upkeep task: per table partition expiry (by class), snapshot expiry and orphan removal; its log labels carry no credentials", () => {
    const statements = upkeepStatements(DEFAULT_LAKEHOUSE.prod, lakeTables(), env);
    expect(statements[0].sql).toMatch(/^CREATE CATALOG rtdw WITH/);
    expect(statements.find((s) => s.label === "ods.shop_orders: expire partitions older than 90 d")?.sql).toBe(
      "CALL sys.expire_partitions(`table` => 'ods.shop_orders', expiration_time => '90 d', timestamp_formatter => 'yyyy-MM-dd', timestamp_pattern => '$dt')",
    );
    expect(statements.filter((s) => s.sql.includes("expire_partitions('") || s.sql.includes("'dwd.orders', expiration_time"))).toEqual([]);
    expect(statements.filter((s) => s.sql.startsWith("CALL sys.remove_orphan_files")).length).toBe(lakeTables().length);
    expect(statements.find((s) => s.label === "dwd.users: remove orphan files older than 1 d")?.sql).toBe(`CALL sys.remove_orphan_files(\`table\` => 'dwd.users', older_than => '${OLDER_THAN_MARKER}', mode => 'local')`);
    const lines = upkeepStatementLines(statements).trimEnd().split("\n");
    expect(lines).toHaveLength(statements.length);
    for (const l of lines) {
      const [label, body] = l.split("\t");
      expect(JSON.parse(body).statement).toBe(statements.find((s) => s.label === label)!.sql);
      expect(label).not.toMatch(/secret|password|\$\{/i);
    }
    // Credentials stay placeholders until the stack substitutes them into the runner's Secret.
    expect(statements.map((s) => s.sql).join("\n")).toContain("${secret:paimon.password}");
    expect(SECRET_NAMES).toContain("paimon.password");
  });
});

describe("StarRocks materialized views refresh by the policy (StarRocks 3.3 grammar as documented; StarRocks cannot run here)", () => {
  const ddl = fs.readFileSync(path.join(SQL_DIR, "starrocks", "10_dws.sql"), "utf8");
  const views = [...ddl.matchAll(/CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\nREFRESH ASYNC EVERY \(INTERVAL \$\{MV_REFRESH_MINUTES\} MINUTE\)\nAS SELECT/g)].map((m) => m[1]);

  it("every asynchronous view is created with the configured interval and altered to it, so a changed policy reaches views created before", () => {
    expect(views.sort()).toEqual(["mv_category_daily", "mv_trade_monthly"]);
    expect((ddl.match(/CREATE MATERIALIZED VIEW/g) ?? []).length).toBe(views.length);
    for (const v of views) expect(ddl).toContain(`ALTER MATERIALIZED VIEW ${v} REFRESH ASYNC EVERY (INTERVAL \${MV_REFRESH_MINUTES} MINUTE);`);
  });

  it("the interval is whole minutes per profile, and a bad one fails the preview", () => {
    expect(PROFILES.map((p) => DEFAULT_LAKEHOUSE[p].materializedViewRefreshMinutes)).toEqual([30, 10, 5]);
    expect(parse("dev").lakehouse.materializedViewRefreshMinutes).toBe(30);
    expect(parse("dev", { materializedViewRefresh: "2 h" }).lakehouse.materializedViewRefreshMinutes).toBe(120);
    expect(problemsOf(() => parse("dev", { materializedViewRefresh: "30 s" }))).toContain('rtdw:lakehouse.materializedViewRefresh: expected whole minutes from "1 min" to "24 h"');
  });
});
