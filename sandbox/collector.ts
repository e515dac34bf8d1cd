/**
 * The sandbox's STAND-IN FOR VECTOR (no Vector build can run on this machine): an HTTP server on the
 * address Nginx proxies to, doing what the stacks' Vector config (components/collector/vector.ts)
 * does, with the same programs:
 *  - the http_server source's event: the body as .message, the configured query parameters and
 *    headers as fields (null when absent), and no event at all for an empty body, as Vector does;
 *  - the `sensors_decode` remap (sensors.vrl) and both dead-letter remaps, run by the VRL crate Vector
 *    embeds (tests/vrl harness), including `drop_on_error` + `reroute_dropped` metadata;
 *  - the route on ._reason, and Kafka sinks keyed like Vector's (acks from all in-sync replicas);
 *  - the CORE whitelist read with `redis-cli --scan --pattern 'user_whitelist:*'` like the exec source;
 *  - the geoip enrichment table over the tests' City database (tests/geoip-fixture), looked up the
 *    way Vector 0.48's table does (the harness reads it with the same maxminddb crate).
 *
 * It acknowledges no more safely than Vector 0.48 does (read in its source, observed on a real build
 * 2026-12-06: ../shared/reference/vector-observed.md): a 200 means the events are in the sinks' disk
 * buffer, written and synced, not that Kafka has them. A background loop delivers the buffer to
 * Kafka, retrying while Kafka is down, and a restart resumes from what the buffer holds. A full
 * buffer blocks the request (Vector's `when_full: block`), so Nginx answers 503 at its read timeout;
 * a request abandoned while blocked writes nothing. A Content-Encoding it cannot decode is refused
 * with 400 (unknown encodings 415), as Vector's http_server source does.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { renderVectorConfig } from "../components/collector/vector";
import { vectorInterpolate } from "./vectorRules";
import { ArchiveSink, ArchiveSinkConfig } from "./archive";
import { DiskBuffer } from "./diskBuffer";
import { archiveWriterStatements } from "../components/storage/types";

/**
 * The archive sink with a writer scoped on the real MinIO to the archive writer policy the stacks
 * give their archive user (an STS session policy over the sandbox's identity).
 */
async function archiveSink(a: NonNullable<CollectorOptions["archive"]>, config: ArchiveSinkConfig, dir: string): Promise<ArchiveSink> {
  const Minio = await import("minio");
  const { AssumeRoleProvider } = await import("minio/dist/main/AssumeRoleProvider.js");
  const url = new URL(a.endpoint);
  const credentialsProvider = new AssumeRoleProvider({
    stsEndpoint: a.endpoint,
    accessKey: a.accessKey,
    secretKey: a.secretKey,
    durationSeconds: 3600,
    policy: JSON.stringify({ Version: "2012-10-17", Statement: archiveWriterStatements(`arn:aws:s3:::${config.bucket}`) }),
  });
  const client = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: url.protocol === "https:", region: "us-east-1", credentialsProvider });
  return new ArchiveSink(dir, config, async (bucket, key, body) => {
    await client.putObject(bucket, key, body, body.length, { "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" });
  });
}

export interface CollectorOptions {
  readonly listenPort: number;
  readonly kafkaBootstrap: string;
  readonly kafkaUser: string;
  readonly kafkaPassword: string;
  readonly redisPort: number;
  readonly redisPassword: string;
  readonly eventsTopic: string;
  readonly deadLetterTopic: string;
  /** Where a replay's events go (components/pipelines/replay.ts). */
  readonly replayTopic: string;
  readonly harnessBin: string;
  /** Where the disk buffer lives (Vector's data_dir). */
  readonly dataDir: string;
  /** The buffer's capacity (undelivered bytes); past it requests block. */
  readonly bufferBytes: number;
  /** A GeoLite2-City database: the rendered config's geoip table over it (the sandbox: the tests' database). */
  readonly geoipDatabase?: string;
  /** The raw archive's bucket on the sandbox's MinIO, and the identity its writer's scoped session is taken from. */
  readonly archive?: { readonly bucket: string; readonly endpoint: string; readonly accessKey: string; readonly secretKey: string; readonly bufferBytes: number; readonly batchSeconds: number };
}

interface RemapConfig { source: string }
interface HttpSourceConfig { query_parameters: string[]; headers: string[] }

/** The parts of the real Vector config the stand-in executes, taken from the rendered config itself. */
export function vectorPipeline(o: Pick<CollectorOptions, "eventsTopic" | "deadLetterTopic" | "replayTopic" | "geoipDatabase" | "archive">) {
  // Read as Vector 0.48 reads it: environment variables interpolated over the whole text first.
  const rendered = renderVectorConfig({
    kafkaBootstrap: "-",
    kafkaUser: "-",
    eventsTopic: o.eventsTopic,
    deadLetterTopic: o.deadLetterTopic,
    replayTopic: o.replayTopic,
    redisHost: "-",
    redisPort: 0,
    dataDir: "-",
    bufferBytes: 1,
    secretsDir: "-",
    metricsUser: "-",
    geoipDatabase: o.geoipDatabase,
    ...(o.archive ? { archive: { bucket: o.archive.bucket, region: "us-east-1", endpoint: o.archive.endpoint, bufferBytes: o.archive.bufferBytes, batchSeconds: o.archive.batchSeconds } } : {}),
  });
  const config = YAML.parse(vectorInterpolate(rendered, {}));
  const t = config.transforms as Record<string, RemapConfig>;
  const geoip = config.enrichment_tables.geoip as { path: string; locale: string } | undefined;
  const table = config.enrichment_tables.core_users as { ttl?: number; scan_interval?: number; flush_interval?: number };
  return {
    // The whitelist's timing as Vector reads it (memory table defaults: ttl 600, scan_interval 30, writes visible at once).
    whitelist: {
      scanSeconds: (config.sources.whitelist as { scheduled: { exec_interval_secs: number } }).scheduled.exec_interval_secs,
      ttlSeconds: table.ttl ?? 600,
      expiryScanSeconds: table.scan_interval ?? 30,
      flushSeconds: table.flush_interval ?? 0,
    },
    geoip: geoip && { path: geoip.path, locale: geoip.locale },
    source: config.sources.sensors_http as HttpSourceConfig,
    programs: { decode: t.sensors_decode.source, requestDeadLetter: t.request_dead_letter.source, eventDeadLetter: t.event_dead_letter.source, eventsOut: t.events_out.source, replayOut: t.replay_out.source, archiveRecord: t.archive_records?.source },
    archiveSink: config.sinks.raw_archive as ArchiveSinkConfig | undefined,
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type VrlResult = { output: Json } | { error: string; abort: boolean };

/** A long-running harness process: programs compiled once, one request line -> one result line. */
export class VrlRunner {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = "";
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly dir: string;
  private exited: string | undefined;

  /** `geoip`: the geoip enrichment table's database and locale, as Vector's config names them. */
  constructor(bin: string, programs: readonly string[], geoip?: { readonly path: string; readonly locale: string }) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-vrl-"));
    const files = programs.map((p, i) => {
      const f = path.join(this.dir, `program-${i}.vrl`);
      fs.writeFileSync(f, p);
      return f;
    });
    // Compile first, synchronously, so a broken program fails with the compiler's diagnostics.
    const args = [...(geoip ? ["--geoip", geoip.path, geoip.locale] : []), ...files];
    const check = spawnSync(bin, args, { input: "", encoding: "utf8" });
    if (check.status !== 0) throw new Error(`VRL does not compile (or its geoip table does not load):\n${check.stderr}`);
    this.child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    this.child.stderr.on("data", (d) => (stderr += d));
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (d: string) => {
      this.buffer += d;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    this.child.on("exit", (code) => {
      this.exited = `VRL harness exited (${code}): ${stderr.slice(-2000)}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ fatal: this.exited }));
    });
  }

  run(program: number, events: readonly Json[], tables: Record<string, Json[]> = {}, metadata?: readonly Json[]): Promise<VrlResult[]> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const r = JSON.parse(line);
        r.fatal ? reject(new Error(r.fatal)) : resolve(r.results);
      });
      this.child.stdin.write(JSON.stringify({ program, events, tables, metadata }) + "\n");
    });
  }

  close() {
    this.child.stdin.end();
    this.child.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Vector's http_server event for one request (decoding: bytes); undefined for an empty body. */
export function httpServerEvent(src: HttpSourceConfig, url: URL, headers: http.IncomingHttpHeaders, body: string): Json | undefined {
  if (body.length === 0) return undefined;
  const e: Record<string, Json> = { message: body, source_type: "http_server", path: url.pathname, timestamp: new Date().toISOString() };
  for (const q of src.query_parameters) {
    const all = url.searchParams.getAll(q);
    e[q] = all.length === 0 ? null : all.length === 1 ? all[0] : all;
  }
  for (const h of src.headers) {
    const v = headers[h.toLowerCase()];
    e[h] = v === undefined ? null : Array.isArray(v) ? v.join(",") : v;
  }
  return e;
}

/** `when_full: block`: waits for room; false when the request went away meanwhile (nothing written). */
async function appendBlocking(buffer: DiskBuffer, capacity: number, lines: readonly string[], gone: () => boolean): Promise<boolean> {
  const bytes = Buffer.byteLength(lines.map((l) => l + "\n").join(""));
  while (buffer.pending() > 0 && buffer.pending() + bytes > capacity) {
    if (gone()) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (gone()) return false;
  buffer.write(lines);
  return true;
}

/** Vector's http_server source decompresses by Content-Encoding: 415 for an unknown one, 400 when it fails. */
function decodeBody(raw: Buffer, encoding: string | undefined): { body: string } | { status: number; reason: string } {
  const zlib = require("zlib") as typeof import("zlib");
  let b = raw;
  for (const enc of (encoding ?? "").split(",").map((e) => e.trim().toLowerCase()).filter((e) => e && e !== "identity").reverse()) {
    try {
      if (enc === "gzip") b = zlib.gunzipSync(b);
      else if (enc === "deflate") b = zlib.inflateSync(b);
      else return { status: 415, reason: `Unsupported encoding ${enc}` };
    } catch {
      return { status: 400, reason: "Failed decompressing payload" };
    }
  }
  return { body: b.toString("utf8") };
}

export async function startCollector(o: CollectorOptions): Promise<{ close(): Promise<void> }> {
  const { Kafka, logLevel } = await import("kafkajs");
  const pipeline = vectorPipeline(o);
  const { programs } = pipeline;
  const vrl = new VrlRunner(o.harnessBin, [programs.decode, programs.requestDeadLetter, programs.eventDeadLetter, programs.eventsOut, programs.archiveRecord ?? ".", programs.replayOut], pipeline.geoip);
  const archive = pipeline.archiveSink && o.archive ? await archiveSink(o.archive, pipeline.archiveSink, path.join(o.dataDir, "archive")) : undefined;
  const producer = new Kafka({
    clientId: "rtdw-vector-standin",
    brokers: [o.kafkaBootstrap],
    sasl: { mechanism: "scram-sha-512", username: o.kafkaUser, password: o.kafkaPassword },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  }).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  const buffer = new DiskBuffer(o.dataDir);

  // Delivery: in order, from the buffer, retried while Kafka is down; Vector starts without Kafka.
  let stopping = false;
  let connected = false;
  const deliver = async () => {
    let delay = 200;
    while (!stopping) {
      const { lines, end } = buffer.next(500);
      if (!lines.length) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      try {
        if (!connected) {
          await producer.connect();
          connected = true;
        }
        const byTopic = new Map<string, { key: string | null; value: string }[]>();
        for (const l of lines) {
          const r = JSON.parse(l) as { topic: string; key: string | null; value: string };
          byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), { key: r.key, value: r.value }]);
        }
        await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), acks: -1 });
        buffer.ack(end);
        delay = 200;
      } catch (e) {
        process.stderr.write(`collector: Kafka delivery failed, ${buffer.pending()} bytes stay buffered: ${(e as Error).message}\n`);
        connected = false;
        await producer.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  };
  const delivering = deliver();

  // Vector's exec source on its schedule, into the memory table with its semantics: each scan's ids
  // are written (visible after flush_interval, at once by default); an id no scan returns any more is
  // kept until its ttl since the last write has run out and an expiry scan (scan_interval) removes it;
  // a failed scan writes nothing.
  const timing = pipeline.whitelist;
  const written = new Map<string, number>();
  let whitelist: Json[] = [];
  const scanWhitelist = () => {
    const r = spawnSync("redis-cli", ["--no-auth-warning", "-h", "127.0.0.1", "-p", String(o.redisPort), "--scan", "--pattern", "user_whitelist:*"], {
      env: { ...process.env, REDISCLI_AUTH: o.redisPassword },
      encoding: "utf8",
    });
    if (r.status !== 0) return;
    const ids = r.stdout.split("\n").filter(Boolean).map((k) => k.replace("user_whitelist:", ""));
    const publish = () => {
      const now = Date.now();
      for (const id of ids) written.set(id, now);
      whitelist = [...written.keys()].map((key) => ({ key, value: true }));
    };
    timing.flushSeconds > 0 ? setTimeout(publish, timing.flushSeconds * 1000).unref() : publish();
  };
  const expire = () => {
    const now = Date.now();
    for (const [id, at] of written) if (now - at >= timing.ttlSeconds * 1000) written.delete(id);
    whitelist = [...written.keys()].map((key) => ({ key, value: true }));
  };
  scanWhitelist();
  const timers = [setInterval(scanWhitelist, timing.scanSeconds * 1000), setInterval(expire, timing.expiryScanSeconds * 1000)];

  const handle = async (req: http.IncomingMessage, raw: Buffer, gone: () => boolean): Promise<number> => {
    const decoded0 = decodeBody(raw, req.headers["content-encoding"]);
    if ("status" in decoded0) return decoded0.status;
    const body = decoded0.body;
    const url = new URL(req.url ?? "/", "http://collector");
    const event = httpServerEvent(pipeline.source, url, req.headers, body);
    if (event === undefined) return 200;
    const [decoded] = await vrl.run(0, [event], { core_users: whitelist });
    const good: Json[] = [];
    const bad: Json[] = [];
    const replayed: Json[] = [];
    let events: Json[] = [];
    if ("error" in decoded) {
      const meta = { vector: { dropped: { reason: decoded.abort ? "abort" : "error", message: decoded.error, component_id: "sensors_decode", component_type: "remap" } } };
      const [dl] = await vrl.run(1, [event], {}, [meta]);
      if ("error" in dl) throw new Error(`request_dead_letter failed: ${dl.error}`);
      bad.push(dl.output);
    } else {
      const out = decoded.output;
      const all = Array.isArray(out) ? out : [out];
      const has = (e: Json, field: string) => !!e && typeof e === "object" && !Array.isArray(e) && field in e;
      // sensors_route: a replayed event goes to the replay topic only (not the archive, not the dead-letter).
      for (const r of await vrl.run(5, all.filter((e) => has(e, "replay_id")))) {
        if ("error" in r) throw new Error(`replay_out failed: ${r.error}`);
        replayed.push(r.output);
      }
      events = all.filter((e) => !has(e, "replay_id"));
      const invalid = events.filter((e) => has(e, "_reason"));
      for (const r of await vrl.run(3, events.filter((e) => !invalid.includes(e)))) {
        if ("error" in r) throw new Error(`events_out failed: ${r.error}`);
        good.push(r.output);
      }
      for (const r of await vrl.run(2, invalid)) {
        if ("error" in r) throw new Error(`event_dead_letter failed: ${r.error}`);
        bad.push(r.output);
      }
    }
    const messages = (rows: Json[], key?: string) =>
      rows.map((r) => ({ key: key && r && typeof r === "object" && !Array.isArray(r) ? String(r[key] ?? "") : null, value: JSON.stringify(r) }));
    const lines = [
      ...messages(good, "distinct_id").map((m) => JSON.stringify({ topic: o.eventsTopic, ...m })),
      ...messages(bad).map((m) => JSON.stringify({ topic: o.deadLetterTopic, ...m })),
      ...messages(replayed, "distinct_id").map((m) => JSON.stringify({ topic: o.replayTopic, ...m })),
    ];
    if (lines.length && !(await appendBlocking(buffer, o.bufferBytes, lines, gone))) return 0;
    // The archive sink gets every decoded event (valid or not) as received; a full archive buffer drops, never blocks.
    if (archive && events.length) {
      const records = await vrl.run(4, events);
      archive.append(records.map((r) => {
        if ("error" in r) throw new Error(`archive_records failed: ${r.error}`);
        return JSON.stringify(r.output);
      }));
    }
    return 200;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let gone = false;
      res.on("close", () => (gone = !res.writableEnded));
      handle(req, Buffer.concat(chunks), () => gone).then(
        (status) => (status ? res.writeHead(status).end() : res.destroy()),
        (e: Error) => {
          process.stderr.write(`collector: ${e.message}\n`);
          res.writeHead(503).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(o.listenPort, "127.0.0.1", resolve));
  return {
    async close() {
      await new Promise((r) => server.close(r));
      for (const t of timers) clearInterval(t);
      await archive?.close();
      stopping = true;
      await delivering;
      await producer.disconnect().catch(() => undefined);
      vrl.close();
    },
  };
}

if (require.main === module) {
  const env = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`collector stand-in: ${k} is not set`);
    return v;
  };
  startCollector({
    listenPort: Number(env("COLLECTOR_PORT")),
    kafkaBootstrap: env("KAFKA_BOOTSTRAP"),
    kafkaUser: env("KAFKA_USER"),
    kafkaPassword: env("KAFKA_PASSWORD"),
    redisPort: Number(env("REDIS_PORT")),
    redisPassword: env("REDISCLI_AUTH"),
    eventsTopic: env("EVENTS_TOPIC"),
    deadLetterTopic: env("DEAD_LETTER_TOPIC"),
    replayTopic: env("REPLAY_TOPIC"),
    harnessBin: env("VRL_HARNESS_BIN"),
    dataDir: env("VECTOR_DATA_DIR"),
    bufferBytes: Number(env("VECTOR_BUFFER_BYTES")),
    geoipDatabase: process.env.GEOIP_DATABASE || undefined,
    ...(process.env.ARCHIVE_BUCKET
      ? {
          archive: {
            bucket: env("ARCHIVE_BUCKET"),
            endpoint: env("ARCHIVE_ENDPOINT"),
            accessKey: env("ARCHIVE_STS_ACCESS_KEY"),
            secretKey: env("ARCHIVE_STS_SECRET_KEY"),
            bufferBytes: Number(env("ARCHIVE_BUFFER_BYTES")),
            batchSeconds: Number(env("ARCHIVE_BATCH_SECONDS")),
          },
        }
      : {}),
  }).then(
    () => process.stdout.write(`vector stand-in listening on 127.0.0.1:${process.env.COLLECTOR_PORT}\n`),
    (e) => {
      process.stderr.write(`collector stand-in failed to start: ${e.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
