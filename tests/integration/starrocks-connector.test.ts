import { DEFAULT_LAKEHOUSE } from "../../components/config/lakehousePolicy";
import * as mysql from "mysql2/promise";
import { SqlGatewayClient } from "../../components/flink/sqlGateway";
import { renderSql, splitStatements, withSecrets } from "../../components/jobs/render";
import { stackSinks, starrocksDwsAsMysql, starrocksDwsTables } from "../../components/jobs/sinks";
import { readJobSql } from "../../components/config/jobTable";
import { sandbox } from "../helpers/sandbox";

/**
 * The StarRocks connector on the sandbox's real Flink 1.20.3. Maven Central has no `_flink-1.20`
 * build of flink-connector-starrocks (latest 1.2.10_flink-1.19), so the 1.19 build is what the image
 * ships. Here Flink 1.20 loads its factory, accepts the stacks' exact sink options, and planning gets
 * as far as the connector's schema check: it connects to the FE's MySQL port (the sandbox's MariaDB
 * stands in) and queries StarRocks' information_schema.COLUMNS.COLUMN_SIZE, which only StarRocks has.
 * A binary incompatibility (NoSuchMethodError, ClassNotFound) or a rejected option would fail earlier
 * with another message. CONTRACT ONLY for StarRocks itself: no server can run here, nothing is loaded.
 */
describe("StarRocks connector 1.2.10 (flink-1.19 build) on real Flink 1.20: factory, options, schema check reached (contract: no StarRocks server)", () => {
  const { endpoints } = sandbox();
  const gw = new SqlGatewayClient(endpoints.flink.sqlGatewayUrl);
  const sinks = stackSinks(
    { jdbcUrl: `jdbc:mysql://127.0.0.1:${endpoints.mysql.port}`, loadUrl: "starrocks-fe.rtdw.svc:8030", user: endpoints.mysql.user, database: endpoints.mysql.dwsDatabase },
    { jdbcUrl: "jdbc:postgresql://postgres.rtdw.svc:5432/rtdw_quality", user: "rtdw_quality_app" },
  );
  let session = "";
  beforeAll(async () => {
    // The StarRocks DDL's columns and keys as MySQL tables, in the sandbox's StarRocks stand-in database.
    const conn = await mysql.createConnection({ host: "127.0.0.1", port: endpoints.mysql.port, user: endpoints.mysql.user, password: sandbox().credentials.mysql.password, database: endpoints.mysql.dwsDatabase });
    for (const ddl of starrocksDwsAsMysql()) await conn.query(ddl);
    await conn.end();
    session = await gw.openSession({}, `starrocks-contract-${Date.now()}`);
  });
  afterAll(async () => {
    if (session) await gw.closeSession(session).catch(() => undefined);
  });

  it.each([["warehouse/dws_aggregate.sql"], ["tracking/dws.sql"]])("%s: every StarRocks sink table is accepted and planning reaches StarRocks' schema query", async (file) => {
    const sql = withSecrets(renderSql(readJobSql({ sql: file }), { paimon: { jdbcUrl: "-", user: "-", warehouse: "-" }, s3: { endpoint: "-", accessKey: "-", pathStyle: true }, kafka: { bootstrap: "-", user: "-", securityProtocol: "SASL_PLAINTEXT" }, mysql: { hostname: "-", port: 1, database: "-", user: "-" }, timeZone: "UTC", lakehouse: DEFAULT_LAKEHOUSE.prod, sinks }), {
      "starrocks.password": sandbox().credentials.mysql.password,
      "quality.password": sandbox().credentials.mysql.password,
    } as Record<string, string>);
    const ddl = splitStatements(sql).filter((s) => /^CREATE TEMPORARY TABLE (dws_\w+)/.test(s.trim()));
    expect(ddl.length).toBeGreaterThan(0);
    for (const stmt of ddl) {
      const table = stmt.trim().match(/^CREATE TEMPORARY TABLE (\w+)/)![1];
      expect(starrocksDwsTables()).toContain(table);
      expect(stmt).toContain("'connector' = 'starrocks'");
      await gw.execute(session, stmt);
      // A source with the sink's own schema: the plan must bind the connector's sink for it.
      await gw.execute(session, `CREATE TEMPORARY TABLE src_${table} WITH ('connector' = 'datagen', 'number-of-rows' = '1') LIKE ${table} (EXCLUDING ALL)`);
      const err = await gw.execute(session, `EXPLAIN INSERT INTO ${table} SELECT * FROM src_${table}`).then(
        () => new Error("planned without asking StarRocks for the schema"),
        (e: Error) => e,
      );
      expect(err.message).toContain("Failed to get table schema info from StarRocks");
      expect(err.message).toContain("COLUMN_SIZE");
      expect(err.message).not.toMatch(/NoSuchMethod|ClassNotFound|NoClassDefFound|Unsupported options|AbstractMethodError/);
    }
  });
});
