import * as fs from "fs";
import * as path from "path";
import { DEFAULT_COLLECTOR_LIMITS } from "../../components/config/collectorLimits";
import { loadOrCreateSecrets } from "../../sandbox/credentials";
import { DATA, ports } from "../../sandbox/paths";
import { freePort, runningPid, sleep, start, stop } from "../../sandbox/process";
import { vectorStandinService } from "../../sandbox/services/vectorStandin";
import { call, readTopics, startNginx, TestNginx, TopicRecord } from "../helpers/collector";

/**
 * The collector's "nothing lost" promise where Vector's own acknowledgement is tested hardest: Kafka
 * stops answering, the disk buffer fills, and Vector restarts with a full buffer. A private real Nginx
 * with the stacks' config sends to a private Vector stand-in (labelled: real Vector cannot run here)
 * that acknowledges no more safely than Vector 0.48 (200 once the events are in its synced disk
 * buffer; `when_full: block`), with a buffer small enough to fill, in front of the sandbox's real
 * Kafka. "Kafka down" is the broker frozen with SIGSTOP: it accepts connections and answers nothing,
 * the hardest kind of outage for a client. Every request must end as a 200 whose events arrive, or a
 * 503 the SDK retries whose events never arrive; Vector delivers at least once, so duplicates after a
 * restart are counted, not refused.
 */

const EVENTS = "tracking.events";
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const BUFFER_BYTES = 256 * 1024;
const STANDIN = "vector-standin-durability";

describe("collector: nothing lost when Kafka is down, the buffer is full, or Vector restarts (real nginx -> Vector stand-in -> real Kafka)", () => {
  const run = `dur${Date.now().toString(36)}`;
  const dataDir = path.join(DATA, STANDIN);
  let collectorPort = 0;
  let nginx: TestNginx;
  const statuses = new Map<string, number>();

  const kafkaPid = () => {
    const pid = runningPid("kafka");
    if (!pid) throw new Error("the sandbox's Kafka is not running");
    return pid;
  };
  const freezeKafka = () => process.kill(-kafkaPid(), "SIGSTOP");
  const thawKafka = () => process.kill(-kafkaPid(), "SIGCONT");

  const startStandin = async () => {
    const spec = vectorStandinService({ p: { ...ports(), collector: collectorPort }, s: loadOrCreateSecrets(), dir: () => dataDir, conf: () => dataDir }).process();
    start({ ...spec, name: STANDIN, env: { ...spec.env, VECTOR_BUFFER_BYTES: String(BUFFER_BYTES) } });
    for (let i = 0; i < 300; i++) {
      if (await call(`http://127.0.0.1:${collectorPort}/`, { method: "POST", body: "" }).then((r) => r.status === 200, () => false)) return;
      await sleep(100);
    }
    throw new Error(`the ${STANDIN} did not start`);
  };
  const buffered = () => {
    const size = fs.statSync(path.join(dataDir, "buffer.ndjson")).size;
    const acked = fs.existsSync(path.join(dataDir, "buffer.acked")) ? Number(fs.readFileSync(path.join(dataDir, "buffer.acked"), "utf8")) : 0;
    return size - acked;
  };

  /** One SDK request carrying one event of about 6 KiB, tagged by its distinct_id. */
  const send = async (tag: string) => {
    const event = { type: "track", event: "DurabilityTest", distinct_id: `${run}-${tag}`, time: Date.now(), properties: { pad: "p".repeat(6000) } };
    const body = new URLSearchParams({ data: Buffer.from(JSON.stringify(event)).toString("base64") }).toString();
    let status: number;
    try {
      status = (await call(`http://127.0.0.1:${nginx.port}/sa?project=${run}`, { method: "POST", body, headers: FORM })).status;
    } catch {
      status = -1;
    }
    statuses.set(`${run}-${tag}`, status);
    return status;
  };

  /** Reads the events topic until every id answered 200 arrived; how often each tag of this run arrived. */
  const arrivals = async () => {
    const seen = new Map<string, number>();
    const taken = [...statuses].filter(([, s]) => s === 200).map(([id]) => id);
    await readTopics(
      [EVENTS],
      (_topic, v: TopicRecord) => {
        const id = String(v.distinct_id ?? "");
        if (!id.startsWith(`${run}-`)) return false;
        seen.set(id, (seen.get(id) ?? 0) + 1);
        return true;
      },
      () => taken.every((id) => seen.has(id)),
      120000,
    );
    return seen;
  };

  /** Every 200 arrived and no refused request did: the requests, split by answer, and how often each arrived. */
  const accounted = async () => {
    const seen = await arrivals();
    const taken = [...statuses].filter(([, s]) => s === 200).map(([id]) => id);
    const refused = [...statuses].filter(([, s]) => s !== 200).map(([id]) => id);
    expect({ lost: taken.filter((id) => !seen.has(id)), refusedButArrived: refused.filter((id) => seen.has(id)) }).toEqual({ lost: [], refusedButArrived: [] });
    return { seen, taken, refused };
  };

  beforeAll(async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    collectorPort = await freePort();
    await startStandin();
    nginx = await startNginx(`127.0.0.1:${collectorPort}`, { ...DEFAULT_COLLECTOR_LIMITS, requestsPerSecond: 1000, burst: 1000 });
  });

  afterAll(async () => {
    try {
      thawKafka();
    } catch {
      /* not running */
    }
    nginx?.stop();
    await stop(STANDIN, { graceMs: 5000 });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers 200 while Kafka is down (the events wait in the disk buffer), 503 once the buffer is full, and delivers every 200 when Kafka is back", async () => {
    freezeKafka();
    try {
      // Room for about 40 events of 6 KiB: those are taken while the broker answers nothing.
      const early: number[] = [];
      for (let i = 0; i < 20; i++) early.push(await send(`down${i}`));
      expect(early.every((s) => s === 200)).toBe(true);
      expect(buffered()).toBeGreaterThan(20 * 6000);
      // Past the buffer's capacity Vector blocks; Nginx gives up at its read timeout and answers 503.
      const later: number[] = [];
      for (let i = 0; i < 60 && !later.includes(503); i++) later.push(await send(`full${i}`));
      expect(later).toContain(503);
      expect(later.every((s) => s === 200 || s === 503)).toBe(true);
      expect(buffered()).toBeLessThanOrEqual(BUFFER_BYTES);
    } finally {
      thawKafka();
    }
    const { seen, refused } = await accounted();
    expect(refused.length).toBeGreaterThan(0);
    // Delivered within a connection's life: no duplicate.
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
    for (let i = 0; i < 100 && buffered() > 0; i++) await sleep(200);
    expect(buffered()).toBe(0);
  });

  it("keeps a full buffer across a hard restart of Vector and delivers all of it once Kafka is back", async () => {
    statuses.clear();
    freezeKafka();
    try {
      for (let i = 0; i < 60 && ![...statuses.values()].includes(503); i++) await send(`restart${i}`);
      expect([...statuses.values()]).toContain(503);
      const before = buffered();
      expect(before).toBeGreaterThan(BUFFER_BYTES / 2);
      // An eviction or an OOM kill: no chance to flush anything.
      await stop(STANDIN, { signal: "SIGKILL" });
      expect(await send("while-down")).toBe(503);
      await startStandin();
      expect(buffered()).toBe(before);
    } finally {
      thawKafka();
    }
    const { seen, taken, refused } = await accounted();
    expect(taken.length).toBeGreaterThan(20);
    const twice = [...seen].filter(([, n]) => n > 1).length;
    process.stderr.write(`\n[collector durability] after the restart: ${taken.length} taken, ${refused.length} refused with 503, ${twice} delivered twice (at least once)\n`);
  });
});
