/**
 * The sandbox's STAND-IN FOR VECTOR (no Vector build can run on this machine): an HTTP server on the
 * address Nginx proxies to, doing what the stacks' Vector config (components/collector/vector.ts)
 * does, with the same programs:
 *  - the http_server source's event: the body as .message, the configured query parameters and
 *    headers as fields (null when absent), and no event at all for an empty body, as Vector does;
 *  - the `sensors_decode` remap (sensors.vrl) and both dead-letter remaps, run by the VRL crate Vector
 *    embeds (tests/vrl harness), including `drop_on_error` + `reroute_dropped` metadata;
 *  - the route on ._reason, and Kafka sinks keyed like Vector's (acks from all in-sync replicas);
 *  - the CORE whitelist read with `redis-cli --scan --pattern 'user_whitelist:*'` like the exec source.
 * It answers 200 once Kafka acknowledged every event (Vector's end-to-end acknowledgements) and 503
 * when it could not deliver, so Nginx's retry contract is exercised for real.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { renderVectorConfig } from "../components/collector/vector";

export interface CollectorOptions {
  readonly listenPort: number;
  readonly kafkaBootstrap: string;
  readonly kafkaUser: string;
  readonly kafkaPassword: string;
  readonly redisPort: number;
  readonly redisPassword: string;
  readonly eventsTopic: string;
  readonly deadLetterTopic: string;
  readonly harnessBin: string;
  /** Seconds between whitelist scans (Vector's exec source runs every 60 s). */
  readonly whitelistRefreshSeconds?: number;
}

interface RemapConfig { source: string }
interface HttpSourceConfig { query_parameters: string[]; headers: string[] }

/** The parts of the real Vector config the stand-in executes, taken from the rendered config itself. */
export function vectorPipeline(o: Pick<CollectorOptions, "eventsTopic" | "deadLetterTopic">) {
  const config = YAML.parse(
    renderVectorConfig({ kafkaBootstrap: "-", kafkaUser: "-", eventsTopic: o.eventsTopic, deadLetterTopic: o.deadLetterTopic, redisHost: "-", redisPort: 0, dataDir: "-", metricsUser: "-" }),
  );
  const t = config.transforms as Record<string, RemapConfig>;
  return {
    source: config.sources.sensors_http as HttpSourceConfig,
    programs: { decode: t.sensors_decode.source, requestDeadLetter: t.request_dead_letter.source, eventDeadLetter: t.event_dead_letter.source },
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

  constructor(bin: string, programs: readonly string[]) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtdw-vrl-"));
    const files = programs.map((p, i) => {
      const f = path.join(this.dir, `program-${i}.vrl`);
      fs.writeFileSync(f, p);
      return f;
    });
    // Compile first, synchronously, so a broken program fails with the compiler's diagnostics.
    const check = spawnSync(bin, files, { input: "", encoding: "utf8" });
    if (check.status !== 0) throw new Error(`VRL does not compile:\n${check.stderr}`);
    this.child = spawn(bin, files, { stdio: ["pipe", "pipe", "pipe"] });
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

export async function startCollector(o: CollectorOptions): Promise<{ close(): Promise<void> }> {
  const { Kafka, logLevel } = await import("kafkajs");
  const pipeline = vectorPipeline(o);
  const vrl = new VrlRunner(o.harnessBin, [pipeline.programs.decode, pipeline.programs.requestDeadLetter, pipeline.programs.eventDeadLetter]);
  const producer = new Kafka({
    clientId: "rtdw-vector-standin",
    brokers: [o.kafkaBootstrap],
    sasl: { mechanism: "scram-sha-512", username: o.kafkaUser, password: o.kafkaPassword },
    logLevel: logLevel.NOTHING,
  }).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  let whitelist: Json[] = [];
  let scannedAt = 0;
  const refreshWhitelist = () => {
    if (Date.now() - scannedAt < (o.whitelistRefreshSeconds ?? 60) * 1000) return;
    const r = spawnSync("redis-cli", ["--no-auth-warning", "-h", "127.0.0.1", "-p", String(o.redisPort), "--scan", "--pattern", "user_whitelist:*"], {
      env: { ...process.env, REDISCLI_AUTH: o.redisPassword },
      encoding: "utf8",
    });
    if (r.status !== 0) return; // like Vector: the table keeps its entries until they age out
    whitelist = r.stdout.split("\n").filter(Boolean).map((k) => ({ key: k.replace("user_whitelist:", ""), value: true }));
    scannedAt = Date.now();
  };

  const handle = async (req: http.IncomingMessage, body: string): Promise<number> => {
    const url = new URL(req.url ?? "/", "http://collector");
    const event = httpServerEvent(pipeline.source, url, req.headers, body);
    if (event === undefined) return 200;
    refreshWhitelist();
    const [decoded] = await vrl.run(0, [event], { core_users: whitelist });
    const good: Json[] = [];
    const bad: Json[] = [];
    if ("error" in decoded) {
      const meta = { vector: { dropped: { reason: decoded.abort ? "abort" : "error", message: decoded.error, component_id: "sensors_decode", component_type: "remap" } } };
      const [dl] = await vrl.run(1, [event], {}, [meta]);
      if ("error" in dl) throw new Error(`request_dead_letter failed: ${dl.error}`);
      bad.push(dl.output);
    } else {
      const out = decoded.output;
      const events = Array.isArray(out) ? out : [out];
      const invalid = events.filter((e) => e && typeof e === "object" && !Array.isArray(e) && "_reason" in e);
      good.push(...events.filter((e) => !invalid.includes(e)));
      for (const r of await vrl.run(2, invalid)) {
        if ("error" in r) throw new Error(`event_dead_letter failed: ${r.error}`);
        bad.push(r.output);
      }
    }
    const messages = (rows: Json[], key?: string) =>
      rows.map((r) => ({ key: key && r && typeof r === "object" && !Array.isArray(r) ? String(r[key] ?? "") : null, value: JSON.stringify(r) }));
    const batch = [];
    if (good.length) batch.push({ topic: o.eventsTopic, messages: messages(good, "distinct_id") });
    if (bad.length) batch.push({ topic: o.deadLetterTopic, messages: messages(bad) });
    if (batch.length) await producer.sendBatch({ topicMessages: batch, acks: -1 });
    return 200;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, Buffer.concat(chunks).toString("utf8")).then(
        (status) => res.writeHead(status).end(),
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
      await producer.disconnect();
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
    harnessBin: env("VRL_HARNESS_BIN"),
    whitelistRefreshSeconds: Number(process.env.WHITELIST_REFRESH_SECONDS ?? 5),
  }).then(
    () => process.stdout.write(`vector stand-in listening on 127.0.0.1:${process.env.COLLECTOR_PORT}\n`),
    (e) => {
      process.stderr.write(`collector stand-in failed to start: ${e.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
