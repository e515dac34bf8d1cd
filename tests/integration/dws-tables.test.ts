import * as mysql from "mysql2/promise";
import { dwsTableDeclarations } from "../../components/config/dwsTables";
import { dwsTableProvider, DwsTableInputs, DwsTableOutputs, dwsViewProvider, DwsViewInputs } from "../../components/starrocks/dwsTable";
import { sandbox } from "../helpers/sandbox";

/**
 * A DWS table's lifecycle through the DwsTable provider against the sandbox's real MariaDB (the
 * StarRocks stand-in: same MySQL protocol, information_schema and ALTER syntax for these changes;
 * StarRocks itself cannot run here, its statements are the rendered ones of the unit test). The
 * table is dws_trade_daily's declaration under a name of this run's own, owned by the stand-in's
 * schema owner as the local stack's are.
 */
describe("DWS tables as resources on the MySQL-protocol stand-in: created, altered in place, refused, drift kept, never dropped", () => {
  const run = `evo${Date.now().toString(36)}`;
  const table = `${run}_trade`;
  const trade = dwsTableDeclarations().find((d) => d.name === "dws.dws_trade_daily")!;
  const declare = (sql: string) => dwsTableDeclarations(`${sql.replace("dws_trade_daily", table)};`)[0];
  const { endpoints: e, credentials: c } = sandbox();
  let conn: mysql.Connection;
  const inputs = (sql: string): DwsTableInputs => {
    const d = declare(sql);
    return { address: `mysql://${e.mysql.host}:${e.mysql.port}`, user: e.mysql.user, password: c.mysql.password, create: d.createMysql, declared: d.declared, file: "sql/starrocks/10_dws.sql" };
  };
  const columns = async () => ((await conn.query("SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.columns WHERE TABLE_SCHEMA = 'dws' AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", [table]))[0] as { c: string; t: string }[]).map((r) => `${r.c} ${r.t}`);

  beforeAll(async () => {
    conn = await mysql.createConnection({ host: e.mysql.host, port: e.mysql.port, user: e.mysql.user, password: c.mysql.password, database: e.mysql.dwsDatabase });
  });
  afterAll(async () => {
    await conn.query(`DROP VIEW IF EXISTS ${table}_kpi`);
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    await conn.end();
  });

  it("walks a table through create, an added column and a widened type, a refused drop, a column added by hand, and delete", async () => {
    const v1 = inputs(trade.create);
    const created = (await dwsTableProvider.create!(v1)) as { id: string; outs: DwsTableOutputs };
    expect(created.id).toBe(`dws.${table}`);
    expect(created.outs.actual).toEqual(v1.declared);
    await conn.query(`INSERT INTO ${table} (dt, order_count, gmv) VALUES ('2026-12-01', 3, 30.50)`);

    // A column added and a type widened in the file: preview states the ALTERs; up makes them in place.
    const v2Sql = trade.create.replace("gmv DECIMAL(18, 2)", "gmv DECIMAL(20, 2)").replace("buyer_count BIGINT", "buyer_count BIGINT, refund_amount DECIMAL(18, 2)");
    const v2 = inputs(v2Sql);
    const checked = (await dwsTableProvider.check!(created.outs, v2)) as { inputs: DwsTableInputs; failures: unknown[] };
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.plannedAction).toBe("ALTER in place: widen column gmv DECIMAL(18, 2) -> DECIMAL(20, 2); add column refund_amount DECIMAL(18, 2) after buyer_count");
    expect((await dwsTableProvider.diff!(created.id, created.outs, checked.inputs)).changes).toBe(true);
    const updated = (await dwsTableProvider.update!(created.id, created.outs, checked.inputs)).outs as DwsTableOutputs;
    expect(updated.applied).toEqual([`ALTER TABLE \`dws\`.\`${table}\` MODIFY COLUMN \`gmv\` DECIMAL(20, 2)`, `ALTER TABLE \`dws\`.\`${table}\` ADD COLUMN \`refund_amount\` DECIMAL(18, 2) AFTER \`buyer_count\``]);
    expect(updated.actual).toEqual(v2.declared);
    expect(await columns()).toEqual(["dt varchar(10)", "order_count bigint(20)", "paid_order_count bigint(20)", "cancelled_order_count bigint(20)", "gmv decimal(20,2)", "paid_amount decimal(18,2)", "buyer_count bigint(20)", "refund_amount decimal(18,2)"]);
    // The row written before keeps its values; the new column reads NULL.
    expect((await conn.query(`SELECT dt, order_count, gmv, refund_amount FROM ${table}`))[0]).toEqual([{ dt: "2026-12-01", order_count: 3, gmv: "30.50", refund_amount: null }]);

    // A dropped column fails preview naming the table and column; up would change nothing.
    const v3 = inputs(v2Sql.replace(", buyer_count BIGINT", ""));
    expect((await dwsTableProvider.check!(updated, v3)).failures).toEqual([{ property: "declared", reason: expect.stringContaining(`dws.${table}.buyer_count: dropping or renaming a column is refused`) }]);
    await expect(dwsTableProvider.update!(created.id, updated, { ...v3, plannedAction: undefined })).rejects.toThrow(`dws.${table}.buyer_count: dropping or renaming a column is refused`);
    expect(await columns()).toContain("buyer_count bigint(20)");

    // A column added by hand: refresh records it, preview reports it as drift, up keeps it.
    await conn.query(`ALTER TABLE ${table} ADD COLUMN note VARCHAR(20)`);
    const read = await dwsTableProvider.read!(created.id, updated);
    const refreshed = read.props as DwsTableOutputs;
    expect(refreshed.observed?.columns.map((x) => x.name)).toContain("note");
    const again = (await dwsTableProvider.check!(refreshed, { ...v2 })) as { inputs: DwsTableInputs; failures: unknown[] };
    expect(again.inputs.plannedAction).toBe(`drift (kept): dws.${table}.note VARCHAR(20): in the catalog, not in the SQL files (added outside the stack); kept — declare it or drop it by hand`);
    expect((await dwsTableProvider.diff!(created.id, refreshed, again.inputs)).changes).toBe(true);
    await dwsTableProvider.update!(created.id, refreshed, again.inputs);
    expect(await columns()).toContain("note varchar(20)");

    // A view over it: created, then its changed query applied (the bootstrap's IF NOT EXISTS would keep the old one).
    const view: DwsViewInputs = { address: v1.address, user: v1.user, password: v1.password, name: `dws.${table}_kpi`, query: `SELECT dt, gmv / NULLIF(order_count, 0) AS avg_order_value FROM ${table}`, file: v1.file };
    await dwsViewProvider.create!(view);
    expect((await conn.query(`SELECT * FROM ${table}_kpi`))[0]).toEqual([{ dt: "2026-12-01", avg_order_value: "10.166667" }]);
    const changed = { ...view, query: `SELECT dt, gmv / NULLIF(order_count, 0) AS avg_order_value, refund_amount FROM ${table}` };
    expect((await dwsViewProvider.diff!(view.name, view, changed)).changes).toBe(true);
    await dwsViewProvider.update!(view.name, view, changed);
    expect((await conn.query(`SELECT * FROM ${table}_kpi`))[0]).toEqual([{ dt: "2026-12-01", avg_order_value: "10.166667", refund_amount: null }]);
    expect(await dwsViewProvider.read!(view.name, changed)).toEqual({ id: view.name, props: changed });

    // Removed from the files (or the stack destroyed): the table and its rows stay.
    await dwsTableProvider.delete!(created.id, refreshed);
    expect(((await conn.query(`SELECT COUNT(*) AS n FROM ${table}`))[0] as { n: number }[])[0].n).toBe(1);
  });
});
