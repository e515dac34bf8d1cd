import * as fs from "fs";
import { jobLineage, lineageOfSql, renderLineageDoc } from "../../components/jobs/lineage";
import { loadJobTable } from "../../components/config/jobTable";
import { TOPICS } from "../../components/pipelines/topics";
import { LINEAGE_DOC } from "../../scripts/docs";

describe("lineage derived from the job SQL", () => {
  const lineage = jobLineage(loadJobTable());
  const of = (job: string) => lineage.find((l) => l.job === job)!;

  it("follows the warehouse pipeline MySQL -> Kafka -> ODS -> DWD -> StarRocks", () => {
    expect(of("rt-dw-cdc-ingestion")).toEqual({
      job: "rt-dw-cdc-ingestion",
      reads: ["mysql:order_items", "mysql:orders", "mysql:payments", "mysql:products", "mysql:users"],
      writes: ["kafka:cdc.shop.order_items", "kafka:cdc.shop.orders", "kafka:cdc.shop.payments", "kafka:cdc.shop.products", "kafka:cdc.shop.users"],
      maintains: [],
    });
    expect(of("rt-dw-ods-processing").reads).toEqual(of("rt-dw-cdc-ingestion").writes);
    expect(of("rt-dw-ods-processing").writes).toContain("paimon:dq.ods_rejects");
    expect(of("rt-dw-dwd-transform").reads).toEqual(of("rt-dw-ods-processing").writes.filter((t) => t.startsWith("paimon:ods.")));
    expect(of("rt-dw-dws-aggregate")).toMatchObject({
      reads: ["paimon:dwd.order_items", "paimon:dwd.orders", "paimon:dwd.payments", "paimon:dwd.products"],
      writes: ["starrocks:dws.dws_product_daily", "starrocks:dws.dws_trade_daily"],
    });
    expect(of("rt-dw-monitor").writes).toEqual(["paimon:dq.table_quality_hourly", "postgres:rtdw_quality.dq_table_quality"]);
  });

  it("follows the tracking pipeline Kafka -> ODS -> DWD -> StarRocks", () => {
    expect(of("rt-trk-ods")).toMatchObject({ reads: ["kafka:tracking.events"], writes: ["paimon:dq.tracking_rejects", "paimon:ods.tracking_core_events", "paimon:ods.tracking_events"] });
    expect(of("rt-trk-dwd")).toMatchObject({ reads: ["paimon:ods.tracking_events"], writes: ["paimon:dwd.tracking_events"] });
    expect(of("rt-trk-dws").writes).toEqual(["starrocks:dws.dws_trk_event_daily", "starrocks:dws.dws_trk_event_hourly", "starrocks:dws.dws_trk_funnel_daily"]);
  });

  it("a compaction job maintains the tables its including_tables pattern matches, and reads or writes no rows", () => {
    expect(of("rt-dw-compaction")).toEqual({ job: "rt-dw-compaction", reads: [], writes: [], maintains: ["paimon:ods.shop_order_items", "paimon:ods.shop_orders", "paimon:ods.shop_payments", "paimon:ods.shop_products", "paimon:ods.shop_users"] });
    expect(of("rt-trk-compaction").maintains).toEqual(["paimon:ods.tracking_core_events", "paimon:ods.tracking_events"]);
    expect(() => lineageOfSql("CALL sys.compact_database(including_databases => 'ods', mode => 'combined');", "c.sql")).toThrow("c.sql: a compaction job must name its tables");
    expect(() => lineageOfSql("CALL sys.compact_database(including_databases => 'ods', including_tables => 'ods\\.nothing_.*');", "d.sql")).toThrow("d.sql: including_tables 'ods\\.nothing_.*' matches no table");
  });

  it("reads only declared Kafka topics", () => {
    const topics = new Set(TOPICS.map((t) => `kafka:${t.name}`));
    for (const t of lineage.flatMap((l) => [...l.reads, ...l.writes]).filter((t) => t.startsWith("kafka:"))) expect(topics).toContain(t);
  });

  it("expands views and skips CTE names; refuses a table it cannot place", () => {
    const sql = `CREATE TEMPORARY TABLE k (x INT) WITH ('connector' = 'kafka', 'topic' = 'a.b');
CREATE TEMPORARY VIEW v AS SELECT * FROM k JOIN ods.t ON true;
INSERT INTO dwd.out WITH c AS (SELECT * FROM v) SELECT * FROM c;`;
    expect(lineageOfSql(sql, "x.sql")).toEqual({ reads: ["kafka:a.b", "paimon:ods.t"], writes: ["paimon:dwd.out"], maintains: [] });
    expect(() => lineageOfSql("INSERT INTO dwd.out SELECT * FROM nowhere;", "y.sql")).toThrow("y.sql: table nowhere is neither a temporary table, a view nor a catalog table");
    expect(() => lineageOfSql("CREATE TEMPORARY TABLE s (x INT) WITH ('connector' = 'print');", "z.sql")).toThrow("z.sql: cannot tell what temporary table s reads or writes");
  });

  it("docs/lineage.md is current (regenerate with `npm run docs`)", () => {
    expect(fs.readFileSync(LINEAGE_DOC, "utf8")).toBe(renderLineageDoc(lineage));
  });
});
