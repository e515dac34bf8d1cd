import * as zlib from "zlib";
import { ARCHIVE_BATCH_SECONDS } from "../../components/collector/vector";
import { archiveWriterStatements, lifecycleRules } from "../../components/storage/types";
import { DEFAULT_ARCHIVE_DAYS } from "../../components/config";
import { BUCKETS, MINIO_ROOT_USER } from "../../sandbox/services/types";
import { httpPost } from "../../sandbox/services";
import { kafkaClient, sandbox, sandboxObjects } from "../helpers/sandbox";

/**
 * The raw archive on the sandbox: requests through the real Nginx (stacks' config) -> the Vector
 * stand-in, whose aws_s3 sink (labelled: sandbox/archive.ts, following the rendered sink config)
 * writes to the real MinIO with a session scoped to the stacks' archive writer policy.
 */
describe("collector: the raw archive holds every event delivered, as received, under raw/dt=/hr=", () => {
  const run = `arc${Date.now()}`;
  const objects = sandboxObjects();

  async function archived(match: (line: Record<string, unknown>) => boolean, want: number): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + (ARCHIVE_BATCH_SECONDS + 45) * 1000;
    for (;;) {
      const found: Record<string, unknown>[] = [];
      for (const key of await objects.list(BUCKETS.archive, "raw/")) {
        const stream = await objects.client.getObject(BUCKETS.archive, key);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        for (const line of zlib.gunzipSync(Buffer.concat(chunks)).toString("utf8").split("\n").filter(Boolean)) {
          const l = JSON.parse(line) as Record<string, unknown>;
          if (match(l)) found.push({ ...l, key });
        }
      }
      if (found.length >= want || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }

  async function topic(name: string, match: (v: Record<string, unknown>) => boolean, want: number): Promise<Record<string, unknown>[]> {
    const consumer = kafkaClient().consumer({ groupId: `archive-test-${Date.now()}-${Math.random()}` });
    const found: Record<string, unknown>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: name, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          try {
            const v = JSON.parse(message.value!.toString());
            if (match(v)) found.push(v);
          } catch {
            return;
          }
          if (found.length >= want) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    }).finally(() => consumer.disconnect());
    return found;
  }

  it("every event of every accepted request, valid or not, with the envelope and the record's JSON; the valid ones are exactly what Kafka got, by event id", async () => {
    const { endpoints } = sandbox();
    const now = Date.now();
    const form = (events: object[]) => new URLSearchParams({ data_list: Buffer.from(JSON.stringify(events)).toString("base64") }).toString();
    const requests = [
      [
        { type: "track", event: "ViewProduct", distinct_id: `${run}-a`, time: now, _track_id: 1, properties: { price: 9.5 } },
        { type: "track", event: "AddToCart", distinct_id: `${run}-a`, time: now + 1, _track_id: 2, properties: {} },
      ],
      [
        { type: "track", event: "ViewProduct", distinct_id: `${run}-b`, time: now + 2, _track_id: 3, properties: {} },
        { type: "no-such-type", distinct_id: `${run}-b`, time: now + 3 }, // dead-lettered, archived all the same
      ],
    ];
    for (const r of requests) {
      const res = await httpPost(`${endpoints.nginx.url}/sa?project=shop`, form(r), { "content-type": "application/x-www-form-urlencoded" }, 10000);
      expect(res.status).toBe(200);
    }
    const sent = requests.flat();
    const ours = (distinctId: unknown) => typeof distinctId === "string" && distinctId.startsWith(`${run}-`);
    // Other suites archive records of every shape (null, arrays, text): only objects can be ours.
    const lines = await archived((l) => {
      const record = JSON.parse(String(l.record)) as unknown;
      return record !== null && typeof record === "object" && ours((record as { distinct_id?: unknown }).distinct_id);
    }, sent.length);
    // Count equal to delivered, each event once, the record as sent (re-encoded JSON: the same values).
    expect(lines).toHaveLength(sent.length);
    expect(lines.map((l) => JSON.parse(String(l.record))).sort((a, b) => a.time - b.time)).toEqual(sent);
    for (const l of lines) {
      expect(l).toMatchObject({ ip: "127.0.0.1", project: "shop" });
      // The object's prefix is the receive time's UTC hour.
      const at = new Date(Number(l.recv_time)).toISOString();
      expect(l.key).toMatch(new RegExp(`^raw/dt=${at.slice(0, 10)}/hr=${at.slice(11, 13)}/\\d+-[0-9a-f-]{36}\\.ndjson\\.gz$`));
      // The id is the request's (Nginx's request_id) and the event's place in it: a replay gives the same.
      expect(l.event_id).toMatch(/^[0-9a-f]{32}-[01]$/);
    }
    const valid = await topic("tracking.events", (v) => ours(v.distinct_id), 3);
    expect(valid.map((v) => v.event_id).sort()).toEqual(lines.filter((l) => JSON.parse(String(l.record)).type !== "no-such-type").map((l) => l.event_id).sort());
    // The record as received goes to the archive, not to the events topic.
    for (const v of valid) expect(v.raw).toBeUndefined();
    const dead = await topic("tracking.dead-letter", (v) => ours(v.distinct_id), 1);
    expect(dead.map((d) => JSON.parse(String(d.raw)))).toEqual([requests[1][1]]);
  }, 180_000);

  it("the writer's policy, enforced by the real MinIO: new objects under raw/ of the archive bucket only", async () => {
    const { credentials, endpoints } = sandbox();
    const Minio = await import("minio");
    const { AssumeRoleProvider } = await import("minio/dist/main/AssumeRoleProvider.js");
    const u = new URL(endpoints.objectStore.endpoint);
    const writer = new Minio.Client({
      endPoint: u.hostname,
      port: Number(u.port),
      useSSL: false,
      region: "us-east-1",
      credentialsProvider: new AssumeRoleProvider({
        stsEndpoint: endpoints.objectStore.endpoint,
        accessKey: MINIO_ROOT_USER,
        secretKey: credentials.objectStore.secretKey,
        policy: JSON.stringify({ Version: "2012-10-17", Statement: archiveWriterStatements(`arn:aws:s3:::${BUCKETS.archive}`) }),
      }),
    });
    const body = Buffer.from("{}\n");
    await writer.putObject(BUCKETS.archive, `raw/dt=1970-01-01/hr=00/${run}.ndjson.gz`, body, body.length);
    await expect(writer.putObject(BUCKETS.archive, `elsewhere/${run}`, body, body.length)).rejects.toThrow(/Access Denied/);
    await expect(writer.putObject(BUCKETS.warehouse, `raw/${run}`, body, body.length)).rejects.toThrow(/Access Denied/);
    await expect(writer.getObject(BUCKETS.archive, `raw/dt=1970-01-01/hr=00/${run}.ndjson.gz`)).rejects.toThrow(/Access Denied/);
    await expect(writer.removeObject(BUCKETS.archive, `raw/dt=1970-01-01/hr=00/${run}.ndjson.gz`)).rejects.toThrow(/Access Denied/);
    await objects.client.removeObject(BUCKETS.archive, `raw/dt=1970-01-01/hr=00/${run}.ndjson.gz`);
  });

  it("the archive expires after the configured days: MinIO holds the stacks' lifecycle rule", async () => {
    const rule = lifecycleRules("archive", 1, DEFAULT_ARCHIVE_DAYS).find((r) => r.Filter.Prefix === "raw/")!;
    const got = (await objects.client.getBucketLifecycle(BUCKETS.archive)) as unknown as { Rule: Record<string, unknown> | Record<string, unknown>[] };
    expect([got.Rule].flat()).toEqual([{ ID: rule.ID, Status: "Enabled", Filter: { Prefix: "raw/" }, Expiration: { Days: DEFAULT_ARCHIVE_DAYS } }]);
  });
});
