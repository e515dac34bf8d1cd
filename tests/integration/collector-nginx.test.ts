import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import * as zlib from "zlib";
import { DEFAULT_COLLECTOR_LIMITS } from "../../components/config/collectorLimits";
import { LOGS } from "../../sandbox/paths";
import { startNginx, TestNginx } from "../helpers/collector";
import { kafkaClient, sandbox } from "../helpers/sandbox";
import { runRedis } from "../helpers/redis";
import { WHITELIST_SCAN_SECONDS } from "../../components/collector/vector";

/** One HTTP exchange with everything the assertions look at. */
function call(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: { ...(init.body ? { "content-length": Buffer.byteLength(init.body) } : {}), ...init.headers }, timeout: 10000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");
const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** Reads a topic from the beginning until `want` records match, or fails naming what was missing. */
async function readUntil(topic: string, match: (v: Record<string, unknown>) => boolean, want: number, timeoutMs = 30000) {
  const consumer = kafkaClient().consumer({ groupId: `nginx-test-${Date.now()}-${Math.random()}` });
  const found: { key: string | null; value: Record<string, unknown> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: ${found.length} of ${want} expected records after ${timeoutMs} ms`)), timeoutMs);
    consumer.run({
      eachMessage: async ({ message }) => {
        // The topic may hold records that are not JSON (the tracking suite sends some on purpose).
        let value: Record<string, unknown>;
        try {
          value = JSON.parse(message.value!.toString());
        } catch {
          return;
        }
        if (match(value)) found.push({ key: message.key?.toString() ?? null, value });
        if (found.length >= want) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  }).finally(() => consumer.disconnect());
  return found;
}

/**
 * The tracking endpoint as the Sensors SDKs call it, through the sandbox's real Debian nginx running
 * the stacks' config (renderNginxConf) in front of the Vector stand-in (real VRL, real Kafka).
 */
describe("collector: Sensors SDK requests through real nginx (stack config) -> Vector stand-in -> Kafka", () => {
  const { endpoints } = sandbox();
  const base = endpoints.nginx.url;
  const run = `n${Date.now().toString(36)}`;
  const now = Date.now();
  const track = (id: string, over: Record<string, unknown> = {}) => ({
    type: "track", event: "ViewProduct", distinct_id: id, time: now, _track_id: 7, properties: { price: 12.5 }, ...over,
  });

  it("answers a browser's CORS preflight with 204 and the CORS headers", async () => {
    const r = await call(`${base}/sa?project=shop`, { method: "OPTIONS", headers: { origin: "https://shop.example", "access-control-request-method": "POST" } });
    expect(r.status).toBe(204);
    expect(r.headers["access-control-allow-origin"]).toBe("*");
    expect(r.headers["access-control-allow-methods"]).toContain("POST");
  });

  it("delivers GET /sa.gif?data=&ext=crc= (image beacon) and POST data_list gzip=1 to the events topic, bad ones to the dead-letter", async () => {
    const get = await call(`${base}/sa.gif?project=shop&data=${encodeURIComponent(b64(track(`${run}-get`)))}&ext=${encodeURIComponent("crc=-123")}`, {
      headers: { "user-agent": "SensorsAnalytics-JS", "x-forwarded-for": "198.51.100.1" },
    });
    expect(get.status).toBe(200);
    expect(get.headers["access-control-allow-origin"]).toBe("*");

    const batch = [track(`${run}-post-1`), track(`${run}-post-2`, { event: "PayOrder" }), track(`${run}-bad`, { type: "no-such-type" })];
    const body = new URLSearchParams({ data_list: zlib.gzipSync(JSON.stringify(batch)).toString("base64"), gzip: "1" }).toString();
    const post = await call(`${base}/sa?project=shop&token=${run}`, { method: "POST", body, headers: FORM });
    expect(post.status).toBe(200);

    const events = await readUntil("tracking.events", (v) => String(v.distinct_id).startsWith(run), 3);
    expect(events.map((e) => [e.key, e.value.distinct_id, e.value.event, e.value.project]).sort()).toEqual([
      [`${run}-get`, `${run}-get`, "ViewProduct", "shop"],
      [`${run}-post-1`, `${run}-post-1`, "ViewProduct", "shop"],
      [`${run}-post-2`, `${run}-post-2`, "PayOrder", "shop"],
    ]);
    // Nginx's receive time and the client address reached the event.
    for (const e of events) {
      expect(e.value.recv_time as number).toBeGreaterThanOrEqual(now - 1000);
      expect(e.value.ip).toBe("127.0.0.1"); // X-Forwarded-For is not trusted from an unlisted proxy
    }
    const [dead] = await readUntil("tracking.dead-letter", (v) => v.distinct_id === `${run}-bad`, 1);
    expect(dead.value.reason).toBe("type is missing or unknown");
    expect(JSON.parse(dead.value.raw as string)).toMatchObject({ type: "no-such-type", distinct_id: `${run}-bad` });
  });

  it("a user added to the CORE whitelist is flagged within 10 s (measured); one removed stays CORE until the table's ttl runs out", async () => {
    const user = `wl-${Date.now()}`;
    const send = (i: number) => call(`${endpoints.nginx.url}/sa.gif?project=shop&data=${encodeURIComponent(b64({ type: "track", event: "Probe", distinct_id: user, time: Date.now(), _track_id: i }))}`);
    // The latency depends on where in the scan period the SET falls: at most one period (the bound asserted is the seeds' 10 s).
    const added = Date.now();
    await runRedis(["SET", `user_whitelist:${user}`, "1", "EX", "600"]);
    const probes = Math.ceil((WHITELIST_SCAN_SECONDS + 4) * 4);
    for (let i = 0; i < probes; i++) {
      expect((await send(i)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 250));
    }
    await runRedis(["DEL", `user_whitelist:${user}`]);
    expect((await send(probes)).status).toBe(200);
    const events = (await readUntil("tracking.events", (v) => v.distinct_id === user, probes + 1)).map((e) => e.value).sort((a, b) => Number(a.track_id) - Number(b.track_id));
    const firstCore = events.findIndex((e) => e.is_core === true);
    expect(firstCore).toBeGreaterThanOrEqual(0);
    const latencyMs = Number(events[firstCore].recv_time) - added;
    console.log(`whitelist latency: ${latencyMs} ms from SET to the first CORE event (scans every ${WHITELIST_SCAN_SECONDS} s)`);
    expect(latencyMs).toBeLessThanOrEqual(10_000);
    // Once CORE, every later event is, the one sent right after the DEL included: the entry lives out its ttl.
    expect(events.slice(firstCore).every((e) => e.is_core === true)).toBe(true);
  });

  it("answers 200 to an undecodable request (never a 4xx, which makes SDKs drop) and dead-letters it whole", async () => {
    const r = await call(`${base}/sa?project=shop`, { method: "POST", body: `data_list=${run}-garbage!!&gzip=1`, headers: FORM });
    expect(r.status).toBe(200);
    const [dead] = await readUntil("tracking.dead-letter", (v) => typeof v.raw === "string" && v.raw.includes(`${run}-garbage`), 1);
    expect(dead.value.reason).toContain("data is not base64");
  });

  it("logs every request as one JSON line of what operations need, and no personal data: no body, token, query string or full address", async () => {
    const body = `data=${encodeURIComponent(b64(track(`${run}-log`)))}`;
    const r = await call(`${base}/sa?project=shop&token=${run}-secret-token`, { method: "POST", body, headers: FORM });
    expect(r.status).toBe(200);
    const text = fs.readFileSync(path.join(LOGS, "nginx-access.log"), "utf8");
    expect(text).not.toContain(`${run}-secret-token`);
    expect(text).not.toContain(`${run}-log`);
    // Lines of an older sandbox config (before this format) may precede ours: only this format's lines are judged.
    const current = text.trim().split("\n").filter((l) => l.includes('"client_net"'));
    expect(current.filter((l) => /eyJ0eXBl|data(_list)?=|token=/.test(l))).toEqual([]);
    const mine = current.map((l) => JSON.parse(l)).filter((l) => l.request_bytes >= body.length && l.uri === "/sa");
    const last = mine[mine.length - 1];
    expect(last).toMatchObject({ method: "POST", uri: "/sa", project: "shop", status: 200, upstream_status: "200", client_net: "127.0.0.0" });
    expect(last.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof last.request_time).toBe("number");
    expect(Object.keys(last).sort()).toEqual(["client_net", "limit_conn", "limit_req", "method", "project", "recv_time", "request_bytes", "request_id", "request_time", "response_bytes", "status", "upstream_status", "upstream_time", "uri"]);
  });
});

/**
 * Nginx's answers when Vector misbehaves: a second real nginx with the same rendered config, in front
 * of an upstream the test controls.
 */
describe("collector: nginx (stack config) answers the SDK contract whatever the upstream does", () => {
  // Small limits, so that each can be passed with a few requests; each test uses its own client address.
  const LIMITS = { ...DEFAULT_COLLECTOR_LIMITS, maxBodyKiB: 64, requestsPerSecond: 20, burst: 20, connectionsPerClient: 3 };
  let nginx: TestNginx;
  let upstream: http.Server;
  let upstreamStatus = 200;
  /** What the upstream answers to a request Nginx marked as refused (X-Rtdw-Rejected: vector_refused). */
  let refusedStatus = 200;
  const seen: { method?: string; body: string; headers: http.IncomingHttpHeaders; url?: string }[] = [];
  let port = 0;
  let statusPort = 0;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, body, headers: req.headers, url: req.url });
        // A slow Vector for the connection-limit test: the request stays open while it waits.
        const status = req.headers["x-rtdw-rejected"] === "vector_refused" ? refusedStatus : upstreamStatus;
        if (body.includes("slow")) setTimeout(() => res.writeHead(status).end(), 1500);
        else res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    nginx = await startNginx(`127.0.0.1:${(upstream.address() as net.AddressInfo).port}`, LIMITS);
    ({ port, statusPort } = nginx);
  });

  afterAll(async () => {
    nginx?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  it("forwards a GET as a form POST (Vector makes no event of a bodiless request) with client address and receive time", async () => {
    seen.length = 0;
    upstreamStatus = 200;
    const data = encodeURIComponent(b64({ type: "track", event: "E", distinct_id: "d", time: 1 }));
    const r = await call(`http://127.0.0.1:${port}/sa.gif?data=${data}&project=p`, { headers: { "x-forwarded-for": "203.0.113.50" } });
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", body: `data=${data}&project=p`, url: `/sa.gif?data=${data}&project=p` });
    expect(seen[0].headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(seen[0].headers["x-real-ip"]).toBe("203.0.113.50"); // from a trusted proxy
    expect(Number(seen[0].headers["x-request-time"])).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it("passes a POST body through unchanged", async () => {
    seen.length = 0;
    const body = "data_list=abc%2Bdef&gzip=0";
    expect((await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body, headers: FORM })).status).toBe(200);
    expect(seen[0]).toMatchObject({ method: "POST", body });
  });

  it.each([400, 404, 415, 422])("sends a request Vector refused with %i again, marked for the dead-letter: 200 once Vector took that, never a 200 that drops it", async (status) => {
    seen.length = 0;
    upstreamStatus = status;
    refusedStatus = 200;
    const body = "data=x&gzip=0";
    const r = await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body, headers: { ...FORM, "content-encoding": "gzip" } });
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBe("*");
    // Nginx sends no header set to "": the first request carries no mark (a client's own is removed).
    expect(seen.map((x) => [x.headers["x-rtdw-rejected"] ?? "", x.body, x.headers["content-encoding"] ?? ""])).toEqual([["", body, ""], ["vector_refused", body, ""]]);
    expect(seen[1].url).toBe("/refused?project=p");
  });

  it.each([400, 500, 503])("answers 503 when Vector refuses (%i) the marked request too: the SDK keeps the batch", async (status) => {
    seen.length = 0;
    upstreamStatus = 400;
    refusedStatus = status;
    const r = await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=x", headers: FORM });
    expect([r.status, r.headers["retry-after"]]).toEqual([503, "5"]);
    expect(seen).toHaveLength(2);
  });

  it.each([500, 502, 503])("turns an upstream %i into 503 with Retry-After (SDKs keep the batch and retry)", async (status) => {
    upstreamStatus = status;
    const r = await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=x", headers: FORM });
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("5");
    expect(r.headers["access-control-allow-origin"]).toBe("*");
  });

  it("serves its connection counters for the exporter on the internal status port only, never on the public one", async () => {
    const internal = await call(`http://127.0.0.1:${statusPort}/stub_status`);
    expect(internal.status).toBe(200);
    expect(internal.body).toMatch(/^Active connections: \d+/);
    expect((await call(`http://127.0.0.1:${port}/stub_status`)).status).toBe(404);
    expect((await call(`http://127.0.0.1:${statusPort}/sa`)).status).toBe(404);
  });

  it("tells Vector about a body over the limit instead of answering 413: the SDK hears 200, the dead-letter gets the notice", async () => {
    seen.length = 0;
    upstreamStatus = 200;
    const body = `data_list=${"A".repeat(70 * 1024)}&gzip=1`;
    const r = await call(`http://127.0.0.1:${port}/sa?project=p&token=t`, { method: "POST", body, headers: { ...FORM, "x-forwarded-for": "203.0.113.61" } });
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", url: "/rejected?project=p&token=t", body: `rtdw_rejected=body_too_large&bytes=${body.length}&limit=${64 * 1024}` });
    expect(seen[0].headers["x-rtdw-rejected"]).toBe("body_too_large");
    expect(seen[0].headers["x-real-ip"]).toBe("203.0.113.61");
  });

  it("tells Vector about a GET whose request line is over the limit instead of answering 414", async () => {
    seen.length = 0;
    const r = await call(`http://127.0.0.1:${port}/sa.gif?project=p&data=${"B".repeat(80 * 1024)}`, { headers: { "x-forwarded-for": "203.0.113.62" } });
    expect(r.status).toBe(200);
    expect(seen.map((x) => [x.url, x.headers["x-rtdw-rejected"], x.body])).toEqual([["/rejected", "uri_too_long", `rtdw_rejected=uri_too_long&limit=${64 * 1024}`]]);
  });

  it("keeps a client from faking the rejection or the replay header (on every path to Vector)", async () => {
    seen.length = 0;
    const forged = { "x-rtdw-rejected": "body_too_large", "x-rtdw-replay": "r1" };
    await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=x", headers: { ...FORM, ...forged, "x-forwarded-for": "203.0.113.63" } });
    expect(seen[0].headers["x-rtdw-rejected"]).toBeUndefined();
    expect(seen[0].headers["x-rtdw-replay"]).toBeUndefined();
    seen.length = 0;
    await call(`http://127.0.0.1:${port}/sa.gif?project=p&data=${"B".repeat(80 * 1024)}`, { headers: { ...forged, "x-forwarded-for": "203.0.113.64" } });
    expect(seen.map((x) => [x.headers["x-rtdw-rejected"], x.headers["x-rtdw-replay"]])).toEqual([["uri_too_long", undefined]]);
  });

  it("refuses a client past its request rate and burst with 503 + Retry-After, and no other client", async () => {
    upstreamStatus = 200;
    // One after the other, so that the connection limit plays no part.
    const burst: Awaited<ReturnType<typeof call>>[] = [];
    for (let i = 0; i < 80; i++) burst.push(await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=x", headers: { ...FORM, "x-forwarded-for": "203.0.113.64" } }));
    const refused = burst.filter((r) => r.status === 503);
    expect(burst.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(LIMITS.burst);
    expect(refused.length).toBeGreaterThan(30);
    expect(refused.every((r) => r.headers["retry-after"] === "5" && r.headers["access-control-allow-origin"] === "*")).toBe(true);
    expect(burst.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    const other = await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=x", headers: { ...FORM, "x-forwarded-for": "203.0.113.65" } });
    expect(other.status).toBe(200);
  });

  it("refuses a client's connections past its limit with 503 + Retry-After while the others are in flight", async () => {
    upstreamStatus = 200;
    const rs = await Promise.all(
      Array.from({ length: LIMITS.connectionsPerClient + 3 }, () =>
        call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=slow", headers: { ...FORM, "x-forwarded-for": "203.0.113.66" } }),
      ),
    );
    expect(rs.filter((r) => r.status === 200)).toHaveLength(LIMITS.connectionsPerClient);
    expect(rs.filter((r) => r.status === 503 && r.headers["retry-after"] === "5")).toHaveLength(3);
  });

  it("answers 503 when Vector is down", async () => {
    await new Promise((r) => upstream.close(r));
    upstream.closeAllConnections();
    const r = await call(`http://127.0.0.1:${port}/sa?project=p`, { method: "POST", body: "data=x", headers: FORM });
    expect(r.status).toBe(503);
  });
});
