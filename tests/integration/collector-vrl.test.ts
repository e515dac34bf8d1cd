import * as zlib from "zlib";
import { DEFAULT_COLLECTOR_LIMITS, maxGzipBytes } from "../../components/config/collectorLimits";
import { DEAD_LETTER_RAW_MAX_BYTES, NGINX_RESPONSE_VRL, sensorsVrl } from "../../components/collector/vector";
import { VRL_HARNESS_BIN } from "../../sandbox/install";
import { VrlResult, VrlRunner, vectorPipeline } from "../../sandbox/collector";

/**
 * The collector's VRL, executed for real by the VRL crate Vector 0.48 embeds (vrl 0.25.0, built by
 * the sandbox install from tests/vrl): the same compiler and standard library as production, so a
 * program that does not type-check or a function that behaves differently fails here. Only Vector's
 * enrichment-table lookup is provided by the harness (exact-match rows here; its geoip table over a real City
 * database is exercised end to end in tracking-pipeline).
 */
describe("collector VRL (real VRL 0.25 runtime of Vector 0.48)", () => {
  const pipeline = vectorPipeline({ eventsTopic: "tracking.events", deadLetterTopic: "tracking.dead-letter", replayTopic: "tracking.replay" });
  const DECODE = 0, REQUEST_DL = 1, EVENT_DL = 2, DECODE_GEOIP = 3, EVENTS_OUT = 4;
  let vrl: VrlRunner;
  beforeAll(() => {
    vrl = new VrlRunner(VRL_HARNESS_BIN, [pipeline.programs.decode, pipeline.programs.requestDeadLetter, pipeline.programs.eventDeadLetter, sensorsVrl(true), pipeline.programs.eventsOut]);
  });
  afterAll(() => vrl?.close());

  const now = Date.now();
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");
  const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const track = (over: Record<string, unknown> = {}) => ({
    type: "track", event: "ViewProduct", distinct_id: "u-1", time: now - 1000, _track_id: 42, _flush_time: now - 500,
    lib: { $lib: "js", $lib_version: "1.15.26" }, properties: { product_id: "p-7", price: 99.5 }, ...over,
  });
  /** The event Vector's http_server source makes of a request Nginx forwarded. */
  const request = (body: string, extra: Record<string, unknown> = {}) => ({
    message: body, source_type: "http_server", path: "/sa", "X-Real-IP": "203.0.113.9", "X-Request-Time": (now / 1000).toFixed(3),
    "User-Agent": "Mozilla/5.0", project: null, token: null, ...extra,
  });
  const events = (r: VrlResult) => {
    if (!("output" in r)) throw new Error(`program failed: ${r.error}`);
    return r.output as Record<string, unknown>[];
  };
  const decode = async (body: string, extra: Record<string, unknown> = {}, whitelist: string[] = []) =>
    (await vrl.run(DECODE, [request(body, extra)], { core_users: whitelist.map((key) => ({ key, value: true })) }))[0];

  it("decodes a GET-style single event (data= base64, ext=crc=) with the collector's time and client address", async () => {
    const [e] = events(await decode(form({ data: b64(track()), ext: "crc=12345" })));
    expect(e).toMatchObject({
      type: "track", event: "ViewProduct", distinct_id: "u-1", time: now - 1000, flush_time: now - 500, track_id: 42,
      lib: "js", lib_version: "1.15.26", properties: { product_id: "p-7", price: 99.5 }, ip: "203.0.113.9",
      user_agent: "Mozilla/5.0", recv_time: Math.round(now), project: "default", is_core: false,
    });
    // Without Nginx's request id (never in the stacks) the request gets a random one; the event's place follows.
    expect(e.event_id).toMatch(/^[0-9a-f]{32}-0$/);
    expect(e).not.toHaveProperty("_reason");
    // The record as received rides along for the archive; events_out takes it off before Kafka.
    expect(JSON.parse(String(e.raw))).toEqual(track());
    const [out] = await vrl.run(EVENTS_OUT, [e as never]);
    expect("output" in out && out.output).toEqual(Object.fromEntries(Object.entries(e).filter(([k]) => k !== "raw")));
  });

  it("an event's id is the request's id and its place in the batch: the same request read again gives the same ids", async () => {
    const body = form({ data_list: b64([track(), track({ distinct_id: "u-2" }), { type: "nope" }]) });
    const id = "0123456789abcdef0123456789abcdef";
    const once = events(await decode(body, { "X-Request-Id": id }));
    const again = events(await decode(body, { "X-Request-Id": id }));
    expect(once.map((e) => e.event_id)).toEqual([`${id}-0`, `${id}-1`, `${id}-2`]);
    expect(again.map((e) => e.event_id)).toEqual(once.map((e) => e.event_id));
    // A header that is not Nginx's 32 hex digits is not trusted as an id.
    expect(events(await decode(body, { "X-Request-Id": "x'; DROP" }))[0].event_id).toMatch(/^[0-9a-f]{32}-0$/);
  });

  it("a replay's events carry its id (valid and rejected alike); a header value that is not an id is ignored", async () => {
    const body = form({ data_list: b64([track(), { type: "nope" }]) });
    const replayed = events(await decode(body, { "X-Rtdw-Replay": "r20261206-1" }));
    expect(replayed.map((e) => [e.replay_id, "_reason" in e])).toEqual([["r20261206-1", false], ["r20261206-1", true]]);
    for (const bad of [null, "", "R1", "r1'; DROP", "-r", "r".repeat(65)]) {
      for (const e of events(await decode(body, { "X-Rtdw-Replay": bad }))) expect(e).not.toHaveProperty("replay_id");
    }
  });

  it("decodes a gzip=1 data_list batch, splits it, and marks CORE users from the whitelist", async () => {
    const batch = [track({ distinct_id: "vip-1" }), track({ distinct_id: "u-2", event: "AddToCart" }), track({ distinct_id: 1001 })];
    const body = form({ data_list: zlib.gzipSync(JSON.stringify(batch)).toString("base64"), gzip: "1" });
    const out = events(await decode(body, { project: "shop" }, ["vip-1"]));
    expect(out.map((e) => [e.distinct_id, e.event, e.is_core, e.project])).toEqual([
      ["vip-1", "ViewProduct", true, "shop"],
      ["u-2", "AddToCart", false, "shop"],
      ["1001", "ViewProduct", false, "shop"], // an integer id becomes its string
    ]);
  });

  it("accepts seconds as well as milliseconds, url-safe base64, and a '+' that form decoding turned into a space", async () => {
    const seconds = Math.floor((now - 60000) / 1000);
    const [e1] = events(await decode(form({ data: b64(track({ time: seconds })) })));
    expect(e1.time).toBe(seconds * 1000);
    const urlSafe = b64(track({ properties: { q: "???>>>" } })).replace(/\+/g, "-").replace(/\//g, "_");
    expect(events(await decode(form({ data: urlSafe })))[0].properties).toEqual({ q: "???>>>" });
    // An SDK that did not percent-encode '+': the query-string decoder turns it into a space.
    const withPlus = b64(track({ properties: { q: "~~~>" } }));
    expect(withPlus).toContain("+");
    expect(events(await decode(`data=${withPlus}`))[0].properties).toEqual({ q: "~~~>" });
  });

  it.each([
    ["type is missing or unknown", { type: "tracking" }],
    ["event name is missing or invalid", { event: "View Product" }],
    ["event name is missing or invalid", { event: undefined }],
    ["distinct_id is missing", { distinct_id: undefined }],
    ["distinct_id is longer than 255 characters", { distinct_id: "x".repeat(256) }],
    ["time is missing or not epoch seconds/milliseconds", { time: "yesterday" }],
    ["time is more than 7 days before arrival", { time: now - 8 * 86400000 }],
    ["time is more than 1 hour after arrival", { time: now + 2 * 3600000 }],
    ["properties is not an object", { properties: [1, 2] }],
  ])("marks an event whose %s, keeping its raw record", async (reason, over) => {
    const record = track(over as Record<string, unknown>);
    const [e] = events(await decode(form({ data: b64(record) })));
    expect(e._reason).toBe(reason);
    expect(JSON.parse(e.raw as string)).toEqual(JSON.parse(JSON.stringify(record)));
  });

  it("keeps the good events of a batch and marks the bad one (not a JSON object)", async () => {
    const out = events(await decode(form({ data_list: b64([track(), "just a string", track({ distinct_id: "u-3" })]) })));
    expect(out.map((e) => e._reason ?? "ok")).toEqual(["ok", "record is not a JSON object", "ok"]);
  });

  it.each([
    ["request has no data or data_list parameter", form({ foo: "bar" })],
    ["data is not base64", form({ data: "%%%not-base64%%%" })],
    ["data is not gzip although gzip=1", form({ data_list: b64([track()]), gzip: "1" })],
    ["data is not JSON", form({ data: Buffer.from("{oops").toString("base64") })],
    ["encrypted payload (gzip=9) is not supported", form({ data_list: "abc", gzip: "9" })],
  ])("fails a request that cannot be decoded: %s", async (reason, body) => {
    const r = await decode(body);
    expect("error" in r && r.error).toContain(reason);
  });

  it("records a request Nginx could not read (body or request line past the limit), from Nginx's notice alone", async () => {
    const tooBig = await decode(form({ rtdw_rejected: "body_too_large", bytes: "2000000", limit: String(DEFAULT_COLLECTOR_LIMITS.maxBodyKiB * 1024) }), { "X-Rtdw-Rejected": "body_too_large" });
    expect("error" in tooBig && tooBig.error).toContain("request body of 2000000 bytes is over the collector's limit of 1048576 bytes; its events were not read");
    const tooLong = await decode(form({ rtdw_rejected: "uri_too_long", limit: "262144" }), { "X-Rtdw-Rejected": "uri_too_long" });
    expect("error" in tooLong && tooLong.error).toContain("request line is over the collector's limit of 262144 bytes");
    // A client cannot fake the notice with a form field: only the header Nginx sets counts.
    const forged = await decode(form({ rtdw_rejected: "body_too_large", data: b64(track()) }));
    expect(events(forged)).toHaveLength(1);
  });

  it("refuses to inflate a gzip payload that could pass the decompression cap, before decompressing it", async () => {
    const cap = maxGzipBytes(DEFAULT_COLLECTOR_LIMITS);
    // A gzip bomb: 100 MB of zeros compress to about 100 KB, three times what may be inflated.
    const bomb = zlib.gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeGreaterThan(cap);
    const r = await decode(form({ data_list: bomb.toString("base64"), gzip: "1" }));
    expect("error" in r && r.error).toContain(`gzip payload of ${bomb.length} bytes could inflate past the collector's cap of ${DEFAULT_COLLECTOR_LIMITS.maxDecompressedKiB * 1024} bytes`);
    // A real batch far below the bound still decodes.
    const batch = Array.from({ length: 200 }, (_, i) => track({ distinct_id: `u-${i}` }));
    const ok = zlib.gzipSync(JSON.stringify(batch));
    expect(ok.length).toBeLessThan(cap);
    expect(events(await decode(form({ data_list: ok.toString("base64"), gzip: "1" })))).toHaveLength(200);
  });

  it("turns a batch over the per-request event limit into one dead-letter record", async () => {
    const n = DEFAULT_COLLECTOR_LIMITS.maxEventsPerBatch + 1;
    const r = await decode(form({ data_list: zlib.gzipSync(JSON.stringify(Array.from({ length: n }, () => track()))).toString("base64"), gzip: "1" }));
    expect("error" in r && r.error).toContain(`batch of ${n} events is over the collector's limit of ${DEFAULT_COLLECTOR_LIMITS.maxEventsPerBatch} per request`);
  });

  it("labels each Nginx access-log line for rtdw_collector_responses_total: status and who refused a 503", async () => {
    const counter = new VrlRunner(VRL_HARNESS_BIN, [NGINX_RESPONSE_VRL]);
    try {
      const line = (status: number, limitReq: string, limitConn: string) => ({ message: JSON.stringify({ status, limit_req: limitReq, limit_conn: limitConn, uri: "/sa" }), appname: "rtdw_nginx" });
      const out = await counter.run(0, [line(200, "PASSED", "PASSED"), line(503, "REJECTED", "PASSED"), line(503, "PASSED", "REJECTED"), line(503, "", ""), { message: "not json" }]);
      expect(out.map((r) => ("output" in r ? r.output : "dropped"))).toEqual([
        { status: "200", refused_by: "none" },
        { status: "503", refused_by: "rate_limit" },
        { status: "503", refused_by: "connection_limit" },
        { status: "503", refused_by: "upstream" },
        "dropped",
      ]);
    } finally {
      counter.close();
    }
  });

  it("renders dead-letter records with the reason and the raw payload (both dead-letter remaps)", async () => {
    const req = request(form({ data: "%%%" }));
    const [dropped] = await vrl.run(REQUEST_DL, [req], {}, [{ vector: { dropped: { reason: "error", message: "data is not base64" } } }]);
    const rec = events(dropped) as unknown as Record<string, unknown>;
    expect(rec.reason).toBe("data is not base64");
    expect(JSON.parse(rec.raw as string)).toMatchObject({ message: req.message, "X-Real-IP": "203.0.113.9" });

    const [bad] = events(await decode(form({ data: b64(track({ type: "nope" })) })));
    const [dl] = await vrl.run(EVENT_DL, [bad as never]);
    expect(events(dl)).toEqual({ reason: "type is missing or unknown", raw: bad.raw, raw_bytes: (bad.raw as string).length, distinct_id: "u-1", project: "default", recv_time: bad.recv_time, ip: "203.0.113.9" });
    // A payload too big for a Kafka record is cut, its full size kept: the record must always be deliverable.
    const huge = request(form({ data: "%".repeat(DEAD_LETTER_RAW_MAX_BYTES + 1000) }));
    const [cut] = await vrl.run(REQUEST_DL, [huge], {}, [{ vector: { dropped: { reason: "error", message: "data is not base64" } } }]);
    const cutRec = events(cut) as unknown as Record<string, unknown>;
    expect((cutRec.raw as string).length).toBe(DEAD_LETTER_RAW_MAX_BYTES);
    expect(cutRec.raw_bytes).toBeGreaterThan(DEAD_LETTER_RAW_MAX_BYTES + 1000);
  });

  it("enriches country/province/city from the GeoIP table when GeoIP is on, and tolerates a miss", async () => {
    const geo = [{ ip: "203.0.113.9", country_name: "中国", region_name: "浙江省", city_name: "杭州" }];
    const [hit] = await vrl.run(DECODE_GEOIP, [request(form({ data: b64(track()) }))], { geoip: geo, core_users: [] });
    expect(events(hit)[0]).toMatchObject({ country: "中国", province: "浙江省", city: "杭州" });
    const [miss] = await vrl.run(DECODE_GEOIP, [request(form({ data: b64(track()) }), { "X-Real-IP": "10.0.0.1" })], { geoip: geo, core_users: [] });
    expect(events(miss)[0]).toMatchObject({ country: null, province: null, city: null, distinct_id: "u-1" });
  });
});
