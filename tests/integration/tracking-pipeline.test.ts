import { Connection } from "mysql2/promise";
import { Client } from "pg";
import { runRedis } from "../helpers/redis";
import { ensureJobs, eventually, explainingJobs, idBlock, PaimonReader, shopConnection, vectorEvent } from "../helpers/pipelines";
import { kafkaClient, sandbox } from "../helpers/sandbox";
import { httpPost } from "../../sandbox/services";
import { ports } from "../../sandbox/paths";
import { WHITELIST_SCAN_SECONDS } from "../../components/collector/vector";

const post = async (url: string, body: string) => (await httpPost(url, body, { "content-type": "application/x-www-form-urlencoded" }, 10000)).status;

// The monitor (a warehouse row of the job table) scores the tracking tables too.
const TRACKING_JOBS = ["rt-trk-ods", "rt-trk-dwd", "rt-trk-dws", "rt-dw-monitor"];

/**
 * The tracking pipeline on the sandbox: Kafka tracking.events -> rt-trk-ods -> Paimon ODS -> rt-trk-dwd
 * (first-row dedupe) -> rt-trk-dws -> DWS (MariaDB stand-in with StarRocks' columns and keys).
 * The first case enters through the real collector path (nginx with the stacks' config -> Vector
 * stand-in running sensors.vrl -> Kafka); the others produce records AS VECTOR EMITS THEM straight to
 * Kafka, so they can use a day of their own (the collector rejects events older than 7 days).
 */
describe("tracking pipeline on real Kafka -> Flink -> Paimon ODS/DWD -> DWS (MariaDB stand-in for StarRocks)", () => {
  const run = `t${idBlock()}`;
  const paimon = new PaimonReader();
  let dws: Connection;
  let jobIds: Record<string, string> = {};
  const explained = (body: () => Promise<void>) => () => explainingJobs(jobIds, body);
  // A day of this run's own, as Asia/Shanghai wall-clock time (the jobs' time zone).
  const day = new Date(Date.UTC(2000, 0, 1) + ((idBlock() / 100000) % 36500) * 86400000).toISOString().slice(0, 10);
  const at = (hhmm: string) => Date.parse(`${day}T${hhmm}:00+08:00`);

  beforeAll(async () => {
    jobIds = await ensureJobs(TRACKING_JOBS);
    await paimon.open();
    dws = await shopConnection(sandbox().endpoints.mysql.dwsDatabase);
  });
  afterAll(async () => {
    await paimon.close();
    await dws?.end();
  });

  const produce = async (records: (object | string)[]) => {
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({
      topic: "tracking.events",
      messages: records.map((r) => (typeof r === "string" ? { value: r } : { key: (r as { distinct_id?: string }).distinct_id ?? null, value: JSON.stringify(r) })),
    });
    await producer.disconnect();
  };

  it("SDK requests through nginx and the Vector stand-in land in ODS as sent (CORE flagged), and once each in DWD", explained(async () => {
    const { endpoints } = sandbox();
    const core = `${run}-core`;
    const plain = `${run}-plain`;
    await runRedis(["SET", `user_whitelist:${core}`, "1", "EX", "3600"]);
    await new Promise((r) => setTimeout(r, (WHITELIST_SCAN_SECONDS + 2) * 1000)); // the collector scans the whitelist every 5 s
    const now = Date.now();
    const batch = [
      { type: "track", event: "ViewProduct", distinct_id: core, time: now, _track_id: 11, properties: { price: 99.5 } },
      { type: "track", event: "AddToCart", distinct_id: core, time: now + 1, _track_id: 12, properties: {} },
      { type: "track", event: "ViewProduct", distinct_id: plain, time: now + 2, _track_id: 13, properties: { price: "not a number" } },
    ];
    const form = (events: object[]) => new URLSearchParams({ data_list: Buffer.from(JSON.stringify(events)).toString("base64") }).toString();
    expect(await post(`${endpoints.nginx.url}/sa?project=shop`, form(batch))).toBe(200);
    // The SDK retries the first event (same distinct_id, event, time, _track_id).
    expect(await post(`${endpoints.nginx.url}/sa?project=shop`, form([batch[0]]))).toBe(200);

    const ods = await eventually(
      "ODS tracking events",
      () => paimon.rows(`SELECT distinct_id, event, track_id, is_core, project FROM ods.tracking_events WHERE distinct_id IN ('${core}', '${plain}') ORDER BY track_id`),
      (r) => r.length >= 4,
    );
    expect(ods).toEqual([
      { distinct_id: core, event: "ViewProduct", track_id: 11, is_core: true, project: "shop" },
      { distinct_id: core, event: "ViewProduct", track_id: 11, is_core: true, project: "shop" },
      { distinct_id: core, event: "AddToCart", track_id: 12, is_core: true, project: "shop" },
      { distinct_id: plain, event: "ViewProduct", track_id: 13, is_core: false, project: "shop" },
    ]);
    // The CORE table holds exactly the whitelisted user's events, as ODS has them (the retry included), and nobody else's.
    const coreRows = await eventually(
      "the CORE events",
      () => paimon.rows(`SELECT distinct_id, event, track_id, is_core, project FROM ods.tracking_core_events WHERE distinct_id IN ('${core}', '${plain}') ORDER BY track_id`),
      (r) => r.length >= 3,
    );
    expect(coreRows).toEqual(ods.filter((r) => r.distinct_id === core));
    const dwd = await eventually(
      "DWD tracking events",
      () => paimon.rows(`SELECT distinct_id, event, track_id, is_core, price FROM dwd.tracking_events WHERE distinct_id IN ('${core}', '${plain}') ORDER BY track_id`),
      (r) => r.length >= 3,
    );
    // The retry is gone; the price that was not a number is NULL, not a failed job.
    expect(dwd).toEqual([
      { distinct_id: core, event: "ViewProduct", track_id: 11, is_core: true, price: 99.5 },
      { distinct_id: core, event: "AddToCart", track_id: 12, is_core: true, price: null },
      { distinct_id: plain, event: "ViewProduct", track_id: 13, is_core: false, price: null },
    ]);
  }));

  it("GeoIP: an event from an address in the tests' City database gets its country, province and city in ODS (zh-CN names); a private address, or a name the database lacks in zh-CN, stays null", explained(async () => {
    // fixture.json is what the tests' database was written from (tests/geoip-fixture, MaxMind's writer).
    const fixture = require("../geoip-fixture/fixture.json") as { networks: { cidr: string; country: Record<string, string>; subdivision?: Record<string, string>; city?: Record<string, string> }[] };
    const [shenzhen, hangzhou, us] = fixture.networks;
    const clients = [
      { id: `${run}-geo-sz`, ip: "203.0.113.7", want: { country: shenzhen.country["zh-CN"], province: shenzhen.subdivision!["zh-CN"], city: shenzhen.city!["zh-CN"] } },
      { id: `${run}-geo-hz`, ip: "203.0.113.200", want: { country: hangzhou.country["zh-CN"], province: hangzhou.subdivision!["zh-CN"], city: hangzhou.city!["zh-CN"] } },
      // In the database, but with no zh-CN name: Vector's table returns the configured locale only.
      { id: `${run}-geo-us`, ip: "198.51.100.9", want: { country: us.country["zh-CN"] ?? null, province: null, city: null } },
      { id: `${run}-geo-lan`, ip: "10.1.2.3", want: { country: null, province: null, city: null } },
    ];
    // Sent to Vector's address with the X-Real-IP header Nginx sets from the client address (the
    // sandbox's Nginx trusts no proxy, so every request through it comes from 127.0.0.1).
    const now = Date.now();
    for (const [i, c] of clients.entries()) {
      const body = new URLSearchParams({ data: Buffer.from(JSON.stringify({ type: "track", event: "ViewProduct", distinct_id: c.id, time: now + i, _track_id: 500 + i, properties: {} })).toString("base64") }).toString();
      const r = await httpPost(`http://127.0.0.1:${ports().collector}/sa?project=shop`, body, { "content-type": "application/x-www-form-urlencoded", "x-real-ip": c.ip }, 10000);
      expect(r.status).toBe(200);
    }
    const ods = await eventually(
      "ODS events with their places",
      () => paimon.rows(`SELECT distinct_id, ip, country, province, city FROM ods.tracking_events WHERE distinct_id LIKE '${run}-geo-%' ORDER BY track_id`),
      (r) => r.length >= clients.length,
    );
    expect(ods).toEqual(clients.map((c) => ({ distinct_id: c.id, ip: c.ip, ...c.want })));
    expect(ods[0]).toMatchObject({ country: "中国", province: "广东省", city: "深圳" });
  }));

  it("aggregates PV, UV, CORE PV and the funnel per day and hour in DWS, and counts a late event in its own hour", explained(async () => {
    const u = (n: number) => `${run}-u${n}`;
    const events = [
      vectorEvent(u(1), "ViewProduct", at("10:01"), { is_core: true }),
      vectorEvent(u(1), "AddToCart", at("10:02"), { is_core: true }),
      vectorEvent(u(1), "SubmitOrder", at("10:03"), { is_core: true }),
      vectorEvent(u(1), "PayOrder", at("10:04"), { is_core: true }),
      vectorEvent(u(2), "ViewProduct", at("10:05")),
      vectorEvent(u(2), "AddToCart", at("10:06")),
      vectorEvent(u(3), "ViewProduct", at("10:07")),
      vectorEvent(u(4), "AddToCart", at("10:08")), // never viewed: not in the funnel's cart step
      vectorEvent(u(1), "ViewProduct", at("10:01"), { is_core: true, event_id: "replayed" }), // a replay
    ];
    await produce(events);
    const daily = () => dws.query(`SELECT event, pv, uv, core_pv FROM dws_trk_event_daily WHERE dt = ? ORDER BY event`, [day]).then((r) => r[0] as any[]);
    expect(
      await eventually("DWS daily events", daily, (r) => r.length === 4 && r.find((x) => x.event === "ViewProduct")?.pv === 3),
    ).toEqual([
      { event: "AddToCart", pv: 3, uv: 3, core_pv: 1 },
      { event: "PayOrder", pv: 1, uv: 1, core_pv: 1 },
      { event: "SubmitOrder", pv: 1, uv: 1, core_pv: 1 },
      { event: "ViewProduct", pv: 3, uv: 3, core_pv: 1 },
    ]);
    const funnel = () => dws.query(`SELECT viewers, carters, orderers, payers FROM dws_trk_funnel_daily WHERE dt = ?`, [day]).then((r) => r[0] as any[]);
    expect(await eventually("DWS funnel", funnel, (r) => r.length === 1 && r[0].viewers === 3)).toEqual([{ viewers: 3, carters: 2, orderers: 1, payers: 1 }]);

    // Late: an event of 09:30 arriving after the 10:xx ones. Nothing is windowed, so it counts in 09.
    await produce([vectorEvent(u(2), "ViewProduct", at("09:30"))]);
    const hourly = () => dws.query(`SELECT hr, pv, uv FROM dws_trk_event_hourly WHERE dt = ? AND event = 'ViewProduct' ORDER BY hr`, [day]).then((r) => r[0] as any[]);
    expect(await eventually("DWS hourly with the late event", hourly, (r) => r.length === 2)).toEqual([
      { hr: "09", pv: 1, uv: 1 },
      { hr: "10", pv: 3, uv: 3 },
    ]);
    // The daily aggregate reads the same DWD table through its own source: it may lag the hourly one by a checkpoint.
    const dailyViews = async () => (await daily()).find((x) => x.event === "ViewProduct");
    expect(await eventually("DWS daily with the late event", dailyViews, (v) => v?.pv === 4)).toEqual({ event: "ViewProduct", pv: 4, uv: 3, core_pv: 1 });
    expect(await funnel()).toEqual([{ viewers: 3, carters: 2, orderers: 1, payers: 1 }]);
  }));

  it("the monitor scores the tracking tables per hour into the quality database: this run's day's events in ODS (the replay included) and once each in DWD, the late one in its own hour", explained(async () => {
    const { endpoints, credentials } = sandbox();
    const q = endpoints.postgres.databases.quality;
    const pg = new Client({ host: endpoints.postgres.host, port: endpoints.postgres.port, user: q.user, password: credentials.postgres.quality.password, database: q.database });
    await pg.connect();
    try {
      const score = async (table: string, hr: string) =>
        (
          await pg.query(
            `SELECT total_rows::int, rejected_rows::int, incomplete_rows::int, quality_score, to_char(last_event_ts, 'YYYY-MM-DD HH24:MI') AS last_event
             FROM dq_table_quality WHERE table_name = $1 AND dt = $2 AND hr = $3`,
            [table, day, hr],
          )
        ).rows[0];
      // The test above sent 9 events of 10:01-10:08 of this run's own day (one a replay of another) and a late one of 09:30.
      expect(await eventually("ODS tracking quality of the 10:00 hour", () => score("ods.tracking_events", "10"), (r) => r?.total_rows === 9, 180000)).toEqual({
        total_rows: 9, rejected_rows: 0, incomplete_rows: 0, quality_score: 100, last_event: `${day} 10:08`,
      });
      expect(await eventually("DWD tracking quality of the 10:00 hour", () => score("dwd.tracking_events", "10"), (r) => r?.total_rows === 8, 180000)).toEqual({
        total_rows: 8, rejected_rows: 0, incomplete_rows: 0, quality_score: 100, last_event: `${day} 10:08`,
      });
      expect(await eventually("ODS tracking quality of the late event's hour", () => score("ods.tracking_events", "09"), (r) => r?.total_rows === 1, 180000)).toMatchObject({ total_rows: 1, last_event: `${day} 09:30` });
    } finally {
      await pg.end();
    }
  }));

  it("sends records that are not events (not JSON, time of the wrong type, no distinct_id) to dq.tracking_rejects with the reason", explained(async () => {
    await produce([
      `not json ${run}`,
      { ...vectorEvent(`${run}-bad-time`, "ViewProduct", 0), time: "yesterday" },
      { ...vectorEvent("x", "ViewProduct", at("11:00")), distinct_id: null, event_id: `${run}-no-id` },
    ]);
    const rejects = await eventually(
      "dq.tracking_rejects",
      () => paimon.rows(`SELECT reason FROM dq.tracking_rejects WHERE payload LIKE '%${run}%' ORDER BY src_partition, src_offset`),
      (r) => r.length >= 3,
    );
    expect(rejects.map((r) => r.reason).sort()).toEqual(["distinct_id is missing", "not JSON", "time is missing or not epoch milliseconds"]);
    expect(await paimon.rows(`SELECT COUNT(*) AS n FROM ods.tracking_events WHERE distinct_id = '${run}-bad-time'`)).toEqual([{ n: 0 }]);
    // The monitor counts them as anomalies of ODS in the hour they arrived (other suites' rejects may share it: at least these).
    const arrived = await paimon.rows(`SELECT dt, DATE_FORMAT(ingest_ts, 'HH') AS hr FROM dq.tracking_rejects WHERE payload LIKE '%${run}%' LIMIT 1`);
    const { endpoints, credentials } = sandbox();
    const q = endpoints.postgres.databases.quality;
    const pg = new Client({ host: endpoints.postgres.host, port: endpoints.postgres.port, user: q.user, password: credentials.postgres.quality.password, database: q.database });
    await pg.connect();
    try {
      const hour = () => pg.query(`SELECT rejected_rows::int, quality_score FROM dq_table_quality WHERE table_name = 'ods.tracking_events' AND dt = $1 AND hr = $2`, [arrived[0].dt, arrived[0].hr]).then((r) => r.rows[0]);
      const scored = await eventually("the rejects' hour scored", hour, (r) => (r?.rejected_rows ?? 0) >= 3, 180000);
      expect(scored.quality_score).toBeLessThan(100);
    } finally {
      await pg.end();
    }
  }));
});
