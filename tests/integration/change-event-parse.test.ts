import * as fs from "fs";
import * as path from "path";
import { renderSql } from "../../components/jobs/render";
import { SQL_DIR } from "../../components/config/jobTable";
import { sandboxJobEnvironment } from "../../sandbox/jobs";
import { PaimonReader } from "../helpers/pipelines";
import { compareById, optimizedPlan, paritySession } from "../helpers/parity";

/**
 * parse_change_event (components/flink/image/functions) against Flink's own JSON functions, on the
 * sandbox's SQL Gateway: for awkward change events, the op, every image field and the reject reason
 * computed the way rt-dw-ods-processing computed them before (JSON_VALUE / JSON_QUERY per field) and
 * the way its kafka.changeEvents fragment computes them now (one parse per record) must be equal.
 */
const FIELDS = ["id", "name", "price", "created_at", "flag", "nested", "row_kind", "absent"];

const img = { id: 7, name: "Alice 用户", price: 12.3, created_at: "2026-01-02 03:04:05.678", flag: true, nested: { a: 1 }, row_kind: "+I" };
const j = (o: unknown) => JSON.stringify(o);

const PAYLOADS: (string | null)[] = [
  j({ before: null, after: img, op: "c" }),
  j({ op: "c", before: null, after: img }),
  j({ before: { ...img, row_kind: "-U" }, after: null, op: "d" }),
  j({ before: null, after: { ...img, row_kind: "+U", price: 13 }, op: "c" }),
  j({ before: { ...img, row_kind: "-D" }, after: null, op: "d" }),
  j({ before: img, after: { ...img, id: 8 }, op: "u" }),
  j({ before: null, after: img, op: "r" }), j({ before: null, after: img, op: 1 }), j({ before: null, after: img }), j({ before: null, after: img, op: null }),
  j({ before: null, after: { ...img, id: null }, op: "c" }), j({ before: null, after: { ...img, id: undefined }, op: "c" }), j({ before: null, after: { ...img, id: "x" }, op: "c" }),
  j({ before: null, after: { ...img, id: [7] }, op: "c" }), j({ before: null, after: { ...img, id: 1.5e3, price: "12.345" }, op: "c" }),
  '{"before":null,"after":{"id":123456789012345678901234567890,"price":1e400,"name":-0,"flag":1.0E10},"op":"c"}',
  '{"before":null,"after":{"id":1,"id":2,"name":"\\u00e9\\t\\u0001","price":1.50},"op":"c","op":"d"}',
  '{"before":{"id":3},"after":{"id":4},"op":"d","before":{"id":5}}',
  '{"before":null,"after":[{"id":1}],"op":"c"}', '{"before":null,"after":"{\\"id\\":1}","op":"c"}', '{"before":null,"after":42,"op":"c"}',
  '{"before":null,"after":{"id":1},"op":"c"} trailing text', '{"before":null,"after":{"id":1},"op":"c","x":tru}',
  '{"before":null,"after":{"id":1,"deep":{"a":[{"b":[[[]]]}]}},"op":"c"}',
  "", "   ", "{", "not json", '{"a":1,}', "[1,2]", "42", '"just a string"', "null", "{}",
  null,
];

const lit = (s: string | null) => (s === null ? "CAST(NULL AS STRING)" : `'${s.replace(/'/g, "''")}'`);
const SOURCE = `CREATE TEMPORARY VIEW change_values AS SELECT payload, 0 AS src_partition, CAST(id AS BIGINT) AS src_offset, TIMESTAMP '2026-01-02 03:04:05' AS src_ts
FROM (VALUES ${PAYLOADS.map((p, i) => `(${i}, ${lit(p)})`).join(",\n  ")}) AS t(id, payload)`;

// What the fragment computed before: one JSON function per use (kept here as the reference).
const BEFORE_FRAGMENT = `SELECT payload, src_partition, src_offset, src_ts, img,
  CASE WHEN dop = 'd' AND kind = '-U' THEN 'before' WHEN dop = 'c' AND kind = '+U' THEN 'u' WHEN dop IN ('c', 'd') THEN dop END AS op
FROM (
  SELECT *, JSON_VALUE(img, '$.row_kind') AS kind FROM (
    SELECT *, CASE WHEN dop = 'd' THEN JSON_QUERY(payload, '$.before') ELSE JSON_QUERY(payload, '$.after') END AS img
    FROM (SELECT *, JSON_VALUE(payload, '$.op') AS dop FROM change_values)))`;

// The outcome as rt-dw-ods-processing decides it: an ODS row, or the reject reason, or neither (a before image).
const outcome = (isJson: string, id: string) => `CASE WHEN op IN ('c', 'u', 'd') AND ${id} IS NOT NULL THEN 'ods'
       WHEN op IS NULL OR (op <> 'before' AND ${id} IS NULL) THEN
         CASE WHEN NOT ${isJson} THEN 'not JSON' WHEN op IS NULL THEN 'unknown op' ELSE 'no id' END
       ELSE 'skipped' END`;

const BEFORE = `SELECT src_offset AS id, op, ${outcome("(payload IS JSON)", "JSON_VALUE(img, '$.id')")} AS outcome,
  ${FIELDS.map((f) => `JSON_VALUE(img, '$.${f}') AS f_${f}`).join(", ")}
FROM (${BEFORE_FRAGMENT})`;

describe("parse_change_event on the sandbox's Flink SQL Gateway", () => {
  let reader: PaimonReader;
  beforeAll(async () => {
    reader = await paritySession("warehouse/ods_processing.sql");
    await reader.rows(SOURCE);
  });
  afterAll(() => reader.close());

  it("gives the op, every image field and the reject reason exactly as the JSON_VALUE / JSON_QUERY calls did, for awkward change events", async () => {
    // The fragment as the job renders it now.
    const fragment = renderSql("${kafka.changeEvents:change_values}", sandboxJobEnvironment(), "change-event-parse");
    const AFTER = `SELECT src_offset AS id, op, ${outcome("is_json", "img['id']")} AS outcome,
  ${FIELDS.map((f) => `img['${f}'] AS f_${f}`).join(", ")}
FROM (${fragment})`;
    const { before, after, differences } = await compareById(reader, BEFORE, AFTER, PAYLOADS);
    expect(before.size).toBe(PAYLOADS.length);
    expect(after.size).toBe(PAYLOADS.length);
    expect(differences).toEqual([]);
    const outcomes = new Set([...after.values()].map((r) => r.outcome));
    expect([...outcomes].sort()).toEqual(["no id", "not JSON", "ods", "skipped", "unknown op"]);
    expect(after.get(0)).toMatchObject({ op: "c", outcome: "ods", f_id: "7", f_name: "Alice 用户", f_price: "12.3", f_flag: "true", f_nested: null, f_row_kind: "+I" });
    expect(after.get(2)).toMatchObject({ op: "before", outcome: "skipped" });
  });

  it("parses each record once in rt-dw-ods-processing: one parse_change_event call per source topic, shared by its ODS and the reject INSERT", async () => {
    const optimized = await optimizedPlan("rt-dw-ods-processing");
    expect(optimized).toContain("Sink(table=[rtdw.dq.ods_rejects]");
    const calls = optimized.match(/parse_change_event\(/g) ?? [];
    const topics = (fs.readFileSync(path.join(SQL_DIR, "warehouse", "ods_processing.sql"), "utf8").match(/\$\{kafka\.rawSource:/g) ?? []).length;
    expect(topics).toBe(5);
    expect({ calls: calls.length, plan: calls.length === topics ? "" : optimized }).toEqual({ calls: topics, plan: "" });
    expect(optimized).not.toContain("JSON_VALUE");
  });
});
