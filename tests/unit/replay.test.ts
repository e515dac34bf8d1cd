import { loadJobTable } from "../../components/config/jobTable";
import { DEFAULT_LAKEHOUSE } from "../../components/config/lakehousePolicy";
import { jobEnvironment } from "../../components/jobs/environment";
import { ArchiveLine, rebuildRequests, REPLAY_CLIENT, REPLAY_TOPIC, replayJobScript, replayPartitions } from "../../components/pipelines/replay";
import { hourPrefixes, parseHour } from "../../scripts/replay";
import { EXAMPLE_ENDPOINTS } from "../helpers/jobInputs";

describe("the raw archive's replay: requests rebuilt from the archive, and the batch job derived from rt-trk-ods", () => {
  const line = (id: string, record: string, o: Partial<ArchiveLine> = {}): ArchiveLine => ({ event_id: id, recv_time: 1796600269759, ip: "203.0.113.7", user_agent: "ua", project: "shop", record, ...o });
  const decode = (body: string) => Buffer.from(new URLSearchParams(body).get("data_list")!, "base64").toString("utf8");

  it("groups lines by request id, puts each record back in its place (null where the archive lacks one) and keeps the records' own text", () => {
    const big = '{"distinct_id":12345678901234567890,"time":1.0}';
    const { requests, duplicates, malformed } = rebuildRequests(
      [line("a".repeat(32) + "-2", '{"n":2}'), line("a".repeat(32) + "-0", big), line("b".repeat(32) + "-0", '{"n":0}'), line("a".repeat(32) + "-0", big), line("nope", "{}")],
      "r1",
    );
    expect({ duplicates, malformed }).toEqual({ duplicates: 1, malformed: 1 });
    const a = requests.find((r) => r.requestId === "a".repeat(32))!;
    expect(decode(a.body)).toBe(`[${big},null,{"n":2}]`);
    expect(new URLSearchParams(a.body).get("gzip")).toBe("0");
    expect({ events: a.events, placeholders: a.placeholders }).toEqual({ events: 3, placeholders: 1 });
    expect(a.query).toBe("project=shop");
    expect(a.headers).toMatchObject({ "X-Request-Id": "a".repeat(32), "X-Real-IP": "203.0.113.7", "User-Agent": "ua", "X-Rtdw-Replay": "r1" });
    expect(requests.find((r) => r.requestId === "b".repeat(32))!.events).toBe(1);
  });

  it("sends a receive time the collector reads back as exactly the archived one (seconds * 1000, truncated)", () => {
    for (const ms of [1796600269759, 1796600269001, 1796600269999, 1700000000123, 1700000000000]) {
      const [r] = rebuildRequests([line("c".repeat(32) + "-0", "{}", { recv_time: ms })], "r1").requests;
      expect(Math.trunc(parseFloat(r.headers["X-Request-Time"]) * 1000)).toBe(ms);
    }
  });

  it("leaves out what the archive had empty (no IP, no user agent) and refuses an id the collector would ignore", () => {
    const [r] = rebuildRequests([line("d".repeat(32) + "-0", "{}", { ip: "", user_agent: "", project: null })], "r1").requests;
    expect(r.headers["X-Real-IP"]).toBeUndefined();
    expect(r.headers["User-Agent"]).toBeUndefined();
    expect(r.query).toBe("project=default");
    expect(() => rebuildRequests([], "Not An Id")).toThrow(/replay id "Not An Id"/);
  });

  it("covers the partitions an hour's events can be in: 7 days before arrival to 1 hour after, a day's margin each side", () => {
    expect(replayPartitions(Date.parse("2026-12-06T10:00:00Z"), Date.parse("2026-12-06T11:00:00Z"))).toEqual({ dtFrom: "2026-11-28", dtTo: "2026-12-07" });
    expect(hourPrefixes(Date.parse("2026-12-06T23:30:00Z"), Date.parse("2026-12-07T01:00:00Z"))).toEqual(["raw/dt=2026-12-06/hr=23/", "raw/dt=2026-12-07/hr=00/"]);
    expect(parseHour("2026-12-06T10", "--from")).toBe(Date.parse("2026-12-06T10:00:00Z"));
    expect(() => parseHour("yesterday", "--from")).toThrow(/--from "yesterday": expected a UTC hour/);
  });

  describe("the batch job", () => {
    const job = loadJobTable().find((j) => j.name === "rt-trk-ods")!;
    const env = jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod, REPLAY_CLIENT);
    const r = replayJobScript(job, env, { replayId: "r1", dtFrom: "2026-11-28", dtTo: "2026-12-07" });
    const text = r.script.statements.join(";\n");

    it("reads the replay topic, bounded, as its own Kafka user, this replay's valid events only, each id once", () => {
      expect(text).toContain(`'topic' = '${REPLAY_TOPIC}'`);
      expect(text).not.toContain("'topic' = 'tracking.events'");
      expect(text).toContain("'scan.bounded.mode' = 'latest-offset'");
      expect(text).toContain("'scan.startup.mode' = 'earliest-offset'");
      expect(text).toContain(`username="${REPLAY_CLIENT}"`);
      expect(text).toContain("JSON_VALUE(payload, '$.replay_id') = 'r1' AND JSON_VALUE(payload, '$._reason') IS NULL");
      expect(text).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY JSON_VALUE\(payload, '\$\.event_id'\)/);
      expect(r.script.config["execution.runtime-mode"]).toBe("batch");
      // One of the cluster's spare slots, not the live job's parallelism.
      expect(r.script.config["parallelism.default"]).toBe("1");
      expect(Object.keys(r.script.config).filter((k) => k.startsWith("execution.checkpointing"))).toEqual([]);
    });

    it("runs rt-trk-ods's own views, and inserts into each ODS table only the ids it lacks; never the rejects", () => {
      const live = readOds();
      for (const view of ["parsed_events", "accepted_events"]) expect(r.script.statements).toContain(live.find((s) => s.includes(`CREATE TEMPORARY VIEW ${view}`)));
      expect(r.inserts.map((i) => i.table)).toEqual(["ods.tracking_events", "ods.tracking_core_events"]);
      const last = r.script.statements[r.script.statements.length - 1];
      expect(last).not.toContain("dq.tracking_rejects");
      for (const t of ["ods.tracking_events", "ods.tracking_core_events"]) {
        expect(last).toContain(`WHERE NOT EXISTS (SELECT 1 FROM ${t} AS present WHERE present.event_id = replayed.event_id AND present.dt BETWEEN '2026-11-28' AND '2026-12-07')`);
      }
    });

    it("refuses another job's user or SQL, and a bad id or bound", () => {
      expect(() => replayJobScript(job, jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod, "rt-trk-ods"), { replayId: "r1", dtFrom: "2026-11-28", dtTo: "2026-12-07" })).toThrow(/connects to Kafka as rt-trk-replay, not rt-trk-ods/);
      expect(() => replayJobScript(loadJobTable()[0], env, { replayId: "r1", dtFrom: "2026-11-28", dtTo: "2026-12-07" })).toThrow(/runs rt-trk-ods's SQL/);
      expect(() => replayJobScript(job, env, { replayId: "r1'; DROP", dtFrom: "2026-11-28", dtTo: "2026-12-07" })).toThrow(/replay id/);
      expect(() => replayJobScript(job, env, { replayId: "r1", dtFrom: "2026-11-28'", dtTo: "2026-12-07" })).toThrow(/partition bound/);
    });

    function readOds(): string[] {
      const { jobScript } = require("../../components/jobs/script") as typeof import("../../components/jobs/script");
      return [...jobScript(job, jobEnvironment(EXAMPLE_ENDPOINTS, DEFAULT_LAKEHOUSE.prod, "rt-trk-ods")).statements];
    }
  });
});
