import { spawnSync } from "child_process";
import { randomBytes, randomUUID } from "crypto";
import * as path from "path";
import * as zlib from "zlib";
import { ARCHIVE_BATCH_SECONDS } from "../../components/collector/vector";
import { BUCKETS } from "../../sandbox/services/types";
import { httpPost } from "../../sandbox/services";
import type { ReplayReport } from "../../scripts/replay";
import { ensureJobs, eventually, PaimonReader } from "../helpers/pipelines";
import { kafkaClient, sandbox, sandboxObjects } from "../helpers/sandbox";

/**
 * The raw archive's replay, the way an operator runs it (`npm run replay`), on the sandbox: requests
 * through the real Nginx -> the Vector stand-in (labelled; the rendered config's VRL) -> Kafka ->
 * rt-trk-ods -> Paimon ODS, and the archive on the real MinIO. A request the archive holds but Kafka
 * never got (its object written here, as the archive writer writes them) is what the replay must add.
 */
describe("replay of the raw archive: ODS gets exactly the archived events it lacks, once", () => {
  const run = `rp${Date.now()}`;
  const paimon = new PaimonReader();
  const objects = sandboxObjects();
  const start = Date.now() - 1000;
  const lostRequest = randomBytes(16).toString("hex");
  const ods = () => paimon.rows(`SELECT * FROM ods.tracking_events WHERE distinct_id LIKE '${run}-%' ORDER BY event_id`);

  beforeAll(async () => {
    await ensureJobs(["rt-trk-ods"]);
    await paimon.open();
  }, 600_000);
  afterAll(() => paimon.close());

  function replay(...args: string[]): ReplayReport {
    const r = spawnSync("bash", ["scripts/run.sh", "scripts/replay.ts", "--stack", "local", ...args], { cwd: path.join(__dirname, "..", ".."), encoding: "utf8", timeout: 600_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith("REPLAY_REPORT "));
    if (r.status !== 0 || !line) throw new Error(`npm run replay failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(line.slice("REPLAY_REPORT ".length)) as ReplayReport;
  }

  /** Every record of `topic` up to its current end whose value matches. */
  async function readTopic(topic: string, match: (v: Record<string, unknown>) => boolean): Promise<Record<string, unknown>[]> {
    const kafka = kafkaClient();
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const remaining = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));
    const found: Record<string, unknown>[] = [];
    if (!remaining.size) return found;
    const consumer = kafka.consumer({ groupId: `replay-test-${Date.now()}-${Math.random()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic} not read to its end within 120 s`)), 120_000);
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          try {
            const v = JSON.parse(message.value!.toString());
            if (v && typeof v === "object" && match(v)) found.push(v);
          } catch {
            // not JSON: other suites' records
          }
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (!remaining.size) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    }).finally(() => consumer.disconnect());
    return found;
  }

  it("adds the archived-but-undelivered events once (through the live parser, GeoIP included), keeps every row ODS had, and adds nothing when run again", async () => {
    const { endpoints } = sandbox();
    const now = Date.now();
    const form = (events: object[]) => new URLSearchParams({ data_list: Buffer.from(JSON.stringify(events)).toString("base64") }).toString();
    const delivered = [
      [
        { type: "track", event: "ViewProduct", distinct_id: `${run}-a`, time: now, _track_id: 1, properties: { price: 9.5 } },
        { type: "track", event: "AddToCart", distinct_id: `${run}-a`, time: now + 1, _track_id: 2, properties: {} },
      ],
      [
        { type: "track", event: "ViewProduct", distinct_id: `${run}-b`, time: now + 2, _track_id: 3, properties: {} },
        { type: "no-such-type", distinct_id: `${run}-b`, time: now + 3 },
      ],
    ];
    for (const r of delivered) {
      const res = await httpPost(`${endpoints.nginx.url}/sa?project=shop`, form(r), { "content-type": "application/x-www-form-urlencoded" }, 10000);
      expect(res.status).toBe(200);
    }
    // Archived, never delivered: a request of three whose middle line the archive lacks.
    const lost = [
      { type: "track", event: "ViewProduct", distinct_id: `${run}-lost`, time: now + 4, _track_id: 4, properties: { price: 1 } },
      { type: "track", event: "AddToCart", distinct_id: `${run}-lost`, time: now + 6, _track_id: 6, properties: {} },
    ];
    const recv = now + 10;
    const lines = [
      { event_id: `${lostRequest}-0`, recv_time: recv, ip: "203.0.113.7", user_agent: "replay-test", project: "shop", record: JSON.stringify(lost[0]), timestamp: new Date(recv).toISOString() },
      { event_id: `${lostRequest}-2`, recv_time: recv, ip: "203.0.113.7", user_agent: "replay-test", project: "shop", record: JSON.stringify(lost[1]), timestamp: new Date(recv).toISOString() },
    ];
    const at = new Date(recv).toISOString();
    const body = zlib.gzipSync(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    await objects.client.putObject(BUCKETS.archive, `raw/dt=${at.slice(0, 10)}/hr=${at.slice(11, 13)}/${Math.floor(recv / 1000)}-${randomUUID()}.ndjson.gz`, body, body.length);

    const before = await eventually("the delivered events in ODS", ods, (rows) => rows.length === 3, 180_000);
    // The archive writes a batch a minute: the delivered requests' lines must be there to be replayed.
    await new Promise((r) => setTimeout(r, (ARCHIVE_BATCH_SECONDS + 15) * 1000));
    const to = new Date(Date.now()).toISOString();

    const first = replay("--from", new Date(start).toISOString(), "--to", to, "--id", `${run}-1`);
    // 4 delivered + 3 places of the lost request (one of them a placeholder the parser rejects).
    expect(first).toMatchObject({ archivedLines: 6, requests: 3, eventsSent: 7, placeholders: 1, inTopic: 7, dryRun: false, unreadableObjects: [] });
    expect(first.rejected).toEqual({ "type is missing or unknown": 1, "record is not a JSON object": 1 });
    expect(first.tables["ods.tracking_events"]).toEqual({ replayed: 5, absent: 2 });

    const after = await ods();
    expect(after).toHaveLength(5);
    // Every row ODS had is there unchanged; the new ones are exactly the lost events, once each.
    expect(after.filter((r) => !String(r.event_id).startsWith(lostRequest))).toEqual(before);
    const added = after.filter((r) => String(r.event_id).startsWith(lostRequest));
    // The gateway's JSON rows print a TIMESTAMP_LTZ as the session's wall clock (Asia/Shanghai) marked Z.
    const receivedAt = (v: unknown) => Date.parse(String(v)) - 8 * 3_600_000;
    expect(added.map((r) => [r.event_id, r.event, r.distinct_id, r.track_id, r.ip, r.user_agent, r.project, r.country, r.province, r.city, receivedAt(r.recv_time)])).toEqual([
      [`${lostRequest}-0`, "ViewProduct", `${run}-lost`, 4, "203.0.113.7", "replay-test", "shop", "中国", "广东省", "深圳", recv],
      [`${lostRequest}-2`, "AddToCart", `${run}-lost`, 6, "203.0.113.7", "replay-test", "shop", "中国", "广东省", "深圳", recv],
    ]);

    // Idempotent: the same range again adds nothing.
    const second = replay("--from", new Date(start).toISOString(), "--to", to, "--id", `${run}-2`);
    expect(second.tables["ods.tracking_events"]).toEqual({ replayed: 5, absent: 0 });
    expect(await ods()).toEqual(after);

    // A replay reaches neither the live topic nor the dead-letter (nor, so, the archive's inputs twice).
    expect(await readTopic("tracking.events", (v) => v.distinct_id === `${run}-lost`)).toEqual([]);
    expect(await readTopic("tracking.dead-letter", (v) => String(v.distinct_id ?? "").startsWith(`${run}-`))).toHaveLength(1);
    const replayed = await readTopic("tracking.replay", (v) => String(v.replay_id ?? "").startsWith(run));
    expect(replayed).toHaveLength(14);
    // A valid replayed event travels without its raw record; a rejected one keeps it, with the reason.
    for (const v of replayed) expect(v.raw === undefined).toBe(v._reason === undefined);
  }, 900_000);

  it("a whole hour of its own (archive objects as the writer lays them out): the first replay puts it into ODS, the next reproduces the same rows with no duplicate", async () => {
    // An hour on a day no other suite uses; the collector judges event times against the archived receive time.
    // Its users (<run>h-…) are not the window test's (<run>-…).
    const hour = Date.UTC(2001, 0, 1) + (Date.now() % 3000) * 86_400_000 + 5 * 3_600_000;
    const at = new Date(hour).toISOString();
    const prefix = `raw/dt=${at.slice(0, 10)}/hr=${at.slice(11, 13)}/`;
    const requests = [randomBytes(16).toString("hex"), randomBytes(16).toString("hex")];
    const ev = (id: string, minute: number, track: number) => ({ type: "track", event: "ViewProduct", distinct_id: `${run}h-${id}`, time: hour + minute * 60_000, _track_id: track, properties: { price: track } });
    const lines = [
      { event_id: `${requests[0]}-0`, recv_time: hour + 600_000, ip: "203.0.113.200", record: JSON.stringify(ev("x", 9, 1)) },
      { event_id: `${requests[0]}-1`, recv_time: hour + 600_000, ip: "203.0.113.200", record: JSON.stringify(ev("x", 9, 2)) },
      { event_id: `${requests[1]}-0`, recv_time: hour + 3_000_000, ip: "10.1.2.3", record: JSON.stringify(ev("y", 49, 3)) },
      { event_id: `${requests[1]}-1`, recv_time: hour + 3_000_000, ip: "10.1.2.3", record: JSON.stringify({ type: "track", distinct_id: `${run}h-y` }) },
    ].map((l) => ({ ...l, user_agent: "ua", project: "shop", timestamp: new Date(l.recv_time).toISOString() }));
    // Two objects, the first request's lines in both (a batch cut between them), as the sink may write.
    for (const part of [[lines[0], lines[2]], [lines[1], lines[3]]]) {
      const body = zlib.gzipSync(part.map((l) => JSON.stringify(l)).join("\n") + "\n");
      await objects.client.putObject(BUCKETS.archive, `${prefix}${Math.floor(part[0].recv_time / 1000)}-${randomUUID()}.ndjson.gz`, body, body.length);
    }
    const hourRows = () => paimon.rows(`SELECT event_id, distinct_id, track_id, ip, city, dt, hr FROM ods.tracking_events WHERE distinct_id LIKE '${run}h-%' ORDER BY event_id`);
    const h = at.slice(0, 13);
    const first = replay("--from", h, "--id", `${run}-h1`);
    expect(first).toMatchObject({ objects: 2, archivedLines: 4, requests: 2, eventsSent: 4, placeholders: 0, inTopic: 4 });
    expect(first.rejected).toEqual({ "event name is missing or invalid": 1 });
    expect(first.tables["ods.tracking_events"]).toEqual({ replayed: 3, absent: 3 });
    const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString();
    const want = [
      [`${requests[0]}-0`, `${run}h-x`, 1, "203.0.113.200", "杭州", local(hour + 540_000)],
      [`${requests[0]}-1`, `${run}h-x`, 2, "203.0.113.200", "杭州", local(hour + 540_000)],
      [`${requests[1]}-0`, `${run}h-y`, 3, "10.1.2.3", null, local(hour + 2_940_000)],
    ]
      .map(([event_id, distinct_id, track_id, ip, city, t]) => ({ event_id, distinct_id, track_id, ip, city, dt: String(t).slice(0, 10), hr: String(t).slice(11, 13) }))
      .sort((a, b) => String(a.event_id).localeCompare(String(b.event_id)));
    const rows = await hourRows();
    expect(rows).toEqual(want);
    const again = replay("--from", h, "--id", `${run}-h2`);
    expect(again.tables["ods.tracking_events"]).toEqual({ replayed: 3, absent: 0 });
    expect(await hourRows()).toEqual(rows);
  }, 600_000);

  it("a dry run says what it would insert and inserts nothing", async () => {
    const report = replay("--from", new Date(start).toISOString(), "--to", new Date().toISOString(), "--id", `${run}-dry`, "--dry-run");
    expect(report.dryRun).toBe(true);
    expect(report.jobId).toBeUndefined();
    expect(report.tables["ods.tracking_events"].absent).toBe(0);
    expect(await ods()).toHaveLength(5);
  }, 600_000);

  it("refuses what it cannot do, plainly", () => {
    const r = spawnSync("bash", ["scripts/run.sh", "scripts/replay.ts", "--stack", "local", "--from", "yesterday"], { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--from "yesterday": expected a UTC hour like 2026-12-06T10 or an ISO time');
  });
});
