import { renderSql, withSecrets } from "../../components/jobs/render";
import { sandboxKafka } from "../../sandbox";
import { asKafkaOperator, operatorSecrets, sandboxJobEnvironment } from "../../sandbox/jobs";
import { PaimonReader } from "../helpers/pipelines";
import { compareById, optimizedPlan, paritySession } from "../helpers/parity";

/**
 * parse_tracking_event (components/flink/image/functions) against Flink's own JSON functions, on the
 * sandbox's SQL Gateway: for awkward payloads, every ODS column and the reject reason computed the way
 * rt-trk-ods computed them before (one JSON_VALUE per field) and the way it computes them now (one
 * parse per record) must be equal, column for column.
 */
const SCALARS = ["event_id", "type", "event", "distinct_id", "login_id", "anonymous_id", "project", "lib", "lib_version", "ip", "country", "province", "city", "user_agent"];

const good = { event_id: "e-1", type: "track", event: "ViewProduct", distinct_id: "u-1", login_id: null, anonymous_id: "a-1", time: 1764748800123, flush_time: 1764748800200, recv_time: 1764748800300, track_id: 7, project: "shop", lib: "js", lib_version: "1.26.0", ip: "198.51.100.7", country: "China", province: "Zhejiang", city: "Hangzhou", user_agent: "ua", is_core: true, properties: { z: 1, a: [1, "x", null], m: { y: 2.50, b: "é\n\"/" } } };
const j = (o: object) => JSON.stringify(o);

// Vector writes an event's keys sorted (the function reads them fastest in that order).
const sorted = (o: object) => j(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));

const PAYLOADS: (string | null)[] = [
  j(good),
  sorted(good),
  sorted({ ...good, aaa: 1, event_idx: { a: 1 }, zzz: [1], time: undefined }),
  `${sorted(good).slice(0, -1)},"city":"again","anonymous_id":"b","type":null}`,
  // Vector's shape, read without Jackson where the bytes allow only one reading (CompactEvent), and
  // the same shape with one thing off, where it hands the payload to Jackson.
  sorted({ ...good, properties: { a: [1, { b: 2.5, c: "x/y" }], e: 1e21, f: 0.99, n: -1, z: null } }),
  sorted({ ...good, properties: { a: 100.0, b: 1.0e7, c: 0.001, d: 1.0e-4, e: "😀", f: [[], {}] } }),
  '{"distinct_id":"u","properties":{"a":-0,"b":[0,-0.0]},"time":1764748800123,"type":"track"}',
  '{"distinct_id":"u","properties":{"a":100.0,"b":1.0E7,"c":10000000.0,"d":0.0001,"e":1.0E-4,"f":1.50},"time":1764748800123,"type":"track"}',
  '{"distinct_id":"u","properties":{"b":1,"a":{"d":1,"c":2}},"time":1764748800123,"type":"track"}',
  '{"distinct_id":"u","properties":{"a":1,"a":2},"time":1764748800123,"type":"track"}',
  '{"distinct_id": "u", "properties": {"a": 1}, "time": 1764748800123, "type": "track"}',
  `{"distinct_id":"u","properties":${'{"a":'.repeat(63)}1${"}".repeat(63)},"time":1764748800123,"type":"track"}`,
  `{"distinct_id":"u","properties":${'{"a":'.repeat(64)}1${"}".repeat(64)},"time":1764748800123,"type":"track"}`,
  `{"distinct_id":"u","properties":{"d":"","t":"a\tb"},"time":1764748800123,"type":"track"}`,
  '{"distinct_id":"u","properties":{"a":1]},"time":1764748800123,"type":"track"}',
  '{"distinct_id":"u","time":01,"type":"track"}', '{"distinct_id":"u","is_core":truex,"time":1764748800123,"type":"track"}',
  '{"distinct_id":"u","time":1764748800123,"track_id":-0,"type":"track","x":1.5}',
  '{"distinct_id":"u","time":1764748800123,"track_id":-0,"type":"track"}', '{"distinct_id":"u","time":1764748800123,"type":"track"}}',
  j({ ...good, time: "1764748800123", track_id: "42", is_core: "true" }),
  j({ ...good, is_core: "yes" }), j({ ...good, is_core: 1 }), j({ ...good, is_core: "TRUE" }), j({ ...good, is_core: null }), j({ ...good, is_core: { a: 1 } }), j({ ...good, is_core: "maybe" }),
  j({ ...good, time: 1.764748800123e12 }), j({ ...good, time: 1764748800123.5 }), j({ ...good, track_id: 3.7 }), j({ ...good, track_id: " 42 " }), j({ ...good, time: -1 }),
  '{"type":"track","distinct_id":"u","time":1764748800123,"track_id":123456789012345678901234567890,"flush_time":1e400}',
  '{"type":"track","distinct_id":"u","time":1764748800123,"track_id":-0,"ip":1.0E10,"city":true,"country":false,"lib":12}',
  j({ ...good, properties: "a string" }), j({ ...good, properties: [1, "a", { c: 3, b: 2 }] }), j({ ...good, properties: null }), j({ ...good, properties: 12 }), j({ ...good, properties: {} }),
  '{"type":"track","distinct_id":"u","time":1764748800123,"properties":{"b":1,"a":2,"b":3,"u":"\\u00e9\\t\\u0001","f":1.50,"e":1e2}}',
  '{"distinct_id":"first","distinct_id":"second","type":"track","time":1764748800123}',
  '{"type":"track","distinct_id":"u","time":1764748800123,"properties":{"m":{"x":1,"y":[{"k":1,"k":2}],"x":{"z":null}}}}',
  '{"type":"track","distinct_id":"u","time":1764748800123,"properties":{"a":{"k":1},"b":{"k":2},"c":[{"k":3},{"k":4}]}}',
  '{"type":"track","distinct_id":"u","time":1764748800123,"properties":[-0.0,1E-7,1e400,-1e400,0.1,123456789012345678901234567890,2147483648,-9223372036854775809,"",true,false,null,[],{}]}',
  `{"type":"track","distinct_id":"u","time":1764748800123,"properties":${"[".repeat(300)}1${"]".repeat(300)}}`,
  `{"type":"track","distinct_id":"u","time":1764748800123,"properties":${'{"a":'.repeat(300)}1${"}".repeat(300)}}`,
  '{"type":"track","distinct_id":"u","time":1764748800123,"properties":{"a":[1,2}}',
  '{"type":"track","distinct_id":"u","time":1764748800123,"properties":{"a":1',
  '{"type":"track","distinct_id":"u","time":1764748800123} trailing text',
  '{"type":"track","distinct_id":"u","time":1764748800123,"deep":{"a":[{"b":[[[]]]}]},"event":{"x":1},"login_id":[1]}',
  j({ ...good, distinct_id: "用户1", event: "浏览" }),
  j({ ...good, city: "😀 4-byte", properties: { "键": "值😀" } }),
  '{"type":"track","distinct_id":"\\ud800","time":1764748800123,"city":"a\\udc00b","event":"\\ud83d\\ude00","properties":{"s":"\\ud800","p":"\\ud83d\\ude00"}}',
  "", "   ", "{", "not json", '{"a":1,}', '{"a":"\\q"}', "[1,2", '{"type":"track","distinct_id":"u","time":1764748800123,"x":"raw\nnewline"}',
  '{"type":"track","distinct_id":"u","time":1764748800123,"x":tru}',
  "[1,2]", "42", '"just a string"', "null", "{}",
  j({ ...good, time: undefined }), j({ ...good, time: "abc" }), j({ ...good, time: null }), j({ ...good, distinct_id: undefined }), j({ ...good, distinct_id: null }),
  j({ ...good, type: undefined }), j({ ...good, type: { t: 1 } }), j({ ...good, distinct_id: "" }),
  null,
];

// Plain literals: a CAST per row would make the planner union one projection per row.
const lit = (s: string | null) => (s === null ? "CAST(NULL AS STRING)" : `'${s.replace(/'/g, "''")}'`);
const values = () => `(VALUES ${PAYLOADS.map((p, i) => `(${i}, ${lit(p)})`).join(",\n  ")}) AS t(id, payload)`;

// What each column of ods.tracking_events and the reject reason were before: one JSON function per field.
const BEFORE = (source: string) => `
SELECT id,
  CASE WHEN event_time IS NOT NULL AND JSON_VALUE(payload, '$.distinct_id') IS NOT NULL AND JSON_VALUE(payload, '$.type') IS NOT NULL THEN 'ods'
       WHEN NOT (payload IS JSON) THEN 'not JSON'
       WHEN event_time IS NULL THEN 'time is missing or not epoch milliseconds'
       WHEN JSON_VALUE(payload, '$.distinct_id') IS NULL THEN 'distinct_id is missing'
       ELSE 'type is missing' END AS outcome,
  ${SCALARS.map((f) => `JSON_VALUE(payload, '$.${f}') AS ${f}`).join(", ")},
  event_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(JSON_VALUE(payload, '$.flush_time') AS BIGINT), 3) AS flush_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(JSON_VALUE(payload, '$.recv_time') AS BIGINT), 3) AS recv_time,
  TRY_CAST(JSON_VALUE(payload, '$.track_id') AS BIGINT) AS track_id,
  COALESCE(TRY_CAST(JSON_VALUE(payload, '$.is_core') AS BOOLEAN), FALSE) AS is_core,
  JSON_QUERY(payload, '$.properties') AS properties,
  DATE_FORMAT(event_time, 'yyyy-MM-dd') AS dt, DATE_FORMAT(event_time, 'HH') AS hr
FROM (SELECT *, TO_TIMESTAMP_LTZ(TRY_CAST(JSON_VALUE(payload, '$.time') AS BIGINT), 3) AS event_time FROM ${source})`;

// The same columns as sql/tracking/ods.sql computes them now, from one parse per record.
const AFTER = (source: string) => `
SELECT id,
  CASE WHEN event_time IS NOT NULL AND distinct_id IS NOT NULL AND type IS NOT NULL THEN 'ods'
       WHEN NOT is_json THEN 'not JSON'
       WHEN event_time IS NULL THEN 'time is missing or not epoch milliseconds'
       WHEN distinct_id IS NULL THEN 'distinct_id is missing'
       ELSE 'type is missing' END AS outcome,
  ${SCALARS.join(", ")},
  event_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(flush_time AS BIGINT), 3) AS flush_time,
  TO_TIMESTAMP_LTZ(TRY_CAST(recv_time AS BIGINT), 3) AS recv_time,
  TRY_CAST(track_id AS BIGINT) AS track_id,
  COALESCE(TRY_CAST(is_core AS BOOLEAN), FALSE) AS is_core,
  properties,
  DATE_FORMAT(event_time, 'yyyy-MM-dd') AS dt, DATE_FORMAT(event_time, 'HH') AS hr
FROM (SELECT e.is_json, ${SCALARS.map((f) => `e.${f}`).join(", ")}, e.flush_time, e.recv_time, e.track_id, e.is_core, e.properties,
        TO_TIMESTAMP_LTZ(TRY_CAST(e.\`time\` AS BIGINT), 3) AS event_time, id
      FROM (SELECT parse_tracking_event(payload) AS e, id FROM ${source}))`;

// Records as bytes: what can reach the topic but not a SQL literal.
const utf8 = (t: string) => Buffer.from(t, "utf8");
const event = (field: string, value: Buffer) => Buffer.concat([utf8(`{"type":"track","time":1764748800123,"distinct_id":"u","${field}":"`), value, utf8('"}')]);
const BYTES: Buffer[] = [
  utf8(j(good)),
  event("city", Buffer.from([0x61, 0xff, 0x62])), // a byte that is never UTF-8
  event("city", Buffer.from([0xc0, 0xaf])), // an overlong "/"
  event("city", Buffer.from([0xed, 0xa0, 0x80])), // a surrogate encoded as UTF-8
  event("city", Buffer.from([0xf4, 0x90, 0x80, 0x80])), // above U+10FFFF
  event("city", Buffer.from([0xe6, 0x9d])), // cut short
  event("distinct_id", Buffer.from([0xc3, 0x28])), // a lead byte without its continuation, in a field the reject rule reads
  Buffer.concat([utf8('{"type":"track","time":1764748800123,"distinct_id":"u","ci'), Buffer.from([0xff]), utf8('ty":"x"}')]), // in a field name
  Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(j(good))]), // a byte-order mark
  Buffer.from(j(good), "utf16le"),
  event("city", Buffer.from([0x00])),
  utf8(` ${j(good)}`),
  utf8(j({ ...good, city: "杭州", properties: { "名": "😀" } })),
];
const BYTES_TOPIC = `parity.tracking-bytes.${Date.now().toString(36)}`;

/** The records on a one-partition topic as the job's Kafka source reads them (bounded), numbered by offset. */
async function bytesSource(reader: PaimonReader): Promise<string> {
  const admin = sandboxKafka("tracking-parse", true).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: BYTES_TOPIC, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = sandboxKafka("tracking-parse", true).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: BYTES_TOPIC, messages: BYTES.map((value) => ({ value })) });
  await producer.disconnect();
  const ddl = asKafkaOperator(renderSql(`CREATE TEMPORARY TABLE tracking_bytes (\${kafka.rawColumns}) WITH (\${kafka.rawSource:${BYTES_TOPIC},tracking-parse})`, sandboxJobEnvironment(undefined, "rt-trk-ods"), "tracking-parse"))
    .replace("'scan.startup.mode' = 'group-offsets'", "'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset'");
  await reader.rows(withSecrets(ddl, operatorSecrets()));
  return "(SELECT CAST(src_offset AS INT) AS id, payload FROM tracking_bytes)";
}

describe("parse_tracking_event on the sandbox's Flink SQL Gateway", () => {
  let reader: PaimonReader;
  beforeAll(async () => {
    reader = await paritySession("tracking/ods.sql");
  });
  afterAll(() => reader.close());

  it("gives every ODS column and reject reason exactly as one JSON_VALUE / JSON_QUERY per field did, for awkward payloads", async () => {
    const { before, after, differences } = await compareById(reader, BEFORE(values()), AFTER(values()), PAYLOADS);
    expect(before.size).toBe(PAYLOADS.length);
    expect(after.size).toBe(PAYLOADS.length);
    expect(differences).toEqual([]);
    // The corpus does reach every outcome, so the equality above is not about empty rows.
    const outcomes = new Set([...after.values()].map((r) => r.outcome));
    expect([...outcomes].sort()).toEqual(["distinct_id is missing", "not JSON", "ods", "time is missing or not epoch milliseconds", "type is missing"]);
    expect(after.get(0)).toMatchObject({ outcome: "ods", event_id: "e-1", distinct_id: "u-1", track_id: 7, is_core: true, properties: '{"z":1,"a":[1,"x",null],"m":{"y":2.5,"b":"é\\n\\"/"}}' });
  });

  it("reads a record's bytes as Flink decodes them: malformed UTF-8, a byte-order mark, NUL and UTF-16 give what JSON_VALUE gives", async () => {
    const source = await bytesSource(reader);
    const { before, after, differences } = await compareById(reader, BEFORE(source), AFTER(source), BYTES.map((b) => b.toString("hex")));
    expect(before.size).toBe(BYTES.length);
    expect(after.size).toBe(BYTES.length);
    expect(differences).toEqual([]);
    // Decoded with replacement characters, as Flink decodes them, not refused: the first malformed record is an event.
    expect(after.get(1)).toMatchObject({ outcome: "ods", city: "a\ufffdb" });
  });

  it("parses each record once in rt-trk-ods: its plan calls parse_tracking_event in one operator, which the ODS and the reject INSERT share", async () => {
    const optimized = await optimizedPlan("rt-trk-ods");
    expect(optimized).toContain("Sink(table=[rtdw.ods.tracking_events]");
    expect(optimized).toContain("Sink(table=[rtdw.dq.tracking_rejects]");
    // One call in the whole plan, and the node that makes it is reused (Flink names a shared node once
    // and refers to it as Reused(reference_id=...) below its second consumer).
    const calls = optimized.match(/parse_tracking_event\(/g) ?? [];
    expect({ calls: calls.length, plan: calls.length === 1 ? "" : optimized }).toEqual({ calls: 1, plan: "" });
    expect(optimized).toMatch(/Reused\(reference_id=\[\d+\]\)/);
  });
});
