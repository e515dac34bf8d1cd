import * as fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { DEFAULT_COLLECTOR_LIMITS, maxGzipBytes } from "../../components/config/collectorLimits";
import { LOGS } from "../../sandbox/paths";
import { runningPid } from "../../sandbox/process";
import { call, peakMemory, percentile, readTopics, TopicRecord } from "../helpers/collector";
import { sandbox } from "../helpers/sandbox";

/**
 * The public endpoint under load and under a fuzzer, through the sandbox's real Nginx with the stacks'
 * config (default limits) in front of the Vector stand-in (real VRL, real Kafka). Every request must
 * end in exactly one place: the events topic, the dead-letter topic, or a 503 the SDKs retry; never a
 * 4xx. Throughput, latency and memory are reported as benchmark numbers, not asserted against time.
 */

const EVENTS = "tracking.events";
const DEAD = "tracking.dead-letter";
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");
const limits = DEFAULT_COLLECTOR_LIMITS;

/**
 * The request tags a record carries: an event (either topic) has its distinct_id and project as
 * fields; a request-level dead-letter record keeps the whole request in `raw`, query parameters included.
 */
function tagsOf(topic: string, v: TopicRecord, field: "distinct_id" | "project" | "token"): string[] {
  const out = new Set<string>();
  if (typeof v[field] === "string") out.add(v[field] as string);
  if (topic === DEAD && typeof v.raw === "string" && v.raw.startsWith("{")) {
    try {
      const raw = JSON.parse(v.raw) as Record<string, unknown>;
      if ("message" in raw && "source_type" in raw && typeof raw[field] === "string") out.add(raw[field] as string);
    } catch {
      /* an event's raw record, not a request */
    }
  }
  return [...out];
}

describe("collector under sustained load and a burst (real nginx with the stacks' limits -> Vector stand-in -> Kafka)", () => {
  const base = sandbox().endpoints.nginx.url;
  const run = `load${Date.now().toString(36)}`;
  const statuses = new Map<string, number>();
  const latencies: number[] = [];
  let report: Record<string, unknown> = {};

  /** One SDK request per index: a valid event mostly, a malformed one or an oversized body now and then. */
  const send = async (i: number, phase: string) => {
    const id = `${run}-${phase}${i}`;
    const event = { type: "track", event: "LoadTest", distinct_id: id, time: Date.now(), properties: { i } };
    const data = i % 20 === 0 ? `%%${id}-not-base64%%` : b64(event);
    let body = new URLSearchParams({ data }).toString();
    if (i % 20 === 1 && phase === "s") body += `&pad=${"x".repeat(limits.maxBodyKiB * 1024)}`;
    try {
      const r = await call(`${base}/sa?project=${run}&token=${id}`, { method: "POST", body, headers: FORM });
      statuses.set(id, r.status);
      if (r.status === 200) latencies.push(r.ms);
    } catch (e) {
      statuses.set(id, -1);
    }
  };

  /** Sends at a steady rate for `seconds`, not waiting for answers (as many devices would). */
  const load = async (phase: string, perSecond: number, seconds: number) => {
    const t0 = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < perSecond * seconds; i++) {
      const due = t0 + (i * 1000) / perSecond;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      pending.push(send(i, phase));
    }
    await Promise.all(pending);
    return (Date.now() - t0) / 1000;
  };

  it("accounts for every request: sent = delivered + dead-lettered + refused with 503, nothing else, each once", async () => {
    const pids = { nginx: runningPid("nginx")!, vectorStandin: runningPid("vector-standin")! };
    expect(pids.nginx && pids.vectorStandin).toBeTruthy();
    const sustainedRate = 50;
    const burstRate = 300;
    const { result, peakMiB } = await peakMemory(pids, async () => ({ sustained: await load("s", sustainedRate, 60), burst: await load("b", burstRate, 5) }));

    const sent = statuses.size;
    expect(sent).toBe(sustainedRate * 60 + burstRate * 5);
    const byStatus = new Map<number, number>();
    for (const s of statuses.values()) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
    expect([...byStatus.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    const answered = [...statuses].filter(([, s]) => s === 200).map(([id]) => id);
    const refused = [...statuses].filter(([, s]) => s === 503).map(([id]) => id);

    const seen = new Map<string, string[]>();
    const found = await readTopics(
      [EVENTS, DEAD],
      (topic, v) => {
        const tags = [...tagsOf(topic, v, "distinct_id"), ...tagsOf(topic, v, "token")].filter((t) => t.startsWith(`${run}-`));
        for (const t of new Set(tags)) seen.set(t, [...(seen.get(t) ?? []), topic]);
        return tags.length > 0;
      },
      () => answered.every((id) => seen.has(id)),
      90000,
    );
    const delivered = answered.filter((id) => seen.get(id)?.[0] === EVENTS).length;
    const deadLettered = answered.filter((id) => seen.get(id)?.[0] === DEAD).length;
    expect({ lost: answered.filter((id) => !seen.has(id)), twice: [...seen].filter(([, where]) => where.length > 1).map(([id]) => id), refusedButArrived: refused.filter((id) => seen.has(id)) }).toEqual({ lost: [], twice: [], refusedButArrived: [] });
    expect(delivered + deadLettered + refused.length).toBe(sent);
    // The mix: one in twenty malformed, one in twenty oversized (sustained phase), and the burst passed the rate limit.
    expect(deadLettered).toBeGreaterThanOrEqual(Math.floor(0.09 * sustainedRate * 60));
    expect(refused.length).toBeGreaterThan(0);
    expect(found.get(DEAD)!.some((v) => String(v.reason).includes("over the collector's limit of 1048576 bytes"))).toBe(true);

    report = {
      sent,
      delivered,
      deadLettered,
      refused503: refused.length,
      sustained: { requestsPerSecond: +(sustainedRate * 60 / result.sustained).toFixed(1) },
      burst: { requestsPerSecond: +(burstRate * 5 / result.burst).toFixed(1) },
      latencyMs200: { p50: +percentile(latencies, 50).toFixed(1), p99: +percentile(latencies, 99).toFixed(1) },
      peakRssMiB: Object.fromEntries(Object.entries(peakMiB).map(([k, v]) => [k, +v.toFixed(1)])),
    };
    fs.writeFileSync(path.join(LOGS, "collector-load.json"), JSON.stringify(report, null, 2));
    process.stderr.write(`\n[collector load] ${JSON.stringify(report)}\n`);
  });
});

describe("collector fuzzed with SDK-shaped and malformed requests (fast-check, real nginx -> Vector stand-in -> Kafka)", () => {
  const base = sandbox().endpoints.nginx.url;
  const run = `fz${Date.now().toString(36)}`;
  const now = Date.now();
  const bomb = zlib.gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });

  /** A generated request and how many records it must leave behind across both topics. */
  interface Fuzzed {
    readonly kind: string;
    readonly method: "GET" | "POST";
    readonly params: Record<string, string>;
    readonly body?: string;
    readonly records: number;
  }

  const eventName = fc.stringMatching(/^[a-zA-Z_$][a-zA-Z0-9_$]{0,30}$/);
  const jsonValue = fc.jsonValue({ maxDepth: 2 });
  const goodEvent = fc.record({
    type: fc.constantFrom("track", "track_signup", "profile_set"),
    event: eventName,
    distinct_id: fc.oneof(fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }), fc.integer({ min: 1 })),
    time: fc.integer({ min: now - 86400000, max: now }),
    properties: fc.dictionary(fc.string({ maxLength: 12, unit: "grapheme" }), jsonValue, { maxKeys: 6 }),
  });
  const badRecord = fc.oneof(
    fc.record({ type: fc.oneof(fc.integer(), fc.constant("nope")), event: eventName, distinct_id: fc.string(), time: fc.constant(now) }),
    fc.record({ type: fc.constant("track"), event: fc.string({ maxLength: 5 }).map((s) => ` ${s}`), distinct_id: fc.string(), time: fc.constant(now) }),
    fc.record({ type: fc.constant("track"), event: eventName, distinct_id: fc.dictionary(fc.string(), fc.integer()), time: fc.constant(now) }),
    fc.record({ type: fc.constant("track"), event: eventName, distinct_id: fc.string({ minLength: 1 }), time: fc.string() }),
    fc.record({ type: fc.constant("track"), event: eventName, distinct_id: fc.string({ minLength: 1 }), time: fc.constant(now), properties: fc.array(fc.integer()) }),
    jsonValue.filter((v) => v === null || typeof v !== "object" || Array.isArray(v)),
  );
  const encode = (records: unknown[], gzip: boolean, urlSafe: boolean) => {
    const raw = Buffer.from(JSON.stringify(records));
    let text = (gzip ? zlib.gzipSync(raw) : raw).toString("base64");
    if (urlSafe) text = text.replace(/\+/g, "-").replace(/\//g, "_");
    return text;
  };

  const fuzzed: fc.Arbitrary<Fuzzed> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.array(fc.oneof({ weight: 3, arbitrary: goodEvent }, badRecord), { minLength: 1, maxLength: 25 }), fc.boolean(), fc.boolean(), fc.constantFrom("GET", "POST") as fc.Arbitrary<"GET" | "POST">).map(([records, gzip, urlSafe, method]) => ({ kind: "batch", method, params: { data_list: encode(records, gzip, urlSafe), gzip: gzip ? "1" : "0" }, records: records.length })) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 200 }).map((s) => ({ kind: "not base64", method: "POST" as const, params: { data: `%${s}!` }, records: 1 })) },
    { weight: 1, arbitrary: fc.tuple(fc.array(goodEvent, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 40 })).map(([records, cut]) => {
      const gz = zlib.gzipSync(JSON.stringify(records));
      return { kind: "truncated gzip", method: "POST" as const, params: { data_list: gz.subarray(0, Math.max(1, gz.length - cut)).toString("base64"), gzip: "1" }, records: 1 };
    }) },
    { weight: 1, arbitrary: fc.constant({ kind: "gzip bomb", method: "POST" as const, params: { data_list: bomb.toString("base64"), gzip: "1" }, records: 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: limits.maxEventsPerBatch + 1, max: limits.maxEventsPerBatch + 50 }).map((n) => ({ kind: "huge batch", method: "POST" as const, params: { data_list: encode(Array.from({ length: n }, (_, i) => ({ type: "track", event: "E", distinct_id: `d${i}`, time: now })), true, false), gzip: "1" }, records: 1 })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({ kind: "not JSON", method: "POST" as const, params: { data: Buffer.concat([Buffer.from("{"), Buffer.from(bytes)]).toString("base64") }, records: 1 })) },
    { weight: 1, arbitrary: fc.constantFrom("9", "x", "").map((g) => ({ kind: "odd gzip flag", method: "POST" as const, params: { data_list: "abc", gzip: g === "" ? "9" : g }, records: 1 })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((s) => ({ kind: "no data", method: "POST" as const, params: { foo: s }, records: 1 })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((extraKiB) => ({ kind: "oversized body", method: "POST" as const, params: { data: "A".repeat((limits.maxBodyKiB + extraKiB) * 1024) }, records: 1 })) },
  );

  it("never answers 4xx, loses nothing and keeps memory bounded, whatever the request", async () => {
    expect(bomb.length).toBeGreaterThan(maxGzipBytes(limits));
    const sent: { tag: string; f: Fuzzed; status: number }[] = [];
    let n = 0;
    const pids = { nginx: runningPid("nginx")!, vectorStandin: runningPid("vector-standin")! };
    const { peakMiB } = await peakMemory(pids, () =>
      fc.assert(
        fc.asyncProperty(fuzzed, async (f) => {
          const tag = `${run}-${n++}`;
          const query = new URLSearchParams({ project: tag, token: tag });
          const form = new URLSearchParams(f.params).toString();
          const r =
            f.method === "GET"
              ? await call(`${base}/sa.gif?${query}&${form}`)
              : await call(`${base}/sa?${query}`, { method: "POST", body: form, headers: FORM });
          sent.push({ tag, f, status: r.status });
          // The SDK contract: 200 (taken) or 503 (retry later); a 4xx would make the SDK drop the batch.
          return r.status === 200 || r.status === 503;
        }),
        { numRuns: 150, seed: 20261202, endOnFailure: true },
      ),
    );

    const taken = sent.filter((s) => s.status === 200);
    const want = new Map(taken.map((s) => [s.tag, s.f.records]));
    const got = new Map<string, number>();
    await readTopics(
      [EVENTS, DEAD],
      (topic, v) => {
        const tags = [...tagsOf(topic, v, "project")].filter((t) => want.has(t));
        for (const t of tags) got.set(t, (got.get(t) ?? 0) + 1);
        return tags.length > 0;
      },
      () => [...want].every(([t, k]) => (got.get(t) ?? 0) >= k),
      90000,
    );
    const wrong = taken.filter((s) => (got.get(s.tag) ?? 0) !== s.f.records).map((s) => `${s.f.kind}: ${got.get(s.tag) ?? 0} of ${s.f.records} records`);
    expect(wrong).toEqual([]);
    expect(new Set(taken.map((s) => s.f.kind)).size).toBeGreaterThanOrEqual(8);
    // The gzip bomb (100 MB inflated) never inflates: Nginx, the stand-in and its VRL process stay small.
    expect(peakMiB.nginx).toBeLessThan(128);
    expect(peakMiB.vectorStandin).toBeLessThan(600);
    process.stderr.write(`\n[collector fuzz] ${sent.length} requests, ${taken.length} taken, kinds ${JSON.stringify(Object.fromEntries([...new Set(sent.map((s) => s.f.kind))].map((k) => [k, sent.filter((s) => s.f.kind === k).length])))}, peak RSS MiB ${JSON.stringify(peakMiB)}\n`);
  });
});
