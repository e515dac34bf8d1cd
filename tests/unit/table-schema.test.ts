import { normalizeType, parseCreateTable, planSchemaChange, TableDecl, widens } from "../../components/config/tableSchema";
import { paimonTableProvider, PaimonTableInputs } from "../../components/lakehouse/paimonTable";

/** What Flink 1.20.3's SQL Gateway answered to SHOW CREATE TABLE rtdw.dwd.users (Paimon 1.0 JDBC catalog, sandbox, 2026-12-06). */
const SHOWN_USERS =
  "CREATE TABLE `rtdw`.`dwd`.`users` (\n  `id` BIGINT NOT NULL,\n  `name` VARCHAR(2147483647),\n  `email` VARCHAR(2147483647),\n  `phone` VARCHAR(2147483647),\n  `city` VARCHAR(2147483647),\n  `created_at` TIMESTAMP(3),\n  `updated_at` TIMESTAMP(3),\n  `row_kind` VARCHAR(2147483647),\n  `src_offset` BIGINT,\n  CONSTRAINT `PK_id` PRIMARY KEY (`id`) NOT ENFORCED\n) WITH (\n  'bucket' = '4',\n  'path' = 's3://rtdw-sandbox-warehouse/paimon/dwd.db/users',\n  'sequence.field' = 'src_offset',\n  'snapshot.time-retained' = '1 h',\n  'changelog-producer' = 'lookup',\n  'snapshot.num-retained.max' = '50',\n  'rowkind.field' = 'row_kind',\n  'snapshot.num-retained.min' = '5',\n  'consumer.expiration-time' = '1 d'\n)\n";
/** The same table as sql/warehouse/tables.sql declares it, rendered with the sandbox's policy. */
const FILE_USERS = `CREATE TABLE IF NOT EXISTS dwd.users (
  id BIGINT, name STRING, email STRING, phone STRING, city STRING, created_at TIMESTAMP(3), updated_at TIMESTAMP(3),
  row_kind STRING, src_offset BIGINT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '4', 'rowkind.field' = 'row_kind', 'sequence.field' = 'src_offset', 'changelog-producer' = 'lookup', 'snapshot.num-retained.min' = '5', 'snapshot.num-retained.max' = '50', 'snapshot.time-retained' = '1 h', 'consumer.expiration-time' = '1 d')`;
/** Flink's answer for an append-only ODS table: partitions, TIMESTAMP_LTZ as WITH LOCAL TIME ZONE, DECIMAL. */
const SHOWN_PAYMENTS =
  "CREATE TABLE `rtdw`.`ods`.`shop_payments` (\n  `id` BIGINT,\n  `order_id` BIGINT,\n  `method` VARCHAR(2147483647),\n  `amount` DECIMAL(12, 2),\n  `status` VARCHAR(2147483647),\n  `paid_at` TIMESTAMP(3),\n  `updated_at` TIMESTAMP(3),\n  `op` VARCHAR(2147483647),\n  `src_partition` INT,\n  `src_offset` BIGINT,\n  `src_ts` TIMESTAMP(3) WITH LOCAL TIME ZONE,\n  `ingest_ts` TIMESTAMP(3) WITH LOCAL TIME ZONE,\n  `dt` VARCHAR(2147483647),\n  `hr` VARCHAR(2147483647)\n) PARTITIONED BY (`dt`, `hr`)\nWITH (\n  'path' = 's3://rtdw-sandbox-warehouse/paimon/ods.db/shop_payments',\n  'snapshot.time-retained' = '1 h'\n)\n";

const edit = (sql: string, from: string, to: string) => {
  if (!sql.includes(from)) throw new Error(`test edit: ${from} not found`);
  return parseCreateTable(sql.replace(from, to));
};

describe("a lake table's schema, read from its CREATE TABLE", () => {
  it("the file's declaration and Flink's SHOW CREATE TABLE of the same table read the same (catalog-added options aside)", () => {
    const file = parseCreateTable(FILE_USERS);
    const shown = parseCreateTable(SHOWN_USERS);
    expect(shown.name).toBe("dwd.users");
    expect(shown.columns).toEqual(file.columns);
    expect(shown.primaryKey).toEqual(["id"]);
    expect(shown.columns[0]).toEqual({ name: "id", type: "BIGINT", notNull: true });
    expect(planSchemaChange(shown, file, "rtdw", file)).toEqual({ statements: [], changes: [], refused: [], drift: [] });
    const payments = parseCreateTable(SHOWN_PAYMENTS);
    expect(payments.partitionKeys).toEqual(["dt", "hr"]);
    expect(payments.columns.find((c) => c.name === "src_ts")!.type).toBe(normalizeType("TIMESTAMP_LTZ(3)"));
    expect(payments.columns.find((c) => c.name === "amount")!.type).toBe(normalizeType("DECIMAL(12,2)"));
    expect(payments.columns.find((c) => c.name === "method")!.type).toBe("VARCHAR(2147483647)");
  });

  it("unreadable declarations are errors that name the table", () => {
    expect(() => parseCreateTable("CREATE TABLE ods.x (a INT, WATERMARK FOR a AS a)")).toThrow(/ods.x: a watermark/);
    expect(() => parseCreateTable("CREATE TABLE ods.x (a INT, b AS a + 1)")).toThrow(/ods.x.b: a lake or DWS table holds physical columns only/);
    expect(() => parseCreateTable("CREATE TABLE ods.x (a INT) PARTITIONED BY (dt)")).toThrow(/ods.x: key column dt is not a column/);
    expect(() => parseCreateTable("SELECT 1")).toThrow(/not a CREATE TABLE/);
  });

  it("widening: integers up, FLOAT to DOUBLE, DECIMAL with room, longer strings, finer timestamps; nothing else", () => {
    expect(widens("INT", "BIGINT")).toBe(true);
    expect(widens("BIGINT", "INT")).toBe(false);
    expect(widens("FLOAT", "DOUBLE")).toBe(true);
    expect(widens("DECIMAL(12, 2)", "DECIMAL(14, 2)")).toBe(true);
    expect(widens("DECIMAL(12, 2)", "DECIMAL(12, 4)")).toBe(false); // two fewer integer digits
    expect(widens(normalizeType("VARCHAR(10)"), normalizeType("STRING"))).toBe(true);
    expect(widens(normalizeType("STRING"), normalizeType("VARCHAR(10)"))).toBe(false);
    expect(widens("TIMESTAMP(3)", "TIMESTAMP(6)")).toBe(true);
    expect(widens("TIMESTAMP(3)", "TIMESTAMP(3) WITH LOCAL TIME ZONE")).toBe(false);
    expect(widens("INT", "VARCHAR(2147483647)")).toBe(false);
  });
});

describe("planning a schema change: in place, or refused naming the table and column", () => {
  const users = parseCreateTable(FILE_USERS);

  it("a nullable column added after another: one ALTER TABLE … ADD at that position", () => {
    const wanted = edit(FILE_USERS, "email STRING,", "email STRING, email_domain STRING COMMENT 'the part after @',");
    const plan = planSchemaChange(users, wanted, "rtdw", users);
    expect(plan.refused).toEqual([]);
    expect(plan.statements).toEqual(["ALTER TABLE rtdw.`dwd`.`users` ADD (`email_domain` VARCHAR(2147483647) COMMENT 'the part after @' AFTER `email`)"]);
    expect(plan.changes).toEqual(["add column email_domain STRING after email"]);
  });

  it("a widened type and a relaxed option: MODIFY and SET; an option no longer declared is reset", () => {
    const wanted = edit(FILE_USERS, "src_offset BIGINT,", "src_offset BIGINT, score DECIMAL(14, 2),");
    const before = edit(FILE_USERS, "src_offset BIGINT,", "src_offset BIGINT, score DECIMAL(12, 2),");
    const withOption = { ...before, options: { ...before.options, "write-buffer-size": "64 mb" } };
    const plan = planSchemaChange(withOption, { ...wanted, options: { ...wanted.options, "snapshot.num-retained.max": "80" } }, "rtdw", withOption);
    expect(plan.refused).toEqual([]);
    expect(plan.statements).toEqual([
      "ALTER TABLE rtdw.`dwd`.`users` MODIFY (`score` DECIMAL(14, 2))",
      "ALTER TABLE rtdw.`dwd`.`users` SET ('snapshot.num-retained.max' = '80')",
      "ALTER TABLE rtdw.`dwd`.`users` RESET ('write-buffer-size')",
    ]);
    expect(plan.changes).toContain("widen column score DECIMAL(12, 2) -> DECIMAL(14, 2)");
  });

  it("refused: a dropped or renamed column, a narrowed type, a moved column, a NOT NULL column added, a key or partitioning changed", () => {
    const refusedOf = (to: TableDecl) => planSchemaChange(users, to, "rtdw", users).refused.join("\n");
    expect(refusedOf(edit(FILE_USERS, " phone STRING,", ""))).toMatch(/^dwd\.users\.phone: dropping or renaming a column is refused/);
    expect(refusedOf(edit(FILE_USERS, " phone STRING,", " mobile STRING,"))).toMatch(/dwd\.users\.phone: dropping or renaming a column is refused \(is it renamed to mobile\?/);
    expect(refusedOf(edit(FILE_USERS, "src_offset BIGINT,", "src_offset INT,"))).toMatch(/dwd\.users\.src_offset: BIGINT -> INT is not a widening; refused/);
    expect(refusedOf(edit(FILE_USERS, "name STRING, email STRING,", "email STRING, name STRING,"))).toMatch(/dwd\.users\.(name|email): moving a column is refused/);
    expect(refusedOf(edit(FILE_USERS, "email STRING,", "email STRING, tier INT NOT NULL,"))).toMatch(/dwd\.users\.tier: a new column must be nullable/);
    expect(refusedOf(edit(FILE_USERS, "PRIMARY KEY (id)", "PRIMARY KEY (id, email)"))).toMatch(/dwd\.users: the primary key changes \(id -> id, email\)/);
    expect(refusedOf(edit(FILE_USERS, ") WITH (", ") PARTITIONED BY (city) WITH ("))).toMatch(/dwd\.users: the partitioning changes \(none -> city\)/);
    expect(refusedOf(edit(FILE_USERS, "id BIGINT,", "id INT,"))).toMatch(/dwd\.users\.id: the type of a key column cannot change/);
  });

  it("a column in the catalog the files never had is drift, kept and reported; one the files had and dropped is refused", () => {
    const handMade = edit(FILE_USERS, "src_offset BIGINT,", "src_offset BIGINT, note STRING,");
    const kept = planSchemaChange(handMade, users, "rtdw", users);
    expect(kept.refused).toEqual([]);
    expect(kept.statements).toEqual([]);
    expect(kept.drift).toEqual(["dwd.users.note STRING: in the catalog, not in the SQL files (added outside the stack); kept — declare it or drop it by hand"]);
    expect(planSchemaChange(handMade, users, "rtdw", handMade).refused[0]).toMatch(/^dwd\.users\.note: dropping/);
  });
});

describe("the PaimonTable provider's preview", () => {
  const inputs = (sql: string): PaimonTableInputs => ({
    sqlGatewayUrl: "http://gateway.invalid:8083",
    catalog: ["CREATE CATALOG rtdw WITH ('type' = 'paimon')", "USE CATALOG rtdw"],
    catalogName: "rtdw",
    create: sql,
    declared: parseCreateTable(sql),
    file: "sql/warehouse/tables.sql",
    secrets: {},
  });

  it("says the ALTER it will run, fails on a refused change naming file, table and column, and reports drift found by a refresh — without reaching the gateway", async () => {
    const before = inputs(FILE_USERS);
    const added = await paimonTableProvider.check!(before, inputs(FILE_USERS.replace("email STRING,", "email STRING, email_domain STRING,")));
    expect(added.failures).toEqual([]);
    expect(added.inputs!.plannedAction).toBe("ALTER in place: add column email_domain STRING after email");
    expect((await paimonTableProvider.diff!("dwd.users", before, added.inputs!)).changes).toBe(true);

    const dropped = await paimonTableProvider.check!(before, inputs(FILE_USERS.replace(" phone STRING,", "")));
    expect(dropped.failures).toEqual([{ property: "declared", reason: expect.stringMatching(/^sql\/warehouse\/tables\.sql: dwd\.users\.phone: dropping or renaming a column is refused/) }]);

    const same = await paimonTableProvider.check!(before, inputs(FILE_USERS));
    expect(same.inputs!.plannedAction).toBe("no change");
    expect((await paimonTableProvider.diff!("dwd.users", before, same.inputs!)).changes).toBe(false);

    const refreshed = { ...before, observed: parseCreateTable(FILE_USERS.replace("src_offset BIGINT,", "src_offset BIGINT, note STRING,")) };
    const drift = await paimonTableProvider.check!(refreshed, inputs(FILE_USERS));
    expect(drift.failures).toEqual([]);
    expect(drift.inputs!.plannedAction).toMatch(/^drift \(kept\): dwd\.users\.note STRING: in the catalog, not in the SQL files/);
    expect((await paimonTableProvider.diff!("dwd.users", refreshed, drift.inputs!)).changes).toBe(true);

    const fresh = await paimonTableProvider.check!(undefined as unknown as PaimonTableInputs, inputs(FILE_USERS));
    expect(fresh.inputs!.plannedAction).toMatch(/^create dwd\.users if absent/);
  });
});
