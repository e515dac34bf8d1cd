import { dwsMaterializedViewDeclarations, dwsTableDeclarations, dwsViewDeclarations } from "../../components/config/dwsTables";
import { InformationSchemaColumn, planSchemaChange, tableFromInformationSchema } from "../../components/config/tableSchema";
import { dwsTableProvider, DwsTableInputs, dwsViewProvider } from "../../components/starrocks/dwsTable";
import { dwsMaterializedViewProvider, materializedViewStatements } from "../../components/starrocks/materializedView";
import { DEFAULT_LAKEHOUSE } from "../../components/config/lakehousePolicy";
import { ofType, runStack } from "../helpers/mocks";

/** What MariaDB 10.11.19 (the sandbox's StarRocks stand-in) answered from information_schema.columns for dws.dws_trade_daily, 2026-12-06. */
const MARIADB_TRADE_DAILY: InformationSchemaColumn[] = [
  { COLUMN_NAME: "dt", DATA_TYPE: "varchar", IS_NULLABLE: "NO", COLUMN_KEY: "PRI", CHARACTER_MAXIMUM_LENGTH: 10, NUMERIC_PRECISION: null, NUMERIC_SCALE: null, COLUMN_COMMENT: "" },
  ...["order_count", "paid_order_count", "cancelled_order_count"].map((c) => ({ COLUMN_NAME: c, DATA_TYPE: "bigint", IS_NULLABLE: "YES", COLUMN_KEY: "", CHARACTER_MAXIMUM_LENGTH: null, NUMERIC_PRECISION: 19, NUMERIC_SCALE: 0, COLUMN_COMMENT: "" })),
  ...["gmv", "paid_amount"].map((c) => ({ COLUMN_NAME: c, DATA_TYPE: "decimal", IS_NULLABLE: "YES", COLUMN_KEY: "", CHARACTER_MAXIMUM_LENGTH: null, NUMERIC_PRECISION: 18, NUMERIC_SCALE: 2, COLUMN_COMMENT: "" })),
  { COLUMN_NAME: "buyer_count", DATA_TYPE: "bigint", IS_NULLABLE: "YES", COLUMN_KEY: "", CHARACTER_MAXIMUM_LENGTH: null, NUMERIC_PRECISION: 19, NUMERIC_SCALE: 0, COLUMN_COMMENT: "" },
];

describe("DWS tables as resources: sql/starrocks/10_dws.sql read as schemas, changes planned in MySQL's ALTER (StarRocks and its stand-in)", () => {
  const decls = dwsTableDeclarations();
  const trade = decls.find((d) => d.name === "dws.dws_trade_daily")!;
  const edit = (from: string, to: string) => {
    if (!trade.create.includes(from)) throw new Error(`test edit: ${from} not found`);
    return dwsTableDeclarations(`${trade.create.replace(from, to)};`)[0].declared;
  };

  it("reads every DWS table of the file: columns, primary key, distribution; the MySQL form for the stand-in", () => {
    expect(decls.map((d) => d.name)).toEqual(["dws.dws_trade_daily", "dws.dws_product_daily", "dws.dws_trk_event_hourly", "dws.dws_trk_event_daily", "dws.dws_trk_funnel_daily"]);
    expect(trade.declared.primaryKey).toEqual(["dt"]);
    expect(trade.declared.partitionKeys).toEqual(["dt"]);
    expect(trade.declared.columns.slice(0, 2)).toEqual([{ name: "dt", type: "VARCHAR(10)", notNull: true }, { name: "order_count", type: "BIGINT", notNull: false }]);
    expect(decls.find((d) => d.name === "dws.dws_trk_event_hourly")!.declared.partitionKeys).toEqual(["event"]);
    expect(trade.createMysql).toMatch(/^CREATE TABLE IF NOT EXISTS dws_trade_daily \(dt VARCHAR\(10\) NOT NULL, [\s\S]*, PRIMARY KEY \(dt\)\)$/);
  });

  it("the stand-in's answer for a table created from the file reads as the file's declaration: nothing to do", () => {
    const actual = tableFromInformationSchema("dws.dws_trade_daily", MARIADB_TRADE_DAILY, ["dt"]);
    expect(actual).toEqual(trade.declared);
    expect(planSchemaChange(actual, trade.declared, "", trade.declared, "mysql")).toEqual({ statements: [], changes: [], refused: [], drift: [] });
  });

  it("a column added and a type widened: ALTERs in place, in MySQL's syntax (NOT NULL kept on MODIFY)", () => {
    const next = edit("buyer_count BIGINT", "buyer_count BIGINT, refund_amount DECIMAL(18, 2)");
    expect(planSchemaChange(trade.declared, next, "", trade.declared, "mysql")).toMatchObject({
      statements: ["ALTER TABLE `dws`.`dws_trade_daily` ADD COLUMN `refund_amount` DECIMAL(18, 2) AFTER `buyer_count`"],
      changes: ["add column refund_amount DECIMAL(18, 2) after buyer_count"],
      refused: [],
    });
    const wider = edit("gmv DECIMAL(18, 2)", "gmv DECIMAL(20, 2)");
    expect(planSchemaChange(trade.declared, wider, "", trade.declared, "mysql").statements).toEqual(["ALTER TABLE `dws`.`dws_trade_daily` MODIFY COLUMN `gmv` DECIMAL(20, 2)"]);
    const hourly = decls.find((d) => d.name === "dws.dws_trk_event_hourly")!;
    const longer = dwsTableDeclarations(`${hourly.create.replace("event VARCHAR(100) NOT NULL", "event VARCHAR(200) NOT NULL")};`)[0].declared;
    // A key column's type is StarRocks' sort key: refused like Paimon's.
    expect(planSchemaChange(hourly.declared, longer, "", hourly.declared, "mysql").refused).toEqual([expect.stringContaining("dws.dws_trk_event_hourly.event: the type of a key column cannot change")]);
  });

  it("refuses at preview, naming table and column: a dropped column, a narrowed type, a changed key or distribution", () => {
    const refused = (next: ReturnType<typeof edit>) => planSchemaChange(trade.declared, next, "", trade.declared, "mysql").refused;
    expect(refused(edit(", buyer_count BIGINT", ""))).toEqual([expect.stringContaining("dws.dws_trade_daily.buyer_count: dropping or renaming a column is refused")]);
    expect(refused(edit("gmv DECIMAL(18, 2)", "gmv DECIMAL(10, 2)"))).toEqual([expect.stringContaining("dws.dws_trade_daily.gmv: DECIMAL(18, 2) -> DECIMAL(10, 2) is not a widening")]);
    expect(refused(edit("DISTRIBUTED BY HASH (dt)", "DISTRIBUTED BY HASH (order_count)"))).toEqual([expect.stringContaining("dws.dws_trade_daily: the distribution changes (dt -> order_count): refused, every row would move")]);
    expect(refused(edit("buyer_count BIGINT", "buyer_count BIGINT, x BIGINT NOT NULL"))).toEqual([expect.stringContaining("dws.dws_trade_daily.x: a new column must be nullable")]);
  });

  it("preview: check() states the ALTER, or fails naming the file, table and column", async () => {
    const base: DwsTableInputs = { address: "mysql://fe:9030", user: "root", password: "p", create: trade.create, declared: trade.declared, file: "sql/starrocks/10_dws.sql" };
    const added = await dwsTableProvider.check!(base, { ...base, declared: edit("buyer_count BIGINT", "buyer_count BIGINT, refund_amount DECIMAL(18, 2)") });
    expect(added.failures).toEqual([]);
    expect(added.inputs?.plannedAction).toBe("ALTER in place: add column refund_amount DECIMAL(18, 2) after buyer_count");
    const dropped = await dwsTableProvider.check!(base, { ...base, declared: edit(", buyer_count BIGINT", "") });
    expect(dropped.failures).toEqual([{ property: "declared", reason: expect.stringMatching(/^sql\/starrocks\/10_dws\.sql: dws\.dws_trade_daily\.buyer_count: dropping or renaming/) }]);
    // A column added by hand and found by refresh: reported, kept.
    const observed = { ...trade.declared, columns: [...trade.declared.columns, { name: "note", type: "VARCHAR(20)", notNull: false }] };
    expect((await dwsTableProvider.check!({ ...base, observed }, base)).inputs?.plannedAction).toBe("drift (kept): dws.dws_trade_daily.note VARCHAR(20): in the catalog, not in the SQL files (added outside the stack); kept — declare it or drop it by hand");
  });

  it("views: read from the file; a changed query is an ALTER VIEW, whitespace is not a change", async () => {
    const views = dwsViewDeclarations();
    expect(views.map((v) => v.name)).toEqual(["dws.v_trk_funnel_conversion", "dws.v_trade_daily_kpi"]);
    expect(views[1].query).toMatch(/^SELECT dt, gmv, paid_amount, order_count, gmv \/ NULLIF\(order_count, 0\) AS avg_order_value[\s\S]*FROM dws_trade_daily$/);
    const base = { address: "mysql://fe:9030", user: "root", password: "p", name: views[1].name, query: views[1].query, file: "sql/starrocks/10_dws.sql" };
    expect((await dwsViewProvider.check!(base, { ...base, query: base.query.replace(/\n/g, "\n   ") })).inputs?.plannedAction).toBe("no change");
    expect((await dwsViewProvider.diff!("x", base, { ...base, query: base.query.replace(/\n/g, "  \n") })).changes).toBe(false);
    const changed = { ...base, query: base.query.replace("AS paid_share", "AS paid_ratio") };
    expect((await dwsViewProvider.check!(base, changed)).inputs?.plannedAction).toBe("ALTER VIEW dws.v_trade_daily_kpi: its query changed");
    expect((await dwsViewProvider.diff!("x", base, changed)).changes).toBe(true);
  });

  // StarRocks only, and StarRocks cannot run here: these are the RENDERED statements, not run.
  it("materialized views: a changed query is a rebuild said in preview (DROP + CREATE), a changed refresh an ALTER; found without a record, adopted", async () => {
    const mvs = dwsMaterializedViewDeclarations();
    expect(mvs.map((m) => m.name)).toEqual(["dws.mv_trade_monthly", "dws.mv_category_daily"]);
    expect(mvs[0].query).toMatch(/^SELECT substr\(dt, 1, 7\) AS month, [\s\S]*FROM dws_trade_daily GROUP BY substr\(dt, 1, 7\)$/);
    const mv = { ...mvs[0], refreshMinutes: 10 };
    const create = `CREATE MATERIALIZED VIEW \`dws\`.\`mv_trade_monthly\` REFRESH ASYNC EVERY (INTERVAL 10 MINUTE) AS ${mv.query}`;
    expect(materializedViewStatements(undefined, mv, false)).toEqual([create]);
    expect(materializedViewStatements(undefined, mv, true)).toEqual(["ALTER MATERIALIZED VIEW `dws`.`mv_trade_monthly` REFRESH ASYNC EVERY (INTERVAL 10 MINUTE)"]);
    expect(materializedViewStatements(mv, { ...mv, query: mv.query.replace(/\n/g, "\n  ") }, true)).toEqual([]);
    expect(materializedViewStatements(mv, { ...mv, refreshMinutes: 30 }, true)).toEqual(["ALTER MATERIALIZED VIEW `dws`.`mv_trade_monthly` REFRESH ASYNC EVERY (INTERVAL 30 MINUTE)"]);
    const regrouped = { ...mv, query: mv.query.replace("SUM(gmv) AS gmv", "SUM(gmv) AS gmv, SUM(buyer_count) AS buyers") };
    expect(materializedViewStatements(mv, regrouped, true)).toEqual(["DROP MATERIALIZED VIEW IF EXISTS `dws`.`mv_trade_monthly`", create.replace(mv.query, regrouped.query)]);
    // Dropped by hand meanwhile: created again.
    expect(materializedViewStatements(mv, regrouped, false)).toEqual([create.replace(mv.query, regrouped.query)]);

    const base = { address: "mysql://fe:9030", user: "root", password: "p", file: "sql/starrocks/10_dws.sql", ...mv };
    const planned = async (news: typeof base) => (await dwsMaterializedViewProvider.check!(base, news)).inputs?.plannedAction;
    expect(await planned({ ...base, query: regrouped.query })).toMatch(/^REBUILD dws\.mv_trade_monthly: its query changed; StarRocks cannot alter it, so it is dropped and created again \(it holds only rows derived from its base tables; its first refresh fills it/);
    expect(await planned({ ...base, refreshMinutes: 30 })).toBe("ALTER MATERIALIZED VIEW dws.mv_trade_monthly REFRESH ASYNC EVERY (INTERVAL 30 MINUTE) (was every 10 min)");
    expect(await planned(base)).toBe("no change");
    expect((await dwsMaterializedViewProvider.diff!("x", base, { ...base, refreshMinutes: 30 })).changes).toBe(true);
    expect((await dwsMaterializedViewProvider.diff!("x", base, { ...base })).changes).toBe(false);
    // A materialized view not written as the stack can manage it is refused, not skipped.
    expect(() => dwsMaterializedViewDeclarations("CREATE MATERIALIZED VIEW IF NOT EXISTS mv_x REFRESH ASYNC EVERY (INTERVAL 5 MINUTE) AS SELECT 1;")).toThrow(/1 of 1 materialized views are not written as/);
  });

  it("the stacks register one DwsTable per table, as root through the tunnel after StarRocks; the local stand-in's as the schema owner", async () => {
    const run = await runStack("prod", { namespace: "rtdw-prod", imageRegistry: "registry.example.com/rtdw" });
    const tables = ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:DwsTable");
    expect(tables.map((t) => t.inputs.declared.name).sort()).toEqual(decls.map((d) => d.name).sort());
    for (const t of tables) {
      expect(t.inputs).toMatchObject({ address: "mysql://starrocks-fe.rtdw-prod.svc.cluster.local:9030", user: "root", tunnel: {}, file: "sql/starrocks/10_dws.sql" });
      expect(t.inputs.create).toMatch(/DISTRIBUTED BY HASH/);
      expect(t.secretPaths).toContain("password");
    }
    const views = ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:DwsView");
    expect(views.map((v) => v.inputs.name).sort()).toEqual(dwsViewDeclarations().map((v) => v.name).sort());
    const mvs = ofType(run.registered, "pulumi-nodejs:dynamic/rtdw:DwsMaterializedView");
    expect(mvs.map((v) => [v.inputs.name, v.inputs.refreshMinutes]).sort()).toEqual(dwsMaterializedViewDeclarations().map((m) => [m.name, DEFAULT_LAKEHOUSE.prod.materializedViewRefreshMinutes]).sort());
  });
});
