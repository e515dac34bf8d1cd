import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CollectorLimits, DEFAULT_COLLECTOR_LIMITS, maxGzipBytes } from "../config/collectorLimits";

export const SENSORS_VRL = fs.readFileSync(path.join(__dirname, "sensors.vrl"), "utf8");

/** The VRL program with or without the GeoIP lookup (Vector refuses a config naming a missing table), with the collector's limits. */
export function sensorsVrl(geoip: boolean, limits: CollectorLimits = DEFAULT_COLLECTOR_LIMITS): string {
  return SENSORS_VRL.replace("#GEOIP# ", geoip ? "" : "# GeoIP off: ")
    .replaceAll("#MAX_GZIP_BYTES#", String(maxGzipBytes(limits)))
    .replaceAll("#MAX_DECOMPRESSED#", String(limits.maxDecompressedKiB * 1024))
    .replaceAll("#MAX_EVENTS#", String(limits.maxEventsPerBatch));
}

/**
 * The CORE whitelist's timing: Redis is scanned (`SCAN user_whitelist:*`, one round trip per 10 keys)
 * every 5 s, so a user added is CORE within about 5 s (the seeds ask for 10); a user removed stays
 * CORE until the entry's ttl runs out and the table's expiry scan finds it (at most ttl + scan).
 * The ttl outlives eleven missed scans, so a Redis restart does not drop the flags.
 */
export const WHITELIST_SCAN_SECONDS = 5;
export const WHITELIST_TTL_SECONDS = 60;
export const WHITELIST_EXPIRY_SCAN_SECONDS = 10;

/** Where Vector receives Nginx's access log (syslog over UDP). */
export const NGINX_SYSLOG_PORT = 5514;

/**
 * One Nginx access-log line (the sensors format) -> the labels of rtdw_collector_responses_total:
 * the status the client got and, for a 503, who refused (rate or connection limit, or the upstream).
 */
export const NGINX_RESPONSE_VRL = `l = object!(parse_json!(string!(.message)))
status = to_string(l.status) ?? "unknown"
refused_by = "none"
if l.limit_req == "REJECTED" || l.limit_req == "REJECTED_DRY_RUN" {
  refused_by = "rate_limit"
} else if l.limit_conn == "REJECTED" || l.limit_conn == "REJECTED_DRY_RUN" {
  refused_by = "connection_limit"
} else if status == "503" {
  refused_by = "upstream"
}
. = {"status": status, "refused_by": refused_by}`;

/**
 * The most of a payload a dead-letter record keeps: Kafka refuses records over 1 MB by default, and a
 * record it refuses would fail the request over and over (the SDK retries a 503 forever).
 */
export const DEAD_LETTER_RAW_MAX_BYTES = 512 * 1024;

/** VRL: `raw` = the payload, cut to DEAD_LETTER_RAW_MAX_BYTES; `raw_bytes` = its full size. */
function keepRaw(expr: string): string {
  return `raw = ${expr}\nraw_bytes = length(raw)\nif raw_bytes > ${DEAD_LETTER_RAW_MAX_BYTES} { raw = slice!(raw, 0, ${DEAD_LETTER_RAW_MAX_BYTES}) }`;
}

export interface VectorConfigOptions {
  readonly kafkaBootstrap: string;
  readonly kafkaUser: string;
  /** Path of the CA certificate the brokers' certificate is signed with: Kafka over TLS (SASL_SSL). */
  readonly kafkaCaFile?: string;
  readonly eventsTopic: string;
  readonly deadLetterTopic: string;
  /** Where a replay's events go (valid or not, marked with the replay's id): the replay job reads them. */
  readonly replayTopic: string;
  readonly redisHost: string;
  readonly redisPort: number;
  /** Path of a GeoLite2-City database, or undefined to run without GeoIP. */
  readonly geoipDatabase?: string;
  /** The locale of the names the geoip table returns (no fallback to another); zh-CN unless told. */
  readonly geoipLocale?: string;
  /** Vector's data dir: the sinks' disk buffers. On persistent storage, since a 200 means "in the buffer". */
  readonly dataDir: string;
  /** Each Kafka sink's disk buffer, in bytes; with the archive's, they must fit the data dir's volume. */
  readonly bufferBytes: number;
  /**
   * The raw archive: every event as received (its record's JSON, the request's envelope) as gzipped
   * NDJSON under raw/dt=YYYY-MM-DD/hr=HH/ (UTC receive time) of this bucket; undefined: no archive.
   */
  readonly archive?: {
    readonly bucket: string;
    readonly region: string;
    /** MinIO's address (path-style); undefined on S3. */
    readonly endpoint?: string;
    /** The archive sink's disk buffer: when it is full (object storage down long), new lines are dropped and counted, never the request. */
    readonly bufferBytes: number;
    /** Seconds a batch collects before it is written (Vector's default is 300). */
    readonly batchSeconds: number;
  };
  /** A directory holding one file per secret (kafka_password, metrics_password): Vector's `directory` secret backend. */
  readonly secretsDir: string;
  /** The user Prometheus scrapes Vector's metrics as. */
  readonly metricsUser: string;
  /** Decompression and batch caps (rtdw:collector). */
  readonly limits?: CollectorLimits;
}

/**
 * Vector's pipeline: HTTP source (fed by Nginx) -> decode/validate/enrich (sensors.vrl) -> route:
 * valid events to the tracking topic, every invalid event and every undecodable request to the
 * dead-letter topic with its reason and raw payload.
 *
 * What a 200 means (Vector 0.48, read in its source and observed on a real build): the http_server
 * source answers once the events are written to the sinks' disk buffers, not once Kafka has them; a
 * buffer that is full blocks the request (Nginx then answers 503 after its read timeout). So the
 * buffers live on a persistent volume, and a restart delivers what they hold.
 *
 * The text contains no dollar sign: Vector 0.48 interpolates environment variables over the whole
 * text and stops on an undefined one, 0.57+ does not interpolate unless told. Credentials come from
 * Vector's `directory` secret backend (SECRET[files.name], replaced after interpolation), which works
 * either way.
 */
export const VECTOR_SECRETS = { kafkaPassword: "kafka_password", metricsPassword: "metrics_password", archiveAccessKey: "archive_access_key", archiveSecretKey: "archive_secret_key" } as const;

/** Seconds the raw archive collects a batch before writing it (an object per minute and hour prefix at most). */
export const ARCHIVE_BATCH_SECONDS = 60;

/** Where the raw archive's objects go in its bucket (Vector's strftime, UTC receive time); the replay reads the same layout. */
export const RAW_ARCHIVE_PREFIX = "raw/dt=%Y-%m-%d/hr=%H/";

/** One archive line per event as received: the request's envelope and the record's own JSON. */
export const ARCHIVE_RECORD_VRL = `. = {"event_id": .event_id, "recv_time": .recv_time, "ip": .ip, "user_agent": .user_agent, "project": .project, "record": .raw, "timestamp": from_unix_timestamp!(to_int(.recv_time) ?? 0, unit: "milliseconds")}`;
/** The header that marks a request as a replay of the raw archive (its value: the replay's id); Nginx clears it. */
export const REPLAY_HEADER = "X-Rtdw-Replay";

/** The replay sink's memory buffer: a full one holds the replay's next request back. */
export const REPLAY_BUFFER_EVENTS = 2000;

/** A replayed event on its way to the replay topic: a valid one as the tracking topic gets it. */
export const REPLAY_OUT_VRL = "if !exists(._reason) { del(.raw) }";

const secretRef = (name: string) => `SECRET[files.${name}]`;

export function renderVectorConfig(o: VectorConfigOptions): string {
  const kafka = {
    type: "kafka",
    bootstrap_servers: o.kafkaBootstrap,
    sasl: { enabled: true, mechanism: "SCRAM-SHA-512", username: o.kafkaUser, password: secretRef(VECTOR_SECRETS.kafkaPassword) },
    librdkafka_options: { "security.protocol": o.kafkaCaFile ? "sasl_ssl" : "sasl_plaintext" },
    ...(o.kafkaCaFile ? { tls: { enabled: true, ca_file: o.kafkaCaFile, verify_certificate: true, verify_hostname: true } } : {}),
    compression: "lz4",
    encoding: { codec: "json" },
    acknowledgements: { enabled: true },
    buffer: { type: "disk", max_size: o.bufferBytes, when_full: "block" },
  };
  const config = {
    data_dir: o.dataDir,
    secret: { files: { type: "directory", path: o.secretsDir, remove_trailing_whitespace: true } },
    api: { enabled: true, address: "0.0.0.0:8686" },
    enrichment_tables: {
      ...(o.geoipDatabase ? { geoip: { type: "geoip", path: o.geoipDatabase, locale: o.geoipLocale ?? "zh-CN" } } : {}),
      // Filled from Redis every WHITELIST_SCAN_SECONDS, each write visible at once (no flush_interval):
      // a new id is CORE within that. An id removed from Redis is no longer refreshed and ages out
      // after the ttl, found by the next expiry scan.
      core_users: { type: "memory", ttl: WHITELIST_TTL_SECONDS, scan_interval: WHITELIST_EXPIRY_SCAN_SECONDS, inputs: ["whitelist_entries"] },
    },
    sources: {
      sensors_http: {
        type: "http_server",
        address: "0.0.0.0:8687",
        decoding: { codec: "bytes" },
        query_parameters: ["data", "data_list", "gzip", "ext", "project", "token"],
        headers: ["X-Real-IP", "X-Request-Time", "X-Request-Id", "User-Agent", "Content-Type", "X-Rtdw-Rejected", REPLAY_HEADER],
        strict_path: false,
        path: "/",
      },
      whitelist: {
        type: "exec",
        mode: "scheduled",
        scheduled: { exec_interval_secs: WHITELIST_SCAN_SECONDS },
        command: ["sh", "-c", `redis-cli --no-auth-warning -h ${o.redisHost} -p ${o.redisPort} --scan --pattern 'user_whitelist:*'`],
      },
      vector_metrics: { type: "internal_metrics" },
      // Nginx's access log lines (syslog over UDP: Nginx never waits for it), to count every answer,
      // the ones Nginx gave without asking Vector (rate and connection limits) included.
      nginx_log: { type: "syslog", mode: "udp", address: `0.0.0.0:${NGINX_SYSLOG_PORT}` },
    },
    transforms: {
      whitelist_entries: {
        type: "remap",
        inputs: ["whitelist"],
        source: 'id = replace(string!(.message), "user_whitelist:", "")\n. = set!({}, [id], true)',
      },
      sensors_decode: {
        type: "remap",
        inputs: ["sensors_http"],
        source: sensorsVrl(!!o.geoipDatabase, o.limits),
        drop_on_error: true,
        drop_on_abort: true,
        reroute_dropped: true,
      },
      sensors_route: {
        type: "route",
        inputs: ["sensors_decode"],
        // An event goes to every route whose condition holds: a live one to valid or invalid and to
        // live (the archive), a replayed one to replay only.
        route: {
          valid: "!exists(._reason) && !exists(.replay_id)",
          invalid: "exists(._reason) && !exists(.replay_id)",
          replay: "exists(.replay_id)",
          live: "!exists(.replay_id)",
        },
      },
      // The record as received travels only to the archive (and, for a rejected one, the dead-letter).
      events_out: { type: "remap", inputs: ["sensors_route.valid"], source: "del(.raw)" },
      // A replay's rejected events keep theirs, with the reason: the replay reports them.
      replay_out: { type: "remap", inputs: ["sensors_route.replay"], source: REPLAY_OUT_VRL },
      ...(o.archive ? { archive_records: { type: "remap", inputs: ["sensors_route.live"], source: ARCHIVE_RECORD_VRL } } : {}),
      nginx_responses: {
        type: "remap",
        inputs: ["nginx_log"],
        source: NGINX_RESPONSE_VRL,
        drop_on_error: true,
      },
      nginx_metrics: {
        type: "log_to_metric",
        inputs: ["nginx_responses"],
        metrics: [{ type: "counter", field: "status", name: "collector_responses_total", namespace: "rtdw", tags: { status: "{{status}}", refused_by: "{{refused_by}}" } }],
      },
      // A request that could not be decoded at all: the raw request and the error, whole.
      request_dead_letter: {
        type: "remap",
        inputs: ["sensors_decode.dropped"],
        source: `${keepRaw("encode_json(.)")}\n. = {"reason": %vector.dropped.message || "undecodable request", "raw": raw, "raw_bytes": raw_bytes, "project": .project, "recv_time": to_unix_timestamp(now(), unit: "milliseconds")}`,
      },
      event_dead_letter: {
        type: "remap",
        inputs: ["sensors_route.invalid"],
        source: `${keepRaw("string(.raw) ?? \"\"")}\n. = {"reason": ._reason, "raw": raw, "raw_bytes": raw_bytes, "distinct_id": .distinct_id, "project": .project, "recv_time": .recv_time, "ip": .ip}`,
      },
    },
    sinks: {
      events_kafka: { ...kafka, inputs: ["events_out"], topic: o.eventsTopic, key_field: "distinct_id" },
      // In memory: a replay checks that its events reached the topic and is run again when they did
      // not (it is idempotent), so it needs no share of the persistent volume.
      replay_kafka: { ...kafka, inputs: ["replay_out"], topic: o.replayTopic, key_field: "distinct_id", buffer: { type: "memory", max_events: REPLAY_BUFFER_EVENTS, when_full: "block" } },
      ...(o.archive
        ? {
            raw_archive: {
              type: "aws_s3",
              inputs: ["archive_records"],
              bucket: o.archive.bucket,
              region: o.archive.region,
              ...(o.archive.endpoint ? { endpoint: o.archive.endpoint, force_path_style: true } : {}),
              auth: { access_key_id: secretRef(VECTOR_SECRETS.archiveAccessKey), secret_access_key: secretRef(VECTOR_SECRETS.archiveSecretKey) },
              key_prefix: RAW_ARCHIVE_PREFIX,
              filename_extension: "ndjson.gz",
              compression: "gzip",
              encoding: { codec: "json" },
              framing: { method: "newline_delimited" },
              batch: { max_bytes: 10 * 1024 * 1024, timeout_secs: o.archive.batchSeconds },
              acknowledgements: { enabled: true },
              // Object storage down for long: new lines are dropped here and counted
              // (buffer_discarded_events_total); a dropped event does not fail the request, so the
              // Kafka path goes on (Vector's finalizers: Dropped leaves a batch Delivered).
              buffer: { type: "disk", max_size: o.archive.bufferBytes, when_full: "drop_newest" },
            },
          }
        : {}),
      dead_letter_kafka: { ...kafka, inputs: ["request_dead_letter", "event_dead_letter", "sensors_route._unmatched"], topic: o.deadLetterTopic },
      metrics: {
        type: "prometheus_exporter",
        inputs: ["vector_metrics", "nginx_metrics"],
        address: "0.0.0.0:9598",
        auth: { strategy: "basic", user: o.metricsUser, password: secretRef(VECTOR_SECRETS.metricsPassword) },
      },
    },
  };
  const text = YAML.stringify(config, { lineWidth: 0 });
  const dollar = text.indexOf("$");
  if (dollar >= 0) throw new Error(`the Vector config would contain a dollar sign, which Vector 0.48 reads as an environment variable: ...${text.slice(Math.max(0, dollar - 60), dollar + 40)}...`);
  return text;
}

/**
 * The disk buffers on Vector's data volume: a tenth is left for Vector's own state; with the raw
 * archive, it takes a fifth and each Kafka sink 35 %, otherwise the Kafka sinks share the rest.
 */
export function diskBuffers(volumeGiB: number, archive: boolean): { kafka: number; archive: number } {
  const bytes = volumeGiB * 1024 ** 3;
  return archive ? { kafka: Math.floor(bytes * 0.35), archive: Math.floor(bytes * 0.2) } : { kafka: Math.floor((bytes * 0.9) / 2), archive: 0 };
}
